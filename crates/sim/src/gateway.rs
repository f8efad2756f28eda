//! The api.atlassian.com role in front of Jira: `/ex/jira/{cloudId}/...` requests are
//! authenticated here (bearer token, expiry, site in the grant), then handed to the Jira router
//! with the prefix stripped and a [`Caller`] in the request extensions.

use std::collections::BTreeSet;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use crate::error::{ApiError, ApiResult};
use crate::oauth::{self, TokenProblem};
use crate::state::SimState;
use crate::world::{AccountId, CloudId, SiteRole};

/// Who is calling a Jira endpoint, established by the gateway.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account the token acts for.
    pub account_id: AccountId,
    /// The OAuth app the token was issued to.
    pub client_id: String,
    /// The site addressed by the URL.
    pub cloud_id: CloudId,
    /// Scopes granted to the token.
    pub scopes: BTreeSet<String>,
    /// The account's role on the site.
    pub role: SiteRole,
}

impl Caller {
    /// Fails with the gateway's 401 unless the token carries `scope`.
    pub fn require_scope(&self, scope: &str) -> ApiResult<()> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::gateway(
                StatusCode::UNAUTHORIZED,
                "Unauthorized; scope does not match",
            ))
        }
    }

    /// The event of a change this caller made to `issue` (the issue after the change, before it
    /// for deletions), at `at` on the simulated clock.
    pub fn event(
        &self,
        issue: crate::world::Issue,
        kind: crate::events::IssueEventKind,
        at: crate::clock::EpochMs,
    ) -> crate::events::IssueEvent {
        crate::events::IssueEvent {
            cloud_id: self.cloud_id.clone(),
            issue,
            kind,
            actor: self.account_id.clone(),
            at,
        }
    }

    /// Fails with 403 unless the caller holds "Administer Jira".
    pub fn require_jira_admin(&self) -> ApiResult<()> {
        if self.role.administers_jira() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "You must have global administrator rights to perform this operation.",
            ))
        }
    }

    /// Fails with 403 unless the caller is a site admin.
    pub fn require_site_admin(&self) -> ApiResult<()> {
        if self.role.is_site_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "You are not authorized to perform this operation. Please contact your site administrator.",
            ))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::gateway(StatusCode::UNAUTHORIZED, "Unauthorized"))
    }
}

/// `ANY /ex/jira/{cloudId}/{*rest}`: authenticate, then forward to the Jira router.
pub async fn forward(
    State(state): State<SimState>,
    Path((cloud_id, rest)): Path<(String, String)>,
    mut request: Request,
) -> Response {
    let caller = match authenticate(&state, &cloud_id, &request) {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    // Forward the still-encoded path: `rest` is percent-decoded (`status/In Progress`) and would
    // not parse as a URI again.
    let prefix = format!("/ex/jira/{cloud_id}/");
    let raw_rest = request
        .uri()
        .path()
        .strip_prefix(&prefix)
        .map_or_else(|| rest.clone(), str::to_owned);
    let path_and_query = match request.uri().query() {
        Some(q) => format!("/{raw_rest}?{q}"),
        None => format!("/{raw_rest}"),
    };
    match path_and_query.parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return ApiError::bad_request("Invalid request path.").into_response(),
    }
    // Start the Jira router's request with fresh extensions: the gateway route's own path
    // parameters (`{cloudId}`, `{*rest}`) and matched path live there, and Jira handlers'
    // `Path` extractors would otherwise count them too.
    let (mut parts, body) = request.into_parts();
    parts.extensions = axum::http::Extensions::new();
    parts.extensions.insert(caller);
    let request = Request::from_parts(parts, body);
    let Some(router) = state.jira_router.get().cloned() else {
        return ApiError::message(
            StatusCode::SERVICE_UNAVAILABLE,
            "The simulator is starting.",
        )
        .into_response();
    };
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(infallible) => match infallible {},
    }
}

fn authenticate(state: &SimState, cloud_id: &str, request: &Request) -> ApiResult<Caller> {
    let unauthorized = || ApiError::gateway(StatusCode::UNAUTHORIZED, "Unauthorized");
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(unauthorized)?;
    let now = state.clock.now_ms();
    let world = state.world.read();
    let access = oauth::authenticate(&world, token, now).map_err(|problem| match problem {
        TokenProblem::Unknown => unauthorized(),
        TokenProblem::Expired => {
            let status = StatusCode::from_u16(state.settings.read().expired_token_status)
                .unwrap_or(StatusCode::UNAUTHORIZED);
            ApiError::gateway(status, "Unauthorized")
        }
    })?;
    if !access.cloud_ids.iter().any(|c| c == cloud_id) {
        return Err(unauthorized());
    }
    let site = world.site(cloud_id).ok_or_else(unauthorized)?;
    let role = site.role(&access.account_id).ok_or_else(unauthorized)?;
    Ok(Caller {
        account_id: access.account_id,
        client_id: access.client_id,
        cloud_id: cloud_id.to_owned(),
        scopes: access.scopes,
        role,
    })
}

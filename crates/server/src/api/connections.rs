//! Connections over the API: list and show (never a secret: tokens are shown as expiry and
//! scopes), Test Connection, and starting a new connection (the consent URL to open; the
//! callback lands on this server's `/oauth/callback`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiraflow_engine::connections::may_use;
use jiraflow_oauth::{ConnectDraft, ConnectionCheck, ConnectionChecker};
use jiraflow_store::{Connection, User};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ApiJson, ApiUser};
use crate::error::{ApiError, ApiResult};

/// A token family as shown: expiry and scopes, never a token.
#[derive(Debug, Serialize)]
pub struct TokenView {
    /// Access token expiry (RFC 3339).
    pub expires_at: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Last refresh.
    pub last_refreshed_at: Option<String>,
}

/// A connection as the API shows it.
#[derive(Debug, Serialize)]
pub struct ConnectionView {
    /// The record (it holds no secret, only the token family's id).
    #[serde(flatten)]
    pub connection: Connection,
    /// The OAuth app's name.
    pub oauth_app: Option<String>,
    /// Expiry and scopes of its tokens.
    pub tokens: Option<TokenView>,
}

/// Body of `POST /connections`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// Unique name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The OAuth app to consent to (by name).
    pub app: String,
    /// Site URL, needed when the consent may cover several sites.
    #[serde(default)]
    pub site: Option<String>,
}

async fn view(state: &AppState, connection: Connection) -> ApiResult<ConnectionView> {
    let oauth_app = state
        .store()
        .get_oauth_app(connection.oauth_app_id)
        .await?
        .map(|a| a.name);
    let tokens = match state.store().get_tokens(connection.token_family_id).await {
        Ok(set) => Some(TokenView {
            expires_at: set.expires_at.to_rfc3339(),
            scopes: set.scopes.clone(),
            last_refreshed_at: set.last_refreshed_at.map(|t| t.to_rfc3339()),
        }),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    Ok(ConnectionView {
        connection,
        oauth_app,
        tokens,
    })
}

/// The connection `name` if `user` may use it; someone else's is reported like a missing one.
async fn find(state: &AppState, user: &User, name: &str) -> ApiResult<Connection> {
    match state.store().find_connection_by_name(name).await? {
        Some(c) if may_use(user, &c) => Ok(c),
        _ => Err(ApiError::not_found(format!("unknown connection {name:?}"))),
    }
}

/// `GET /connections`: the connections the caller may use.
pub async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<Vec<ConnectionView>>> {
    let mut views = Vec::new();
    for c in state.store().list_connections().await? {
        if may_use(&user, &c) {
            views.push(view(&state, c).await?);
        }
    }
    Ok(Json(views))
}

/// `GET /connections/{name}`.
pub async fn show(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<ConnectionView>> {
    let connection = find(&state, &user, &name).await?;
    Ok(Json(view(&state, connection).await?))
}

/// `POST /connections/{name}/test`: site still granted, `/myself` answers, scopes suffice.
/// 200 with `ok` true or false and the report.
pub async fn test(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(name): Path<String>,
) -> ApiResult<Json<TestReport>> {
    let connection = find(&state, &user, &name).await?;
    let report = ConnectionChecker::new(
        state.store().clone(),
        state.tokens().clone(),
        state.oauth_client().clone(),
    )
    .check(connection.id)
    .await?;
    Ok(Json(TestReport {
        ok: report.ok(),
        report,
    }))
}

/// The answer of a connection test.
#[derive(Debug, Serialize)]
pub struct TestReport {
    /// Whether nothing is wrong.
    pub ok: bool,
    /// What was checked.
    pub report: ConnectionCheck,
}

/// `POST /connections` `{"name", "app", "description"?, "site"?}`: starts the consent; 201 with
/// the `authorization_url` to open. The connection exists once the callback has arrived.
pub async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(request): ApiJson<CreateConnection>,
) -> ApiResult<Response> {
    let caller = ApiUser(user.clone());
    caller.require_admin("creating a connection")?;
    let app = state
        .store()
        .find_oauth_app_by_name(&request.app)
        .await?
        .ok_or_else(|| {
            ApiError::invalid(format!("unknown OAuth app {:?}", request.app)).at("app")
        })?;
    let started = crate::callback::begin_connect(
        &state,
        &user,
        ConnectDraft {
            name: request.name,
            description: request.description,
            oauth_app_id: app.id,
            site_url: request.site,
        },
    )
    .await?;
    let body = serde_json::json!({
        "authorization_url": started.authorization_url.as_str(),
        "expires_at": started.expires_at.to_rfc3339(),
        "redirect_uri": state.redirect_uri(),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

//! `GET /authorize` and the consent flow behind it: request validation (errors that cannot be
//! redirected get an HTML page, the others go back to the client per RFC 6749 §4.1.2.1), the
//! login form, the consent page with its site picker, and auto-consent.

use axum::Form;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::PendingAuthorization;
use super::grants::{self, Approval};
use super::pages::{self, ConsentPage, LoginPage, SiteChoice};
use crate::clock::EpochMs;
use crate::state::SimState;
use crate::util::random_token;
use crate::world::{App, World};

/// How long a consent session (login and consent pages) stays valid.
const PENDING_TTL_MS: i64 = 30 * 60 * 1000;
/// The only audience Atlassian's authorization server issues Jira tokens for.
const AUDIENCE: &str = "api.atlassian.com";

/// The query of `/authorize`, with repeated parameters detected.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (k, _))| {
            self.0[..i]
                .iter()
                .any(|(earlier, _)| earlier == k)
                .then_some(k.as_str())
        })
    }
}

/// A redirect back to the client with `pairs` appended to the registered URI's query.
fn redirect_to(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Something went wrong",
            "The app's registered callback URL is not a valid URL.",
        );
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => pages::error(
            StatusCode::BAD_REQUEST,
            "Something went wrong",
            "The callback URL cannot be used in a redirect.",
        ),
    }
}

/// An RFC 6749 §4.1.2.1 error redirect, echoing `state` when the client sent one.
fn error_redirect(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    redirect_to(redirect_uri, &pairs)
}

/// A validated authorization request.
struct Request {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    state: String,
}

/// Why a request was refused before any consent.
enum Refusal {
    /// The client or its redirect URI are in doubt: an HTML page, never a redirect.
    Page(&'static str),
    /// An RFC 6749 §4.1.2.1 error redirect to the (validated) redirect URI.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: String,
        state: Option<String>,
    },
}

impl Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Page(detail) => {
                pages::error(StatusCode::BAD_REQUEST, "Something went wrong", detail)
            }
            Refusal::Redirect {
                redirect_uri,
                error,
                description,
                state,
            } => error_redirect(&redirect_uri, error, &description, state.as_deref()),
        }
    }
}

/// Validates the request: the client and its redirect URI first (failures get a page), then
/// everything else (failures are redirected).
fn validate(world: &World, params: &Params) -> Result<Request, Refusal> {
    let repeated = params.repeated();
    if matches!(repeated, Some("client_id" | "redirect_uri")) {
        return Err(Refusal::Page(
            "The request repeats client_id or redirect_uri.",
        ));
    }
    let Some(app) = params.get("client_id").and_then(|id| world.apps.get(id)) else {
        return Err(Refusal::Page(
            "The client_id is missing or does not belong to a registered app.",
        ));
    };
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return Err(Refusal::Page("The redirect_uri is missing."));
    };
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Refusal::Page(
            "The redirect_uri does not match the callback URL configured for this app.",
        ));
    }
    let state = params.get("state");
    let fail = |error: &'static str, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        error,
        description: description.to_owned(),
        state: state.map(str::to_owned),
    };
    if let Some(name) = repeated {
        return Err(fail(
            "invalid_request",
            &format!("The parameter {name} appears more than once."),
        ));
    }
    match params.get("response_type") {
        None => {
            return Err(fail(
                "invalid_request",
                "Missing required parameter: response_type",
            ));
        }
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "Unsupported response type: only code is supported",
            ));
        }
    }
    if params.get("audience") != Some(AUDIENCE) {
        return Err(fail(
            "invalid_request",
            "The audience parameter must be api.atlassian.com",
        ));
    }
    let Some(state) = state.filter(|s| !s.is_empty()) else {
        return Err(fail("invalid_request", "Missing required parameter: state"));
    };
    let scopes = requested_scopes(app, params.get("scope"))
        .map_err(|description| fail("invalid_scope", &description))?;
    Ok(Request {
        client_id: app.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state: state.to_owned(),
    })
}

/// The space-separated scopes, deduplicated in request order, all configured on the app.
fn requested_scopes(app: &App, scope: Option<&str>) -> Result<Vec<String>, String> {
    let mut scopes: Vec<String> = Vec::new();
    for s in scope
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        if !app.scopes.contains(s) {
            return Err(format!("The scope {s} is not configured for this app"));
        }
        if !scopes.iter().any(|known| known == s) {
            scopes.push(s.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err("At least one scope is required".to_owned());
    }
    Ok(scopes)
}

/// The account with this login, e-mail or account id, if active.
fn find_account(world: &World, who: &str) -> Option<String> {
    world
        .users
        .values()
        .find(|u| {
            u.active
                && (u.login.eq_ignore_ascii_case(who)
                    || u.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(who))
                    || u.account_id == who)
        })
        .map(|u| u.account_id.clone())
}

/// The sites `account_id` may pick, the first seeded site first.
fn sites_of(world: &World, account_id: &str) -> Vec<SiteChoice> {
    let mut sites: Vec<SiteChoice> = world
        .sites
        .values()
        .filter(|s| s.members.contains_key(account_id))
        .map(|s| SiteChoice {
            cloud_id: s.cloud_id.clone(),
            name: s.name.clone(),
            url: s.url.clone(),
        })
        .collect();
    sites.sort_by_key(|s| s.cloud_id != crate::seed::ACME_CLOUD_ID);
    sites
}

/// Approves at once (auto-consent): as `sim_user` / `login_hint` (login, e-mail or account id;
/// default the seeded site admin) on `sim_site` (name or cloud id; default the first seeded site).
fn auto_approve(
    state: &SimState,
    world: &mut World,
    params: &Params,
    request: Request,
    now: EpochMs,
) -> Response {
    let deny = |description: &str| {
        error_redirect(
            &request.redirect_uri,
            "access_denied",
            description,
            Some(&request.state),
        )
    };
    let hint = params.get("sim_user").or_else(|| params.get("login_hint"));
    let account = match hint {
        Some(who) => find_account(world, who),
        None => world
            .user(crate::seed::ADMIN_ACCOUNT)
            .map(|u| u.account_id.clone())
            .or_else(|| world.users.keys().next().cloned()),
    };
    let Some(account_id) = account else {
        return deny("No simulator account matches sim_user or login_hint");
    };
    let sites = sites_of(world, &account_id);
    let site = match params.get("sim_site") {
        Some(wanted) => sites
            .iter()
            .find(|s| s.name == wanted || s.cloud_id == wanted),
        None => sites.first(),
    };
    let Some(site) = site else {
        return deny("The account has no access to the requested site");
    };
    let cloud_id = site.cloud_id.clone();
    let settings = state.settings();
    let code = grants::issue_code(
        world,
        Approval {
            client_id: request.client_id,
            redirect_uri: request.redirect_uri.clone(),
            account_id,
            cloud_id,
            scopes: request.scopes,
        },
        now,
        &settings,
    );
    redirect_to(
        &request.redirect_uri,
        &[("code", &code), ("state", &request.state)],
    )
}

/// `GET /authorize`.
pub(super) async fn authorize(
    State(state): State<SimState>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(&query.unwrap_or_default())
    else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Something went wrong",
            "The request's query string is malformed.",
        );
    };
    let params = Params(pairs);
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    grants::sweep(&mut world, now);
    let request = match validate(&world, &params) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    if state.auto_consent {
        return auto_approve(&state, &mut world, &params, request, now);
    }
    let pending = PendingAuthorization {
        id: crate::util::uuid(),
        client_id: request.client_id,
        redirect_uri: request.redirect_uri,
        scopes: request.scopes,
        state: request.state,
        login_hint: params.get("login_hint").map(str::to_owned),
        account_id: None,
        form_token: random_token(40),
        expires_at: now + PENDING_TTL_MS,
    };
    let response = login_page(&world, &pending, None, StatusCode::OK);
    world.oauth.pending.insert(pending.id.clone(), pending);
    response
}

fn login_page(
    world: &World,
    pending: &PendingAuthorization,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let app_name = world
        .apps
        .get(&pending.client_id)
        .map_or("The app", |a| a.name.as_str());
    pages::login(
        &LoginPage {
            pending_id: &pending.id,
            form_token: &pending.form_token,
            app_name,
            login_hint: pending.login_hint.as_deref().unwrap_or_default(),
            error,
            known_logins: world
                .users
                .values()
                .filter(|u| u.active && u.account_type == "atlassian")
                .map(|u| u.login.clone())
                .collect(),
        },
        status,
    )
}

fn consent_view(
    world: &World,
    pending: &PendingAuthorization,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let account_id = pending.account_id.as_deref().unwrap_or_default();
    let user = world.user(account_id);
    pages::consent(
        &ConsentPage {
            pending_id: &pending.id,
            form_token: &pending.form_token,
            app_name: world
                .apps
                .get(&pending.client_id)
                .map_or("The app", |a| a.name.as_str()),
            user_name: user.map_or("", |u| u.display_name.as_str()),
            user_login: user.map_or("", |u| u.login.as_str()),
            scopes: &pending.scopes,
            sites: sites_of(world, account_id),
            error,
        },
        status,
    )
}

/// Why a consent-flow form or page cannot be served.
#[derive(Debug, Clone, Copy)]
enum SessionError {
    /// Unknown or expired consent session.
    Gone,
    /// The form token does not belong to the session.
    Mismatch,
}

impl SessionError {
    fn into_response(self) -> Response {
        match self {
            SessionError::Gone => pages::error(
                StatusCode::BAD_REQUEST,
                "This request has expired",
                "The authorization request is unknown or has expired.",
            ),
            SessionError::Mismatch => pages::error(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form does not belong to this authorization request.",
            ),
        }
    }
}

/// The live consent session `id`, if its form token matches (`None` for the token skips the
/// check, for the GET of the consent page).
fn session<'w>(
    world: &'w World,
    id: Option<&str>,
    form_token: Option<Option<&str>>,
    now: EpochMs,
) -> Result<&'w PendingAuthorization, SessionError> {
    let pending = id
        .and_then(|id| world.oauth.pending.get(id))
        .filter(|p| p.expires_at > now)
        .ok_or(SessionError::Gone)?;
    if let Some(token) = form_token
        && token != Some(pending.form_token.as_str())
    {
        return Err(SessionError::Mismatch);
    }
    Ok(pending)
}

/// Fields of the login form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LoginForm {
    pending: Option<String>,
    form_token: Option<String>,
    login: Option<String>,
    password: Option<String>,
}

/// `POST /authorize/login`: checks the credentials, then shows the consent page (303).
pub(super) async fn login(State(state): State<SimState>, Form(form): Form<LoginForm>) -> Response {
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let pending = match session(
        &world,
        form.pending.as_deref(),
        Some(form.form_token.as_deref()),
        now,
    ) {
        Ok(p) => p.clone(),
        Err(err) => return err.into_response(),
    };
    let login = form.login.unwrap_or_default();
    let account = find_account(&world, login.trim()).filter(|id| {
        world
            .user(id)
            .is_some_and(|u| Some(&u.password) == form.password.as_ref())
    });
    let Some(account_id) = account else {
        let mut shown = pending;
        shown.login_hint = Some(login);
        return login_page(
            &world,
            &shown,
            Some("Incorrect email address and / or password."),
            StatusCode::UNAUTHORIZED,
        );
    };
    let Some(stored) = world.oauth.pending.get_mut(&pending.id) else {
        return SessionError::Gone.into_response();
    };
    stored.account_id = Some(account_id);
    stored.form_token = random_token(40);
    let location = format!("/authorize/consent?pending={}", pending.id);
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => SessionError::Gone.into_response(),
    }
}

/// Query of the consent page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConsentQuery {
    pending: Option<String>,
}

/// `GET /authorize/consent?pending=...`: the consent page of a logged-in session.
pub(super) async fn consent_page(
    State(state): State<SimState>,
    Query(query): Query<ConsentQuery>,
) -> Response {
    let now = state.clock.now_ms();
    let world = state.world.read();
    match session(&world, query.pending.as_deref(), None, now) {
        Ok(pending) if pending.account_id.is_some() => {
            consent_view(&world, pending, None, StatusCode::OK)
        }
        Ok(pending) => login_page(&world, pending, None, StatusCode::OK),
        Err(err) => err.into_response(),
    }
}

/// Fields of the consent form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ConsentForm {
    pending: Option<String>,
    form_token: Option<String>,
    decision: Option<String>,
    site: Option<String>,
}

/// `POST /authorize/consent`: Accept redirects with a code, Deny with `access_denied`.
pub(super) async fn consent(
    State(state): State<SimState>,
    Form(form): Form<ConsentForm>,
) -> Response {
    let now = state.clock.now_ms();
    let mut world = state.world.write();
    let pending = match session(
        &world,
        form.pending.as_deref(),
        Some(form.form_token.as_deref()),
        now,
    ) {
        Ok(p) => p.clone(),
        Err(err) => return err.into_response(),
    };
    let Some(account_id) = pending.account_id.clone() else {
        return login_page(&world, &pending, None, StatusCode::OK);
    };
    match form.decision.as_deref() {
        Some("deny") => {
            world.oauth.pending.remove(&pending.id);
            error_redirect(
                &pending.redirect_uri,
                "access_denied",
                "User did not authorize the request",
                Some(&pending.state),
            )
        }
        Some("accept") => {
            let site = form.site.as_deref().unwrap_or_default();
            if !sites_of(&world, &account_id)
                .iter()
                .any(|s| s.cloud_id == site)
            {
                return consent_view(
                    &world,
                    &pending,
                    Some("Choose a site to use the app on."),
                    StatusCode::BAD_REQUEST,
                );
            }
            world.oauth.pending.remove(&pending.id);
            let settings = state.settings();
            let code = grants::issue_code(
                &mut world,
                Approval {
                    client_id: pending.client_id.clone(),
                    redirect_uri: pending.redirect_uri.clone(),
                    account_id,
                    cloud_id: site.to_owned(),
                    scopes: pending.scopes.clone(),
                },
                now,
                &settings,
            );
            redirect_to(
                &pending.redirect_uri,
                &[("code", &code), ("state", &pending.state)],
            )
        }
        _ => consent_view(
            &world,
            &pending,
            Some("Choose Accept or Deny."),
            StatusCode::BAD_REQUEST,
        ),
    }
}

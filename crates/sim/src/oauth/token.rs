//! `POST /oauth/token`: parses JSON or form bodies, authenticates the client (credentials in the
//! body as Atlassian documents, HTTP Basic as a fallback), runs the `authorization_code` and
//! `refresh_token` grants and answers in Atlassian's shapes with `Cache-Control: no-store`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::grants::{self, GrantError, Issued, RefreshOutcome};
use crate::error::ApiError;
use crate::state::{Counters, SimState};
use crate::world::World;

/// Adds the headers RFC 6749 §5.1 requires on token responses (success and error alike).
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn invalid_request(description: &str) -> ApiError {
    ApiError::oauth(StatusCode::BAD_REQUEST, "invalid_request", description)
}

/// Bad, missing or mismatched client credentials: Atlassian answers 401 `access_denied`.
fn unauthorized() -> ApiError {
    ApiError::oauth(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized")
}

/// The body's parameters. JSON (as Atlassian documents) and form encoding (RFC 6749) are both
/// accepted; a parameter given twice is an `invalid_request` (RFC 6749 §3.2).
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut params = BTreeMap::new();
    if content_type.starts_with("application/json") {
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
            return Err(invalid_request("The request body is not a JSON object."));
        };
        for (key, value) in object {
            let text = match value {
                Value::String(s) => s,
                Value::Null => continue,
                _ => {
                    return Err(invalid_request(&format!(
                        "The parameter {key} must be a string."
                    )));
                }
            };
            params.insert(key, text);
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) else {
            return Err(invalid_request("The request body is not form-encoded."));
        };
        for (key, value) in pairs {
            if params.contains_key(&key) {
                return Err(invalid_request(&format!(
                    "The parameter {key} appears more than once."
                )));
            }
            params.insert(key, value);
        }
    } else {
        return Err(invalid_request(
            "Send the parameters as application/json or application/x-www-form-urlencoded.",
        ));
    }
    // Empty values count as missing, as most authorization servers treat them.
    params.retain(|_, v| !v.is_empty());
    Ok(params)
}

/// `client_id:client_secret` from an `Authorization: Basic` header, each part form-decoded
/// (RFC 6749 §2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// Authenticates the client: body credentials first, then HTTP Basic. Returns the client id.
fn authenticate_client(
    world: &World,
    params: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let body_id = params.get("client_id");
    let (client_id, secret) = match (body_id, params.get("client_secret")) {
        (Some(id), Some(secret)) => (id.clone(), secret.clone()),
        _ => {
            let (id, secret) = basic_credentials(headers).ok_or_else(unauthorized)?;
            if body_id.is_some_and(|b| *b != id) {
                return Err(unauthorized());
            }
            (id, secret)
        }
    };
    match world.apps.get(&client_id) {
        Some(app) if app.client_secret == secret => Ok(client_id),
        _ => Err(unauthorized()),
    }
}

fn required<'p>(params: &'p BTreeMap<String, String>, name: &str) -> Result<&'p str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| invalid_request(&format!("Missing required parameter: {name}")))
}

fn issued_body(issued: Issued) -> Value {
    let mut body = json!({
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "scope": issued.scope,
        "token_type": "Bearer",
    });
    if let (Some(refresh), Some(object)) = (issued.refresh_token, body.as_object_mut()) {
        object.insert("refresh_token".to_owned(), Value::String(refresh));
    }
    body
}

/// `POST /oauth/token`.
pub(super) async fn token(
    State(state): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = grant(&state, &headers, &body);
    let response = match result {
        Ok(body) => (StatusCode::OK, axum::Json(body)).into_response(),
        Err(err) => err.into_response(),
    };
    no_store(response)
}

fn grant(state: &SimState, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let params = parse_body(headers, body)?;
    let grant_type = required(&params, "grant_type")?.to_owned();
    if grant_type != "authorization_code" && grant_type != "refresh_token" {
        return Err(ApiError::oauth(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Unsupported grant type: {grant_type}"),
        ));
    }
    let now = state.clock.now_ms();
    let settings = state.settings();
    let mut world = state.world.write();
    grants::sweep(&mut world, now);
    let client_id = authenticate_client(&world, &params, headers)?;
    let result = if grant_type == "authorization_code" {
        let code = required(&params, "code")?;
        let redirect_uri = required(&params, "redirect_uri")?;
        grants::exchange_code(&mut world, &client_id, code, redirect_uri, now, &settings)
            .inspect(|_| Counters::bump(&state.counters.code_exchanges))
    } else {
        let refresh_token = required(&params, "refresh_token")?;
        grants::refresh(&mut world, &client_id, refresh_token, now, &settings).map(
            |(issued, outcome)| {
                Counters::bump(&state.counters.refreshes);
                if outcome == RefreshOutcome::ReusedWithinInterval {
                    Counters::bump(&state.counters.refresh_reuse_hits);
                }
                issued
            },
        )
    };
    drop(world);
    match result {
        Ok(issued) => Ok(issued_body(issued)),
        Err(err) => {
            Counters::bump(&state.counters.invalid_grants);
            if err == GrantError::RefreshReuseBreach {
                Counters::bump(&state.counters.family_revocations);
            }
            Err(ApiError::oauth(
                StatusCode::FORBIDDEN,
                "invalid_grant",
                err.description(),
            ))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("my%20id:s%3Acret");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("my id".to_owned(), "s:cret".to_owned()))
        );
    }

    #[test]
    fn a_repeated_form_parameter_is_an_invalid_request() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let err = parse_body(&headers, b"code=a&code=b").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.body()["error"], "invalid_request");
    }
}

//! Unit tests of delivery verification with hand-built tokens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{DeliveryError, query_string_hash, verify_delivery, verify_delivery_at};

const SECRET: &str = "the-app-secret";
const NOW: i64 = 1_780_000_000;

fn token(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn claims(iat: i64) -> Value {
    json!({
        "iss": "jira:cloud-1",
        "aud": "client-1",
        "iat": iat,
        "exp": iat + 180,
        "qsh": query_string_hash("/hooks/jira"),
    })
}

fn headers(token: &str, identifier: Option<&str>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    if let Some(id) = identifier {
        headers.insert(
            "X-Atlassian-Webhook-Identifier",
            HeaderValue::from_str(id).unwrap(),
        );
    }
    headers
}

fn now() -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(NOW, 0).unwrap()
}

const BODY: &[u8] = br#"{"webhookEvent":"jira:issue_created","matchedWebhookIds":[1]}"#;

#[test]
fn a_token_signed_with_the_client_secret_is_accepted() {
    let t = token(&json!({"alg": "HS256", "typ": "JWT"}), &claims(NOW), SECRET);
    let delivery = verify_delivery_at(
        &headers(&t, Some("id-1")),
        BODY,
        SECRET,
        now(),
        Some("/hooks/jira"),
    )
    .unwrap();
    assert_eq!(delivery.identifier, "id-1");
    assert_eq!(delivery.claims.cloud_id(), Some("cloud-1"));
    assert_eq!(delivery.body["matchedWebhookIds"], json!([1]));
}

#[test]
fn a_token_signed_with_another_secret_is_forged() {
    let t = token(&json!({"alg": "HS256"}), &claims(NOW), "someone-else");
    let error = verify_delivery(&headers(&t, Some("id-1")), BODY, SECRET, now()).unwrap_err();
    assert!(matches!(error, DeliveryError::Forged(_)), "{error}");
    assert_eq!(error.http_status(), 401);
}

#[test]
fn an_unsigned_alg_none_token_is_forged() {
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims(NOW).to_string())
    );
    let error =
        verify_delivery(&headers(&unsigned, Some("id-1")), BODY, SECRET, now()).unwrap_err();
    assert!(
        matches!(error, DeliveryError::Forged(ref m) if m.contains("none")),
        "{error}"
    );
    let hs512 = token(&json!({"alg": "HS512"}), &claims(NOW), SECRET);
    let error = verify_delivery(&headers(&hs512, Some("id-1")), BODY, SECRET, now()).unwrap_err();
    assert!(matches!(error, DeliveryError::Forged(_)), "{error}");
}

#[test]
fn an_expired_token_and_one_from_the_future_are_refused() {
    let old = token(&json!({"alg": "HS256"}), &claims(NOW - 600), SECRET);
    let error = verify_delivery(&headers(&old, Some("id-1")), BODY, SECRET, now()).unwrap_err();
    assert!(matches!(error, DeliveryError::Expired(_)), "{error}");
    let future = token(&json!({"alg": "HS256"}), &claims(NOW + 3600), SECRET);
    let error = verify_delivery(&headers(&future, Some("id-1")), BODY, SECRET, now()).unwrap_err();
    assert!(matches!(error, DeliveryError::Expired(_)), "{error}");
    // Within the leeway: a receiver clock a little ahead still accepts.
    let recent = token(&json!({"alg": "HS256"}), &claims(NOW - 200), SECRET);
    assert!(verify_delivery(&headers(&recent, Some("id-1")), BODY, SECRET, now()).is_ok());
}

#[test]
fn a_delivery_without_identifier_or_bearer_is_refused() {
    let t = token(&json!({"alg": "HS256"}), &claims(NOW), SECRET);
    let error = verify_delivery(&headers(&t, None), BODY, SECRET, now()).unwrap_err();
    assert_eq!(error, DeliveryError::MissingIdentifier);
    assert_eq!(error.http_status(), 400);
    let mut basic = headers(&t, Some("id-1"));
    basic.insert("authorization", HeaderValue::from_static("Basic abc"));
    let error = verify_delivery(&basic, BODY, SECRET, now()).unwrap_err();
    assert!(matches!(error, DeliveryError::Malformed(_)), "{error}");
    let error =
        verify_delivery(&headers("not-a-jwt", Some("id-1")), BODY, SECRET, now()).unwrap_err();
    assert!(matches!(error, DeliveryError::Malformed(_)), "{error}");
}

#[test]
fn a_token_hashed_for_another_path_is_forged() {
    let t = token(&json!({"alg": "HS256"}), &claims(NOW), SECRET);
    let error = verify_delivery_at(
        &headers(&t, Some("id-1")),
        BODY,
        SECRET,
        now(),
        Some("/elsewhere"),
    )
    .unwrap_err();
    assert!(
        matches!(error, DeliveryError::Forged(ref m) if m.contains("qsh")),
        "{error}"
    );
}

#[test]
fn a_body_that_is_not_json_is_malformed() {
    let t = token(&json!({"alg": "HS256"}), &claims(NOW), SECRET);
    let error = verify_delivery(&headers(&t, Some("id-1")), b"<xml/>", SECRET, now()).unwrap_err();
    assert!(matches!(error, DeliveryError::Malformed(_)), "{error}");
}

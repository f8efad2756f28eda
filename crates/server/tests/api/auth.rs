//! Authentication and permissions of `/api/v1`.

use axum::http::{Method, StatusCode};

use crate::support::Harness;

#[tokio::test]
async fn api_routes_refuse_a_missing_malformed_or_unknown_api_key() {
    let h = Harness::start("auth").await;
    let none = h.call(None, Method::GET, "/api/v1/flows", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    let (code, message, _) = none.error();
    assert_eq!(code, "unauthorized");
    assert!(message.contains("Bearer"), "{message}");

    let wrong = h
        .call(Some("jf_not-a-real-key"), Method::GET, "/api/v1/runs", None)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.error().1.contains("unknown or revoked"));

    let basic = h
        .send(
            axum::http::Request::get("/api/v1/files")
                .header("authorization", "Basic YWRhOnNlY3JldA==")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);

    let ok = h.admin(Method::GET, "/api/v1/flows").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json(), serde_json::json!([]));
    h.stop().await;
}

#[tokio::test]
async fn a_member_cannot_start_a_connection_nor_see_an_admins_one() {
    let h = Harness::start("perm").await;
    h.connect("acme").await;
    let member = h.member_key.clone();
    let start = h
        .call(
            Some(&member),
            Method::POST,
            "/api/v1/connections",
            Some((
                "application/json",
                br#"{"name":"mine","app":"sim"}"#.to_vec(),
            )),
        )
        .await;
    assert_eq!(start.status, StatusCode::FORBIDDEN, "{}", start.text());
    assert!(start.error().1.contains("manage_integration_connections"));

    let listed = h
        .call(Some(&member), Method::GET, "/api/v1/connections", None)
        .await;
    assert_eq!(listed.json(), serde_json::json!([]));
    let shown = h
        .call(Some(&member), Method::GET, "/api/v1/connections/acme", None)
        .await;
    assert_eq!(shown.status, StatusCode::NOT_FOUND);
    // The same answer as for a connection that does not exist at all.
    let missing = h
        .call(Some(&member), Method::GET, "/api/v1/connections/nope", None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    h.stop().await;
}

#[tokio::test]
async fn an_unknown_json_field_is_refused_naming_the_field() {
    let h = Harness::start("json").await;
    let answer = h
        .admin_json(
            Method::POST,
            "/api/v1/connections",
            &serde_json::json!({"name": "x", "app": "sim", "colour": "blue"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text());
    let (code, message, field) = answer.error();
    assert_eq!(code, "invalid");
    assert!(message.contains("colour"), "{message}");
    assert_eq!(field.as_deref(), Some("colour"));
    let unknown_query = h.admin(Method::GET, "/api/v1/runs?stauts=failed").await;
    assert_eq!(unknown_query.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_query.error().2.as_deref(), Some("stauts"));
    h.stop().await;
}

//! File objects over the API: streamed uploads and downloads.

use axum::http::{Method, StatusCode};

use crate::support::Harness;

#[tokio::test]
async fn a_raw_upload_downloads_byte_for_byte_with_its_checksum() {
    let h = Harness::start("files").await;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let key = h.admin_key.clone();
    let uploaded = h
        .call(
            Some(&key),
            Method::POST,
            "/api/v1/files?name=r%C3%A9sum%C3%A9.bin",
            Some(("application/octet-stream", bytes.clone())),
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.text());
    let record = uploaded.json();
    assert_eq!(record["name"], "résumé.bin");
    assert_eq!(record["size"], 200_000);
    let id = record["id"].as_str().unwrap().to_owned();

    let content = h
        .admin(Method::GET, &format!("/api/v1/files/{id}/content"))
        .await;
    assert_eq!(content.status, StatusCode::OK);
    assert_eq!(content.body, bytes);
    assert_eq!(
        content.headers["x-checksum-sha256"].to_str().unwrap(),
        record["sha256"].as_str().unwrap()
    );
    assert!(
        content.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("r%C3%A9sum%C3%A9.bin")
    );

    // The member sees neither the record nor its content.
    let member = h.member_key.clone();
    let hidden = h
        .call(
            Some(&member),
            Method::GET,
            &format!("/api/v1/files/{id}"),
            None,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let listed = h
        .call(Some(&member), Method::GET, "/api/v1/files", None)
        .await;
    assert_eq!(listed.json(), serde_json::json!([]));

    let deleted = h
        .admin(Method::DELETE, &format!("/api/v1/files/{id}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = h
        .admin(Method::GET, &format!("/api/v1/files/{id}/content"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    h.stop().await;
}

#[tokio::test]
async fn a_multipart_upload_keeps_the_parts_name_and_media_type() {
    let h = Harness::start("multipart").await;
    let boundary = "XyZbOuNdArY";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello, multipart\r\n--{boundary}--\r\n"
    );
    let key = h.admin_key.clone();
    let uploaded = h
        .call(
            Some(&key),
            Method::POST,
            "/api/v1/files",
            Some((
                &format!("multipart/form-data; boundary={boundary}"),
                body.into_bytes(),
            )),
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{}", uploaded.text());
    let record = uploaded.json();
    assert_eq!(record["name"], "notes.txt");
    assert_eq!(record["media_type"], "text/plain");
    let id = record["id"].as_str().unwrap();
    let content = h
        .admin(Method::GET, &format!("/api/v1/files/{id}/content"))
        .await;
    assert_eq!(content.text(), "hello, multipart");
    h.stop().await;
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_and_leaves_nothing() {
    let h = Harness::start("toolarge").await;
    let key = h.admin_key.clone();
    let big = vec![7u8; 15 * 1024 * 1024 + 1];
    let answer = h
        .call(
            Some(&key),
            Method::POST,
            "/api/v1/files?name=big.bin",
            Some(("application/octet-stream", big)),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.text()
    );
    assert_eq!(answer.error().0, "too_large");
    assert_eq!(
        h.admin(Method::GET, "/api/v1/files").await.json(),
        serde_json::json!([])
    );
    h.stop().await;
}

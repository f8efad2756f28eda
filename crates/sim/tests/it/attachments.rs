//! Attachments over HTTP: multipart uploads (XSRF header, binary and empty files, non-ASCII names,
//! size limits), metadata and settings, deletion, and downloads both directly and through the
//! signed redirect to the media origin (another origin that must not see the bearer token), with
//! byte ranges.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, edit_site_settings, issue_updated, send_json};
use jiraflow_sim::seed::{ACME_CLOUD_ID, CLASSIC_SCOPES, MEMBER_ACCOUNT, SECURITY_ACCOUNT};

const UPLOAD: &str = "/rest/api/3/issue/{issueIdOrKey}/attachments";

fn binary() -> Vec<u8> {
    (0..=255u8).cycle().take(3000).collect()
}

/// Uploads `files` (name, bytes, media type) to `key` as the admin, with the XSRF header.
async fn upload(sim: &TestSim, key: &str, files: &[(&str, Vec<u8>, &str)]) -> (u16, Value) {
    let mut form = Form::new();
    for (name, bytes, mime) in files {
        let part = Part::bytes(bytes.clone())
            .file_name((*name).to_owned())
            .mime_str(mime)
            .expect("mime");
        form = form.part("file", part);
    }
    send_json(
        sim.admin(Method::POST, &format!("/issue/{key}/attachments"))
            .header("X-Atlassian-Token", "no-check")
            .multipart(form),
    )
    .await
}

async fn download(sim: &TestSim, id: &str) -> reqwest::Response {
    sim.admin(
        Method::GET,
        &format!("/attachment/content/{id}?redirect=false"),
    )
    .send()
    .await
    .expect("answered")
}

#[tokio::test]
async fn uploading_binary_and_empty_files_round_trips_their_bytes() {
    let sim = TestSim::start().await;
    let before = issue_updated(&sim, "DEMO-5");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (status, body) = upload(
        &sim,
        "DEMO-5",
        &[
            ("blob.bin", binary(), "application/x-custom"),
            ("empty.txt", Vec::new(), "text/plain"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_matches_spec("POST", UPLOAD, 200, &body);
    let items = body.as_array().expect("an array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["filename"], "blob.bin");
    assert_eq!(items[0]["mimeType"], "application/x-custom");
    assert_eq!(items[0]["size"], 3000);
    assert_eq!(items[1]["size"], 0);
    let id = items[0]["id"].as_str().expect("string id");
    assert!(
        items[0]["content"]
            .as_str()
            .expect("content")
            .ends_with(&format!("/rest/api/3/attachment/content/{id}"))
    );
    let response = download(&sim, id).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-custom");
    assert_eq!(response.headers()["content-length"], "3000");
    assert_eq!(response.bytes().await.expect("bytes").to_vec(), binary());
    let empty = download(&sim, items[1]["id"].as_str().expect("id")).await;
    assert_eq!(empty.status(), 200);
    assert!(empty.bytes().await.expect("bytes").is_empty());
    assert!(issue_updated(&sim, "DEMO-5") > before, "updated is bumped");
    let world = sim.sim.state.world.read();
    let site = world.site(ACME_CLOUD_ID).expect("site");
    let issue = &site.jira.issues[&site.jira.resolve_issue("DEMO-5").expect("issue")];
    let last = issue.changelog.last().expect("a changelog entry");
    assert_eq!(last.items[0].field, "Attachment");
    assert_eq!(last.items[0].to.as_deref(), Some(id));
    assert_eq!(last.items[0].to_string.as_deref(), Some("blob.bin"));
}

#[tokio::test]
async fn non_ascii_file_names_round_trip_exactly() {
    let sim = TestSim::start().await;
    let names = [
        "\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{8cc7}\u{6599}.txt",
        "party \u{1f389}\u{1f600}.png",
        "quote \"this\" and 'that'.txt",
        "  spaced   name .md",
        "r\u{e9}sum\u{e9};semi,comma.pdf",
    ];
    for name in names {
        let (status, body) = upload(&sim, "DEMO-6", &[(name, b"x".to_vec(), "text/plain")]).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body[0]["filename"], name);
        let id = body[0]["id"].as_str().expect("id");
        let (_, meta) = send_json(sim.admin(Method::GET, &format!("/attachment/{id}"))).await;
        assert_eq!(meta["filename"], name);
        let response = download(&sim, id).await;
        let disposition = response.headers()["content-disposition"]
            .to_str()
            .expect("ascii header")
            .to_owned();
        let encoded = disposition
            .split("filename*=UTF-8''")
            .nth(1)
            .expect("an RFC 5987 filename");
        let decoded = url::form_urlencoded::parse(format!("n={encoded}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .expect("decodes");
        assert_eq!(decoded.replace('+', " "), name.replace('+', " "));
    }
}

#[tokio::test]
async fn an_rfc5987_extended_file_name_is_decoded() {
    let sim = TestSim::start().await;
    let body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fallback.txt\"; \
                filename*=UTF-8''%E6%97%A5%E6%9C%AC%20%F0%9F%98%80.txt\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n";
    let (status, response) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-6/attachments")
            .header("X-Atlassian-Token", "no-check")
            .header("Content-Type", "multipart/form-data; boundary=b")
            .body(body),
    )
    .await;
    assert_eq!(status, 200, "{response}");
    assert_eq!(response[0]["filename"], "\u{65e5}\u{672c} \u{1f600}.txt");
    assert_eq!(response[0]["size"], 2);
}

#[tokio::test]
async fn parts_not_named_file_are_ignored_and_the_type_falls_back_to_the_extension() {
    let sim = TestSim::start().await;
    let form = Form::new()
        .text("comment", "ignored")
        .part(
            "file",
            Part::bytes(vec![0x89, b'P', b'N', b'G'])
                .file_name("pic.png")
                .mime_str("application/octet-stream")
                .expect("mime"),
        )
        .part("other", Part::bytes(vec![1, 2, 3]).file_name("x.bin"));
    let (status, body) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-7/attachments")
            .header("X-Atlassian-Token", "no-check")
            .multipart(form),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(1));
    assert_eq!(body[0]["mimeType"], "image/png");
}

#[tokio::test]
async fn uploading_without_the_xsrf_header_is_blocked() {
    let sim = TestSim::start().await;
    let form = Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("a.txt"));
    let (status, body) = send_json(
        sim.admin(Method::POST, "/issue/DEMO-5/attachments")
            .multipart(form),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errorMessages"][0], "XSRF check failed");
}

#[tokio::test]
async fn a_file_over_the_upload_limit_gets_413_and_nothing_is_stored() {
    let sim = TestSim::start().await;
    edit_site_settings(&sim, |s| s.attachment_upload_limit = 1024);
    let count = || {
        sim.sim.state.world.read().sites[ACME_CLOUD_ID]
            .jira
            .attachments
            .len()
    };
    let before = count();
    let (status, body) = upload(
        &sim,
        "DEMO-5",
        &[("big.bin", vec![7; 64 * 1024], "application/octet-stream")],
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(count(), before);
    let (status, meta) = send_json(sim.admin(Method::GET, "/attachment/meta")).await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", "/rest/api/3/attachment/meta", 200, &meta);
    assert_eq!(meta["uploadLimit"], 1024);
    assert_eq!(meta["enabled"], true);
    let (status, _) = upload(
        &sim,
        "DEMO-5",
        &[("ok.bin", vec![7; 1024], "application/octet-stream")],
    )
    .await;
    assert_eq!(status, 200, "a file of exactly the limit is accepted");
}

#[tokio::test]
async fn the_per_issue_attachment_limit_answers_413() {
    let sim = TestSim::start().await;
    edit_site_settings(&sim, |s| s.max_attachments_per_issue = 2);
    let files = [
        ("a.txt", b"a".to_vec(), "text/plain"),
        ("b.txt", b"b".to_vec(), "text/plain"),
        ("c.txt", b"c".to_vec(), "text/plain"),
    ];
    let (status, _) = upload(&sim, "DEMO-9", &files).await;
    assert_eq!(status, 413);
    let (status, _) = upload(&sim, "DEMO-9", &files[..2]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn issues_the_caller_cannot_browse_answer_404_for_uploads_and_downloads() {
    let sim = TestSim::start().await;
    let sam = sim.token_for(SECURITY_ACCOUNT, CLASSIC_SCOPES);
    let form = Form::new().part("file", Part::bytes(b"s".to_vec()).file_name("s.txt"));
    let (status, body) = send_json(
        sim.http
            .post(sim.api("/issue/SEC-1/attachments"))
            .bearer_auth(&sam)
            .header("X-Atlassian-Token", "no-check")
            .multipart(form),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body[0]["id"].as_str().expect("id").to_owned();
    let bob = sim.token_for(MEMBER_ACCOUNT, CLASSIC_SCOPES);
    for path in [
        format!("/attachment/{id}"),
        format!("/attachment/content/{id}"),
        format!("/attachment/content/{id}?redirect=false"),
    ] {
        let (status, _) = send_json(sim.http.get(sim.api(&path)).bearer_auth(&bob)).await;
        assert_eq!(status, 404, "{path}");
    }
    let form = Form::new().part("file", Part::bytes(b"b".to_vec()).file_name("b.txt"));
    let (status, _) = send_json(
        sim.http
            .post(sim.api("/issue/SEC-1/attachments"))
            .bearer_auth(&bob)
            .header("X-Atlassian-Token", "no-check")
            .multipart(form),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn metadata_has_a_numeric_id_and_only_the_author_or_an_admin_may_delete() {
    let sim = TestSim::start().await;
    let bob = sim.token_for(MEMBER_ACCOUNT, CLASSIC_SCOPES);
    let (_, body) = upload(&sim, "DEMO-8", &[("a.txt", b"abc".to_vec(), "text/plain")]).await;
    let id = body[0]["id"].as_str().expect("id").to_owned();
    let (status, meta) = send_json(sim.admin(Method::GET, &format!("/attachment/{id}"))).await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", "/rest/api/3/attachment/{id}", 200, &meta);
    assert_eq!(meta["id"].as_u64().map(|n| n.to_string()), Some(id.clone()));
    assert_eq!(meta["properties"], serde_json::json!({}));
    let (status, _) = send_json(
        sim.http
            .delete(sim.api(&format!("/attachment/{id}")))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(status, 403, "someone else's attachment");
    let (status, body) = send_json(sim.admin(Method::DELETE, &format!("/attachment/{id}"))).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = send_json(sim.admin(Method::GET, &format!("/attachment/{id}"))).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn content_redirects_to_a_signed_url_on_another_origin_that_needs_no_token() {
    let sim = TestSim::start().await;
    let (_, body) = upload(
        &sim,
        "DEMO-5",
        &[("data.bin", binary(), "application/x-data")],
    )
    .await;
    let id = body[0]["id"].as_str().expect("id").to_owned();
    let response = sim
        .admin(Method::GET, &format!("/attachment/content/{id}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(location.starts_with(&sim.sim.info.media_url), "{location}");
    assert_ne!(
        url::Url::parse(&location).expect("url").port(),
        url::Url::parse(&sim.sim.info.api_url).expect("url").port(),
        "the media origin is another origin"
    );
    let plain = sim.http.get(&location).send().await.expect("answered");
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.bytes().await.expect("bytes").to_vec(), binary());
    let (status, _) = send_json(sim.http.get(&location).bearer_auth(sim.admin_token())).await;
    assert_eq!(status, 400, "a bearer token on the media origin is refused");
    // A client that follows redirects drops the Authorization header across origins, so the same
    // request with the Jira token succeeds end to end.
    let following = reqwest::Client::new();
    let response = following
        .get(sim.api(&format!("/attachment/content/{id}")))
        .bearer_auth(sim.admin_token())
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.expect("bytes").to_vec(), binary());
}

#[tokio::test]
async fn expired_or_forged_signed_urls_are_refused() {
    let sim = TestSim::start().await;
    let (_, body) = upload(&sim, "DEMO-5", &[("a.txt", b"abc".to_vec(), "text/plain")]).await;
    let id = body[0]["id"].as_str().expect("id").to_owned();
    let response = sim
        .admin(Method::GET, &format!("/attachment/content/{id}"))
        .send()
        .await
        .expect("answered");
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let forged = location.replacen("sig=", "sig=AAAA", 1);
    let (status, _) = send_json(sim.http.get(&forged)).await;
    assert_eq!(status, 403);
    let other_id = location.replacen(&format!("/{id}/"), "/1/", 1);
    let (status, _) = send_json(sim.http.get(&other_id)).await;
    assert_eq!(status, 403, "the signature covers the attachment id");
    sim.sim.state.clock.advance_ms(61_000);
    let (status, body) = send_json(sim.http.get(&location)).await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn byte_ranges_get_206_and_unsatisfiable_ones_416_directly_and_on_the_media_origin() {
    let sim = TestSim::start().await;
    let (_, body) = upload(
        &sim,
        "DEMO-5",
        &[("a.txt", b"0123456789".to_vec(), "text/plain")],
    )
    .await;
    let id = body[0]["id"].as_str().expect("id").to_owned();
    let direct = |range: &str| {
        sim.admin(
            Method::GET,
            &format!("/attachment/content/{id}?redirect=false"),
        )
        .header("Range", range)
    };
    let location = sim
        .admin(Method::GET, &format!("/attachment/content/{id}"))
        .send()
        .await
        .expect("answered")
        .headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let media = |range: &str| sim.http.get(&location).header("Range", range);
    let requests: [&dyn Fn(&str) -> reqwest::RequestBuilder; 2] = [&direct, &media];
    for request in requests {
        for (range, content, content_range) in [
            ("bytes=2-5", "2345", "bytes 2-5/10"),
            ("bytes=7-", "789", "bytes 7-9/10"),
            ("bytes=-3", "789", "bytes 7-9/10"),
        ] {
            let response = request(range).send().await.expect("answered");
            assert_eq!(response.status(), 206, "{range}");
            assert_eq!(response.headers()["content-range"], content_range);
            assert_eq!(response.text().await.expect("text"), content);
        }
        let response = request("bytes=10-").send().await.expect("answered");
        assert_eq!(response.status(), 416);
        assert_eq!(response.headers()["content-range"], "bytes */10");
    }
    let response = direct("bytes=x-y").send().await.expect("answered");
    assert_eq!(
        response.status(),
        400,
        "a malformed range is a 400 from Jira"
    );
}

//! Attachments against the simulator (streamed uploads with awkward UTF-8 names, the upload
//! limit preflight, metadata, ranged and redirected downloads, delete) and wiremock (the exact
//! multipart part Jira receives, and that a redirect to another origin never carries the token).

#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use futures_util::TryStreamExt;
use jiraflow_jira::ops::attachments::AttachmentFile;
use jiraflow_jira::wire::attachment::Attachment;
use jiraflow_jira::{Error, JiraClient};
use jiraflow_sim::seed::ACME_CLOUD_ID;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::core::{admin, client, start_sim};

const NAMES: [&str; 4] = [
    "\u{65e5}\u{672c}\u{8a9e}\u{306e}\u{8cc7}\u{6599}.txt",
    "party \u{1f389} time.txt",
    "say \"hi\" there.txt",
    "back\\slash and  spaces .log",
];

/// Attaches `file` to DEMO-1 and returns what Jira answered.
async fn attach(jira: &JiraClient, file: AttachmentFile) -> Vec<Attachment> {
    jira.attachments().add("DEMO-1", file).send().await.unwrap()
}

fn chunks(data: &'static [u8]) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    futures_util::stream::iter(data.chunks(3).map(|c| Ok(Bytes::from_static(c))))
}

#[tokio::test]
async fn streamed_uploads_keep_non_ascii_quoted_and_spaced_names_byte_for_byte() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let data: &'static [u8] = b"hello attachment";
    for name in NAMES {
        let file = AttachmentFile::from_stream(name, data.len() as u64, chunks(data));
        let added = jira.attachments().add("DEMO-1", file).send().await.unwrap();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].filename.as_deref(), Some(name));
        assert_eq!(added[0].size, Some(data.len() as u64));
        let meta = jira
            .attachments()
            .metadata(added[0].id.clone())
            .await
            .unwrap();
        assert_eq!(meta.filename.as_deref(), Some(name));
        let bytes = jira
            .attachments()
            .content(added[0].id.clone())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&bytes[..], data);
    }
}

#[tokio::test]
async fn a_file_on_disk_is_uploaded_under_its_own_name_together_with_others() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let dir = std::env::temp_dir().join(format!("jiraflow-att-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r\u{e9}sum\u{e9} 2026.csv");
    std::fs::write(&path, vec![b'x'; 200_000]).unwrap();
    let from_disk = AttachmentFile::from_path(&path).await.unwrap();
    let added = jira
        .attachments()
        .add("DEMO-2", from_disk)
        .file(AttachmentFile::from_bytes("b.txt", "bee").mime_type("text/plain"))
        .send()
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let names: Vec<_> = added.iter().map(|a| a.filename.clone().unwrap()).collect();
    assert_eq!(names, ["r\u{e9}sum\u{e9} 2026.csv", "b.txt"]);
    assert_eq!(added[0].size, Some(200_000));
    assert_eq!(added[1].mime_type.as_deref(), Some("text/plain"));
}

#[tokio::test]
async fn a_file_over_the_site_limit_fails_before_upload_naming_size_and_limit() {
    let sim = start_sim().await;
    sim.state
        .world
        .write()
        .site_mut(ACME_CLOUD_ID)
        .unwrap()
        .jira
        .settings
        .attachment_upload_limit = 10;
    let jira = admin(&sim);
    let settings = jira.attachments().settings().await.unwrap();
    assert_eq!(settings.upload_limit, Some(10));
    let error = jira
        .attachments()
        .add(
            "DEMO-1",
            AttachmentFile::from_bytes("big.bin", vec![0u8; 11]),
        )
        .send()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::InvalidInput(_)), "{text}");
    assert!(
        text.contains("11 bytes") && text.contains("10 bytes"),
        "{text}"
    );
    // Without the preflight the server refuses it with 413.
    let error = jira
        .attachments()
        .add(
            "DEMO-1",
            AttachmentFile::from_bytes("big.bin", vec![0u8; 11]),
        )
        .skip_limit_check()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(413), "{error}");
}

#[tokio::test]
async fn a_range_download_answers_partial_content() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let added = attach(&jira, AttachmentFile::from_bytes("r.txt", "0123456789")).await;
    let content = jira
        .attachments()
        .content(added[0].id.clone())
        .range(2, Some(5))
        .send()
        .await
        .unwrap();
    assert_eq!(content.status.as_u16(), 206);
    assert!(content.content_range.is_some());
    assert_eq!(&content.bytes().await.unwrap()[..], b"2345");
    let error = jira
        .attachments()
        .content(added[0].id.clone())
        .range(100, None)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(416), "{error}");
}

#[tokio::test]
async fn a_redirected_download_is_followed_to_the_media_origin() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let added = attach(&jira, AttachmentFile::from_bytes("m.txt", "media bytes")).await;
    let stream = jira
        .attachments()
        .content(added[0].id.clone())
        .follow_redirect()
        .send()
        .await
        .unwrap()
        .into_stream();
    let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
    assert_eq!(chunks.concat(), b"media bytes");
}

#[tokio::test]
async fn a_download_larger_than_the_cap_fails() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let added = attach(&jira, AttachmentFile::from_bytes("c.txt", "0123456789")).await;
    let error = jira
        .attachments()
        .content(added[0].id.clone())
        .max_bytes(4)
        .send()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("10 bytes"), "{error}");
}

#[tokio::test]
async fn a_deleted_attachment_is_not_found_and_hidden_ones_are_not_found_either() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let added = attach(&jira, AttachmentFile::from_bytes("d.txt", "x")).await;
    jira.attachments()
        .delete(added[0].id.clone())
        .await
        .unwrap();
    let error = jira
        .attachments()
        .metadata(added[0].id.clone())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let error = jira.attachments().metadata("987654321").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_stream_shorter_than_announced_fails_instead_of_sending_a_corrupt_form() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let file = AttachmentFile::from_stream("short.txt", 100, chunks(b"only a few"));
    let error = jira
        .attachments()
        .add("DEMO-1", file)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error}");
    let page = jira.issues().get("DEMO-1").send().await.unwrap();
    let names = serde_json::to_string(&page).unwrap();
    assert!(!names.contains("short.txt"));
}

#[tokio::test]
async fn names_with_control_characters_are_refused_before_sending() {
    let jira = crate::support::offline();
    let error = jira
        .attachments()
        .add("DEMO-1", AttachmentFile::from_bytes("a\r\nb.txt", "x"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
}

#[tokio::test]
async fn the_upload_is_one_file_part_with_the_xsrf_header_and_a_raw_utf8_file_name() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/attachment/meta"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"enabled": true, "uploadLimit": 1000})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/DEMO-1/attachments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "10000", "filename": "x", "size": 3, "created": 1651316514000_i64}
        ])))
        .mount(&server)
        .await;
    let jira = client(&server.uri(), "secret-token");
    let name = "\u{65e5}\u{672c} \"q\" \u{1f600}.txt";
    jira.attachments()
        .add("DEMO-1", AttachmentFile::from_bytes(name, "abc"))
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    let upload = requests
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .unwrap();
    assert_eq!(upload.headers.get("x-atlassian-token").unwrap(), "no-check");
    let content_type = upload
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(content_type.starts_with("multipart/form-data; boundary="));
    let body = String::from_utf8(upload.body.clone()).unwrap();
    let disposition = body
        .lines()
        .find(|l| l.starts_with("Content-Disposition"))
        .unwrap();
    insta::assert_snapshot!("attachment_part_disposition", disposition);
    assert_eq!(body.matches("Content-Disposition").count(), 1);
}

#[tokio::test]
async fn a_redirect_to_another_origin_never_carries_the_bearer_token() {
    let api = MockServer::start().await;
    let media = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/attachment/content/10000"))
        .respond_with(
            ResponseTemplate::new(303)
                .insert_header("location", format!("{}/file/signed?sig=abc", media.uri())),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/file/signed"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"secret file".to_vec()))
        .mount(&media)
        .await;
    let jira = client(&api.uri(), "secret-token");
    let bytes = jira
        .attachments()
        .content("10000")
        .follow_redirect()
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"secret file");
    let at_api = api.received_requests().await.unwrap();
    assert_eq!(
        at_api[0].headers.get("authorization").unwrap(),
        "Bearer secret-token"
    );
    assert_eq!(at_api[0].url.query(), Some("redirect=true"));
    let at_media = media.received_requests().await.unwrap();
    assert_eq!(at_media.len(), 1);
    assert!(at_media[0].headers.get("authorization").is_none());
    assert!(at_media[0].headers.get("cookie").is_none());
}

async fn upload_server_with_one_429() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/DEMO-1/attachments"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/DEMO-1/attachments"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": 10000, "filename": "a.txt"}])),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn an_upload_refused_with_429_is_sent_again_with_the_whole_file() {
    let server = upload_server_with_one_429().await;
    let added = client(&server.uri(), "t")
        .attachments()
        .add(
            "DEMO-1",
            AttachmentFile::from_bytes("a.txt", "payload-bytes"),
        )
        .skip_limit_check()
        .send()
        .await
        .unwrap();
    assert_eq!(added[0].id.as_str(), "10000");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for request in received {
        assert!(String::from_utf8_lossy(&request.body).contains("payload-bytes"));
    }
}

#[tokio::test]
async fn a_one_shot_stream_cannot_be_resent_after_a_429() {
    let server = upload_server_with_one_429().await;
    let error = client(&server.uri(), "t")
        .attachments()
        .add(
            "DEMO-1",
            AttachmentFile::from_stream("a.txt", 3, chunks(b"abc")),
        )
        .skip_limit_check()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    assert!(error.to_string().contains("already consumed"), "{error}");
}

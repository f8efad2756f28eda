//! Comment, watcher, link and attachment-content actions against the in-process simulator.

#![allow(clippy::unwrap_used)]

use jiraflow_engine::actions::{self, ActionContext, ActionError, ActionOutput, Outcome};
use jiraflow_engine::flow::Action;
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_sim::{RunningSim, SimConfig};
use serde_json::{Value, json};

const BOB: &str = "5f1a00000000000000000b02";
const ADA: &str = "5f1a00000000000000000a01";

async fn sim() -> RunningSim {
    jiraflow_sim::start(SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        media_listen: ([127, 0, 0, 1], 0).into(),
        ..Default::default()
    })
    .await
    .unwrap()
}

fn client(sim: &RunningSim, token: &str) -> JiraClient {
    JiraClient::builder(&sim.info.jira_base_url)
        .token_provider(StaticToken::shared(token))
        .build()
        .unwrap()
}

fn admin(sim: &RunningSim) -> JiraClient {
    client(sim, &sim.info.admin_token)
}

/// A client acting for Bob with only `scopes`.
fn bob(sim: &RunningSim, scopes: &[&str]) -> JiraClient {
    let now = sim.state.clock.now_ms();
    let token = jiraflow_sim::oauth::issue_static_token(
        &mut sim.state.world.write(),
        BOB,
        &sim.info.client_id,
        scopes,
        now + 3_600_000,
    );
    client(sim, &token)
}

async fn run(jira: &JiraClient, action: Action, input: Value) -> Result<ActionOutput, ActionError> {
    let ctx = ActionContext::new(jira, "s1");
    actions::run(action, ctx, input).await
}

async fn ok(jira: &JiraClient, action: Action, input: Value) -> ActionOutput {
    match run(jira, action, input).await {
        Ok(out) => out,
        Err(e) => panic!("{action} failed: {e}"),
    }
}

async fn err(jira: &JiraClient, action: Action, input: Value) -> String {
    match run(jira, action, input).await {
        Ok(out) => panic!("{action} succeeded: {out:?}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn create_update_and_list_comments() {
    let sim = sim().await;
    let jira = admin(&sim);
    ok(
        &jira,
        Action::CreateComment,
        json!({"issue": "DEMO-1", "body": "First",
            "visibility": {"type": "group", "value": "jira-software-users"}}),
    )
    .await;
    let created = ok(
        &jira,
        Action::CreateComment,
        json!({"issue": "DEMO-1", "body": "Hello **world**"}),
    )
    .await;
    assert_eq!(created.outcome, Outcome::Changed);
    assert_eq!(created.output["body_text"], "Hello world");
    assert_eq!(created.output["body"]["type"], "doc");
    let id = created.output["id"].as_str().unwrap().to_owned();

    let adf = json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Edited"}]}]});
    let updated = ok(
        &jira,
        Action::UpdateComment,
        json!({"issue": "DEMO-1", "comment_id": id, "body": adf}),
    )
    .await;
    assert_eq!(updated.outcome, Outcome::Changed);
    assert_eq!(updated.output["body_text"], "Edited");
    let again = ok(
        &jira,
        Action::UpdateComment,
        json!({"issue": "DEMO-1", "comment_id": id, "body": adf}),
    )
    .await;
    assert_eq!(again.outcome, Outcome::Unchanged);

    let newest = ok(
        &jira,
        Action::GetComments,
        json!({"issue": "DEMO-1", "order": "newest_first", "limit": 2}),
    )
    .await;
    assert_eq!(newest.outcome, Outcome::Unchanged);
    let comments = newest.output["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["id"], id.as_str());
    assert_eq!(comments[0]["body_text"], "Edited");
    assert!(comments[0]["author"]["account_id"].is_string());
    assert!(comments[0]["created"].is_string());

    let oldest = ok(&jira, Action::GetComments, json!({"issue": "DEMO-1"})).await;
    let all = oldest.output["comments"].as_array().unwrap();
    assert_eq!(all.last().unwrap()["id"], id.as_str());
}

#[tokio::test]
async fn comment_errors_name_the_path_the_issue_and_the_scope() {
    let sim = sim().await;
    let jira = admin(&sim);
    let message = err(
        &jira,
        Action::CreateComment,
        json!({"issue": "DEMO-1", "body": "x", "colour": "red"}),
    )
    .await;
    assert!(message.contains("create_comment"), "{message}");
    assert!(message.contains("colour"), "{message}");
    let message = err(
        &jira,
        Action::GetComments,
        json!({"issue": "DEMO-1", "order": "sideways"}),
    )
    .await;
    assert!(message.contains("input.order"), "{message}");
    let message = err(
        &jira,
        Action::CreateComment,
        json!({"issue": "DEMO-1", "body": {"type": "paragraph"}}),
    )
    .await;
    assert!(message.contains("input.body"), "{message}");

    let message = err(
        &jira,
        Action::CreateComment,
        json!({"issue": "NOPE-999", "body": "x"}),
    )
    .await;
    assert!(message.contains("404"), "{message}");
    let message = err(
        &jira,
        Action::UpdateComment,
        json!({"issue": "DEMO-1", "comment_id": "999999", "body": "x"}),
    )
    .await;
    assert!(message.contains("404"), "{message}");

    let reader = bob(&sim, &["read:jira-work", "read:jira-user"]);
    let message = err(
        &reader,
        Action::CreateComment,
        json!({"issue": "DEMO-1", "body": "x"}),
    )
    .await;
    assert!(message.contains("write:jira-work"), "{message}");
}

#[tokio::test]
async fn watchers_are_added_and_removed_idempotently_by_email() {
    let sim = sim().await;
    let jira = admin(&sim);
    let input = json!({"issue": "DEMO-2", "user": "bob@acme.example"});
    // Start from a known state whatever the seed says.
    ok(&jira, Action::DeleteWatcher, input.clone()).await;
    let added = ok(&jira, Action::AddWatcher, input.clone()).await;
    assert_eq!(added.outcome, Outcome::Changed);
    assert_eq!(added.output["account_id"], BOB);
    let again = ok(
        &jira,
        Action::AddWatcher,
        json!({"issue": "DEMO-2", "user": {"email": "Bob@Acme.example"}}),
    )
    .await;
    assert_eq!(again.outcome, Outcome::Unchanged);
    let removed = ok(
        &jira,
        Action::DeleteWatcher,
        json!({"issue": "DEMO-2", "user": {"account_id": BOB}}),
    )
    .await;
    assert_eq!(removed.outcome, Outcome::Changed);
    let again = ok(&jira, Action::DeleteWatcher, input).await;
    assert_eq!(again.outcome, Outcome::Unchanged);
}

#[tokio::test]
async fn watcher_errors() {
    let sim = sim().await;
    let jira = admin(&sim);
    let message = err(
        &jira,
        Action::AddWatcher,
        json!({"issue": "DEMO-2", "user": "nobody@nowhere.example"}),
    )
    .await;
    assert!(message.contains("nobody@nowhere.example"), "{message}");
    let message = err(
        &jira,
        Action::AddWatcher,
        json!({"issue": "NOPE-1", "user": BOB}),
    )
    .await;
    assert!(message.contains("404"), "{message}");
    let message = err(
        &jira,
        Action::AddWatcher,
        json!({"issue": "DEMO-2", "account": BOB}),
    )
    .await;
    assert!(message.contains("account"), "{message}");
    ok(
        &jira,
        Action::DeleteWatcher,
        json!({"issue": "DEMO-2", "user": ADA}),
    )
    .await;
    let reader = bob(&sim, &["read:jira-work", "read:jira-user"]);
    let message = err(
        &reader,
        Action::AddWatcher,
        json!({"issue": "DEMO-2", "user": ADA}),
    )
    .await;
    assert!(message.contains("write:jira-work"), "{message}");
}

#[tokio::test]
async fn managing_another_users_watching_needs_permission() {
    let sim = sim().await;
    let jira = admin(&sim);
    ok(
        &jira,
        Action::DeleteWatcher,
        json!({"issue": "DEMO-2", "user": ADA}),
    )
    .await;
    let writer = bob(
        &sim,
        &["read:jira-work", "write:jira-work", "read:jira-user"],
    );
    let message = err(
        &writer,
        Action::AddWatcher,
        json!({"issue": "DEMO-2", "user": ADA}),
    )
    .await;
    assert!(message.contains("add_watcher"), "{message}");
    assert!(message.contains("403"), "{message}");
    assert!(message.contains("manage the watcher list"), "{message}");
    assert!(message.contains("Manage Watchers permission"), "{message}");
}

#[tokio::test]
async fn issue_links_are_created_once() {
    let sim = sim().await;
    let jira = admin(&sim);
    let input = json!({"type": "Blocks", "outward": "DEMO-3", "inward": "DEMO-4",
        "comment": "Linked *here*"});
    let created = ok(&jira, Action::CreateIssueLink, input.clone()).await;
    assert_eq!(created.outcome, Outcome::Changed);
    assert!(
        created.output["link_id"].is_string(),
        "{:?}",
        created.output
    );
    assert_eq!(created.output["link_type"], "Blocks");
    let again = ok(&jira, Action::CreateIssueLink, input).await;
    assert_eq!(again.outcome, Outcome::Unchanged);
    assert_eq!(again.output["link_id"], created.output["link_id"]);

    let message = err(
        &jira,
        Action::CreateIssueLink,
        json!({"type": "Blocks", "outward": "NOPE-1", "inward": "DEMO-4"}),
    )
    .await;
    assert!(message.contains("404"), "{message}");
    let message = err(
        &jira,
        Action::CreateIssueLink,
        json!({"type": "Frobnicates", "outward": "DEMO-3", "inward": "DEMO-5"}),
    )
    .await;
    assert!(message.contains("create_issue_link"), "{message}");
    let message = err(
        &jira,
        Action::CreateIssueLink,
        json!({"type": "Blocks", "outward": "DEMO-3", "inward": "DEMO-5", "extra": 1}),
    )
    .await;
    assert!(message.contains("extra"), "{message}");
    let message = err(
        &jira,
        Action::CreateIssueLink,
        json!({"type": "Blocks", "outward": "DEMO-3", "inward": "DEMO-4", "comment": 7}),
    )
    .await;
    assert!(message.contains("input.comment"), "{message}");
}

#[tokio::test]
async fn attachments_round_trip_as_text_and_base64() {
    let sim = sim().await;
    let jira = admin(&sim);
    let added = ok(
        &jira,
        Action::AddAttachment,
        json!({"issue": "DEMO-1", "filename": "notes.txt", "content": "héllo",
            "media_type": "text/plain"}),
    )
    .await;
    assert_eq!(added.outcome, Outcome::Changed);
    assert_eq!(added.output["filename"], "notes.txt");
    assert_eq!(added.output["size"], 6);
    let id = added.output["attachment_id"].as_str().unwrap().to_owned();
    let got = ok(
        &jira,
        Action::GetAttachmentContent,
        json!({"attachment_id": id}),
    )
    .await;
    assert_eq!(got.outcome, Outcome::Unchanged);
    assert_eq!(got.output["content"], "héllo");
    assert_eq!(got.output["filename"], "notes.txt");
    assert_eq!(got.output["size"], 6);

    let added = ok(
        &jira,
        Action::AddAttachment,
        json!({"issue": "DEMO-1", "filename": "blob.bin", "content_base64": "AP8Q/w=="}),
    )
    .await;
    let id = added.output["attachment_id"].as_str().unwrap().to_owned();
    let got = ok(
        &jira,
        Action::GetAttachmentContent,
        json!({"attachment_id": id}),
    )
    .await;
    assert_eq!(got.output["content_base64"], "AP8Q/w==");
    assert!(got.output["content"].is_null());

    let message = err(
        &jira,
        Action::GetAttachmentContent,
        json!({"attachment_id": id, "max_bytes": 2}),
    )
    .await;
    assert!(message.contains("4 bytes"), "{message}");
    assert!(message.contains("max_bytes"), "{message}");
}

#[tokio::test]
async fn attachment_errors() {
    let sim = sim().await;
    let jira = admin(&sim);
    let message = err(
        &jira,
        Action::AddAttachment,
        json!({"issue": "DEMO-1", "filename": "a.txt", "content": "a", "content_base64": "YQ=="}),
    )
    .await;
    assert!(message.contains("not both"), "{message}");
    let message = err(
        &jira,
        Action::AddAttachment,
        json!({"issue": "DEMO-1", "filename": "a.bin", "content_base64": "%%%"}),
    )
    .await;
    assert!(message.contains("input.content_base64"), "{message}");
    let message = err(
        &jira,
        Action::AddAttachment,
        json!({"issue": "NOPE-1", "filename": "a.txt", "content": "a"}),
    )
    .await;
    assert!(message.contains("404"), "{message}");
    let message = err(
        &jira,
        Action::GetAttachmentContent,
        json!({"attachment_id": "987654"}),
    )
    .await;
    assert!(message.contains("404"), "{message}");
    let message = err(&jira, Action::GetAttachmentContent, json!({"id": "1"})).await;
    assert!(message.contains("get_attachment_content"), "{message}");
    let reader = bob(&sim, &["read:jira-work"]);
    let message = err(
        &reader,
        Action::AddAttachment,
        json!({"issue": "DEMO-1", "filename": "a.txt", "content": "a"}),
    )
    .await;
    assert!(message.contains("write:jira-work"), "{message}");
}

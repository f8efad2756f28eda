//! The file actions (`get_file`, `attach_file`, `delete_file`) against the in-process simulator,
//! a SQLite store and a local content store in a temporary directory; and a flow moving an
//! attachment from one issue to another through the executor.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use bytes::Bytes;
use futures_util::StreamExt;
use jiraflow_engine::actions::{ActionContext, ActionError, ActionOutput, Outcome, run};
use jiraflow_engine::connections::FixedClients;
use jiraflow_engine::executor::{Executor, ExecutorConfig};
use jiraflow_engine::flow::{Action, AnyConnection, load_flow};
use jiraflow_files::{FileOwner, Files, FilesConfig, LocalFileStore, MIB};
use jiraflow_jira::ops::attachments::AttachmentFile;
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_sim::{RunningSim, SimConfig};
use jiraflow_store::{RunId, RunOrigin, RunStatus, SaveFlow, SqliteStore, Store};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A simulator, its admin client, and a file objects service over a store in a temporary
/// directory (removed on drop).
struct Env {
    /// Kept running for the test's length.
    _sim: RunningSim,
    jira: Arc<JiraClient>,
    store: Arc<dyn Store>,
    files: Arc<Files>,
    dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Env {
    async fn start() -> Result<Self> {
        let sim = jiraflow_sim::start(SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            media_listen: ([127, 0, 0, 1], 0).into(),
            ..Default::default()
        })
        .await?;
        let jira = JiraClient::builder(&sim.info.jira_base_url)
            .token_provider(StaticToken::shared(&sim.info.admin_token))
            .build()?;
        let dir = std::env::temp_dir().join(format!("jiraflow-files-act-{}", uuid::Uuid::new_v4()));
        let (store, _) = SqliteStore::open_data_dir(&dir).await?;
        let store: Arc<dyn Store> = Arc::new(store);
        let content = Arc::new(LocalFileStore::open(&dir).await?);
        let files = Files::new(Arc::clone(&store), content, FilesConfig::default())?;
        Ok(Self {
            _sim: sim,
            jira: Arc::new(jira),
            store,
            files: Arc::new(files),
            dir,
        })
    }

    async fn call(&self, action: Action, input: Value) -> Result<ActionOutput, ActionError> {
        let ctx = ActionContext::new(&self.jira, "step1").with_files(&self.files, None);
        run(action, ctx, input).await
    }

    /// Attaches `bytes` named `name` to `issue`; returns the attachment id.
    async fn attach(&self, issue: &str, name: &str, bytes: &[u8]) -> Result<String> {
        let file = AttachmentFile::from_bytes(name, bytes.to_vec());
        let added = self.jira.attachments().add(issue, file).send().await?;
        let first = added.into_iter().next().context("an attachment")?;
        Ok(first.id.into_string())
    }

    /// SHA-256 and size of an attachment's content, downloaded streamed.
    async fn attachment_digest(&self, id: &str) -> Result<(String, u64)> {
        let mut stream = self
            .jira
            .attachments()
            .content(id)
            .send()
            .await?
            .into_stream()
            .boxed();
        let mut hasher = Sha256::new();
        let mut len = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            len += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((hex(&hasher.finalize()), len))
    }

    async fn file_count(&self) -> Result<u64> {
        Ok(self.files.totals().await?.count)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn get_file_by_attachment_id_copies_the_attachment_into_a_system_owned_file() -> Result<()> {
    let env = Env::start().await?;
    let bytes = b"quarterly numbers\n1,2,3\n";
    let attachment = env.attach("DEMO-1", "report.csv", bytes).await?;

    let out = env
        .call(Action::GetFile, json!({ "attachment_id": attachment }))
        .await?;
    assert_eq!(out.outcome, Outcome::Changed);
    let file = &out.output;
    assert_eq!(text(file, "name"), "report.csv");
    assert_eq!(file["size"], json!(bytes.len()));
    assert_eq!(text(file, "sha256"), sha256(bytes));
    assert!(file["media_type"].is_string());
    assert!(file["expires_at"].is_string());
    let object = env.files.get(text(file, "file_id").parse()?).await?;
    assert_eq!(object.owner, FileOwner::System);
    Ok(())
}

#[tokio::test]
async fn get_file_inside_a_run_makes_a_file_the_run_owns_and_its_purge_removes() -> Result<()> {
    let env = Env::start().await?;
    let attachment = env.attach("DEMO-1", "owned.txt", b"mine").await?;
    let run_id = RunId::new();
    let ctx = ActionContext::new(&env.jira, "step1").with_files(&env.files, Some(run_id));
    let out = run(Action::GetFile, ctx, json!({ "attachment_id": attachment })).await?;
    let object = env.files.get(text(&out.output, "file_id").parse()?).await?;
    assert_eq!(object.owner, FileOwner::Run(run_id));
    assert_eq!(env.files.purge_run(run_id).await?, 1);
    assert_eq!(env.file_count().await?, 0);
    Ok(())
}

#[tokio::test]
async fn get_file_by_issue_and_exact_file_name_picks_that_attachment() -> Result<()> {
    let env = Env::start().await?;
    env.attach("DEMO-1", "notes.txt", b"not this one").await?;
    env.attach("DEMO-1", "報告書 🚀.txt", b"this one").await?;

    let out = env
        .call(
            Action::GetFile,
            json!({ "issue": "DEMO-1", "filename": "報告書 🚀.txt" }),
        )
        .await?;
    assert_eq!(text(&out.output, "name"), "報告書 🚀.txt");
    assert_eq!(text(&out.output, "sha256"), sha256(b"this one"));
    Ok(())
}

#[tokio::test]
async fn get_file_by_a_name_two_attachments_share_fails_listing_both_ids() -> Result<()> {
    let env = Env::start().await?;
    let first = env.attach("DEMO-1", "dup.txt", b"one").await?;
    let second = env.attach("DEMO-1", "dup.txt", b"two").await?;

    let err = env
        .call(
            Action::GetFile,
            json!({ "issue": "DEMO-1", "filename": "dup.txt" }),
        )
        .await
        .err()
        .context("an ambiguous name must fail")?;
    let message = err.to_string();
    assert!(
        message.contains("input.filename") && message.contains(&first) && message.contains(&second),
        "{message}"
    );
    assert_eq!(env.file_count().await?, 0, "nothing stored");
    Ok(())
}

#[tokio::test]
async fn get_file_by_a_name_no_attachment_has_fails_naming_the_field_and_the_issue() -> Result<()> {
    let env = Env::start().await?;
    env.attach("DEMO-1", "present.txt", b"x").await?;

    let err = env
        .call(
            Action::GetFile,
            json!({ "issue": "DEMO-1", "filename": "Present.txt" }),
        )
        .await
        .err()
        .context("a missing name must fail")?;
    let message = err.to_string();
    assert!(
        matches!(err, ActionError::Input { ref path, .. } if path == "input.filename"),
        "{message}"
    );
    assert!(
        message.contains("DEMO-1") && message.contains("\"present.txt\""),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn get_file_needs_either_an_attachment_id_or_an_issue_and_a_file_name() -> Result<()> {
    let env = Env::start().await?;
    for input in [
        json!({}),
        json!({ "issue": "DEMO-1" }),
        json!({ "attachment_id": "1", "issue": "DEMO-1", "filename": "a" }),
    ] {
        let err = env.call(Action::GetFile, input.clone()).await.err();
        assert!(
            matches!(err, Some(ActionError::Input { .. })),
            "{input}: {err:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_file_of_an_attachment_over_15_mib_fails_naming_size_and_limit_and_keeps_nothing()
-> Result<()> {
    let env = Env::start().await?;
    let len = 15 * MIB + 1;
    let file = AttachmentFile::from_opener("big.bin", len, move || {
        let chunk = Bytes::from(vec![7u8; 64 * 1024]);
        Ok(futures_util::stream::iter((0..len).step_by(64 * 1024))
            .map(move |at| {
                let n = usize::try_from((len - at).min(64 * 1024)).unwrap_or(0);
                Ok::<_, std::io::Error>(chunk.slice(..n))
            })
            .boxed())
    });
    let added = env.jira.attachments().add("DEMO-1", file).send().await?;
    let id = added.first().context("attached")?.id.to_string();

    let err = env
        .call(Action::GetFile, json!({ "attachment_id": id }))
        .await
        .err()
        .context("over the limit must fail")?;
    let message = err.to_string();
    assert!(
        message.contains("15728641 bytes") && message.contains("limit of 15728640 bytes (15 MiB)"),
        "{message}"
    );
    assert!(matches!(err, ActionError::Files { .. }), "{err:?}");
    assert_eq!(env.file_count().await?, 0);
    Ok(())
}

#[tokio::test]
async fn attach_file_attaches_an_identical_copy_under_its_name_or_the_given_one() -> Result<()> {
    let env = Env::start().await?;
    let bytes = b"\x89PNG\r\n\x1a\n pretend image";
    let attachment = env.attach("DEMO-1", "logo.png", bytes).await?;
    let got = env
        .call(Action::GetFile, json!({ "attachment_id": attachment }))
        .await?;
    let file_id = text(&got.output, "file_id");

    let out = env
        .call(
            Action::AttachFile,
            json!({ "file_id": file_id, "issue": "DEMO-2" }),
        )
        .await?;
    assert_eq!(out.outcome, Outcome::Changed);
    assert_eq!(text(&out.output, "filename"), "logo.png");
    assert_eq!(out.output["size"], json!(bytes.len()));
    assert!(out.output["self"].is_string(), "{}", out.output);
    assert!(out.output["mime_type"].is_string(), "{}", out.output);
    let copy = text(&out.output, "id");
    assert_eq!(
        env.attachment_digest(&copy).await?,
        (sha256(bytes), bytes.len() as u64)
    );

    let renamed = env
        .call(
            Action::AttachFile,
            json!({ "file_id": file_id, "issue": "DEMO-2", "filename": "ロゴ.png" }),
        )
        .await?;
    assert_eq!(text(&renamed.output, "filename"), "ロゴ.png");
    Ok(())
}

#[tokio::test]
async fn attach_file_of_an_unknown_or_malformed_file_id_fails_naming_input_file_id() -> Result<()> {
    let env = Env::start().await?;
    let unknown = jiraflow_store::FileId::new().to_string();
    for id in [unknown.as_str(), "not-a-uuid"] {
        let err = env
            .call(
                Action::AttachFile,
                json!({ "file_id": id, "issue": "DEMO-2" }),
            )
            .await
            .err()
            .context("must fail")?;
        let message = err.to_string();
        assert!(
            message.contains("input.file_id") && message.contains(id),
            "{message}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn delete_file_twice_deletes_once_then_reports_unchanged() -> Result<()> {
    let env = Env::start().await?;
    let attachment = env.attach("DEMO-1", "temp.txt", b"temporary").await?;
    let got = env
        .call(Action::GetFile, json!({ "attachment_id": attachment }))
        .await?;
    let input = json!({ "file_id": text(&got.output, "file_id") });

    let first = env.call(Action::DeleteFile, input.clone()).await?;
    assert_eq!(first.outcome, Outcome::Changed);
    assert_eq!(first.output, json!({ "deleted": true }));
    let second = env.call(Action::DeleteFile, input).await?;
    assert_eq!(second.outcome, Outcome::Unchanged);
    assert_eq!(second.output, json!({ "deleted": false }));
    assert_eq!(env.file_count().await?, 0);
    Ok(())
}

#[tokio::test]
async fn file_actions_without_a_file_store_fail_saying_so() -> Result<()> {
    let env = Env::start().await?;
    let ctx = ActionContext::new(&env.jira, "step1");
    let err = run(Action::GetFile, ctx, json!({ "attachment_id": "1" }))
        .await
        .err()
        .context("must fail")?;
    let message = err.to_string();
    assert!(
        message.contains("get_file") && message.contains("no file store"),
        "{message}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_copies_an_attachment_to_another_issue_and_leaves_no_file_object() -> Result<()> {
    let env = Env::start().await?;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let attachment = env.attach("DEMO-1", "evidence.bin", &bytes).await?;
    let yaml = r#"name: copy-attachment
trigger:
  type: new_issue
  connection: acme
steps:
  - id: fetch
    action: get_file
    connection: acme
    input:
      attachment_id: "{{ trigger.issue.fields.attachment[0].id }}"
  - id: attach
    action: attach_file
    connection: acme
    input:
      file_id: "{{ steps.fetch.output.file_id }}"
      issue: DEMO-2
  - id: cleanup
    action: delete_file
    input:
      file_id: "{{ steps.fetch.output.file_id }}"
"#;
    load_flow(("copy.yaml", yaml), &AnyConnection)
        .map_err(|e| anyhow!("flow does not load: {e}"))?;
    env.store
        .save_flow(SaveFlow {
            name: "copy-attachment".to_owned(),
            source: yaml.to_owned(),
            file_name: "copy.yaml".to_owned(),
            enabled: true,
            applied_by: None,
            connections: Vec::new(),
        })
        .await?;
    let clients = FixedClients::new().with("acme", Arc::clone(&env.jira));
    let executor = Executor::new(
        Arc::clone(&env.store),
        Arc::new(clients),
        ExecutorConfig {
            worker_id: "worker-files".to_owned(),
            lease: Duration::from_secs(30),
            ..ExecutorConfig::default()
        },
    )
    .with_files(Arc::clone(&env.files));
    // Shaped like a new-issue trigger event whose issue has one attachment.
    let trigger = json!({
        "issue": {
            "key": "DEMO-1",
            "fields": {
                "summary": "has evidence",
                "attachment": [{ "id": attachment, "filename": "evidence.bin", "size": bytes.len() }]
            }
        }
    });
    let run = executor
        .enqueue("copy-attachment", trigger, RunOrigin::Manual, None)
        .await?;
    let detail = executor.execute(run.id).await?;
    assert_eq!(
        detail.run.status,
        RunStatus::Succeeded,
        "{:#?}",
        detail.steps
    );

    let output = |id: &str| -> Result<Value> {
        let step = detail
            .steps
            .iter()
            .find(|s| s.step_id == id)
            .with_context(|| format!("step {id}"))?;
        Ok(step.output.clone().unwrap_or_default())
    };
    let fetched = output("fetch")?;
    assert_eq!(fetched["outcome"], json!("changed"));
    assert_eq!(text(&fetched["output"], "sha256"), sha256(&bytes));
    let attached = output("attach")?;
    let copy = text(&attached["output"], "id");
    assert_eq!(
        env.attachment_digest(&copy).await?,
        (sha256(&bytes), bytes.len() as u64),
        "the copy on DEMO-2 is byte for byte the original"
    );
    assert_eq!(output("cleanup")?["output"], json!({ "deleted": true }));
    assert_eq!(env.file_count().await?, 0, "no file object is left");

    // The run owned the file while it lived: a purge of the run finds nothing left to remove.
    assert_eq!(env.files.purge_run(run.id).await?, 0);
    Ok(())
}

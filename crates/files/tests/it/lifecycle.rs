//! Expiry sweeps, run purges, deletes and media type detection through the service.

use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use chrono::Utc;
use jiraflow_files::{FileOwner, FileQuery, FilesConfig, FilesError};
use jiraflow_store::{NewRun, RunId, RunOrigin, RunStatus, SaveFlow, UserId};

use crate::support::{Env, generated};

fn bytes(content: &'static [u8]) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    futures_util::stream::iter([Ok(Bytes::from_static(content))])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_removes_expired_objects_with_their_content_and_keeps_live_ones() -> Result<()> {
    let env = Env::start().await?;
    let short = env.files_with(FilesConfig {
        default_ttl: Duration::from_secs(3600),
        ..FilesConfig::default()
    })?;
    let brief = short
        .create_from_stream(
            "brief.txt",
            None,
            FileOwner::System,
            bytes(b"soon gone"),
            None,
        )
        .await?;
    let lasting = env
        .files
        .create_from_stream(
            "day.txt",
            None,
            FileOwner::System,
            bytes(b"stays a day"),
            None,
        )
        .await?;
    let now = Utc::now();
    assert_eq!(env.files.sweep(now).await?, 0, "nothing has expired yet");

    assert_eq!(env.files.sweep(now + chrono::Duration::hours(2)).await?, 1);
    assert!(env.files.get(brief.id).await.unwrap_err().is_not_found());
    assert!(!env.content.path_of(brief.id).exists());
    assert!(env.files.get(lasting.id).await.is_ok());

    assert_eq!(env.files.sweep(now + chrono::Duration::hours(25)).await?, 1);
    env.assert_nothing_stored().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purging_a_run_removes_its_files_and_only_its_files() -> Result<()> {
    let env = Env::start().await?;
    let run = RunId::new();
    let other = RunId::new();
    let user = UserId::new();
    let mut owned = Vec::new();
    for owner in [
        FileOwner::Run(run),
        FileOwner::Run(run),
        FileOwner::Run(other),
        FileOwner::User(user),
    ] {
        let object = env
            .files
            .create_from_stream("out.bin", None, owner, generated(1000, 1), None)
            .await?;
        owned.push(object);
    }
    assert_eq!(env.files.purge_run(run).await?, 2);
    for object in &owned[..2] {
        assert!(env.files.get(object.id).await.unwrap_err().is_not_found());
        assert!(!env.content.path_of(object.id).exists());
    }
    let left = env.files.list(FileQuery::default()).await?;
    let mut left: Vec<_> = left.iter().map(|f| f.id).collect();
    left.sort();
    let mut expected = vec![owned[2].id, owned[3].id];
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(env.content_files()?.len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purging_finished_runs_removes_their_files_and_keeps_live_runs_and_their_files()
-> Result<()> {
    let env = Env::start().await?;
    env.store
        .save_flow(SaveFlow {
            name: "copier".into(),
            source: "name: copier".into(),
            file_name: "copier.yaml".into(),
            enabled: true,
            applied_by: None,
            connections: Vec::new(),
        })
        .await?;
    let mut runs = Vec::new();
    for _ in 0..2 {
        let run = env
            .store
            .create_run(NewRun {
                flow_name: "copier".into(),
                flow_version: 1,
                origin: RunOrigin::Manual,
                trigger: serde_json::json!({}),
                dedupe_key: None,
            })
            .await?;
        runs.push(run.id);
    }
    // The first run finishes; the second is still running.
    for &id in &runs {
        env.store
            .claim_run("worker", Duration::from_secs(60), Some(id))
            .await?
            .expect("claimable");
    }
    env.store
        .finish_run(runs[0], "worker", RunStatus::Succeeded, None)
        .await?;
    let finished = env
        .files
        .create_from_stream("a.bin", None, FileOwner::Run(runs[0]), bytes(b"a"), None)
        .await?;
    let live = env
        .files
        .create_from_stream("b.bin", None, FileOwner::Run(runs[1]), bytes(b"b"), None)
        .await?;

    let purged = env
        .files
        .purge_finished_runs(Utc::now() + chrono::Duration::seconds(1))
        .await?;
    assert_eq!((purged.runs, purged.files), (1, 1));
    assert!(env.store.get_run(runs[0]).await?.is_none());
    assert!(env.store.get_run(runs[1]).await?.is_some());
    assert!(env.files.get(finished.id).await.unwrap_err().is_not_found());
    assert!(!env.content.path_of(finished.id).exists());
    assert_eq!(env.files.get(live.id).await?.id, live.id);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_removes_content_and_record_and_says_whether_there_was_anything() -> Result<()> {
    let env = Env::start().await?;
    let object = env
        .files
        .create_from_stream("x.txt", None, FileOwner::System, bytes(b"x"), None)
        .await?;
    assert!(env.files.delete(object.id).await?);
    assert!(!env.files.delete(object.id).await?);
    env.assert_nothing_stored().await?;
    assert!(matches!(
        env.files.open(object.id).await.unwrap_err(),
        FilesError::NotFound(_)
    ));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_shorter_than_declared_keeps_nothing() -> Result<()> {
    let env = Env::start().await?;
    let error = env
        .files
        .create_from_stream(
            "short.txt",
            None,
            FileOwner::System,
            bytes(b"12345"),
            Some(10),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            FilesError::LengthMismatch {
                expected: 10,
                actual: 5,
                ..
            }
        ),
        "{error}"
    );
    env.assert_nothing_stored().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_names_and_media_types_are_refused_before_reading_naming_the_field() -> Result<()> {
    let env = Env::start().await?;
    let long = "é".repeat(128);
    for (name, media_type, field) in [
        ("tab\there.txt", None, "file name"),
        ("", None, "file name"),
        (long.as_str(), None, "file name"),
        ("ok.txt", Some("not a type"), "media type"),
    ] {
        let error = env
            .files
            .create_from_stream(name, media_type, FileOwner::System, bytes(b"x"), None)
            .await
            .unwrap_err();
        assert!(error.to_string().contains(field), "{error}");
    }
    env.assert_nothing_stored().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_media_type_is_the_given_one_else_sniffed_else_from_the_extension() -> Result<()> {
    let env = Env::start().await?;
    let png: &'static [u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let cases: [(&str, Option<&str>, &'static [u8], &str); 4] = [
        ("photo", None, png, "image/png"),
        ("photo.txt", Some("image/webp"), png, "image/webp"),
        ("notes.md", None, b"# Notes", "text/markdown"),
        ("blob", None, b"\0\x01\x02", "application/octet-stream"),
    ];
    for (name, given, content, expected) in cases {
        let object = env
            .files
            .create_from_stream(name, given, FileOwner::System, bytes(content), None)
            .await?;
        assert_eq!(object.media_type, expected, "{name}");
    }
    Ok(())
}

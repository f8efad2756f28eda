//! The 15 MiB limit (15 × 1024 × 1024 bytes) in both directions: refused with an error naming
//! the size and the limit, leaving no object, no content, no temporary file and no attachment.

use anyhow::Result;
use jiraflow_files::{FileOwner, FilesConfig, FilesError, MIB, Size};
use jiraflow_store::UserId;

use crate::support::{Env, generated};

const LIMIT: u64 = 15 * MIB;

fn assert_too_large(error: &FilesError, size: Size, limit: u64) {
    match error {
        FilesError::TooLarge {
            size_or_at_least,
            limit: l,
        } => {
            assert_eq!(*size_or_at_least, size, "{error}");
            assert_eq!(*l, limit, "{error}");
        }
        other => panic!("expected TooLarge, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jira_attachment_one_byte_over_15_mib_is_refused_before_download_leaving_nothing()
-> Result<()> {
    let env = Env::start().await?;
    let big = env
        .attach_generated("DEMO-1", "big.bin", LIMIT + 1, 7)
        .await?;
    let error = env
        .files
        .download_attachment(&env.jira, big.id.clone(), FileOwner::System)
        .await
        .unwrap_err();
    assert_too_large(&error, Size::Exactly(LIMIT + 1), LIMIT);
    let text = error.to_string();
    assert!(
        text.contains("15728641 bytes") && text.contains("15728640 bytes (15 MiB)"),
        "{text}"
    );
    env.assert_nothing_stored().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_one_byte_over_15_mib_is_refused_and_nothing_is_kept_or_attached() -> Result<()> {
    let env = Env::start().await?;
    let attached_before = env.attachment_names("DEMO-2").await?;
    let owner = FileOwner::User(UserId::new());
    let error = env
        .files
        .create_from_stream("big.bin", None, owner, generated(LIMIT + 1, 3), None)
        .await
        .unwrap_err();
    assert_too_large(&error, Size::AtLeast(LIMIT + 1), LIMIT);
    assert!(
        error.to_string().contains("at least 15728641 bytes"),
        "{error}"
    );
    env.assert_nothing_stored().await?;
    assert_eq!(env.attachment_names("DEMO-2").await?, attached_before);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_length_over_the_limit_fails_before_a_byte_is_read() -> Result<()> {
    let env = Env::start().await?;
    // Reading this stream would fail with a source error, not the limit.
    let unreadable = futures_util::stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::other("the stream was read"))
    });
    let error = env
        .files
        .create_from_stream(
            "big.bin",
            None,
            FileOwner::System,
            unreadable,
            Some(LIMIT + 1),
        )
        .await
        .unwrap_err();
    assert_too_large(&error, Size::Exactly(LIMIT + 1), LIMIT);
    env.assert_nothing_stored().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_over_a_lowered_limit_is_not_uploaded_and_no_attachment_appears() -> Result<()> {
    let env = Env::start().await?;
    let object = env
        .files
        .create_from_stream(
            "two.bin",
            None,
            FileOwner::System,
            generated(2 * MIB, 5),
            None,
        )
        .await?;
    let strict = env.files_with(FilesConfig {
        max_bytes: MIB,
        ..FilesConfig::default()
    })?;
    let attached_before = env.attachment_names("DEMO-2").await?;
    let error = strict
        .upload_to_issue(&env.jira, "DEMO-2", object.id)
        .await
        .unwrap_err();
    assert_too_large(&error, Size::Exactly(2 * MIB), MIB);
    assert!(
        error.to_string().contains("2097152 bytes (2 MiB)"),
        "{error}"
    );
    assert!(
        error.to_string().contains("1048576 bytes (1 MiB)"),
        "{error}"
    );
    assert_eq!(env.attachment_names("DEMO-2").await?, attached_before);

    // The lowered limit holds for downloads too, before the body is read.
    let source = env
        .attach_generated("DEMO-1", "over.bin", MIB + 1, 9)
        .await?;
    let error = strict
        .download_attachment(&env.jira, source.id.clone(), FileOwner::System)
        .await
        .unwrap_err();
    assert_too_large(&error, Size::Exactly(MIB + 1), MIB);
    assert_eq!(env.files.totals().await?.count, 1, "only the first object");
    assert!(env.temp_files().await?.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_limit_above_15_mib_is_refused_naming_both_numbers() -> Result<()> {
    let env = Env::start().await?;
    let error = env
        .files_with(FilesConfig {
            max_bytes: LIMIT + 1,
            ..FilesConfig::default()
        })
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("15728641") && text.contains("15728640 bytes (15 MiB)"),
        "{text}"
    );
    Ok(())
}

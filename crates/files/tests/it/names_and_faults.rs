//! Awkward file names round-trip exactly; a download broken off midway keeps nothing.

use anyhow::Result;
use bytes::Bytes;
use jiraflow_files::{FileOwner, FilesError, MIB};
use jiraflow_sim::realism::BodyCut;
use jiraflow_store::UserId;

use crate::support::{Env, generated_digest};

fn small(content: &'static [u8]) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> {
    // Three-byte chunks, so content type sniffing must look past the first chunk.
    futures_util::stream::iter(content.chunks(3).map(|c| Ok(Bytes::from_static(c))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_in_japanese_with_emoji_quotes_and_spaces_round_trip_exactly() -> Result<()> {
    let env = Env::start().await?;
    let owner = FileOwner::User(UserId::new());
    let cases: [(&str, &[u8], &str); 4] = [
        ("報告書.pdf", b"%PDF-1.7 report", "application/pdf"),
        ("party 🎉 time.txt", b"confetti", "text/plain"),
        ("say \"hi\" there.csv", b"a,b\n1,2\n", "text/csv"),
        ("quarterly  report final .log", b"lines", "text/plain"),
    ];
    for (name, content, media_type) in cases {
        let object = env
            .files
            .create_from_stream(
                name,
                None,
                owner,
                small(content),
                Some(content.len() as u64),
            )
            .await?;
        assert_eq!(object.name, name);
        assert_eq!(object.media_type, media_type, "{name}");
        let attachment = env
            .files
            .upload_to_issue(&env.jira, "DEMO-1", object.id)
            .await?;
        assert_eq!(attachment.filename.as_deref(), Some(name));
        let back = env
            .files
            .download_attachment(&env.jira, attachment.id.clone(), owner)
            .await?;
        assert_eq!(back.name, name);
        assert_eq!(back.sha256, object.sha256);
        assert_eq!(back.size, content.len() as u64);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_broken_off_midway_leaves_no_object_and_no_temporary_file() -> Result<()> {
    let env = Env::start().await?;
    let len = 2 * MIB;
    let source = env
        .attach_generated("DEMO-1", "broken.bin", len, 11)
        .await?;
    env.sim.state.realism.body_cuts.arm(BodyCut {
        path_prefix: "/rest/api/3/attachment/content/".to_owned(),
        after_bytes: 300_000,
        times: 1,
    });
    let error = env
        .files
        .download_attachment(&env.jira, source.id.clone(), FileOwner::System)
        .await
        .unwrap_err();
    assert!(matches!(error, FilesError::Jira { .. }), "{error:?}");
    let text = error.to_string();
    assert!(
        text.contains(&format!("downloading attachment {}", source.id)),
        "{text}"
    );
    env.assert_nothing_stored().await?;

    // The next attempt gets the whole file.
    let object = env
        .files
        .download_attachment(&env.jira, source.id.clone(), FileOwner::System)
        .await?;
    assert_eq!(
        (object.sha256, object.size),
        generated_digest(len, 11).await?
    );
    Ok(())
}

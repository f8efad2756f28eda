//! Jira → file object → Jira round trips at the edges of the size range, byte for byte.

use anyhow::Result;
use jiraflow_files::{FileOwner, MIB};
use jiraflow_store::RunId;

use crate::support::{Env, digest_stream, generated_digest};

/// 14.99 MiB, just under the limit.
const JUST_UNDER: u64 = 15_718_154;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_of_0_bytes_1_byte_14_99_mib_and_exactly_15_mib_round_trip_with_identical_sha256()
-> Result<()> {
    let env = Env::start().await?;
    let run = RunId::new();
    let sizes = [0, 1, JUST_UNDER, 15 * MIB];
    for (seed, len) in (1u64..).zip(sizes) {
        let (expected, _) = generated_digest(len, seed).await?;
        let name = format!("payload-{len}.bin");
        let source = env.attach_generated("DEMO-1", &name, len, seed).await?;

        let object = env
            .files
            .download_attachment(&env.jira, source.id.clone(), FileOwner::Run(run))
            .await?;
        assert_eq!(object.size, len);
        assert_eq!(object.sha256, expected, "{len} bytes downloaded");
        assert_eq!(object.name, name);
        assert_eq!(object.owner, FileOwner::Run(run));
        assert!(object.expires_at.is_some_and(|at| at > object.created_at));
        let opened = env.files.open(object.id).await?;
        assert_eq!(opened.content.len, len);
        assert_eq!(
            digest_stream(opened.content.stream).await?,
            (expected.clone(), len)
        );

        let copy = env
            .files
            .upload_to_issue(&env.jira, "DEMO-2", object.id)
            .await?;
        assert_eq!(copy.size, Some(len));
        assert_eq!(copy.filename.as_deref(), Some(name.as_str()));
        assert_eq!(
            env.attachment_digest(copy.id.as_str()).await?,
            (expected, len),
            "{len} bytes uploaded"
        );
    }
    let totals = env.files.totals().await?;
    assert_eq!(totals.count, 4);
    assert_eq!(totals.bytes, 1 + JUST_UNDER + 15 * MIB);
    assert!(env.temp_files().await?.is_empty());
    Ok(())
}

//! `jiraflow store rotate-key`: re-seals every secret under a new master key in one transaction
//! (see docs/security.md). Run it with every other jiraflow process on the database stopped.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use jiraflow_store::MasterKey;

use crate::data_dir::{CommonArgs, Context};
use crate::output::{self, OutputFormat};

/// Options of `jiraflow store`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: StoreCommand,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Re-seal every secret under a new master key (stop other jiraflow processes first).
    RotateKey {
        /// File holding the new key in base64 (44 characters, mode 0600).
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

/// Runs `jiraflow store ...`.
pub async fn run(args: StoreArgs) -> anyhow::Result<()> {
    match args.command {
        StoreCommand::RotateKey { new_key_file } => {
            // Read (and permission-check) the new key before touching the store.
            let new_key = MasterKey::read_file(&new_key_file)
                .with_context(|| format!("reading the new key from {}", new_key_file.display()))?;
            let ctx = Context::open(&args.common).await?;
            let result = async {
                // Before any user exists, holding the data directory and key is enough.
                if !ctx.store.list_users().await?.is_empty() {
                    ctx.admin("rotating the master key").await?;
                }
                Ok::<u8, anyhow::Error>(ctx.sqlite.rotate_master_key(new_key).await?)
            }
            .await;
            ctx.close().await;
            let key_id = result?;
            match args.common.output {
                OutputFormat::Json => output::json(&serde_json::json!({
                    "rotated": true,
                    "key_id": key_id,
                    "new_key_file": new_key_file.display().to_string(),
                })),
                OutputFormat::Text => {
                    println!("master key rotated (key id {key_id})");
                    eprintln!(
                        "now replace JIRAFLOW_MASTER_KEY with the new key, or move {} to {}; \
                         the old key is refused from now on",
                        new_key_file.display(),
                        args.common
                            .data_dir
                            .join(jiraflow_store::crypto::KEY_FILE_NAME)
                            .display()
                    );
                    Ok(())
                }
            }
        }
    }
}

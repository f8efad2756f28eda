//! `jiraflow files`: the file objects in the data directory's file store (`<data_dir>/files`):
//! list them (with totals), show one, download one (streamed, checked against its SHA-256),
//! upload a local file as a user-owned object (streamed, at most 15 MiB), delete one, and sweep
//! the expired ones now.
//!
//! Uploading needs an acting user (the object's owner); the other subcommands work on the data
//! directory like `runs list` does.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use chrono::Utc;
use clap::{Args, Subcommand};
use futures_util::StreamExt;
use jiraflow_files::{FileId, FileObject, FileOwner, FileQuery, Files, FilesError};
use jiraflow_store::RunId;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::data_dir::{CommonArgs, Context};
use crate::jira_access;
use crate::output::{self, OutputFormat};

/// Chunk size when reading a local file for upload: the file store's own chunk size.
const READ_CHUNK: usize = 64 * 1024;

/// Options of `jiraflow files`.
#[derive(Debug, Args)]
pub struct FilesArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: FilesCommand,
}

#[derive(Debug, Subcommand)]
enum FilesCommand {
    /// List file objects, newest first, with the totals of all of them.
    List {
        /// Only the files of this run.
        #[arg(long, value_name = "ID")]
        run: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show a file object's record.
    Show {
        /// File id.
        id: String,
    },
    /// Write a file object's content to a file, or to stdout with `-` (the default).
    Download {
        /// File id.
        id: String,
        /// Where to write it; `-` for stdout.
        #[arg(long, value_name = "PATH|-", default_value = "-")]
        out: String,
    },
    /// Make a file object (owned by the acting user) from a local file of at most 15 MiB.
    Upload {
        /// The local file.
        path: PathBuf,
        /// The object's name (default: the file's name).
        #[arg(long)]
        name: Option<String>,
        /// The media type (default: detected from the content, then the name).
        #[arg(long)]
        media_type: Option<String>,
    },
    /// Delete a file object.
    Delete {
        /// File id.
        id: String,
    },
    /// Delete every expired file object now.
    Sweep,
}

/// Runs `jiraflow files ...`.
pub async fn run(args: FilesArgs) -> anyhow::Result<()> {
    let ctx = Context::open(&args.common).await?;
    let result = dispatch(&ctx, &args.common.data_dir, args.command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Context, data_dir: &Path, command: FilesCommand) -> anyhow::Result<()> {
    let files = jira_access::files(ctx, data_dir).await?;
    match command {
        FilesCommand::List { run, limit } => list(ctx, &files, run.as_deref(), limit).await,
        FilesCommand::Show { id } => {
            let object = files.get(parse_id(&id)?).await?;
            print_object(ctx.output, &object)
        }
        FilesCommand::Download { id, out } => download(&files, parse_id(&id)?, &out).await,
        FilesCommand::Upload {
            path,
            name,
            media_type,
        } => {
            let user = ctx.acting_user().await?;
            let object = upload(
                &files,
                &path,
                name.as_deref(),
                media_type.as_deref(),
                FileOwner::User(user.id),
            )
            .await?;
            print_object(ctx.output, &object)
        }
        FilesCommand::Delete { id } => {
            let deleted = files.delete(parse_id(&id)?).await?;
            match ctx.output {
                OutputFormat::Json => output::json(&serde_json::json!({ "deleted": deleted })),
                OutputFormat::Text => {
                    if deleted {
                        println!("deleted file {id}");
                    } else {
                        println!("file {id} was already gone");
                    }
                    Ok(())
                }
            }
        }
        FilesCommand::Sweep => {
            let removed = files.sweep(Utc::now()).await?;
            match ctx.output {
                OutputFormat::Json => output::json(&serde_json::json!({ "removed": removed })),
                OutputFormat::Text => {
                    println!("removed {removed} expired file(s)");
                    Ok(())
                }
            }
        }
    }
}

fn parse_id(text: &str) -> anyhow::Result<FileId> {
    text.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{text:?} is not a file id (see `jiraflow files list`)"))
}

async fn list(ctx: &Context, files: &Files, run: Option<&str>, limit: u32) -> anyhow::Result<()> {
    let owner = match run {
        Some(text) => {
            let id: RunId = text.trim().parse().map_err(|_| {
                anyhow::anyhow!("{text:?} is not a run id (see `jiraflow runs list`)")
            })?;
            Some(FileOwner::Run(id))
        }
        None => None,
    };
    let objects = files
        .list(FileQuery {
            owner,
            limit: Some(limit),
        })
        .await?;
    let totals = files.totals().await?;
    match ctx.output {
        OutputFormat::Json => output::json(&serde_json::json!({
            "files": objects,
            "totals": { "count": totals.count, "bytes": totals.bytes },
        })),
        OutputFormat::Text => {
            let rows: Vec<Vec<String>> = objects
                .iter()
                .map(|f| {
                    vec![
                        f.id.to_string(),
                        f.name.clone(),
                        f.media_type.clone(),
                        f.size.to_string(),
                        owner_text(f.owner),
                        f.created_at.to_rfc3339(),
                        f.expires_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(
                &["ID", "NAME", "TYPE", "SIZE", "OWNER", "CREATED", "EXPIRES"],
                &rows,
            );
            println!(
                "total: {} file(s), {} bytes ({})",
                totals.count,
                totals.bytes,
                jiraflow_files::error::mib(totals.bytes)
            );
            Ok(())
        }
    }
}

fn owner_text(owner: FileOwner) -> String {
    match owner.id_text() {
        Some(id) => format!("{}:{id}", owner.kind()),
        None => owner.kind().to_owned(),
    }
}

fn print_object(format: OutputFormat, object: &FileObject) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => output::json(object),
        OutputFormat::Text => {
            output::record(&[
                ("id", Some(object.id.to_string())),
                ("name", Some(object.name.clone())),
                ("media type", Some(object.media_type.clone())),
                (
                    "size",
                    Some(format!(
                        "{} bytes ({})",
                        object.size,
                        jiraflow_files::error::mib(object.size)
                    )),
                ),
                ("sha256", Some(object.sha256.clone())),
                ("owner", Some(owner_text(object.owner))),
                ("created", Some(object.created_at.to_rfc3339())),
                ("expires", object.expires_at.map(|t| t.to_rfc3339())),
            ]);
            Ok(())
        }
    }
}

/// Streams a file object to `out` (a path, or `-` for stdout), checking its SHA-256 on the
/// way. A file written to disk goes to a temporary name first, so a failed download never
/// leaves a truncated file under the requested name.
async fn download(files: &Files, id: FileId, out: &str) -> anyhow::Result<()> {
    let opened = files.open(id).await?;
    if out == "-" {
        let mut stdout = tokio::io::stdout();
        copy_checked(&opened.object, opened.content.stream, &mut stdout).await?;
        stdout.flush().await?;
        return Ok(());
    }
    let target = PathBuf::from(out);
    let partial = partial_path(&target);
    let result = async {
        let mut file = tokio::fs::File::create(&partial)
            .await
            .with_context(|| format!("creating {}", partial.display()))?;
        copy_checked(&opened.object, opened.content.stream, &mut file).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&partial, &target)
            .await
            .with_context(|| format!("renaming {} to {}", partial.display(), target.display()))
    }
    .await;
    if result.is_err() {
        // Best effort: the error being returned is what matters.
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}

fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    target.with_file_name(name)
}

async fn copy_checked(
    object: &FileObject,
    mut stream: jiraflow_files::ByteStream,
    sink: &mut (impl AsyncWriteExt + Unpin),
) -> anyhow::Result<()> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.with_context(|| format!("reading file {}", object.id))?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        sink.write_all(&chunk).await?;
    }
    let digest: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if size != object.size || digest != object.sha256 {
        bail!(
            "file {} is damaged in the file store: {size} bytes with SHA-256 {digest}, expected \
             {} bytes with SHA-256 {}",
            object.id,
            object.size,
            object.sha256
        );
    }
    Ok(())
}

/// Makes a file object from a local file, streamed in 64 KiB chunks. A file over the limit is
/// refused from its size before a byte is read.
async fn upload(
    files: &Files,
    path: &Path,
    name: Option<&str>,
    media_type: Option<&str>,
    owner: FileOwner,
) -> anyhow::Result<FileObject> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let len = file
        .metadata()
        .await
        .with_context(|| format!("reading the size of {}", path.display()))?
        .len();
    let name = match name {
        Some(name) => name.to_owned(),
        None => path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .with_context(|| {
                format!(
                    "{} has no UTF-8 file name; give one with --name",
                    path.display()
                )
            })?,
    };
    let stream = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; READ_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    files
        .create_from_stream(&name, media_type, owner, stream, Some(len))
        .await
        .map_err(|e| upload_error(path, e))
}

fn upload_error(path: &Path, error: FilesError) -> anyhow::Error {
    anyhow::anyhow!("uploading {}: {error}", path.display())
}

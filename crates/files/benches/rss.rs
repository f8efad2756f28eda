//! Memory and throughput of a file transfer: Get File → Attach File (`download_attachment`, then
//! `upload_to_issue`, which also re-downloads Jira's copy to check its SHA-256) of a 15 MiB
//! attachment, compared with a plain local copy of the same bytes.
//!
//! The simulator runs in a child process (this binary re-executed with `--serve-sim`), so its
//! memory (it holds every attachment) is not in the measured process. The measured figure is
//! the rise of the resident set during the transfer: the peak (`VmHWM`, reset through
//! `/proc/self/clear_refs`) minus the idle `VmRSS` just before. Linux only.
//!
//! Run: `cargo bench -p jiraflow-files --bench rss`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use jiraflow_files::{FileOwner, Files, FilesConfig, LocalFileStore, MIB};
use jiraflow_jira::ops::attachments::AttachmentFile;
use jiraflow_jira::{JiraClient, StaticToken};
use jiraflow_store::{MasterKey, SqliteStore, Store};

/// The transferred file: 15 MiB, the largest file object.
const SIZE: u64 = 15 * MIB;
/// The goal for the resident set's rise during the transfer.
const GOAL_BYTES: u64 = 4 * 1000 * 1000;
const SERVE_FLAG: &str = "--serve-sim";

fn main() -> Result<()> {
    if std::env::args().any(|a| a == SERVE_FLAG) {
        return serve_sim();
    }
    measure()
}

/// The child: starts the simulator, prints its ready line, and runs until stdin closes (the
/// parent exiting, however it exits, closes it).
fn serve_sim() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sim = jiraflow_sim::start(jiraflow_sim::SimConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            media_listen: ([127, 0, 0, 1], 0).into(),
            ..Default::default()
        })
        .await?;
        println!("{}", serde_json::to_string(&sim.info)?);
        std::io::stdout().flush()?;
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await?;
        sim.shutdown().await;
        Ok(())
    })
}

/// A `/proc/self/status` field in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            let kib: u64 = rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .with_context(|| format!("{field}: {rest:?}"))?;
            return Ok(kib * 1024);
        }
    }
    bail!("/proc/self/status has no {field}")
}

/// Resets the peak resident set (`VmHWM`) to the current one.
fn reset_peak() -> Result<()> {
    std::fs::write("/proc/self/clear_refs", "5").context("writing /proc/self/clear_refs")
}

/// Writes `len` deterministic bytes to `path`, 64 KiB at a time.
fn write_file(path: &Path, len: u64) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while written < len {
        for b in &mut chunk {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x.to_le_bytes()[0];
        }
        let n = usize::try_from((len - written).min(chunk.len() as u64))?;
        out.write_all(&chunk[..n])?;
        written += n as u64;
    }
    out.flush()?;
    Ok(())
}

#[allow(clippy::cast_precision_loss)]
fn mib_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / MIB as f64 / took.as_secs_f64()
}

#[allow(clippy::cast_precision_loss)]
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

struct Figures {
    idle_rss: u64,
    peak_rss: u64,
    get: Duration,
    attach: Duration,
    fs_copy: Duration,
    tokio_copy: Duration,
}

fn measure() -> Result<()> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg(SERVE_FLAG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the simulator child")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("child stdout")?).read_line(&mut line)?;
    let info: serde_json::Value = serde_json::from_str(&line)
        .with_context(|| format!("the simulator's ready line: {line:?}"))?;
    let dir = std::env::temp_dir().join(format!("jiraflow-rss-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(&info, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    drop(child.stdin.take());
    let _ = child.wait();
    report(&result?)
}

async fn run(info: &serde_json::Value, dir: &Path) -> Result<Figures> {
    let base = info["jira_base_url"].as_str().context("jira_base_url")?;
    let token = info["admin_token"].as_str().context("admin_token")?;
    let jira = JiraClient::builder(base)
        .token_provider(StaticToken::shared(token))
        .build()?;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.join("jiraflow.db"), MasterKey::generate()).await?);
    let content = Arc::new(LocalFileStore::open(dir).await?);
    let files = Files::new(store, content, FilesConfig::default())?;

    let source: PathBuf = dir.join("payload-15mib.bin");
    write_file(&source, SIZE)?;
    // Warm-up with a small file: connection pools, the database and the runtime's lazily
    // made structures are in place before the idle reading, as in a running server.
    let small = dir.join("warm-up.bin");
    write_file(&small, 256 * 1024)?;
    let warm = attach_path(&jira, "DEMO-1", &small).await?;
    let object = files
        .download_attachment(&jira, warm.as_str(), FileOwner::System)
        .await?;
    files.upload_to_issue(&jira, "DEMO-2", object.id).await?;
    files.delete(object.id).await?;

    let attachment = attach_path(&jira, "DEMO-1", &source).await?;

    let idle_rss = status_bytes("VmRSS")?;
    reset_peak()?;
    let began = Instant::now();
    let object = files
        .download_attachment(&jira, attachment.as_str(), FileOwner::System)
        .await?;
    let get = began.elapsed();
    let began = Instant::now();
    let copy = files.upload_to_issue(&jira, "DEMO-2", object.id).await?;
    let attach = began.elapsed();
    let peak_rss = status_bytes("VmHWM")?;
    if object.size != SIZE || copy.size != Some(SIZE) {
        bail!("sizes differ: object {}, copy {:?}", object.size, copy.size);
    }

    let began = Instant::now();
    std::fs::copy(&source, dir.join("fs-copy.bin"))?;
    let fs_copy = began.elapsed();
    let began = Instant::now();
    tokio::fs::copy(&source, dir.join("tokio-copy.bin")).await?;
    let tokio_copy = began.elapsed();
    Ok(Figures {
        idle_rss,
        peak_rss,
        get,
        attach,
        fs_copy,
        tokio_copy,
    })
}

async fn attach_path(jira: &JiraClient, issue: &str, path: &Path) -> Result<String> {
    let file = AttachmentFile::from_path(path).await?;
    let added = jira.attachments().add(issue, file).send().await?;
    Ok(added
        .into_iter()
        .next()
        .context("no attachment returned")?
        .id
        .into_string())
}

fn report(f: &Figures) -> Result<()> {
    let rise = f.peak_rss.saturating_sub(f.idle_rss);
    let total = f.get + f.attach;
    println!("File transfer of {SIZE} bytes (15 MiB), simulator in a child process");
    println!("{:<44} {:>12}", "measure", "value");
    println!("{:<44} {:>9.2} MB", "idle RSS (VmRSS)", mb(f.idle_rss));
    println!(
        "{:<44} {:>9.2} MB",
        "peak RSS during transfer (VmHWM)",
        mb(f.peak_rss)
    );
    println!(
        "{:<44} {:>9.2} MB  (goal <= {:.0} MB: {})",
        "peak - idle",
        mb(rise),
        mb(GOAL_BYTES),
        if rise <= GOAL_BYTES { "met" } else { "MISSED" }
    );
    println!(
        "{:<44} {:>8.1} MiB/s  ({:.0} ms)",
        "Get File (download_attachment)",
        mib_per_s(SIZE, f.get),
        f.get.as_secs_f64() * 1e3
    );
    println!(
        "{:<44} {:>8.1} MiB/s  ({:.0} ms)",
        "Attach File (upload + verifying download)",
        mib_per_s(SIZE, f.attach),
        f.attach.as_secs_f64() * 1e3
    );
    println!(
        "{:<44} {:>8.1} MiB/s  ({:.0} ms)",
        "Get File + Attach File",
        mib_per_s(SIZE, total),
        total.as_secs_f64() * 1e3
    );
    println!(
        "{:<44} {:>8.1} MiB/s  ({:.0} ms)",
        "std::fs::copy",
        mib_per_s(SIZE, f.fs_copy),
        f.fs_copy.as_secs_f64() * 1e3
    );
    println!(
        "{:<44} {:>8.1} MiB/s  ({:.0} ms)",
        "tokio::fs::copy",
        mib_per_s(SIZE, f.tokio_copy),
        f.tokio_copy.as_secs_f64() * 1e3
    );
    let json = serde_json::json!({
        "bench": "file_transfer_rss",
        "bytes": SIZE,
        "idle_rss_bytes": f.idle_rss,
        "peak_rss_bytes": f.peak_rss,
        "peak_minus_idle_bytes": rise,
        "goal_bytes": GOAL_BYTES,
        "goal_met": rise <= GOAL_BYTES,
        "get_file_ms": f.get.as_millis(),
        "attach_file_ms": f.attach.as_millis(),
        "get_file_mib_s": mib_per_s(SIZE, f.get),
        "attach_file_mib_s": mib_per_s(SIZE, f.attach),
        "transfer_mib_s": mib_per_s(SIZE, total),
        "fs_copy_mib_s": mib_per_s(SIZE, f.fs_copy),
        "tokio_copy_mib_s": mib_per_s(SIZE, f.tokio_copy),
    });
    println!("{json}");
    Ok(())
}

//! File objects through the command line: a byte-for-byte round trip from a local file to a
//! Jira attachment and back, the 15 MiB limit, and a file name in Japanese with an emoji.

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::*;

/// 15 MiB (15 × 1024 × 1024 bytes), the largest file object.
const LIMIT: u64 = 15 * 1024 * 1024;

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic binary content of `len` bytes (every byte value occurs).
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7 + i / 251) % 256) as u8).collect()
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `jiraflow action NAME --connection acme --input JSON --as ada`, parsed.
fn action(env: &Env, name: &str, input: &Value) -> Value {
    json_of(&env.ada(&[
        "action",
        name,
        "--connection",
        "acme",
        "--input",
        &input.to_string(),
    ]))
}

fn upload(env: &Env, path: &Path, extra: &[&str]) -> Value {
    let path = path.to_string_lossy();
    let mut args = vec!["files", "upload", path.as_ref()];
    args.extend_from_slice(extra);
    env.ada_json(&args)
}

#[test]
fn a_local_file_uploaded_listed_shown_downloaded_attached_and_deleted_keeps_every_byte() {
    let env = Env::start("round-trip");
    let bytes = content(300_000);
    let local = env.data.0.join("evidence.bin");
    std::fs::write(&local, &bytes).expect("write the local file");

    let object = upload(&env, &local, &["--media-type", "application/x-evidence"]);
    let id = object["id"].as_str().expect("file id").to_owned();
    assert_eq!(object["name"], "evidence.bin");
    assert_eq!(object["size"], bytes.len());
    assert_eq!(object["media_type"], "application/x-evidence");
    assert_eq!(object["sha256"], sha256_hex(&bytes));
    assert_eq!(object["owner"]["kind"], "user", "{object}");

    let listed = env.ada_json(&["files", "list"]);
    assert_eq!(listed["files"][0]["id"], id.as_str(), "{listed}");
    assert_eq!(listed["totals"], json!({"count": 1, "bytes": bytes.len()}));
    let table = env.ada(&["files", "list"]);
    assert!(
        table.contains(&id) && table.contains("total: 1 file(s), 300000 bytes"),
        "{table}"
    );

    let shown = env.ada_json(&["files", "show", &id]);
    assert_eq!(shown["sha256"], sha256_hex(&bytes));

    let copy = env.data.0.join("copy.bin");
    env.ada(&["files", "download", &id, "--out", &copy.to_string_lossy()]);
    assert_eq!(std::fs::read(&copy).expect("the download"), bytes);
    let output = command(&env.data.0, &["files", "download", &id, "--out", "-"])
        .output()
        .expect("run jiraflow");
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(
        output.stdout, bytes,
        "stdout carries the bytes and nothing else"
    );

    let attached = action(
        &env,
        "attach_file",
        &json!({"file_id": id, "issue": "DEMO-2"}),
    );
    assert_eq!(attached["outcome"], "changed", "{attached}");
    assert_eq!(attached["output"]["filename"], "evidence.bin");
    assert_eq!(attached["output"]["size"], bytes.len());
    let attachment_id = attached["output"]["id"].as_str().expect("attachment id");
    // Read back from Jira into a new file object: the same SHA-256.
    let fetched = action(&env, "get_file", &json!({"attachment_id": attachment_id}));
    assert_eq!(fetched["output"]["sha256"], sha256_hex(&bytes), "{fetched}");
    assert_eq!(fetched["output"]["size"], bytes.len());

    let deleted = env.ada_json(&["files", "delete", &id]);
    assert_eq!(deleted, json!({"deleted": true}));
    let again = env.ada_json(&["files", "delete", &id]);
    assert_eq!(again, json!({"deleted": false}));
    let fetched_id = fetched["output"]["file_id"].as_str().expect("file id");
    let removed = json_of(&env.ada(&[
        "action",
        "delete_file",
        "--input",
        &json!({"file_id": fetched_id}).to_string(),
    ]));
    assert_eq!(removed["outcome"], "changed", "{removed}");
    let listed = env.ada_json(&["files", "list"]);
    assert_eq!(
        listed["totals"],
        json!({"count": 0, "bytes": 0}),
        "{listed}"
    );
}

#[test]
fn an_upload_one_byte_over_15_mib_is_refused_naming_size_and_limit_and_nothing_is_kept() {
    let env = Env::start("too-large");
    let local = env.data.0.join("big.bin");
    let file = std::fs::File::create(&local).expect("create");
    file.set_len(LIMIT + 1).expect("size the file");
    drop(file);

    let output = env.fails(&["files", "upload", &local.to_string_lossy(), "--as", "ada"]);
    let message = stderr(&output);
    assert!(
        message.contains("15728641 bytes") && message.contains("limit of 15728640 bytes (15 MiB)"),
        "{message}"
    );
    assert!(message.contains("big.bin"), "names the file: {message}");
    let listed = env.ada_json(&["files", "list"]);
    assert_eq!(listed["files"], json!([]), "{listed}");
    assert_eq!(listed["totals"], json!({"count": 0, "bytes": 0}));
    let content_dir = env.data.0.join("files");
    let leftovers: Vec<_> = walk(&content_dir);
    assert!(
        leftovers.is_empty(),
        "nothing in the file store: {leftovers:?}"
    );

    // Exactly 15 MiB is accepted.
    let exact = env.data.0.join("exact.bin");
    let file = std::fs::File::create(&exact).expect("create");
    file.set_len(LIMIT).expect("size the file");
    drop(file);
    let object = upload(&env, &exact, &[]);
    assert_eq!(object["size"], LIMIT);
}

#[test]
fn a_japanese_and_emoji_file_name_round_trips_through_jira() {
    let env = Env::start("names");
    let name = "報告書 📎 最終版.pdf";
    let bytes = b"%PDF-1.7\n pretend document\n".to_vec();
    let local = env.data.0.join("plain-name.pdf");
    std::fs::write(&local, &bytes).expect("write the local file");

    let object = upload(&env, &local, &["--name", name]);
    assert_eq!(object["name"], name);
    assert_eq!(object["media_type"], "application/pdf");
    let id = object["id"].as_str().expect("file id");
    let shown = env.ada(&["files", "show", id]);
    assert!(shown.contains(name), "{shown}");

    let attached = action(
        &env,
        "attach_file",
        &json!({"file_id": id, "issue": "DEMO-2"}),
    );
    assert_eq!(attached["output"]["filename"], name, "{attached}");
    let fetched = action(
        &env,
        "get_file",
        &json!({"issue": "DEMO-2", "filename": name}),
    );
    assert_eq!(fetched["output"]["name"], name, "{fetched}");
    assert_eq!(fetched["output"]["sha256"], sha256_hex(&bytes));
}

/// Every file under `dir` (none when it does not exist).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

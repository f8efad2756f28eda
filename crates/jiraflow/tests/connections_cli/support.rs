//! The harness: a simulator child process, temp data directories, running `jiraflow`, and
//! driving the consent redirect headlessly.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_jiraflow");
pub const CLIENT_SECRET: &str = "cli-test-client-secret-Zq8vW3";

/// A running simulator child process, killed on drop.
pub struct Sim {
    child: Child,
    pub info: serde_json::Value,
}

impl Sim {
    pub fn start(redirect_port: u16) -> Self {
        Self::start_with(redirect_port, &[])
    }

    pub fn start_with(redirect_port: u16, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args([
                "sim",
                "--listen",
                "127.0.0.1:0",
                "--auto-consent",
                "--seed",
                "empty",
            ])
            .arg("--redirect-uri")
            .arg(redirect_uri(redirect_port))
            .arg("--client-secret")
            .arg(CLIENT_SECRET)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the simulator");
        let stdout = child.stdout.take().expect("sim stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the ready line");
        let info = serde_json::from_str(&line).expect("ready line is JSON");
        Self { child, info }
    }

    pub fn field(&self, name: &str) -> String {
        self.info[name]
            .as_str()
            .expect("ready line field")
            .to_owned()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

pub fn redirect_uri(port: u16) -> String {
    format!("http://127.0.0.1:{port}/oauth/callback")
}

/// A temp data directory, removed on drop.
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new(label: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jiraflow-cli-{label}-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn command(data: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env("JIRAFLOW_DATA_DIR", data)
        .env_remove("JIRAFLOW_MASTER_KEY")
        .env_remove("JIRAFLOW_API_KEY")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG");
    cmd
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `jiraflow ARGS`, returning the output; every output is kept for the secrets scan.
pub fn jf(data: &Path, args: &[&str], seen: &mut Vec<String>) -> Output {
    let output = command(data, args).output().expect("run jiraflow");
    seen.push(text(&output));
    output
}

pub fn ok(data: &Path, args: &[&str], seen: &mut Vec<String>) -> String {
    let output = jf(data, args, seen);
    assert!(
        output.status.success(),
        "{args:?} failed: {}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// GET without following redirects: (status, Location).
pub fn get(url: &str) -> (u16, Option<String>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let response = client.get(url).send().await.expect("GET");
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status().as_u16(), location)
    })
}

/// Creates the bootstrap admin `ada` and a sandbox app `sim` with `secret`.
pub fn setup(data: &Path, sim: &Sim, secret: &str, seen: &mut Vec<String>) {
    ok(
        data,
        &["user", "create", "ada", "--manage-connections"],
        seen,
    );
    std::fs::create_dir_all(data).expect("data dir");
    let secret_file = data.join("client-secret.txt");
    std::fs::write(&secret_file, secret).expect("write secret");
    let secret_file = secret_file.to_string_lossy().into_owned();
    ok(
        data,
        &[
            "app",
            "create",
            "--as",
            "ada",
            "--name",
            "sim",
            "--client-id",
            &sim.field("client_id"),
            "--client-secret-file",
            &secret_file,
            "--environment",
            "sandbox",
            "--auth-url",
            &sim.field("auth_url"),
            "--api-url",
            &sim.field("api_url"),
        ],
        seen,
    );
    std::fs::remove_file(&secret_file).expect("remove secret file");
}

/// Runs a consent command with the callback listener: reads the URL line, GETs it (plus
/// `url_suffix`), follows the `Location` to the CLI's listener, and waits for the CLI.
pub fn consent_via_listener(
    data: &Path,
    args: &[&str],
    url_suffix: &str,
    envs: &[(&str, &str)],
    seen: &mut Vec<String>,
) -> Output {
    let mut cmd = command(data, args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jiraflow");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    stdout.read_line(&mut url).expect("read the URL line");
    let url = format!("{}{url_suffix}", url.trim());
    assert!(
        url.starts_with("http"),
        "first stdout line is not a URL: {url:?}"
    );
    let (status, location) = get(&url);
    assert_eq!(status, 302, "authorize answered {status}");
    let location = location.expect("a Location to the callback");
    let (status, _) = get(&location);
    assert_eq!(status, 200, "the CLI's callback listener answered {status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("rest of stdout");
    let mut output = child.wait_with_output().expect("wait");
    output.stdout = format!("{}\n{rest}", url.trim()).into_bytes();
    seen.push(text(&output));
    output
}

/// Runs a consent command with `--no-listen`: returns the authorize URL's callback `Location`
/// after pasting `paste(location)` into the CLI, and the CLI's output.
pub fn consent_pasted(
    data: &Path,
    name: &str,
    paste: impl FnOnce(&str) -> String,
    seen: &mut Vec<String>,
) -> (String, Output) {
    let mut child = command(
        data,
        &[
            "connection",
            "create",
            "--as",
            "ada",
            "--name",
            name,
            "--app",
            "sim",
            "--no-listen",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn jiraflow");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = String::new();
    stdout.read_line(&mut url).expect("read the URL line");
    let (_, location) = get(url.trim());
    let location = location.expect("a Location to the callback");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{}", paste(&location)).expect("paste");
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("rest of stdout");
    let mut output = child.wait_with_output().expect("wait");
    output.stdout = rest.into_bytes();
    seen.push(text(&output));
    (location, output)
}

pub fn connection_names(data: &Path, seen: &mut Vec<String>) -> Vec<String> {
    let listed = ok(
        data,
        &["connection", "list", "--as", "ada", "--output", "json"],
        seen,
    );
    let list: serde_json::Value = serde_json::from_str(listed.trim()).expect("list JSON");
    list.as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Whether `haystack` holds a run of at least `len` ASCII alphanumerics: the shape of the
/// simulator's tokens (access 1024, refresh 640, code 320 characters).
pub fn has_token_shaped_run(haystack: &[u8], len: usize) -> bool {
    let mut run = 0;
    for b in haystack {
        if b.is_ascii_alphanumeric() {
            run += 1;
            if run >= len {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_shape_scan_finds_a_token_and_ignores_short_ids() {
        let mut haystack = b"prefix ".to_vec();
        haystack.extend(std::iter::repeat_n(b'x', 640));
        assert!(has_token_shaped_run(&haystack, 64));
        assert!(!has_token_shaped_run(
            b"a1b2c3d4-0000-4000-8000-00000000ac3e wflu4pFWC2POfyookhqajEnXic52We0d",
            64
        ));
    }
}

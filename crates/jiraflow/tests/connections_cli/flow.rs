//! The happy paths: connect, list, show, test (with a refresh), reconnect, delete; choosing a
//! site when a consent covers several; and the secrets scan over every output and the database.

use std::time::Duration;

use crate::support::*;

#[test]
fn a_headless_connect_lists_shows_tests_reconnects_and_deletes_without_leaking_secrets() {
    let port = free_port();
    let sim = Sim::start_with(port, &["--token-ttl", "2"]);
    let data = DataDir::new("flow");
    let mut seen = Vec::new();
    setup(&data.0, &sim, CLIENT_SECRET, &mut seen);
    let redirect = redirect_uri(port);
    let created = consent_via_listener(
        &data.0,
        &[
            "connection",
            "create",
            "--as",
            "ada",
            "--name",
            "acme",
            "--description",
            "main",
            "--app",
            "sim",
            "--redirect-uri",
            &redirect,
        ],
        "",
        &[("RUST_LOG", "trace")],
        &mut seen,
    );
    assert!(
        created.status.success(),
        "create failed: {}",
        text(&created)
    );
    let shown = String::from_utf8_lossy(&created.stdout).into_owned();
    assert!(shown.contains(&sim.field("cloud_id")), "{shown}");
    assert!(shown.contains("active"), "{shown}");
    assert!(shown.contains("••••"), "{shown}");

    assert_eq!(
        connection_names(&data.0, &mut seen),
        vec!["acme".to_owned()]
    );
    ok(&data.0, &["connection", "list", "--as", "ada"], &mut seen);
    let show = ok(
        &data.0,
        &[
            "connection",
            "show",
            "acme",
            "--as",
            "ada",
            "--output",
            "json",
        ],
        &mut seen,
    );
    let show: serde_json::Value = serde_json::from_str(show.trim()).expect("show JSON");
    assert_eq!(show["cloud_id"], sim.info["cloud_id"]);
    assert_eq!(show["status"], "active");
    assert_eq!(show["tokens"]["access_token"], "••••");
    ok(
        &data.0,
        &["connection", "show", "acme", "--as", "ada"],
        &mut seen,
    );

    let tested = ok(
        &data.0,
        &["connection", "test", "acme", "--as", "ada"],
        &mut seen,
    );
    assert!(
        tested.contains("result") && tested.contains("ok"),
        "{tested}"
    );
    // The access tokens live 2 seconds: this Test Connection must refresh (and persist the
    // rotated pair) first.
    std::thread::sleep(Duration::from_millis(2500));
    let tested = command(
        &data.0,
        &[
            "connection",
            "test",
            "acme",
            "--as",
            "ada",
            "--output",
            "json",
        ],
    )
    .env("RUST_LOG", "trace")
    .output()
    .expect("test");
    seen.push(text(&tested));
    assert!(tested.status.success(), "{}", text(&tested));
    let refreshed = ok(
        &data.0,
        &[
            "connection",
            "show",
            "acme",
            "--as",
            "ada",
            "--output",
            "json",
        ],
        &mut seen,
    );
    let refreshed: serde_json::Value = serde_json::from_str(refreshed.trim()).expect("JSON");
    assert!(
        refreshed["tokens"]["last_refreshed_at"].is_string(),
        "Test Connection did not refresh the expired token: {refreshed}"
    );

    let reconnected = consent_via_listener(
        &data.0,
        &[
            "connection",
            "reconnect",
            "acme",
            "--as",
            "ada",
            "--redirect-uri",
            &redirect,
        ],
        "",
        &[],
        &mut seen,
    );
    assert!(
        reconnected.status.success(),
        "reconnect failed: {}",
        text(&reconnected)
    );
    let again = ok(
        &data.0,
        &[
            "connection",
            "show",
            "acme",
            "--as",
            "ada",
            "--output",
            "json",
        ],
        &mut seen,
    );
    let again: serde_json::Value = serde_json::from_str(again.trim()).expect("show JSON");
    assert_eq!(again["id"], show["id"], "reconnect keeps the connection id");
    ok(
        &data.0,
        &["app", "show", "sim", "--as", "ada", "--output", "json"],
        &mut seen,
    );

    // Secrets: the client secret and anything shaped like the simulator's tokens appear in no
    // output (text, JSON, trace logs) and in none of the database files.
    for out in &seen {
        assert!(
            !out.contains(CLIENT_SECRET),
            "client secret in output: {out}"
        );
        assert!(
            !has_token_shaped_run(out.as_bytes(), 64),
            "token-shaped value in output: {out}"
        );
    }
    for file in ["jiraflow.db", "jiraflow.db-wal", "jiraflow.db-shm"] {
        let Ok(bytes) = std::fs::read(data.0.join(file)) else {
            continue;
        };
        assert!(
            !bytes
                .windows(CLIENT_SECRET.len())
                .any(|w| w == CLIENT_SECRET.as_bytes()),
            "client secret in {file}"
        );
        assert!(
            !has_token_shaped_run(&bytes, 64),
            "token-shaped value in {file}"
        );
    }

    ok(
        &data.0,
        &["connection", "delete", "acme", "--as", "ada"],
        &mut seen,
    );
    assert!(connection_names(&data.0, &mut seen).is_empty());
}

#[test]
fn a_consent_covering_several_sites_lists_them_and_site_picks_one() {
    let port = free_port();
    let sim = Sim::start(port);
    let data = DataDir::new("sites");
    let mut seen = Vec::new();
    setup(&data.0, &sim, CLIENT_SECRET, &mut seen);
    let redirect = redirect_uri(port);
    let create = |name: &'static str, site: Option<&str>| {
        let mut args = vec![
            "connection",
            "create",
            "--as",
            "ada",
            "--name",
            name,
            "--app",
            "sim",
            "--redirect-uri",
            &redirect,
        ];
        if let Some(site) = site {
            args.extend(["--site", site]);
        }
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let run = |args: Vec<String>, suffix: &str, seen: &mut Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        consent_via_listener(&data.0, &args, suffix, &[], seen)
    };
    // Consenting to acme, then to globex, leaves Ada's grant covering both sites.
    let first = run(create("acme", None), "", &mut seen);
    assert!(first.status.success(), "{}", text(&first));
    let ambiguous = run(create("globex", None), "&sim_site=globex", &mut seen);
    assert!(!ambiguous.status.success());
    let message = text(&ambiguous);
    assert!(message.contains("several Jira sites"), "{message}");
    assert!(
        message.contains("acme") && message.contains("globex"),
        "{message}"
    );
    assert!(message.contains("--site"), "{message}");
    assert_eq!(
        connection_names(&data.0, &mut seen),
        vec!["acme".to_owned()]
    );

    let globex_url = format!("{}/site/globex", sim.field("api_url"));
    let chosen = run(
        create("globex", Some(&globex_url)),
        "&sim_site=globex",
        &mut seen,
    );
    assert!(chosen.status.success(), "{}", text(&chosen));
    assert_eq!(
        connection_names(&data.0, &mut seen),
        vec!["acme".to_owned(), "globex".to_owned()]
    );
}

//! Bad input and refused operations: clear errors, a non-zero exit, and nothing created.

use crate::support::*;

#[test]
fn a_wrong_client_secret_fails_clearly_and_creates_nothing() {
    let port = free_port();
    let sim = Sim::start(port);
    let data = DataDir::new("secret");
    let mut seen = Vec::new();
    setup(&data.0, &sim, "not-the-secret", &mut seen);
    let redirect = redirect_uri(port);
    let out = consent_via_listener(
        &data.0,
        &[
            "connection",
            "create",
            "--as",
            "ada",
            "--name",
            "acme",
            "--app",
            "sim",
            "--redirect-uri",
            &redirect,
        ],
        "",
        &[],
        &mut seen,
    );
    assert!(!out.status.success());
    let message = text(&out);
    assert!(message.contains("client id and secret"), "{message}");
    assert!(connection_names(&data.0, &mut seen).is_empty());
}

#[test]
fn denied_consent_fails_clearly_and_creates_nothing() {
    let port = free_port();
    let sim = Sim::start(port);
    let data = DataDir::new("denied");
    let mut seen = Vec::new();
    setup(&data.0, &sim, CLIENT_SECRET, &mut seen);
    let redirect = redirect_uri(port);
    let out = consent_via_listener(
        &data.0,
        &[
            "connection",
            "create",
            "--as",
            "ada",
            "--name",
            "acme",
            "--app",
            "sim",
            "--redirect-uri",
            &redirect,
        ],
        "&sim_user=nobody%40nowhere.example",
        &[],
        &mut seen,
    );
    assert!(!out.status.success());
    let message = text(&out);
    assert!(message.contains("consent was denied"), "{message}");
    assert!(message.contains("nothing was created"), "{message}");
    assert!(connection_names(&data.0, &mut seen).is_empty());
}

#[test]
fn forged_and_replayed_states_are_refused_and_create_nothing() {
    let sim = Sim::start(free_port());
    let data = DataDir::new("state");
    let mut seen = Vec::new();
    setup(&data.0, &sim, CLIENT_SECRET, &mut seen);

    let (_, forged) = consent_pasted(
        &data.0,
        "acme",
        |_| "http://127.0.0.1:8080/oauth/callback?code=abc&state=forged-state".to_owned(),
        &mut seen,
    );
    assert!(!forged.status.success());
    assert!(
        text(&forged).contains("state is unknown"),
        "{}",
        text(&forged)
    );

    // A good paste consumes its state; pasting the same redirect again is a replay.
    let (used, first) = consent_pasted(&data.0, "acme", str::to_owned, &mut seen);
    assert!(first.status.success(), "{}", text(&first));
    let (_, replayed) = consent_pasted(&data.0, "other", |_| used.clone(), &mut seen);
    assert!(!replayed.status.success());
    assert!(
        text(&replayed).contains("already used"),
        "{}",
        text(&replayed)
    );
    assert_eq!(
        connection_names(&data.0, &mut seen),
        vec!["acme".to_owned()]
    );

    let empty = consent_pasted(&data.0, "third", |_| String::new(), &mut seen).1;
    assert!(!empty.status.success());
    assert!(
        text(&empty).contains("no redirect URL was pasted"),
        "{}",
        text(&empty)
    );
}

#[test]
fn bootstrap_allows_only_the_first_user_without_an_acting_admin() {
    let data = DataDir::new("users");
    let mut seen = Vec::new();
    ok(
        &data.0,
        &["user", "create", "ada", "--manage-connections"],
        &mut seen,
    );
    let second = jf(&data.0, &["user", "create", "bob"], &mut seen);
    assert!(!second.status.success());
    assert!(text(&second).contains("--as USER"), "{}", text(&second));
    let key = ok(
        &data.0,
        &["apikey", "create", "ada", "--as", "ada"],
        &mut seen,
    );
    let key = key.trim().to_owned();
    let bob = command(&data.0, &["user", "create", "bob"])
        .env("JIRAFLOW_API_KEY", &key)
        .output()
        .expect("run");
    assert!(bob.status.success(), "{}", text(&bob));
    let denied = jf(
        &data.0,
        &[
            "app",
            "create",
            "--as",
            "bob",
            "--name",
            "x",
            "--client-id",
            "c",
            "--client-secret-env",
            "NOPE",
        ],
        &mut seen,
    );
    assert!(!denied.status.success());
    let listed = ok(
        &data.0,
        &["user", "list", "--as", "bob", "--output", "json"],
        &mut seen,
    );
    assert!(
        listed.contains("\"bob\"") && !listed.contains(&key),
        "{listed}"
    );
    let db = std::fs::read(data.0.join("jiraflow.db")).expect("db");
    assert!(
        !db.windows(key.len()).any(|w| w == key.as_bytes()),
        "API key stored in clear"
    );
}

#[test]
fn a_wrong_master_key_is_refused_with_the_store_message() {
    let data = DataDir::new("key");
    let mut seen = Vec::new();
    ok(
        &data.0,
        &["user", "create", "ada", "--manage-connections"],
        &mut seen,
    );
    let wrong = command(&data.0, &["user", "list", "--as", "ada"])
        .env(
            "JIRAFLOW_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .output()
        .expect("run");
    assert!(!wrong.status.success());
    assert!(
        text(&wrong).contains("master key does not match"),
        "{}",
        text(&wrong)
    );
}

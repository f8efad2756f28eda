//! Named credentials (grants, read-only connections, deletion) and master key rotation.

use crate::support::*;

#[test]
fn named_credentials_need_a_grant_show_read_only_and_survive_their_connections_and_key_rotation() {
    use std::os::unix::fs::PermissionsExt;

    let port = free_port();
    let sim = Sim::start(port);
    let data = DataDir::new("named");
    let mut seen = Vec::new();
    setup(&data.0, &sim, CLIENT_SECRET, &mut seen);
    ok(
        &data.0,
        &["user", "create", "bob", "--as", "ada"],
        &mut seen,
    );
    let redirect = redirect_uri(port);
    let created = consent_via_listener(
        &data.0,
        &[
            "credential",
            "create",
            "--as",
            "ada",
            "--name",
            "shared",
            "--app",
            "sim",
            "--redirect-uri",
            &redirect,
        ],
        "",
        &[],
        &mut seen,
    );
    assert!(created.status.success(), "{}", text(&created));

    // Without a grant the connection is made but stays inactive, and Test Connection says why.
    let waiting = ok(
        &data.0,
        &[
            "connection",
            "create",
            "--as",
            "bob",
            "--name",
            "mine",
            "--named-credential",
            "shared",
        ],
        &mut seen,
    );
    assert!(waiting.contains("inactive"), "{waiting}");
    let refused = jf(
        &data.0,
        &["connection", "test", "mine", "--as", "bob"],
        &mut seen,
    );
    assert!(!refused.status.success());
    assert!(text(&refused).contains("no grant"), "{}", text(&refused));

    ok(
        &data.0,
        &["credential", "grant", "shared", "bob", "--as", "ada"],
        &mut seen,
    );
    ok(
        &data.0,
        &["connection", "test", "mine", "--as", "bob"],
        &mut seen,
    );
    let made = ok(
        &data.0,
        &["connection", "show", "mine", "--as", "bob"],
        &mut seen,
    );
    assert!(made.contains("active"), "{made}");
    assert!(!made.contains("inactive"), "{made}");
    assert!(made.contains("read-only"), "{made}");
    assert!(made.contains(&sim.field("cloud_id")), "{made}");
    // Name and description stay editable on a named credential's connection.
    let described = ok(
        &data.0,
        &[
            "connection",
            "update",
            "mine",
            "--description",
            "through the shared principal",
            "--as",
            "bob",
        ],
        &mut seen,
    );
    assert!(
        described.contains("through the shared principal"),
        "{described}"
    );
    let nothing = jf(
        &data.0,
        &["connection", "update", "mine", "--as", "bob"],
        &mut seen,
    );
    assert!(!nothing.status.success());
    assert!(
        text(&nothing).contains("nothing to update"),
        "{}",
        text(&nothing)
    );
    let reconnect = jf(
        &data.0,
        &["connection", "reconnect", "mine", "--as", "bob"],
        &mut seen,
    );
    assert!(!reconnect.status.success());
    assert!(
        text(&reconnect).contains("named credential"),
        "{}",
        text(&reconnect)
    );

    // Rotate the master key; the old key file is then refused, the new one opens everything.
    let new_key = data.0.join("new.key");
    std::fs::write(&new_key, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").expect("key");
    std::fs::set_permissions(&new_key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let new_key_arg = new_key.to_string_lossy().into_owned();
    ok(
        &data.0,
        &[
            "store",
            "rotate-key",
            "--new-key-file",
            &new_key_arg,
            "--as",
            "ada",
        ],
        &mut seen,
    );
    let stale = jf(&data.0, &["credential", "list", "--as", "ada"], &mut seen);
    assert!(!stale.status.success());
    assert!(
        text(&stale).contains("master key does not match"),
        "{}",
        text(&stale)
    );
    std::fs::rename(&new_key, data.0.join("master.key")).expect("install the new key");
    let tested = ok(
        &data.0,
        &["connection", "test", "mine", "--as", "bob"],
        &mut seen,
    );
    assert!(tested.contains("ok"), "{tested}");

    ok(
        &data.0,
        &["connection", "delete", "mine", "--as", "bob"],
        &mut seen,
    );
    let listed = ok(
        &data.0,
        &["credential", "list", "--as", "ada", "--output", "json"],
        &mut seen,
    );
    assert!(
        listed.contains("\"shared\""),
        "deleting the connection kept the credential: {listed}"
    );
    ok(
        &data.0,
        &["credential", "revoke", "shared", "bob", "--as", "ada"],
        &mut seen,
    );
    ok(
        &data.0,
        &["credential", "delete", "shared", "--as", "ada"],
        &mut seen,
    );
    for out in &seen {
        assert!(
            !out.contains(CLIENT_SECRET),
            "client secret in output: {out}"
        );
        assert!(
            !has_token_shaped_run(out.as_bytes(), 64),
            "token-shaped value: {out}"
        );
    }
}

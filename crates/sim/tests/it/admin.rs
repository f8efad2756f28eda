//! The admin API under `/_sim`: settings (partial updates, validation), stats, the clock, reset,
//! accounts, sites, tokens and bulk issues; and `--state FILE` persistence across restarts.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{TestSim, send_json};
use jiraflow_sim::SimConfig;
use jiraflow_sim::seed::{ADMIN_ACCOUNT, GLOBEX_CLOUD_ID};

/// A request to the admin API (`{sim_admin_url}{path}`).
pub fn sim_admin(sim: &TestSim, method: Method, path: &str) -> reqwest::RequestBuilder {
    sim.http
        .request(method, format!("{}{path}", sim.sim.info.sim_admin_url))
}

/// Applies a settings patch and asserts it was accepted.
pub async fn set(sim: &TestSim, patch: Value) {
    let (status, body) = send_json(sim_admin(sim, Method::PUT, "/settings").json(&patch)).await;
    assert_eq!(status, 200, "settings {patch} rejected: {body}");
}

fn issue_count(sim: &TestSim) -> usize {
    let world = sim.sim.state.world.read();
    world.sites.values().map(|s| s.jira.issues.len()).sum()
}

#[tokio::test]
async fn settings_read_back_the_defaults_and_a_partial_update_changes_only_the_given_fields() {
    let sim = TestSim::start().await;
    let (status, before) = send_json(sim_admin(&sim, Method::GET, "/settings")).await;
    assert_eq!(status, 200);
    assert_eq!(before["burst_per_second"], 0);
    assert_eq!(before["access_token_ttl_secs"], 3600);

    let (status, after) = send_json(
        sim_admin(&sim, Method::PUT, "/settings")
            .json(&json!({"burst_per_second": 40, "fault_methods": ["POST"]})),
    )
    .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["burst_per_second"], 40);
    assert_eq!(after["fault_methods"], json!(["POST"]));
    assert_eq!(after["access_token_ttl_secs"], 3600, "untouched field kept");
    assert_eq!(sim.sim.state.settings().burst_per_second, 40);
}

#[tokio::test]
async fn an_unknown_setting_is_rejected_naming_it_and_nothing_changes() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        sim_admin(&sim, Method::PUT, "/settings")
            .json(&json!({"burst_per_second": 5, "burst_per_minute": 5})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errors"]["burst_per_minute"], "Unknown setting.");
    let message = body["errorMessages"][0].as_str().unwrap_or_default();
    assert!(message.contains("'burst_per_minute'"), "{message}");
    assert!(message.contains("burst_per_second"), "lists known settings");
    assert_eq!(
        sim.sim.state.settings().burst_per_second,
        0,
        "a rejected patch applies nothing"
    );
}

#[tokio::test]
async fn settings_of_the_wrong_type_or_out_of_range_are_rejected_per_field() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        sim_admin(&sim, Method::PUT, "/settings")
            .json(&json!({"burst_per_second": "fast", "fault_5xx_rate": 0.5})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["errors"]["burst_per_second"]
            .as_str()
            .is_some_and(|m| m.contains("invalid type")),
        "{body}"
    );
    assert!(body["errors"].get("fault_5xx_rate").is_none());

    for (patch, field) in [
        (json!({"fault_5xx_rate": 1.5}), "fault_5xx_rate"),
        (json!({"random_429_rate": -0.1}), "random_429_rate"),
        (json!({"expired_token_status": 200}), "expired_token_status"),
        (json!({"fault_methods": ["P O S T"]}), "fault_methods"),
        (
            json!({"fault_path_prefix": "rest/api"}),
            "fault_path_prefix",
        ),
    ] {
        let (status, body) =
            send_json(sim_admin(&sim, Method::PUT, "/settings").json(&patch)).await;
        assert_eq!(status, 400, "{patch} accepted");
        assert!(body["errors"].get(field).is_some(), "{patch}: {body}");
    }
    let (status, body) = send_json(
        sim_admin(&sim, Method::PUT, "/settings")
            .header("content-type", "application/json")
            .body("{\"burst_per_second\": "),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["errorMessages"][0].is_string(), "{body}");
    assert_eq!(sim.sim.state.settings(), jiraflow_sim::Settings::default());
}

#[tokio::test]
async fn the_clock_can_be_set_and_advanced() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(sim_admin(&sim, Method::GET, "/clock")).await;
    assert_eq!(status, 200);
    assert_eq!(body["offsetMs"], 0);
    let host_now = body["nowMs"].as_i64().unwrap_or_default();

    let (status, body) =
        send_json(sim_admin(&sim, Method::POST, "/clock").json(&json!({"offsetMs": 3_600_000})))
            .await;
    assert_eq!(status, 200);
    assert_eq!(body["offsetMs"], 3_600_000);
    let (_, body) = send_json(
        sim_admin(&sim, Method::POST, "/clock").json(&json!({"advanceMs": 31 * 86_400_000i64})),
    )
    .await;
    assert_eq!(body["offsetMs"], 3_600_000 + 31 * 86_400_000i64);
    let now = body["nowMs"].as_i64().unwrap_or_default();
    assert!(now - host_now >= 3_600_000 + 31 * 86_400_000i64);
    assert!(
        body["now"]
            .as_str()
            .is_some_and(|s| s.ends_with("+0000") && s.len() == 28),
        "{body}"
    );

    let (status, _) = send_json(sim_admin(&sim, Method::POST, "/clock").json(&json!({}))).await;
    assert_eq!(status, 400, "neither offsetMs nor advanceMs");
    let (status, _) =
        send_json(sim_admin(&sim, Method::POST, "/clock").json(&json!({"offset": 5}))).await;
    assert_eq!(status, 400, "unknown field");
}

#[tokio::test]
async fn reset_reseeds_the_world_and_keeps_the_admin_token_and_minted_tokens_valid() {
    let sim = TestSim::start().await;
    let demo_issues = issue_count(&sim);
    assert!(demo_issues > 0);
    let (status, minted) = send_json(
        sim_admin(&sim, Method::POST, "/tokens").json(&json!({"accountId": ADMIN_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 201, "{minted}");

    let (status, body) =
        send_json(sim_admin(&sim, Method::POST, "/reset").json(&json!({"seed": "empty"}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["issues"], 0);
    assert_eq!(issue_count(&sim), 0);
    let (status, _) = send_json(sim.admin(Method::GET, "/myself")).await;
    assert_eq!(status, 200, "the ready line's admin token survives a reset");
    let (status, _) = send_json(
        sim.http
            .get(sim.api("/myself"))
            .bearer_auth(minted["accessToken"].as_str().unwrap_or_default()),
    )
    .await;
    assert_eq!(status, 200, "minted tokens survive a reset");

    let (status, body) = send_json(sim_admin(&sim, Method::POST, "/reset")).await;
    assert_eq!(status, 200, "an empty body resets to demo");
    assert_eq!(body["seed"], "demo");
    assert_eq!(issue_count(&sim), demo_issues);
    let (status, _) =
        send_json(sim_admin(&sim, Method::POST, "/reset").json(&json!({"seed": "full"}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_added_user_gets_their_time_zone_and_can_be_given_a_token() {
    let sim = TestSim::start().await;
    let cloud_id = sim.sim.info.cloud_id.clone();
    let (status, user) = send_json(sim_admin(&sim, Method::POST, "/users").json(&json!({
        "displayName": "Lena Late",
        "email": "lena@acme.example",
        "timeZone": "Pacific/Kiritimati",
        "sites": [{"cloudId": cloud_id, "role": "member"}],
    })))
    .await;
    assert_eq!(status, 201, "{user}");
    let account_id = user["accountId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(account_id.len(), 24);
    assert_eq!(user["sites"][0]["role"], "member");

    let (status, token) = send_json(sim_admin(&sim, Method::POST, "/tokens").json(&json!({
        "accountId": account_id,
        "scopes": ["read:jira-user"],
        "ttlSecs": 60,
    })))
    .await;
    assert_eq!(status, 201, "{token}");
    assert_eq!(token["expiresIn"], 60);
    assert_eq!(token["cloudIds"], json!([cloud_id]));
    let bearer = token["accessToken"].as_str().unwrap_or_default().to_owned();
    let (status, me) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&bearer)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["accountId"], account_id);
    assert_eq!(me["timeZone"], "Pacific/Kiritimati");
    assert_eq!(me["emailAddress"], "lena@acme.example");

    let (status, patched) = send_json(
        sim_admin(&sim, Method::PATCH, &format!("/users/{account_id}"))
            .json(&json!({"timeZone": "Pacific/Honolulu", "emailVisible": false})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    let (_, me) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&bearer)).await;
    assert_eq!(me["timeZone"], "Pacific/Honolulu");
    assert!(me.get("emailAddress").is_none(), "hidden e-mail: {me}");

    sim.sim.state.clock.advance_ms(61_000);
    let (status, _) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(&bearer)).await;
    assert_eq!(status, 401, "the token's ttl is honoured");
}

#[tokio::test]
async fn adding_a_user_validates_time_zone_duplicates_sites_and_unknown_fields() {
    let sim = TestSim::start().await;
    let cases = [
        (
            json!({"displayName": "X", "timeZone": "Mars/Olympus"}),
            "timeZone",
        ),
        (
            json!({"displayName": "X", "accountId": ADMIN_ACCOUNT}),
            "accountId",
        ),
        (
            json!({"displayName": "X", "email": "ADA@acme.example"}),
            "email",
        ),
        (
            json!({"displayName": "X", "sites": [{"cloudId": "nope"}]}),
            "sites",
        ),
        (json!({"displayName": " "}), "displayName"),
    ];
    for (body, field) in cases {
        let (status, answer) = send_json(sim_admin(&sim, Method::POST, "/users").json(&body)).await;
        assert_eq!(status, 400, "{body}");
        assert!(answer["errors"].get(field).is_some(), "{body}: {answer}");
    }
    let (status, answer) = send_json(
        sim_admin(&sim, Method::POST, "/users").json(&json!({"displayName": "X", "age": 3})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        answer["errorMessages"][0]
            .as_str()
            .is_some_and(|m| m.contains("unknown field `age`")),
        "{answer}"
    );
    let (status, _) =
        send_json(sim_admin(&sim, Method::PATCH, "/users/nobody").json(&json!({"active": false})))
            .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_new_site_is_reachable_with_a_token_that_covers_it_and_not_with_older_ones() {
    let sim = TestSim::start().await;
    let (status, site) = send_json(sim_admin(&sim, Method::POST, "/sites").json(&json!({
        "name": "initech",
        "members": [{"accountId": ADMIN_ACCOUNT, "role": "siteAdmin"}],
    })))
    .await;
    assert_eq!(status, 201, "{site}");
    let cloud_id = site["cloudId"].as_str().unwrap_or_default().to_owned();
    let url = format!(
        "{}/ex/jira/{cloud_id}/rest/api/3/serverInfo",
        sim.sim.info.api_url
    );

    let (status, _) = send_json(sim.http.get(&url).bearer_auth(sim.admin_token())).await;
    assert_eq!(status, 401, "the old grant does not cover the new site");

    let (_, token) = send_json(
        sim_admin(&sim, Method::POST, "/tokens").json(&json!({"accountId": ADMIN_ACCOUNT})),
    )
    .await;
    assert!(
        token["cloudIds"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|c| c == &json!(cloud_id)))
    );
    let bearer = token["accessToken"].as_str().unwrap_or_default();
    let (status, info) = send_json(sim.http.get(&url).bearer_auth(bearer)).await;
    assert_eq!(status, 200, "{info}");
    assert!(
        info["baseUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with("/site/initech"))
    );

    let (status, _) =
        send_json(sim_admin(&sim, Method::POST, "/sites").json(&json!({"name": "initech"}))).await;
    assert_eq!(status, 400, "duplicate name");
    let (status, _) =
        send_json(sim_admin(&sim, Method::POST, "/sites").json(&json!({"name": "Bad Name"}))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn minted_tokens_can_be_limited_to_sites_and_scopes() {
    let sim = TestSim::start().await;
    let (status, token) = send_json(sim_admin(&sim, Method::POST, "/tokens").json(&json!({
        "accountId": ADMIN_ACCOUNT,
        "scopes": ["read:jira-work"],
        "cloudIds": [GLOBEX_CLOUD_ID],
    })))
    .await;
    assert_eq!(status, 201);
    assert_eq!(token["scope"], "read:jira-work");
    let bearer = token["accessToken"].as_str().unwrap_or_default();
    let (status, body) = send_json(sim.http.get(sim.api("/myself")).bearer_auth(bearer)).await;
    assert_eq!(status, 401, "acme is not in the token's sites: {body}");
    let globex = format!(
        "{}/ex/jira/{GLOBEX_CLOUD_ID}/rest/api/3/myself",
        sim.sim.info.api_url
    );
    let (status, body) = send_json(sim.http.get(&globex).bearer_auth(bearer)).await;
    assert_eq!(status, 401, "myself needs read:jira-user");
    assert_eq!(body["message"], "Unauthorized; scope does not match");

    for bad in [
        json!({"accountId": "nobody"}),
        json!({"accountId": ADMIN_ACCOUNT, "clientId": "nope"}),
        json!({"accountId": ADMIN_ACCOUNT, "cloudIds": ["nope"]}),
    ] {
        let (status, _) = send_json(sim_admin(&sim, Method::POST, "/tokens").json(&bad)).await;
        assert_eq!(status, 400, "{bad}");
    }
}

#[tokio::test]
async fn bulk_issues_land_in_a_new_project_with_recent_update_times() {
    let sim = TestSim::start().await;
    let before = issue_count(&sim);
    let (status, body) = send_json(sim_admin(&sim, Method::POST, "/issues/bulk").json(&json!({
        "projectKey": "BULK",
        "count": 500,
        "updatedWithinMs": 600_000,
        "statusIds": ["10000", "10002"],
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["firstKey"], "BULK-1");
    assert_eq!(body["lastKey"], "BULK-500");
    assert_eq!(issue_count(&sim), before + 500);
    let now = sim.sim.state.clock.now_ms();
    {
        let world = sim.sim.state.world.read();
        let jira = &world.sites[&sim.sim.info.cloud_id].jira;
        let last = jira
            .resolve_issue("bulk-500")
            .expect("case-insensitive key");
        let issue = &jira.issues[&last];
        assert!(now - issue.updated < 5_000 && issue.updated <= now);
        assert_eq!(issue.resolution.as_deref(), Some("Done"));
        let first = &jira.issues[&jira.resolve_issue("BULK-1").expect("first")];
        assert!(now - first.updated <= 600_000 && first.updated < issue.updated);
    }
    let (status, body) = send_json(
        sim_admin(&sim, Method::POST, "/issues/bulk")
            .json(&json!({"projectKey": "BULK", "count": 2})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        body["firstKey"], "BULK-501",
        "an existing project continues"
    );

    let (stats_status, stats) = send_json(sim_admin(&sim, Method::GET, "/stats")).await;
    assert_eq!(stats_status, 200);
    assert_eq!(stats["world"]["issues"], json!(before + 502));
    assert!(stats["counters"]["apiRequests"].is_u64());
    assert!(stats["tokens"].is_object(), "{stats}");

    for bad in [
        json!({"projectKey": "bulk", "count": 1}),
        json!({"projectKey": "BULK", "count": 0}),
        json!({"projectKey": "BULK", "count": 1, "statusIds": ["999"]}),
        json!({"projectKey": "BULK", "count": 1, "cloudId": "nope"}),
    ] {
        let (status, _) = send_json(sim_admin(&sim, Method::POST, "/issues/bulk").json(&bad)).await;
        assert_eq!(status, 400, "{bad}");
    }
}

fn state_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("jiraflow-it-{}", uuid_like()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}

#[tokio::test]
async fn the_state_file_keeps_issues_and_tokens_across_a_restart() {
    let path = state_path("state.json");
    let config = || SimConfig {
        state_file: Some(path.clone()),
        ..SimConfig::default()
    };
    let sim = TestSim::start_with(config()).await;
    let (status, _) = send_json(
        sim_admin(&sim, Method::POST, "/issues/bulk")
            .json(&json!({"projectKey": "KEEP", "count": 3})),
    )
    .await;
    assert_eq!(status, 201);
    let token = sim.admin_token().to_owned();
    let issues = issue_count(&sim);
    sim.sim.shutdown().await;
    assert!(path.exists(), "saved on shutdown");

    let again = TestSim::start_with(config()).await;
    assert_eq!(issue_count(&again), issues);
    assert!(
        again.sim.state.world.read().sites[&again.sim.info.cloud_id]
            .jira
            .resolve_issue("KEEP-3")
            .is_some()
    );
    let (status, _) = send_json(again.http.get(again.api("/myself")).bearer_auth(&token)).await;
    assert_eq!(status, 200, "a token from the first run still works");
    again.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[tokio::test]
async fn the_state_file_is_also_saved_periodically_while_running() {
    let path = state_path("periodic.json");
    let sim = TestSim::start_with(SimConfig {
        state_file: Some(path.clone()),
        state_save_interval_secs: 1,
        ..SimConfig::default()
    })
    .await;
    let (status, _) = send_json(
        sim_admin(&sim, Method::POST, "/issues/bulk")
            .json(&json!({"projectKey": "TICK", "count": 1})),
    )
    .await;
    assert_eq!(status, 201);
    let mut saved = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if std::fs::read_to_string(&path).is_ok_and(|t| t.contains("TICK-1")) {
            saved = true;
            break;
        }
    }
    assert!(saved, "the change reached the file without a shutdown");
    sim.sim.shutdown().await;
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_start_naming_line_and_column() {
    let path = state_path("corrupt.json");
    std::fs::write(
        &path,
        "{\"format\": \"jiraflow-sim-state\",\n\"version\": 1,\n\"world\": [}",
    )
    .expect("write");
    let err = jiraflow_sim::start(SimConfig {
        state_file: Some(path.clone()),
        ..SimConfig::default()
    })
    .await
    .err()
    .expect("refuses to start");
    let message = err.to_string();
    assert!(message.contains("corrupt.json"), "{message}");
    assert!(message.contains("line 3 column"), "{message}");
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

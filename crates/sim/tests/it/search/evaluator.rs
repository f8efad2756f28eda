//! The JQL evaluator through `search/jql`: validation messages, every operator and field family,
//! text search, custom fields, issue properties, time zones, relative dates, functions and
//! ORDER BY.

use jiraflow_sim::seed::{
    ACME_CLOUD_ID, ADMIN_ACCOUNT, MEMBER_ACCOUNT, MEMBER_PLUS13_ACCOUNT, adf_paragraph,
};
use jiraflow_sim::world::Comment;
use serde_json::json;

use super::{T_1234, add_issue, error_of, keys, keys_as, project, search};
use crate::support::TestSim;

#[tokio::test]
async fn validation_errors_use_jiras_messages() {
    let sim = TestSim::start().await;
    assert_eq!(
        error_of(&sim, "foo = bar").await,
        ["Field 'foo' does not exist or you do not have permission to view it."]
    );
    assert_eq!(
        error_of(&sim, "project = NOPE").await,
        ["The value 'NOPE' does not exist for the field 'project'."]
    );
    assert_eq!(
        error_of(&sim, "project ~ DEMO").await,
        ["The operator '~' is not supported by the 'project' field."]
    );
    assert_eq!(
        error_of(&sim, "summary = foo").await,
        ["The operator '=' is not supported by the 'summary' field."]
    );
    let both = error_of(&sim, "foo = 1 AND status = Nope").await;
    assert_eq!(both.len(), 2, "{both:?}");
    assert!(
        error_of(&sim, "created > \"yesterday\"").await[0]
            .starts_with("Date value 'yesterday' for field 'created' is invalid.")
    );
    assert_eq!(
        error_of(&sim, "project = DEMO AND assignee = wat()").await,
        ["Unable to find JQL function 'wat()'."]
    );
    assert!(
        error_of(&sim, "project = DEMO AND key in issueHistory()").await[0]
            .contains("issueHistory")
    );
    assert_eq!(
        error_of(&sim, "project = DEMO ORDER BY description").await,
        ["Field 'description' does not support sorting."]
    );
    let (status, body) = search(&sim, json!({ "jql": "project = DEMO status = Done" })).await;
    assert_eq!(status, 400);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .expect("message")
            .contains("(line 1, character 16)"),
        "{body}"
    );
}

#[tokio::test]
async fn history_operators_are_refused_with_their_position() {
    let sim = TestSim::start().await;
    let messages = error_of(&sim, "project = DEMO AND status WAS Done").await;
    assert!(
        messages[0].contains("'WAS'") && messages[0].contains("character 27"),
        "{messages:?}"
    );
    let messages = error_of(&sim, "project = DEMO AND status CHANGED").await;
    assert!(messages[0].contains("CHANGED"), "{messages:?}");
}

#[tokio::test]
async fn operators_on_equality_fields_follow_jira_including_empty_handling() {
    let sim = TestSim::start().await;
    project(&sim, "OPR");
    add_issue(&sim, "OPR", |i| {
        i.assignee = Some(MEMBER_ACCOUNT.to_owned());
        i.labels = vec!["backend".to_owned()];
        i.status_id = "3".to_owned();
    });
    add_issue(&sim, "OPR", |i| {
        i.assignee = Some(ADMIN_ACCOUNT.to_owned());
        i.labels = vec!["Frontend".to_owned(), "ux".to_owned()];
        i.status_id = "10002".to_owned();
        i.resolution = Some("Done".to_owned());
        i.priority_id = Some("1".to_owned());
    });
    add_issue(&sim, "OPR", |i| i.priority_id = Some("5".to_owned()));
    let q = |rest: &str| format!("project = OPR AND {rest} ORDER BY key ASC");
    assert_eq!(
        keys(&sim, &q(&format!("assignee = {MEMBER_ACCOUNT}"))).await,
        ["OPR-1"]
    );
    // != never matches EMPTY, exactly like Jira.
    assert_eq!(
        keys(&sim, &q(&format!("assignee != {MEMBER_ACCOUNT}"))).await,
        ["OPR-2"]
    );
    assert_eq!(
        keys(&sim, &q(&format!("NOT assignee = {MEMBER_ACCOUNT}"))).await,
        ["OPR-2"]
    );
    assert_eq!(keys(&sim, &q("assignee IS EMPTY")).await, ["OPR-3"]);
    assert_eq!(keys(&sim, &q("assignee = NULL")).await, ["OPR-3"]);
    assert_eq!(
        keys(&sim, &q("assignee IS NOT EMPTY")).await,
        ["OPR-1", "OPR-2"]
    );
    assert_eq!(
        keys(&sim, &q(&format!("assignee in (EMPTY, {ADMIN_ACCOUNT})"))).await,
        ["OPR-2", "OPR-3"]
    );
    assert_eq!(keys(&sim, &q("assignee = currentUser()")).await, ["OPR-2"]);
    assert_eq!(
        keys(&sim, &q("assignee in membersOf(developers)")).await,
        ["OPR-1"]
    );
    assert_eq!(keys(&sim, &q("labels = frontend")).await, ["OPR-2"]);
    assert_eq!(keys(&sim, &q("labels not in (ux)")).await, ["OPR-1"]);
    assert_eq!(keys(&sim, &q("labels is empty")).await, ["OPR-3"]);
    assert_eq!(keys(&sim, &q("status = \"In Progress\"")).await, ["OPR-1"]);
    assert_eq!(
        keys(&sim, &q("status in (3, Done)")).await,
        ["OPR-1", "OPR-2"]
    );
    assert_eq!(keys(&sim, &q("statusCategory = Done")).await, ["OPR-2"]);
    assert_eq!(
        keys(&sim, &q("statusCategory != Done")).await,
        ["OPR-1", "OPR-3"]
    );
    assert_eq!(
        keys(&sim, &q("resolution = Unresolved")).await,
        ["OPR-1", "OPR-3"]
    );
    assert_eq!(keys(&sim, &q("resolution = Done")).await, ["OPR-2"]);
    assert_eq!(keys(&sim, &q("priority > Medium")).await, ["OPR-2"]);
    assert_eq!(
        keys(&sim, &q("priority <= Medium")).await,
        ["OPR-1", "OPR-3"]
    );
    assert_eq!(
        keys(&sim, &q("issuetype = Task")).await,
        ["OPR-1", "OPR-2", "OPR-3"]
    );
    assert_eq!(
        keys(&sim, &q("type in standardIssueTypes()")).await.len(),
        3
    );
    assert_eq!(
        keys(&sim, &q("key in (OPR-1, OPR-3)")).await,
        ["OPR-1", "OPR-3"]
    );
    assert_eq!(keys(&sim, &q("key > OPR-1")).await, ["OPR-2", "OPR-3"]);
    // NOT pushes down into the clause: `NOT labels = ux` is `labels != ux`, which skips EMPTY.
    assert!(
        keys(
            &sim,
            &q("(status = Done OR priority = Lowest) AND NOT labels = ux")
        )
        .await
        .is_empty()
    );
    assert_eq!(
        keys(
            &sim,
            &q("(status = Done OR priority = Lowest) AND (NOT labels = ux OR labels is EMPTY)")
        )
        .await,
        ["OPR-3"]
    );
    let (_, body) = search(&sim, json!({ "jql": "key = OPR-99" })).await;
    assert_eq!(
        body["errorMessages"],
        json!(["An issue with key 'OPR-99' does not exist for field 'key'."])
    );
}

#[tokio::test]
async fn text_search_covers_summary_description_comments_and_text() {
    let sim = TestSim::start().await;
    project(&sim, "TXT");
    add_issue(&sim, "TXT", |i| {
        i.summary = "Login page times out".to_owned();
        i.description = Some(adf_paragraph("The session cookie expires early."));
    });
    add_issue(&sim, "TXT", |i| {
        i.summary = "Export to CSV".to_owned();
        i.comments.push(Comment {
            id: 999_001,
            body: adf_paragraph("Customers report broken exports"),
            author: ADMIN_ACCOUNT.to_owned(),
            update_author: ADMIN_ACCOUNT.to_owned(),
            created: 0,
            updated: 0,
            visibility: None,
        });
    });
    let q = |rest: &str| format!("project = TXT AND {rest} ORDER BY key ASC");
    assert_eq!(keys(&sim, &q("summary ~ login")).await, ["TXT-1"]);
    assert_eq!(
        keys(&sim, &q("summary ~ \"LOGIN timeout\"")).await,
        Vec::<String>::new()
    );
    assert_eq!(keys(&sim, &q("summary ~ \"page login\"")).await, ["TXT-1"]);
    assert_eq!(keys(&sim, &q("summary !~ login")).await, ["TXT-2"]);
    assert_eq!(keys(&sim, &q("description ~ cookie")).await, ["TXT-1"]);
    assert_eq!(keys(&sim, &q("description is empty")).await, ["TXT-2"]);
    assert_eq!(keys(&sim, &q("comment ~ customer")).await, ["TXT-2"]);
    assert_eq!(keys(&sim, &q("text ~ \"export*\"")).await, ["TXT-2"]);
    assert_eq!(keys(&sim, &q("text ~ \"session\"")).await, ["TXT-1"]);
}

#[tokio::test]
async fn custom_fields_are_searchable_by_kind() {
    let sim = TestSim::start().await;
    project(&sim, "CUS");
    add_issue(&sim, "CUS", |i| {
        i.custom_fields
            .insert("customfield_10016".to_owned(), json!(3.0));
        i.custom_fields.insert(
            "customfield_10020".to_owned(),
            json!({"value": "Platform", "id": "10100"}),
        );
        i.custom_fields
            .insert("customfield_10040".to_owned(), json!("ext-ref alpha"));
    });
    add_issue(&sim, "CUS", |i| {
        i.custom_fields
            .insert("customfield_10016".to_owned(), json!(8.0));
        i.custom_fields.insert(
            "customfield_10020".to_owned(),
            json!({"value": "Mobile", "id": "10102"}),
        );
    });
    let q = |rest: &str| format!("project = CUS AND {rest} ORDER BY key ASC");
    assert_eq!(keys(&sim, &q("cf[10016] > 5")).await, ["CUS-2"]);
    assert_eq!(keys(&sim, &q("\"Story Points\" <= 3")).await, ["CUS-1"]);
    assert_eq!(keys(&sim, &q("customfield_10016 = 8")).await, ["CUS-2"]);
    assert_eq!(keys(&sim, &q("Team = Platform")).await, ["CUS-1"]);
    assert_eq!(keys(&sim, &q("cf[10020] in (10102)")).await, ["CUS-2"]);
    assert_eq!(
        keys(&sim, &q("\"External Reference\" ~ alpha")).await,
        ["CUS-1"]
    );
    assert_eq!(
        keys(&sim, &q("\"External Reference\" is empty")).await,
        ["CUS-2"]
    );
    assert_eq!(
        keys(&sim, "project = CUS ORDER BY cf[10016] DESC").await,
        ["CUS-2", "CUS-1"]
    );
    assert_eq!(
        error_of(&sim, "project = CUS AND Team = Nope").await,
        ["The option 'Nope' for field 'Team' does not exist."]
    );
}

#[tokio::test]
async fn issue_properties_are_not_searchable_for_oauth_apps() {
    let sim = TestSim::start().await;
    project(&sim, "PRP");
    add_issue(&sim, "PRP", |i| {
        i.properties
            .insert("sync".to_owned(), json!({ "externalId": "abc" }));
    });
    assert!(
        keys(
            &sim,
            "project = PRP AND issue.property[sync].externalId = abc"
        )
        .await
        .is_empty()
    );
    assert!(
        keys(
            &sim,
            "project = PRP AND issue.property[sync].externalId != abc"
        )
        .await
        .is_empty()
    );
    assert_eq!(
        keys(
            &sim,
            "project = PRP AND issue.property[sync].externalId is EMPTY"
        )
        .await,
        ["PRP-1"]
    );
}

#[tokio::test]
async fn absolute_dates_are_read_in_the_callers_time_zone_to_the_minute() {
    let sim = TestSim::start().await;
    project(&sim, "TZ");
    add_issue(&sim, "TZ", |i| {
        i.created = T_1234 - 3_600_000;
        i.updated = T_1234 + 30_500; // 12:34:30.500Z
    });
    let bob = sim.token_for(MEMBER_ACCOUNT, &["read:jira-work"]);
    let kiri = sim.token_for(MEMBER_PLUS13_ACCOUNT, &["read:jira-work"]);
    let admin = sim.admin_token().to_owned();
    for (token, minute, next) in [
        (&admin, "2026/01/17 12:34", "2026-01-17 12:35"),
        (&bob, "2026/01/17 02:34", "2026-01-17 02:35"),
        (&kiri, "2026/01/18 01:34", "2026-01-18 01:35"),
    ] {
        assert_eq!(
            keys_as(
                &sim,
                token,
                &format!("project = TZ AND updated >= \"{minute}\"")
            )
            .await,
            ["TZ-1"]
        );
        assert_eq!(
            keys_as(
                &sim,
                token,
                &format!("project = TZ AND updated > \"{minute}\"")
            )
            .await,
            ["TZ-1"]
        );
        assert_eq!(
            keys_as(
                &sim,
                token,
                &format!("project = TZ AND updated = \"{minute}\"")
            )
            .await,
            ["TZ-1"]
        );
        assert!(
            keys_as(
                &sim,
                token,
                &format!("project = TZ AND updated <= \"{minute}\"")
            )
            .await
            .is_empty()
        );
        assert!(
            keys_as(
                &sim,
                token,
                &format!("project = TZ AND updated >= \"{next}\"")
            )
            .await
            .is_empty()
        );
    }
    // The same literal is a different instant for each caller.
    assert_eq!(
        keys_as(&sim, &kiri, "project = TZ AND updated < \"2026/01/18\"").await,
        Vec::<String>::new()
    );
    assert_eq!(
        keys_as(&sim, &bob, "project = TZ AND updated < \"2026/01/18\"").await,
        ["TZ-1"]
    );
    assert_eq!(
        keys(
            &sim,
            &format!("project = TZ AND updated >= {}", T_1234 + 30_000)
        )
        .await,
        ["TZ-1"]
    );
}

#[tokio::test]
async fn relative_dates_and_functions_follow_the_simulated_clock() {
    let sim = TestSim::start().await;
    project(&sim, "REL");
    let now = sim.sim.state.clock.now_ms();
    add_issue(&sim, "REL", |i| {
        i.created = now - 3 * 86_400_000;
        i.updated = now - 20 * 60_000;
        i.duedate = Some("2030-01-01".to_owned());
    });
    assert_eq!(
        keys(&sim, "project = REL AND updated >= -30m").await,
        ["REL-1"]
    );
    assert!(
        keys(&sim, "project = REL AND updated >= -15m")
            .await
            .is_empty()
    );
    assert_eq!(
        keys(
            &sim,
            "project = REL AND updated > \"-1h\" AND created <= -2d"
        )
        .await,
        ["REL-1"]
    );
    assert_eq!(
        keys(&sim, "project = REL AND created >= \"-1w 2d\"").await,
        ["REL-1"]
    );
    assert_eq!(
        keys(&sim, "project = REL AND updated <= now()").await,
        ["REL-1"]
    );
    assert_eq!(
        keys(&sim, "project = REL AND created < startOfDay()").await,
        ["REL-1"]
    );
    assert_eq!(
        keys(&sim, "project = REL AND created >= startOfDay(-4d)").await,
        ["REL-1"]
    );
    assert_eq!(
        keys(&sim, "project = REL AND duedate > endOfYear()").await,
        ["REL-1"]
    );
    assert_eq!(
        keys(&sim, "project = REL AND duedate = \"2030-01-01\"").await,
        ["REL-1"]
    );
    // Skew the simulator's clock: the relative window moves with it.
    sim.sim.state.clock.advance_ms(3_600_000);
    assert!(
        keys(&sim, "project = REL AND updated >= -30m")
            .await
            .is_empty()
    );
    assert_eq!(
        keys(&sim, "project = REL AND updated >= -90m").await,
        ["REL-1"]
    );
}

#[tokio::test]
async fn order_by_several_keys_sorts_like_jira() {
    let sim = TestSim::start().await;
    project(&sim, "ORD");
    let now = sim.sim.state.clock.now_ms();
    add_issue(&sim, "ORD", |i| {
        i.priority_id = Some("4".to_owned());
        i.updated = now - 1000;
        i.duedate = Some("2030-01-02".to_owned());
    });
    add_issue(&sim, "ORD", |i| {
        i.priority_id = Some("1".to_owned());
        i.updated = now - 3000;
    });
    add_issue(&sim, "ORD", |i| {
        i.priority_id = Some("4".to_owned());
        i.updated = now - 2000;
        i.duedate = Some("2030-01-01".to_owned());
    });
    assert_eq!(
        keys(&sim, "project = ORD ORDER BY priority DESC, updated ASC").await,
        ["ORD-2", "ORD-3", "ORD-1"]
    );
    assert_eq!(
        keys(&sim, "project = ORD ORDER BY updated DESC").await,
        ["ORD-1", "ORD-3", "ORD-2"]
    );
    assert_eq!(
        keys(&sim, "project = ORD ORDER BY duedate ASC").await,
        ["ORD-3", "ORD-1", "ORD-2"]
    );
    assert_eq!(
        keys(&sim, "project = ORD ORDER BY key DESC").await,
        ["ORD-3", "ORD-2", "ORD-1"]
    );
    // Without ORDER BY: newest first.
    assert_eq!(keys(&sim, "project = ORD").await.len(), 3);
}

#[tokio::test]
async fn watchers_are_searchable_and_reindexed_without_an_event() {
    let sim = TestSim::start().await;
    project(&sim, "WAT");
    let (id, _) = add_issue(&sim, "WAT", |i| {
        i.watchers.insert(MEMBER_ACCOUNT.to_owned());
    });
    assert_eq!(
        keys(
            &sim,
            &format!("project = WAT AND watcher = {MEMBER_ACCOUNT}")
        )
        .await,
        ["WAT-1"]
    );
    assert!(
        keys(&sim, "project = WAT AND watcher = currentUser()")
            .await
            .is_empty()
    );
    {
        let state = &sim.sim.state;
        let mut world = state.world.write();
        let site = world.site_mut(ACME_CLOUD_ID).expect("site");
        let issue = site.jira.issues.get_mut(&id).expect("issue");
        issue.watchers.insert(ADMIN_ACCOUNT.to_owned());
        let copy = issue.clone();
        jiraflow_sim::search::reindex(state, ACME_CLOUD_ID, &copy);
    }
    assert_eq!(
        keys(&sim, "project = WAT AND watcher = currentUser()").await,
        ["WAT-1"]
    );
}

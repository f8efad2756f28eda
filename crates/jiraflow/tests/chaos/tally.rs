//! The tally: what should have fired (read from the simulated world once the writes are over and
//! search has caught up: the world, not the writers' logs, holds every write, including ones
//! repeated after a lost response), what did (the runs table of the worker's store, read
//! directly), and per flow the events expected, delivered, missed and duplicated.
//!
//! Event identity comes from each run's trigger payload, falling back to its dedupe key, so a
//! duplicate is caught even when two runs of one event carry different keys.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::sqlite::SqliteConnectOptions;

use crate::env::{Env, PROJECT};

/// The four flows, by trigger type (the flow is named after its type).
pub const FLOWS: [&str; 4] = [
    "new_issue",
    "new_comment",
    "new_or_updated_issue",
    "new_or_updated_issue_with_filter",
];

/// The label the filtered flow's JQL selects.
pub const HOT: &str = "hot";

/// One issue as the world holds it after the writes.
#[derive(Debug, Clone)]
pub struct IssueTruth {
    pub id: String,
    pub updated_ms: i64,
    pub hot: bool,
    pub comments: Vec<String>,
}

/// One run of the worker's store.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub flow: String,
    pub dedupe_key: Option<String>,
    pub status: String,
    pub trigger: Value,
}

/// One flow's line of the report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowTally {
    pub flow: String,
    pub expected: usize,
    pub delivered: usize,
    pub missed: usize,
    pub duplicated: usize,
    /// Runs of events outside the writers' project or of unknown identity.
    pub unexpected: usize,
    /// A few of the missed events, to start an investigation from.
    pub missed_sample: Vec<String>,
    pub duplicated_sample: Vec<String>,
}

/// Reads every issue of the writers' project with its comments, as Ada, paging through search
/// (only call it once search has applied every change: `search.pendingChanges` is 0).
pub async fn read_world(env: &Env) -> Vec<IssueTruth> {
    let token = env.sim.field("admin_token");
    let mut issues = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut body = json!({
            "jql": format!("project = {PROJECT} ORDER BY created ASC"),
            "fields": ["updated", "labels"],
            "maxResults": 100,
        });
        if let Some(token) = &next {
            body["nextPageToken"] = json!(token);
        }
        let page: Value = env
            .http
            .post(env.jira_url("/rest/api/3/search/jql"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("search the world")
            .json()
            .await
            .expect("search JSON");
        for issue in page["issues"].as_array().expect("issues") {
            let id = issue["id"].as_str().expect("issue id").to_owned();
            let fields = &issue["fields"];
            let updated = fields["updated"].as_str().expect("updated");
            let hot = fields["labels"]
                .as_array()
                .is_some_and(|l| l.iter().any(|v| v == HOT));
            let comments = read_comments(env, &token, &id).await;
            issues.push(IssueTruth {
                updated_ms: jira_ms(updated).expect("Jira timestamp"),
                id,
                hot,
                comments,
            });
        }
        match page["nextPageToken"].as_str() {
            Some(token) if page["isLast"] != json!(true) => next = Some(token.to_owned()),
            _ => break,
        }
    }
    issues
}

async fn read_comments(env: &Env, token: &str, issue: &str) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let url = env.jira_url(&format!(
            "/rest/api/3/issue/{issue}/comment?startAt={}&maxResults=100",
            ids.len()
        ));
        let page: Value = env
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("read comments")
            .json()
            .await
            .expect("comments JSON");
        let batch = page["comments"].as_array().expect("comments");
        ids.extend(
            batch
                .iter()
                .map(|c| c["id"].as_str().expect("comment id").to_owned()),
        );
        let total = page["total"].as_u64().unwrap_or(0) as usize;
        if batch.is_empty() || ids.len() >= total {
            return ids;
        }
    }
}

/// Every trigger run in the store at `db`, read through a read-only connection while the worker
/// may be writing (WAL lets readers and one writer work at once).
pub async fn read_runs(db: &Path) -> Vec<RunRow> {
    let options = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    let mut conn = sqlx::ConnectOptions::connect(&options)
        .await
        .expect("open the store read-only");
    let rows = sqlx::query(
        "SELECT flow_name, dedupe_key, status, trigger FROM runs WHERE origin = 'trigger'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("read runs");
    rows.into_iter()
        .map(|row| RunRow {
            flow: row.get("flow_name"),
            dedupe_key: row.get("dedupe_key"),
            status: row.get("status"),
            trigger: serde_json::from_str(row.get::<&str, _>("trigger")).unwrap_or(Value::Null),
        })
        .collect()
}

/// `2026-01-17T12:34:00.000+0000` (Jira) or RFC 3339 to epoch ms.
pub fn jira_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.timestamp_millis())
}

fn key_parts(run: &RunRow) -> Vec<&str> {
    run.dedupe_key
        .as_deref()
        .map(|k| k.split(':').collect())
        .unwrap_or_default()
}

/// The issue a run is about: the payload's `issue.id`, else the dedupe key's.
fn issue_of(run: &RunRow) -> Option<String> {
    if let Some(id) = run.trigger["issue"]["id"].as_str() {
        return Some(id.to_owned());
    }
    match key_parts(run).as_slice() {
        ["issue", id, ..] => Some((*id).to_owned()),
        _ => None,
    }
}

/// The comment a run is about: the payload's `comment.id`, else the dedupe key's.
fn comment_of(run: &RunRow) -> Option<String> {
    if let Some(id) = run.trigger["comment"]["id"].as_str() {
        return Some(id.to_owned());
    }
    match key_parts(run).as_slice() {
        ["comment", id, ..] => Some((*id).to_owned()),
        _ => None,
    }
}

/// The issue version a run is about: (issue id, `updated` ms) from the payload, else the key.
fn version_of(run: &RunRow) -> Option<(String, i64)> {
    let id = issue_of(run)?;
    if let Some(ms) = run.trigger["issue"]["fields"]["updated"]
        .as_str()
        .and_then(jira_ms)
    {
        return Some((id, ms));
    }
    match key_parts(run).as_slice() {
        ["issue", _, ms] => ms.parse().ok().map(|ms| (id, ms)),
        _ => None,
    }
}

/// Counts one flow: `expected` events against the identities of its runs.
fn count<K: Ord + Clone + std::fmt::Debug>(
    flow: &str,
    expected: &BTreeSet<K>,
    runs: &[&RunRow],
    identify: impl Fn(&RunRow) -> Option<K>,
    known: impl Fn(&K) -> bool,
) -> FlowTally {
    // Each event with the dedupe keys of its runs (a duplicate's keys say how it slipped in).
    let mut seen: BTreeMap<K, Vec<String>> = BTreeMap::new();
    let mut unexpected = 0;
    for run in runs {
        match identify(run) {
            Some(event) if known(&event) => seen
                .entry(event)
                .or_default()
                .push(run.dedupe_key.clone().unwrap_or_default()),
            _ => unexpected += 1,
        }
    }
    let missed: Vec<&K> = expected.iter().filter(|e| !seen.contains_key(e)).collect();
    let duplicated: Vec<String> = seen
        .iter()
        .filter(|(_, keys)| keys.len() > 1)
        .map(|(event, keys)| format!("{event:?} as {keys:?}"))
        .collect();
    FlowTally {
        flow: flow.to_owned(),
        expected: expected.len(),
        delivered: runs.len(),
        missed: missed.len(),
        duplicated: duplicated.len(),
        unexpected,
        missed_sample: missed.iter().take(5).map(|e| format!("{e:?}")).collect(),
        duplicated_sample: duplicated.into_iter().take(5).collect(),
    }
}

/// The four flows' lines.
///
/// - `new_issue`: every issue exactly once;
/// - `new_comment`: every comment exactly once;
/// - `new_or_updated_issue`: every issue's final version at least once, no version twice;
/// - `..._with_filter`: the same for the issues whose final version carries the `hot` label.
pub fn tally(world: &[IssueTruth], runs: &[RunRow]) -> Vec<FlowTally> {
    let of_flow = |flow: &str| -> Vec<&RunRow> {
        runs.iter()
            .filter(|r| r.flow.eq_ignore_ascii_case(flow))
            .collect()
    };
    let issue_ids: BTreeSet<String> = world.iter().map(|i| i.id.clone()).collect();
    let comment_ids: BTreeSet<String> = world
        .iter()
        .flat_map(|i| i.comments.iter().cloned())
        .collect();
    let finals: BTreeSet<(String, i64)> =
        world.iter().map(|i| (i.id.clone(), i.updated_ms)).collect();
    let hot_finals: BTreeSet<(String, i64)> = world
        .iter()
        .filter(|i| i.hot)
        .map(|i| (i.id.clone(), i.updated_ms))
        .collect();
    let in_world = |v: &(String, i64)| issue_ids.contains(&v.0);
    // Versions other than the final one are legitimate deliveries too (an update seen before
    // the next one): they count as delivered and known, only the final one is required.
    vec![
        count(FLOWS[0], &issue_ids, &of_flow(FLOWS[0]), issue_of, |id| {
            issue_ids.contains(id)
        }),
        count(
            FLOWS[1],
            &comment_ids,
            &of_flow(FLOWS[1]),
            comment_of,
            |id| comment_ids.contains(id),
        ),
        count(FLOWS[2], &finals, &of_flow(FLOWS[2]), version_of, in_world),
        count(
            FLOWS[3],
            &hot_finals,
            &of_flow(FLOWS[3]),
            version_of,
            in_world,
        ),
    ]
}

/// Runs not in a final status.
pub fn unfinished(runs: &[RunRow]) -> usize {
    runs.iter()
        .filter(|r| r.status == "pending" || r.status == "running")
        .count()
}

/// Runs that failed (finished, but a step gave up).
pub fn failed(runs: &[RunRow]) -> usize {
    runs.iter().filter(|r| r.status == "failed").count()
}

/// Whether every flow has delivered everything expected.
pub fn complete(lines: &[FlowTally]) -> bool {
    lines.iter().all(|l| l.missed == 0)
}

/// The report table.
pub fn table(lines: &[FlowTally], kills: usize, faults: u64, elapsed_secs: f64) -> String {
    let mut out = format!(
        "{:<34} {:>8} {:>9} {:>6} {:>10} {:>10} {:>5} {:>6} {:>8}\n",
        "flow",
        "expected",
        "delivered",
        "missed",
        "duplicated",
        "unexpected",
        "kills",
        "faults",
        "elapsed"
    );
    for l in lines {
        out.push_str(&format!(
            "{:<34} {:>8} {:>9} {:>6} {:>10} {:>10} {:>5} {:>6} {:>7.1}s\n",
            l.flow,
            l.expected,
            l.delivered,
            l.missed,
            l.duplicated,
            l.unexpected,
            kills,
            faults,
            elapsed_secs
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(flow: &str, key: &str, trigger: Value) -> RunRow {
        RunRow {
            flow: flow.to_owned(),
            dedupe_key: Some(key.to_owned()),
            status: "succeeded".to_owned(),
            trigger,
        }
    }

    #[test]
    fn a_version_delivered_under_two_keys_counts_as_duplicated_and_a_missing_final_as_missed() {
        let world = vec![
            IssueTruth {
                id: "1".into(),
                updated_ms: 2_000,
                hot: false,
                comments: vec!["9".into()],
            },
            IssueTruth {
                id: "2".into(),
                updated_ms: 5_000,
                hot: true,
                comments: vec![],
            },
        ];
        let at_2000 = json!({ "issue": { "id": "1", "fields": { "updated": "1970-01-01T00:00:02.000+0000" } } });
        let runs = vec![
            run("new_issue", "issue:1:created", json!({})),
            run("new_comment", "comment:9", json!({})),
            run("new_or_updated_issue", "issue:1:created", at_2000.clone()),
            run("new_or_updated_issue", "issue:1:2000", at_2000),
            run("new_or_updated_issue", "issue:2:4000", json!({})),
        ];
        let lines = tally(&world, &runs);
        assert_eq!((lines[0].expected, lines[0].missed), (2, 1));
        assert_eq!((lines[1].missed, lines[1].duplicated), (0, 0));
        assert_eq!(lines[2].duplicated, 1, "{lines:?}");
        assert_eq!(
            lines[2].missed, 1,
            "issue 2's final version 5000 was never delivered"
        );
        assert_eq!((lines[3].expected, lines[3].missed), (1, 1));
    }
}

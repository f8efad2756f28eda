//! Turning what a poll read into events: each issue classified as created or updated (with its
//! changes), each comment as created, the trigger's filters applied, and the run payload and
//! dedupe key (`issue:<id>:created` for the new-issue types, `issue:<id>:<updated ms>` for every
//! event of the update types, `comment:<id>`) built the same
//! way for polls, replays and webhooks.

use jiraflow_jira::ops::changelog::ChangeHistory;
use jiraflow_jira::wire::comment::Comment;
use jiraflow_jira::wire::issue::IssueBean;
use jiraflow_store::TriggerEvent;
use serde_json::{Map, Value, json};

use super::changes::{self, Actor, Change, Verdict, history_ms};
use super::window::rfc3339;
use crate::flow::TriggerKind;

/// Updates within this many ms of the creation still count as the creation (Jira stamps
/// `created` and `updated` separately, a few ms apart).
const SAME_INSTANT_MS: i64 = 1_000;

/// An issue as a poll read it.
#[derive(Debug, Clone)]
pub struct IssueCandidate {
    /// Issue id.
    pub id: String,
    /// The id as a number, for a stable order among equal times.
    pub order: i64,
    /// `created`, epoch ms.
    pub created_ms: Option<i64>,
    /// `updated`, epoch ms.
    pub updated_ms: Option<i64>,
    /// Creator (or reporter when the creator is hidden).
    pub creator: Option<Actor>,
    /// The issue as REST v3 returned it.
    pub json: Value,
}

impl IssueCandidate {
    /// From a search or get result; `None` without an id.
    pub fn from_bean(bean: &IssueBean) -> Option<Self> {
        let id = bean.id.as_ref()?.as_str().to_owned();
        let creator = Actor::from_user(bean.fields.creator.as_ref())
            .or_else(|| Actor::from_user(bean.fields.reporter.as_ref()));
        let mut json = serde_json::to_value(bean).ok()?;
        if let Value::Object(map) = &mut json {
            // Expansions that were not asked for serialize as null; Jira leaves them out.
            map.retain(|_, v| !v.is_null());
        }
        Some(Self {
            order: id.parse().unwrap_or(i64::MAX),
            created_ms: bean.fields.created.map(|t| t.timestamp_millis()),
            updated_ms: bean.fields.updated.map(|t| t.timestamp_millis()),
            creator,
            json,
            id,
        })
    }

    /// Who wrote or edited the embedded comment stamped `at_ms` (a comment bumps `updated`
    /// without leaving a history), when the search returned comments.
    fn comment_author_at(&self, at_ms: i64) -> Option<Actor> {
        let list = self.json["fields"]["comment"]["comments"].as_array()?;
        list.iter().rev().find_map(|c| {
            let stamp = c["updated"]
                .as_str()
                .and_then(jiraflow_jira::time::parse)?
                .timestamp_millis();
            if (stamp - at_ms).abs() > SAME_INSTANT_MS {
                return None;
            }
            let who = c.get("updateAuthor").or_else(|| c.get("author"))?;
            Some(Actor {
                account_id: who["accountId"].as_str()?.to_owned(),
                display_name: who["displayName"].as_str().map(str::to_owned),
            })
        })
    }
}

/// A comment as a poll read it, with its issue.
#[derive(Debug, Clone)]
pub struct CommentCandidate {
    /// The comment's issue.
    pub issue: IssueCandidate,
    /// The comment id.
    pub id: String,
    /// The id as a number, for a stable order among equal times.
    pub order: i64,
    /// `created`, epoch ms.
    pub created_ms: i64,
    /// Author.
    pub author: Option<Actor>,
    /// The comment as REST v3 returned it.
    pub json: Value,
}

impl CommentCandidate {
    /// From a listed comment; `None` without a creation time.
    pub fn new(issue: IssueCandidate, comment: &Comment) -> Option<Self> {
        let id = comment.id.as_str().to_owned();
        let mut json = serde_json::to_value(comment).ok()?;
        if let Value::Object(map) = &mut json {
            map.retain(|_, v| !v.is_null());
        }
        Some(Self {
            issue,
            order: id.parse().unwrap_or(i64::MAX),
            created_ms: comment.created?.timestamp_millis(),
            author: Actor::from_user(comment.author.as_ref()),
            json,
            id,
        })
    }
}

/// What a trigger keeps, from its options.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The trigger type.
    pub kind: TriggerKind,
    /// The connection's account, when own changes are skipped.
    pub own: Option<&'a str>,
    /// For update types: only updates of these fields fire.
    pub fields: Option<&'a [String]>,
}

/// One candidate judged: its time on the trigger's time field, an order among equal times, and
/// its event (`None` when the trigger's filters skip it).
#[derive(Debug, Clone)]
pub struct Built {
    /// Epoch ms on the trigger's time field (`created` or `updated`).
    pub time_ms: i64,
    /// Tie-break among equal times (the numeric id).
    pub order: i64,
    /// The event, or `None` when filtered.
    pub event: Option<TriggerEvent>,
}

/// The run payload (documented in docs/triggers.md).
fn payload(
    event: &str,
    issue: &Value,
    comment: Option<&Value>,
    changes: &[Change],
    at_ms: i64,
    by: Option<&Actor>,
) -> Value {
    let mut map = Map::new();
    map.insert("event".into(), json!(event));
    map.insert("issue".into(), issue.clone());
    if let Some(comment) = comment {
        map.insert("comment".into(), comment.clone());
    }
    map.insert(
        "changes".into(),
        serde_json::to_value(changes).unwrap_or_else(|_| json!([])),
    );
    map.insert("at".into(), json!(rfc3339(at_ms)));
    map.insert("by".into(), Actor::to_json(by));
    Value::Object(map)
}

/// Whether the issue is new: `created == updated` (within a second) and no history after the
/// creation.
fn is_new(issue: &IssueCandidate, histories: &[ChangeHistory]) -> bool {
    match (issue.created_ms, issue.updated_ms) {
        (Some(c), Some(u)) => {
            (u - c).abs() <= SAME_INSTANT_MS && !histories.iter().any(|h| history_ms(h) > c)
        }
        _ => false,
    }
}

fn created_event(
    issue: &IssueCandidate,
    dedupe_key: String,
    at_ms: i64,
    rules: Rules<'_>,
) -> Option<TriggerEvent> {
    let own = rules
        .own
        .is_some_and(|o| issue.creator.as_ref().is_some_and(|c| c.account_id == o));
    (!own).then(|| TriggerEvent {
        dedupe_key,
        payload: payload(
            "issue_created",
            &issue.json,
            None,
            &[],
            at_ms,
            issue.creator.as_ref(),
        ),
    })
}

/// Judges an issue for an issue trigger. `histories` are the issue's (for update types);
/// `after_ms` is the previous update already reported (changes after it belong to this one).
/// `None` when the issue lacks the trigger's time field.
pub fn build_issue(
    issue: &IssueCandidate,
    histories: &[ChangeHistory],
    after_ms: i64,
    rules: Rules<'_>,
) -> Option<Built> {
    if !rules.kind.fires_on_update() {
        let created = issue.created_ms?;
        return Some(Built {
            time_ms: created,
            order: issue.order,
            event: created_event(issue, format!("issue:{}:created", issue.id), created, rules),
        });
    }
    let updated = issue.updated_ms?;
    let mut built = Built {
        time_ms: updated,
        order: issue.order,
        event: None,
    };
    // Update types key every event by the issue version (`updated`), new or not: whether a
    // version looks new can differ between reads (a search index that lags behind the
    // changelog), and one version must start one run.
    let version_key = format!("issue:{}:{updated}", issue.id);
    if is_new(issue, histories) {
        built.event = created_event(
            issue,
            version_key,
            issue.created_ms.unwrap_or(updated),
            rules,
        );
        return Some(built);
    }
    let picked = changes::in_range(histories, after_ms, updated);
    let fallback = issue.comment_author_at(updated);
    if let Verdict::Fire { changes, by } =
        changes::judge(&picked, rules.own, rules.fields, fallback)
    {
        built.event = Some(TriggerEvent {
            dedupe_key: version_key,
            payload: payload(
                "issue_updated",
                &issue.json,
                None,
                &changes,
                updated,
                by.as_ref(),
            ),
        });
    }
    Some(built)
}

/// Judges a comment for the new-comment trigger.
pub fn build_comment(comment: &CommentCandidate, rules: Rules<'_>) -> Built {
    let own = rules
        .own
        .is_some_and(|o| comment.author.as_ref().is_some_and(|a| a.account_id == o));
    Built {
        time_ms: comment.created_ms,
        order: comment.order,
        event: (!own).then(|| TriggerEvent {
            dedupe_key: format!("comment:{}", comment.id),
            payload: payload(
                "comment_created",
                &comment.issue.json,
                Some(&comment.json),
                &[],
                comment.created_ms,
                comment.author.as_ref(),
            ),
        }),
    }
}

/// Sorts judged candidates the way the cursor walks: by time, then id.
pub fn sort(built: &mut [Built]) {
    built.sort_by_key(|b| (b.time_ms, b.order));
}

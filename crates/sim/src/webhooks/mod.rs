//! Dynamic webhooks: registration endpoints (`/rest/api/3/webhook*`), JQL-subset filters, signed
//! deliveries (HS256 JWT with the app's client secret) and retries. See
//! `docs/simulator-webhooks.md`.
//!
//! [`on_event`] runs under the world's write lock for every issue event: it picks the site's
//! webhooks that are not expired, listen to the event, pass their field or property-key filter
//! and whose JQL filter matches the issue (deleted issues are matched as they were before the
//! deletion), and queues one delivery per app carrying every matched webhook id in
//! `matchedWebhookIds`. The sender ([`spawn_sender`]) posts them.
//!
//! Private apps: Jira delivers webhooks of a non-public OAuth app only when the registering user
//! is the app's owner. Every simulated app with an `owner` counts as private, so webhooks
//! registered by anyone else are accepted but never delivered; apps without an owner behave as
//! distributed apps. The registering user must also be able to browse the issue.

mod api;
pub mod filter;
pub mod payload;
mod sender;

use std::collections::BTreeMap;

use axum::Router;
use serde_json::json;

use crate::events::{IssueEvent, IssueEventKind};
use crate::rest::access::Viewer;
use crate::state::SimState;
use crate::world::{Webhook, WebhookDelivery, World};

pub use sender::{JWT_TTL_SECS, jwt};

/// Events a dynamic webhook may list (the spec's enum). Sprint and version events are accepted
/// but never fire in the simulator, which has neither.
pub const EVENTS: &[&str] = &[
    "jira:issue_created",
    "jira:issue_updated",
    "jira:issue_deleted",
    "comment_created",
    "comment_updated",
    "comment_deleted",
    "issue_property_set",
    "issue_property_deleted",
    "sprint_created",
    "sprint_updated",
    "sprint_closed",
    "sprint_deleted",
    "sprint_started",
    "jira:version_released",
    "jira:version_unreleased",
    "jira:version_created",
    "jira:version_moved",
    "jira:version_updated",
    "jira:version_merged",
    "jira:version_deleted",
];

/// Active (unexpired) webhooks one user of one app may hold on one site. Atlassian does not
/// publish the number; third parties report about 5 for OAuth 2.0 apps, and the stricter value
/// keeps clients honest (put several events into one webhook).
pub const MAX_WEBHOOKS_PER_APP_USER: usize = 5;

/// Whether `webhook` wants `event` by its event list and its field / property-key filters.
fn wants(webhook: &Webhook, event: &IssueEvent) -> bool {
    if !webhook
        .events
        .iter()
        .any(|e| e == event.webhook_event_name())
    {
        return false;
    }
    match &event.kind {
        IssueEventKind::Updated { changelog } if !webhook.field_ids_filter.is_empty() => {
            changelog.items.iter().any(|item| {
                webhook.field_ids_filter.iter().any(|f| {
                    f.eq_ignore_ascii_case(&item.field_id) || f.eq_ignore_ascii_case(&item.field)
                })
            })
        }
        IssueEventKind::PropertySet { key } | IssueEventKind::PropertyDeleted { key }
            if !webhook.issue_property_keys_filter.is_empty() =>
        {
            webhook.issue_property_keys_filter.iter().any(|k| k == key)
        }
        _ => true,
    }
}

/// Queues deliveries for every webhook that matches `event`.
pub fn on_event(state: &SimState, world: &mut World, event: &IssueEvent) {
    let now = state.clock.now_ms();
    let Some(site) = world.site(&event.cloud_id) else {
        return;
    };
    // client id -> (url, first registrant, matched ids): one delivery per app (one URL per app),
    // rendered as the first matching registrant sees the issue.
    let mut matched: BTreeMap<String, (String, String, Vec<u64>)> = BTreeMap::new();
    for webhook in site.jira.webhooks.values() {
        if webhook.expiration <= now || !wants(webhook, event) {
            continue;
        }
        let Some(app) = world.apps.get(&webhook.client_id) else {
            continue;
        };
        if app
            .owner
            .as_ref()
            .is_some_and(|owner| *owner != webhook.registered_by)
        {
            continue;
        }
        let Some(role) = site.role(&webhook.registered_by) else {
            continue;
        };
        let viewer = Viewer {
            account_id: &webhook.registered_by,
            role,
        };
        if !viewer.can_see_issue(site, &event.issue) {
            continue;
        }
        let Ok(query) = filter::validate(&webhook.jql_filter) else {
            continue;
        };
        if !filter::matches(&query, world, site, &event.issue) {
            continue;
        }
        matched
            .entry(webhook.client_id.clone())
            .or_insert_with(|| {
                (
                    webhook.url.clone(),
                    webhook.registered_by.clone(),
                    Vec::new(),
                )
            })
            .2
            .push(webhook.id);
    }
    if matched.is_empty() {
        return;
    }
    let mut deliveries = Vec::new();
    for (client_id, (url, registered_by, ids)) in matched {
        let Some(mut body) = payload::body(world, event, &registered_by) else {
            continue;
        };
        if let Some(obj) = body.as_object_mut() {
            obj.insert("matchedWebhookIds".to_owned(), json!(ids));
        }
        deliveries.push(WebhookDelivery {
            identifier: crate::util::uuid(),
            url,
            client_id,
            cloud_id: event.cloud_id.clone(),
            registered_by,
            body,
            attempts: 0,
            next_attempt_at: now,
        });
    }
    if !deliveries.is_empty() {
        world.webhook_queue.extend(deliveries);
        state.webhook_wakeup.notify_one();
    }
}

/// Routes under `/rest/api/3` for webhook registration.
pub fn routes() -> Router<SimState> {
    api::routes()
}

/// Starts the background task that sends queued deliveries.
pub fn spawn_sender(state: &SimState) {
    sender::spawn(state);
}

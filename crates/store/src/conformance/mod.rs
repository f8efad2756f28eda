//! The behaviour suite every store backend must pass, so the PostgreSQL backend can reuse the
//! exact checks the SQLite one runs. Each check takes a fresh, empty store as `Arc<dyn Store>`
//! (the concurrency checks spawn tasks) and fails by panicking through `assert!`, or by returning
//! an unexpected store error. A backend's test binary calls [`run_all`] or each check as its own
//! `#[tokio::test]`; checks needing two handles on one database (like two processes) take both.

mod files;
mod identity;
mod ledger;
mod links;
mod tokens;
mod triggers;
mod workflow;

use std::sync::Arc;

use chrono::{Duration, Utc};

pub use files::{
    bad_file_records_are_rejected_without_leaving_anything,
    expired_and_run_owned_files_are_found_and_removed, file_records_round_trip_and_list_by_owner,
};
pub use identity::{
    api_keys_authenticate_by_hash_and_can_be_revoked, oauth_apps_keep_their_secret_write_only,
    pending_state_is_single_use_under_concurrency, pending_states_are_single_use_and_bound,
    users_have_unique_names_and_permissions,
};
pub use ledger::the_write_ledger_tracks_pending_and_committed_writes;
pub use links::{
    bad_connection_input_is_rejected_without_leaving_anything,
    connections_are_created_renamed_and_deleted, flow_references_block_connection_deletion,
    named_credentials_lend_their_principal_to_connections,
};
pub use tokens::{
    lease_race_across_handles_has_one_winner, lease_race_has_one_winner, leases_expire,
    refresh_protocol_never_reuses_a_rotated_token, refreshed_tokens_are_compare_and_swapped,
    replacing_a_family_defeats_in_flight_refreshes, tokens_round_trip_through_the_store,
};
pub use triggers::{
    a_delivery_raced_across_handles_is_recorded_once, a_thousand_events_enqueue_in_one_call,
    an_unknown_flow_is_not_found_and_nothing_is_written,
    deleting_a_flow_removes_its_trigger_state_but_keeps_its_runs,
    events_become_runs_once_per_dedupe_key, poll_failures_are_recorded_until_a_success_clears_them,
    the_cursor_never_moves_backwards, triggers_are_paused_and_resumed,
    webhook_deliveries_are_recorded_once_and_purged, webhook_registrations_are_saved_and_forgotten,
};
pub use workflow::{
    a_dedupe_key_starts_exactly_one_run, a_lapsed_lease_hands_the_run_over_with_its_steps,
    claims_across_handles_hand_each_run_out_once, flow_saves_replace_connection_references,
    flows_are_versioned_enabled_and_deleted, runs_are_claimed_oldest_first_under_live_leases,
    runs_are_listed_newest_first_and_purged, steps_are_replaced_by_index_and_returned_in_order,
};

use crate::error::StoreResult;
use crate::ids::{OAuthAppId, UserId};
use crate::model::{Environment, NewOAuthApp, NewTokens, NewUser, Permission};
use crate::secret::{AccessToken, ClientSecret, RefreshToken};
use crate::traits::Store;

/// A store handle as the checks take it.
pub type DynStore = Arc<dyn Store>;

/// Runs every single-handle check against stores made by `fresh` (one new, empty store per
/// check), and the two-handle checks against pairs made by `pair`.
pub async fn run_all<F, Fut, P, PFut>(fresh: F, pair: P) -> StoreResult<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = StoreResult<DynStore>>,
    P: Fn() -> PFut,
    PFut: Future<Output = StoreResult<(DynStore, DynStore)>>,
{
    users_have_unique_names_and_permissions(fresh().await?).await?;
    api_keys_authenticate_by_hash_and_can_be_revoked(fresh().await?).await?;
    oauth_apps_keep_their_secret_write_only(fresh().await?).await?;
    pending_states_are_single_use_and_bound(fresh().await?).await?;
    pending_state_is_single_use_under_concurrency(fresh().await?).await?;
    connections_are_created_renamed_and_deleted(fresh().await?).await?;
    bad_connection_input_is_rejected_without_leaving_anything(fresh().await?).await?;
    flow_references_block_connection_deletion(fresh().await?).await?;
    named_credentials_lend_their_principal_to_connections(fresh().await?).await?;
    tokens_round_trip_through_the_store(fresh().await?).await?;
    lease_race_has_one_winner(fresh().await?).await?;
    leases_expire(fresh().await?).await?;
    refreshed_tokens_are_compare_and_swapped(fresh().await?).await?;
    replacing_a_family_defeats_in_flight_refreshes(fresh().await?).await?;
    file_records_round_trip_and_list_by_owner(fresh().await?).await?;
    bad_file_records_are_rejected_without_leaving_anything(fresh().await?).await?;
    expired_and_run_owned_files_are_found_and_removed(fresh().await?).await?;
    flows_are_versioned_enabled_and_deleted(fresh().await?).await?;
    flow_saves_replace_connection_references(fresh().await?).await?;
    a_dedupe_key_starts_exactly_one_run(fresh().await?).await?;
    runs_are_claimed_oldest_first_under_live_leases(fresh().await?).await?;
    a_lapsed_lease_hands_the_run_over_with_its_steps(fresh().await?).await?;
    steps_are_replaced_by_index_and_returned_in_order(fresh().await?).await?;
    runs_are_listed_newest_first_and_purged(fresh().await?).await?;
    the_write_ledger_tracks_pending_and_committed_writes(fresh().await?).await?;
    events_become_runs_once_per_dedupe_key(fresh().await?).await?;
    the_cursor_never_moves_backwards(fresh().await?).await?;
    poll_failures_are_recorded_until_a_success_clears_them(fresh().await?).await?;
    triggers_are_paused_and_resumed(fresh().await?).await?;
    webhook_registrations_are_saved_and_forgotten(fresh().await?).await?;
    webhook_deliveries_are_recorded_once_and_purged(fresh().await?).await?;
    an_unknown_flow_is_not_found_and_nothing_is_written(fresh().await?).await?;
    deleting_a_flow_removes_its_trigger_state_but_keeps_its_runs(fresh().await?).await?;
    a_thousand_events_enqueue_in_one_call(fresh().await?).await?;
    let (a, b) = pair().await?;
    lease_race_across_handles_has_one_winner(a, b).await?;
    let (a, b) = pair().await?;
    refresh_protocol_never_reuses_a_rotated_token(a, b).await?;
    let (a, b) = pair().await?;
    claims_across_handles_hand_each_run_out_once(a, b).await?;
    let (a, b) = pair().await?;
    a_delivery_raced_across_handles_is_recorded_once(a, b).await?;
    Ok(())
}

/// The scopes the connector needs, used as fixture data.
pub(crate) fn fixture_scopes() -> Vec<String> {
    [
        "read:jira-user",
        "read:jira-work",
        "write:jira-work",
        "manage:jira-project",
        "manage:jira-configuration",
        "offline_access",
    ]
    .map(String::from)
    .to_vec()
}

pub(crate) async fn fixture_user(store: &DynStore, name: &str) -> StoreResult<UserId> {
    Ok(store
        .create_user(NewUser {
            name: name.to_owned(),
            permissions: vec![Permission::ManageIntegrationConnections],
        })
        .await?
        .id)
}

pub(crate) async fn fixture_app(store: &DynStore, name: &str) -> StoreResult<OAuthAppId> {
    Ok(store
        .create_oauth_app(NewOAuthApp {
            name: name.to_owned(),
            client_id: format!("client-{name}"),
            client_secret: ClientSecret::new(format!("client-secret-{name}-SENTINEL")),
            scopes: fixture_scopes(),
            auth_base_url: "http://127.0.0.1:9/".to_owned(),
            api_base_url: "http://127.0.0.1:9".to_owned(),
            environment: Environment::Sandbox,
        })
        .await?
        .id)
}

pub(crate) fn fixture_tokens(tag: &str) -> NewTokens {
    NewTokens {
        access_token: AccessToken::new(format!("access-{tag}-SENTINEL")),
        refresh_token: Some(RefreshToken::new(format!("refresh-{tag}-SENTINEL"))),
        expires_at: Utc::now() + Duration::hours(1),
        scopes: fixture_scopes(),
    }
}

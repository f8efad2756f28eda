//! The shared conformance suite, run against SQLite: one test per check.

use jiraflow_store::conformance as c;

use crate::support::Stores;

macro_rules! single {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> anyhow::Result<()> {
            let stores = Stores::default();
            c::$name(stores.fresh().await?).await?;
            Ok(())
        }
    )*};
}

macro_rules! paired {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() -> anyhow::Result<()> {
            let stores = Stores::default();
            let (a, b) = stores.pair().await?;
            c::$name(a, b).await?;
            Ok(())
        }
    )*};
}

single!(
    users_have_unique_names_and_permissions,
    api_keys_authenticate_by_hash_and_can_be_revoked,
    oauth_apps_keep_their_secret_write_only,
    pending_states_are_single_use_and_bound,
    pending_state_is_single_use_under_concurrency,
    connections_are_created_renamed_and_deleted,
    bad_connection_input_is_rejected_without_leaving_anything,
    flow_references_block_connection_deletion,
    named_credentials_lend_their_principal_to_connections,
    tokens_round_trip_through_the_store,
    lease_race_has_one_winner,
    leases_expire,
    refreshed_tokens_are_compare_and_swapped,
    replacing_a_family_defeats_in_flight_refreshes,
    flows_are_versioned_enabled_and_deleted,
    flow_saves_replace_connection_references,
    a_dedupe_key_starts_exactly_one_run,
    runs_are_claimed_oldest_first_under_live_leases,
    a_lapsed_lease_hands_the_run_over_with_its_steps,
    steps_are_replaced_by_index_and_returned_in_order,
    runs_are_listed_newest_first_and_purged,
    the_write_ledger_tracks_pending_and_committed_writes,
    file_records_round_trip_and_list_by_owner,
    bad_file_records_are_rejected_without_leaving_anything,
    expired_and_run_owned_files_are_found_and_removed,
    events_become_runs_once_per_dedupe_key,
    the_cursor_never_moves_backwards,
    poll_failures_are_recorded_until_a_success_clears_them,
    triggers_are_paused_and_resumed,
    webhook_registrations_are_saved_and_forgotten,
    webhook_deliveries_are_recorded_once_and_purged,
    an_unknown_flow_is_not_found_and_nothing_is_written,
    deleting_a_flow_removes_its_trigger_state_but_keeps_its_runs,
);

paired!(
    lease_race_across_handles_has_one_winner,
    refresh_protocol_never_reuses_a_rotated_token,
    claims_across_handles_hand_each_run_out_once,
    a_delivery_raced_across_handles_is_recorded_once,
);

/// Reports the figure with `--nocapture`: one `enqueue_events` call of 1,000 new events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_enqueue_in_one_call() -> anyhow::Result<()> {
    let stores = Stores::default();
    let took = c::a_thousand_events_enqueue_in_one_call(stores.fresh().await?).await?;
    println!("enqueue_events: 1000 new events in one call took {took:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_suite_passes_through_run_all() -> anyhow::Result<()> {
    let stores = Stores::default();
    c::run_all(|| stores.fresh(), || stores.pair()).await?;
    Ok(())
}

//! Conformance checks for the write ledger that makes retried creates idempotent.

use super::DynStore;
use super::workflow::now_at_ms;
use crate::error::StoreResult;
use crate::runs::{LedgerEntry, LedgerKey};

/// The ledger records a create in flight, then what it created; a new attempt replaces the
/// entry, keys are independent, and forgetting removes it.
pub async fn the_write_ledger_tracks_pending_and_committed_writes(
    store: DynStore,
) -> StoreResult<()> {
    let key = LedgerKey {
        site: "http://127.0.0.1:9/ex/jira/cloud-1".to_owned(),
        kind: "issue".to_owned(),
        scope: "OPS".to_owned(),
        key: "crm-42".to_owned(),
    };
    let mut other = key.clone();
    other.scope = "DEV".to_owned();
    assert_eq!(store.ledger_get(&key).await?, None);

    let sent = now_at_ms();
    store.ledger_pending(&key, sent).await?;
    assert_eq!(
        store.ledger_get(&key).await?,
        Some(LedgerEntry::Pending {
            attempt_started_at: sent
        })
    );
    assert_eq!(store.ledger_get(&other).await?, None);

    store.ledger_commit(&key, "10042").await?;
    match store.ledger_get(&key).await? {
        Some(LedgerEntry::Committed { jira_id, .. }) => assert_eq!(jira_id, "10042"),
        other => panic!("expected a committed entry, got {other:?}"),
    }
    let resent = sent + chrono::Duration::seconds(5);
    store.ledger_pending(&key, resent).await?;
    assert_eq!(
        store.ledger_get(&key).await?,
        Some(LedgerEntry::Pending {
            attempt_started_at: resent
        })
    );
    store.ledger_commit(&key, "10043").await?;
    store.ledger_commit(&other, "20001").await?;

    store.ledger_forget(&key).await?;
    assert_eq!(store.ledger_get(&key).await?, None);
    store.ledger_forget(&key).await?;
    assert!(matches!(
        store.ledger_get(&other).await?,
        Some(LedgerEntry::Committed { .. })
    ));

    let mut blank = key.clone();
    blank.site = " ".to_owned();
    let refused = store.ledger_pending(&blank, sent).await;
    assert!(refused.err().is_some_and(|e| e.is_invalid()));
    let no_id = store.ledger_commit(&key, "").await;
    assert!(no_id.err().is_some_and(|e| e.is_invalid()));
    assert_eq!(store.ledger_get(&key).await?, None);
    Ok(())
}

//! Conformance checks for file object records.

use chrono::{DateTime, Duration, Utc};

use super::DynStore;
use crate::error::StoreResult;
use crate::files::{FileObject, FileOwner, FileQuery};
use crate::ids::{FileId, RunId, UserId};

/// A record as the files service would write it; instants are whole milliseconds so they
/// survive any backend's precision.
fn record(name: &str, size: u64, owner: FileOwner, created_at: DateTime<Utc>) -> FileObject {
    let created_at = DateTime::from_timestamp_millis(created_at.timestamp_millis())
        .unwrap_or(DateTime::UNIX_EPOCH);
    FileObject {
        id: FileId::new(),
        name: name.to_owned(),
        media_type: "application/pdf".to_owned(),
        size,
        sha256: format!("{size:064x}"),
        created_at,
        expires_at: Some(created_at + Duration::hours(24)),
        owner,
    }
}

/// Records keep every field exactly (names in any script, with quotes, emoji and spaces), are
/// listed newest first per owner with a limit, counted in the totals, and deleted once.
pub async fn file_records_round_trip_and_list_by_owner(store: DynStore) -> StoreResult<()> {
    let now = Utc::now();
    let run = RunId::new();
    let user = UserId::new();
    let names = [
        "報告書.pdf",
        "party 🎉.txt",
        "say \"hi\" there.txt",
        "  two  spaces ",
    ];
    let mut made = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let owner = if i % 2 == 0 {
            FileOwner::Run(run)
        } else {
            FileOwner::User(user)
        };
        let offset = Duration::seconds(i64::try_from(i).unwrap_or(0));
        let file = record(name, 10 + i as u64, owner, now + offset);
        let created = store.create_file(file.clone()).await?;
        assert_eq!(created, file, "the record is stored exactly");
        made.push(created);
    }
    let mut system = record("system.bin", 0, FileOwner::System, now);
    system.expires_at = None;
    store.create_file(system.clone()).await?;
    assert_eq!(store.get_file(system.id).await?, Some(system.clone()));

    let all = store.list_files(FileQuery::default()).await?;
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].id, made[3].id, "newest first");
    let runs = store
        .list_files(FileQuery {
            owner: Some(FileOwner::Run(run)),
            limit: None,
        })
        .await?;
    assert_eq!(
        runs.iter().map(|f| f.id).collect::<Vec<_>>(),
        [made[2].id, made[0].id]
    );
    let one = store
        .list_files(FileQuery {
            owner: Some(FileOwner::User(user)),
            limit: Some(1),
        })
        .await?;
    assert_eq!(one.iter().map(|f| f.id).collect::<Vec<_>>(), [made[3].id]);
    let systems = store
        .list_files(FileQuery {
            owner: Some(FileOwner::System),
            limit: None,
        })
        .await?;
    assert_eq!(systems, [system.clone()]);

    assert_eq!(store.file_totals().await?, (5, 10 + 11 + 12 + 13));
    assert!(store.delete_file(made[1].id).await?);
    assert!(
        !store.delete_file(made[1].id).await?,
        "a second delete finds nothing"
    );
    assert!(store.get_file(made[1].id).await?.is_none());
    assert_eq!(store.file_totals().await?, (4, 10 + 12 + 13));
    Ok(())
}

/// Bad names, media types, digests and reused ids are refused naming the field, and nothing is
/// written.
pub async fn bad_file_records_are_rejected_without_leaving_anything(
    store: DynStore,
) -> StoreResult<()> {
    let now = Utc::now();
    let good = record("ok.pdf", 1, FileOwner::System, now);
    let mut cases = Vec::new();
    let mut bad = good.clone();
    bad.name = "line\nbreak.txt".to_owned();
    cases.push((bad, "file name"));
    let mut bad = good.clone();
    bad.name = "é".repeat(128);
    cases.push((bad, "file name"));
    let mut bad = good.clone();
    bad.name = String::new();
    cases.push((bad, "file name"));
    let mut bad = good.clone();
    bad.media_type = "pdf".to_owned();
    cases.push((bad, "media type"));
    let mut bad = good.clone();
    bad.sha256 = "XYZ".to_owned();
    cases.push((bad, "sha256"));
    for (file, field) in cases {
        let err = store.create_file(file).await.err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.is_invalid() && e.to_string().contains(field)),
            "{field}: {err:?}"
        );
    }
    assert_eq!(store.file_totals().await?, (0, 0));
    store.create_file(good.clone()).await?;
    let mut again = good.clone();
    again.name = "other.pdf".to_owned();
    let err = store.create_file(again).await.err();
    assert!(err.is_some_and(|e| e.is_invalid()), "an id is used once");
    assert_eq!(store.get_file(good.id).await?, Some(good));
    Ok(())
}

/// Expired records are found at or after their expiry (never-expiring ones never), and a run's
/// records are deleted together, leaving other owners' alone.
pub async fn expired_and_run_owned_files_are_found_and_removed(store: DynStore) -> StoreResult<()> {
    let now = Utc::now();
    let run = RunId::new();
    let other_run = RunId::new();
    let mut soon = record("soon.txt", 1, FileOwner::Run(run), now);
    soon.expires_at = Some(soon.created_at + Duration::minutes(5));
    let mut later = record("later.txt", 2, FileOwner::Run(run), now);
    later.expires_at = Some(later.created_at + Duration::hours(2));
    let mut never = record("never.txt", 3, FileOwner::Run(other_run), now);
    never.expires_at = None;
    for file in [&soon, &later, &never] {
        store.create_file(file.clone()).await?;
    }
    assert!(store.list_expired_files(now).await?.is_empty());
    let at_expiry = soon.expires_at.unwrap_or(now);
    let expired = store.list_expired_files(at_expiry).await?;
    assert_eq!(expired.iter().map(|f| f.id).collect::<Vec<_>>(), [soon.id]);
    let far = store.list_expired_files(now + Duration::days(365)).await?;
    assert_eq!(
        far.iter().map(|f| f.id).collect::<Vec<_>>(),
        [soon.id, later.id],
        "oldest expiry first, never-expiring ones left out"
    );

    let mut removed = store.delete_run_files(run).await?;
    removed.sort();
    let mut expected = vec![soon.id, later.id];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(store.delete_run_files(run).await?.is_empty());
    assert_eq!(store.get_file(never.id).await?, Some(never));
    assert_eq!(store.file_totals().await?, (1, 3));
    Ok(())
}

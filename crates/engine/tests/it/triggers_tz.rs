//! Time zones: issues created by Bob (Pacific/Honolulu, UTC−10) and Kiri (Pacific/Tongatapu,
//! UTC+13) right across a minute boundary, polled through connections acting as each of them:
//! epoch-millisecond bounds leave no gap and repeat nothing, whatever the profile zone.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Result, ensure};

use crate::executor::{BOB, Harness};
use crate::triggers_poll::{
    KIRI, PAST_SETTLE, create, fast, keys, poll, runs, trigger, user_client,
};

#[tokio::test]
async fn issues_created_across_a_minute_boundary_in_utc_minus_10_and_plus_13_are_found_once()
-> Result<()> {
    let h = Harness::new().await?;
    let bob = user_client(&h, BOB)?;
    let kiri = user_client(&h, KIRI)?;
    let options = ["project: DEMO", "ignore_own_changes: false"];
    let as_bob = trigger(&h, "tz-bob", "new_issue", &options, fast()).await?;
    let as_kiri = trigger(&h, "tz-kiri", "new_issue", &options, fast()).await?;

    // Put Jira 1.5 s before a minute boundary, so the writes straddle it.
    let now = h.sim.state.clock.now_ms();
    let to_boundary = 60_000 - now.rem_euclid(60_000);
    h.sim.state.clock.advance_ms(to_boundary - 1_500);
    poll(&as_bob, &bob, &h).await?;
    poll(&as_kiri, &kiri, &h).await?;

    let mut ids = Vec::new();
    for n in 0..6 {
        ids.push(create(&bob, &format!("bob {n}")).await?);
        ids.push(create(&kiri, &format!("kiri {n}")).await?);
        tokio::time::sleep(Duration::from_millis(400)).await;
        poll(&as_bob, &bob, &h).await?;
        poll(&as_kiri, &kiri, &h).await?;
    }
    tokio::time::sleep(PAST_SETTLE).await;
    poll(&as_bob, &bob, &h).await?;
    poll(&as_kiri, &kiri, &h).await?;

    let expected: BTreeSet<String> = ids.iter().map(|id| format!("issue:{id}:created")).collect();
    for flow in ["tz-bob", "tz-kiri"] {
        let found = keys(&runs(&h, flow).await?);
        ensure!(found.len() == ids.len(), "{flow}: {found:?}");
        ensure!(
            found.into_iter().collect::<BTreeSet<_>>() == expected,
            "{flow}"
        );
    }
    Ok(())
}

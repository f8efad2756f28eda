//! The polling budget of one connection: a token bucket (generic cell rate form) that spaces
//! the polls of every trigger reading through the connection, plus the rate-limit pause Jira
//! imposed on it. Many flows on one connection therefore stretch their intervals instead of
//! bursting into Jira's limits.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// A per-connection budget of polls.
#[derive(Debug)]
pub(crate) struct Budget {
    /// Time between two polls at the sustained rate.
    spacing: Duration,
    /// How far ahead of the sustained rate a burst may run (`spacing × (burst - 1)`).
    tolerance: Duration,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The theoretical arrival time of the next poll at the sustained rate.
    next: Option<Instant>,
    /// Jira asked this connection to wait until then (a 429's `Retry-After`).
    paused_until: Option<Instant>,
}

impl Budget {
    /// A budget of `per_minute` polls a minute, of which `burst` may run back to back.
    pub(crate) fn new(per_minute: u32, burst: u32) -> Self {
        let spacing = Duration::from_secs(60) / per_minute.max(1);
        Self {
            spacing,
            tolerance: spacing * burst.max(1).saturating_sub(1),
            state: Mutex::new(State {
                next: None,
                paused_until: None,
            }),
        }
    }

    /// Reserves the next slot and returns when it starts (now when the bucket has room). The
    /// slot is taken even if the caller gives up waiting: a cancelled poll only wastes budget.
    pub(crate) fn reserve(&self) -> Instant {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = state.next.unwrap_or(now).max(now);
        let earliest = tat.checked_sub(self.tolerance).unwrap_or(now).max(now);
        let at = match state.paused_until {
            Some(until) if until > earliest => until,
            _ => earliest,
        };
        state.next = Some(tat.max(at) + self.spacing);
        at
    }

    /// When a rate-limit pause ends, if one is in force.
    pub(crate) fn paused_until(&self) -> Option<Instant> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.paused_until.filter(|until| *until > Instant::now())
    }

    /// Holds every poll of the connection for `wait` (longer pauses win).
    pub(crate) fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_budget_lets_its_burst_through_then_spaces_polls_at_the_sustained_rate() {
        let budget = Budget::new(60, 3);
        let start = Instant::now();
        let slots: Vec<Duration> = (0..6).map(|_| budget.reserve() - start).collect();
        assert_eq!(
            slots,
            [0, 0, 0, 1, 2, 3].map(Duration::from_secs).to_vec(),
            "three at once, then one a second"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_budget_refills_and_does_not_bank_more_than_its_burst() {
        let budget = Budget::new(60, 2);
        let _ = budget.reserve();
        let _ = budget.reserve();
        tokio::time::advance(Duration::from_secs(30)).await;
        let start = Instant::now();
        let slots: Vec<Duration> = (0..3).map(|_| budget.reserve() - start).collect();
        assert_eq!(slots, [0, 0, 1].map(Duration::from_secs).to_vec());
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_pause_holds_the_next_slot_until_it_ends() {
        let budget = Budget::new(600, 5);
        budget.pause_for(Duration::from_secs(7));
        let start = Instant::now();
        assert_eq!(budget.reserve() - start, Duration::from_secs(7));
        assert!(budget.paused_until().is_some());
        // A shorter pause reported later does not shorten the one in force.
        budget.pause_for(Duration::from_secs(2));
        assert_eq!(budget.paused_until(), Some(start + Duration::from_secs(7)));
        tokio::time::advance(Duration::from_secs(8)).await;
        assert_eq!(budget.paused_until(), None);
    }
}

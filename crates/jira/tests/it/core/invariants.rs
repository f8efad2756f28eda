//! Invariants of the policy, request paths, error mapping and timestamps, over generated inputs.

use std::time::Duration;

use jiraflow_jira::error::{ApiError, RateLimitInfo};
use jiraflow_jira::{ApiRequest, RetryPolicy, time};
use proptest::prelude::*;

proptest! {
    #[test]
    fn backoff_stays_between_half_the_base_and_the_cap(
        base_ms in 1u64..5_000,
        cap_ms in 1u64..60_000,
        failed in 1u32..64,
    ) {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(base_ms),
            max_delay: Duration::from_millis(cap_ms),
            ..RetryPolicy::default()
        };
        let wait = policy.backoff(failed);
        prop_assert!(wait <= Duration::from_millis(cap_ms.max(base_ms / 2)));
        prop_assert!(wait >= Duration::from_millis((base_ms / 2).min(cap_ms)));
    }

    #[test]
    fn a_retry_after_is_never_shortened(secs in 0u64..100_000) {
        let wait = RetryPolicy::default().after_retry_after(Duration::from_secs(secs));
        prop_assert!(wait >= Duration::from_secs(secs));
        prop_assert!(wait <= Duration::from_secs(secs + 1));
    }

    #[test]
    fn a_path_parameter_stays_inside_its_segment(value in any::<String>()) {
        let request = ApiRequest::get("/issue/{issueIdOrKey}/comment").param(&value);
        let path = request.path();
        let segment = &path["/issue/".len()..path.len() - "/comment".len()];
        prop_assert!(!segment.contains('/') && !segment.contains('?') && !segment.contains('#'));
    }

    #[test]
    fn any_error_body_maps_without_panicking(status in 400u16..600, body in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let error = ApiError::from_body("GET", "/x", status, &body, RateLimitInfo::default());
        let shown = error.to_string();
        let expected = format!("GET /x: HTTP {}", status);
        prop_assert!(shown.starts_with(&expected));
        prop_assert!(shown.chars().count() < 2_500);
    }

    #[test]
    fn jira_timestamps_round_trip(ms in -1_000_000_000_000i64..4_000_000_000_000, offset_min in -720i32..=840) {
        let utc = time::from_epoch_ms(ms).unwrap();
        let offset = chrono::FixedOffset::east_opt(offset_min * 60).unwrap();
        let local = utc.with_timezone(&offset);
        let text = time::format(&local);
        let back = time::parse(&text).unwrap();
        prop_assert_eq!(back, local);
        prop_assert_eq!(back.offset(), local.offset());
    }
}

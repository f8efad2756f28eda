//! Integration tests for jiraflow-files against the in-process Jira simulator and a real SQLite
//! store: round trips Jira → file object → Jira, the 15 MiB limit in both directions, awkward
//! names, interrupted downloads, and the lifecycle (expiry sweep, run purge).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lifecycle;
mod limits;
mod names_and_faults;
mod round_trip;
mod support;

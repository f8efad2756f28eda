//! The flow, run and action command lines end to end: a `jiraflow sim --auto-consent` child
//! process plays Jira Cloud (demo seed), and `jiraflow` child processes apply, run and dry-run
//! flows and call actions through a temp data directory with a real connection.

mod action;
mod manage;
mod runs;
#[path = "../harness/cli.rs"]
mod support;

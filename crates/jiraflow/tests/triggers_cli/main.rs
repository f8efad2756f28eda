//! The trigger command lines end to end: a `jiraflow sim --auto-consent` child process plays
//! Jira Cloud (demo seed), and `jiraflow` child processes apply a flow, poll its trigger, run
//! what it enqueued, show its health and replay a window through a temp data directory with a
//! real connection.

mod poll;
#[path = "../harness/cli.rs"]
mod support;

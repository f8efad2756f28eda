//! `jiraflow files` end to end: a `jiraflow sim --auto-consent` child process plays Jira Cloud
//! (demo seed), and `jiraflow` child processes upload, list, show, download, attach (through
//! `jiraflow action attach_file`) and delete file objects in a temp data directory.

mod round_trip;
#[path = "../harness/cli.rs"]
mod support;

//! The connection command line end to end: a `jiraflow sim --auto-consent` child process plays
//! Atlassian, `jiraflow` child processes connect to it through a temp data directory, and the
//! test drives the consent redirect itself (headless, the way a script would).

mod flow;
mod named;
mod refusals;
mod support;

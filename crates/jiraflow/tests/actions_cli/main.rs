//! Every action end to end through the command line: `jiraflow action` against a
//! `jiraflow sim --auto-consent` child (happy path, documented errors, idempotent repeats), the
//! same actions inside flows applied with `flow apply` and run with `flow run --payload`, and the
//! five-action chain. One simulator and one connected data directory serve the whole binary.

mod attachments;
mod chain;
mod comments;
mod issues;
mod people;
mod projects;
mod support;
mod upserts;

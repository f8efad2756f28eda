//! Integration tests for jiraflow-store: the conformance suite on SQLite, and SQLite-specific
//! behaviour (master key checks, rotation, secrets at rest, several processes on one file).

mod conformance;
mod processes;
mod sqlite;
mod support;

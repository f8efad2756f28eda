//! Integration tests of the Jira client against the simulator and wiremock.

mod adf;
mod attachments;
mod comments;
mod core;
mod fields;
mod issues;
mod jql;
mod links;
mod people;
mod projects;
mod search;
mod support;
mod webhooks;

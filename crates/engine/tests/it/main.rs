//! Integration tests of the flow engine.

mod mapping;

mod flow;

mod actions_groups;
mod actions_projects;

mod actions_issues;

mod actions_comments;

mod actions_upserts;

mod actions_files;

mod executor;
mod executor_resume;
mod executor_retries;

mod triggers_scheduler;
mod triggers_webhook;

mod triggers_comments;
mod triggers_cursor;
mod triggers_poll;
mod triggers_tz;

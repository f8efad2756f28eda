//! JQL (Jira Query Language): lexer, parser, syntax tree, printer and safe composition.
//!
//! Shared by the simulator (which evaluates queries) and the client (which validates and composes
//! them). Errors carry the position Jira would report.

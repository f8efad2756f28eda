//! `jiraflow up` and `jiraflow demo` end to end: child processes on a temp data directory, the
//! embedded sandbox on free ports, checked through the HTTP API they serve.

mod demo;
mod support;
mod up;

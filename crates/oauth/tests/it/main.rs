//! Integration tests of the OAuth crate against the simulator and the SQLite store: the connect,
//! refresh and reconnect flows, bad input, Test Connection and the refresh race across tasks,
//! store handles and processes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod check;
mod connect;
mod logs;
mod named;
mod race;
mod support;
mod token_endpoint;

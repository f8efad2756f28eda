//! The HTTP server end to end: a SQLite store in a temp directory, an in-process simulator
//! (demo seed, auto-consent) for the connection made through `/oauth/callback`, and requests
//! sent through the router with `oneshot`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod files;
mod flows;
mod ops;
mod support;

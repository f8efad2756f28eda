//! A Jira Cloud simulator, shipped inside jiraflow (`jiraflow sim`).
//!
//! One process plays the parts of `auth.atlassian.com` (OAuth 2.0 3LO with rotating refresh
//! tokens), `api.atlassian.com` (the gateway in front of Jira, `/ex/jira/{cloudId}`), customer sites
//! (`/site/{name}`, with `_edge/tenant_info`), and a media origin on a second port for attachment
//! downloads. Behind the gateway it serves the Jira Cloud platform REST v3 subset jiraflow uses,
//! with Jira's strictness (ADF, error shapes, scopes, permissions, bounded JQL) and its hostility
//! (search lag, rate limits, faults, expiring webhooks), all adjustable at run time under `/_sim/`.
//!
//! Every test, demo and benchmark of jiraflow runs against it; users get it as the offline
//! sandbox environment.

pub mod admin;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod gateway;
pub mod media;
pub mod oauth;
pub mod persist;
pub mod realism;
pub mod rest;
pub mod search;
pub mod seed;
pub mod server;
pub mod state;
pub mod util;
pub mod webhooks;
pub mod world;

pub use config::{SeedKind, Settings, SimConfig};
pub use server::{ReadyInfo, RunningSim, StartError, start};
pub use state::SimState;

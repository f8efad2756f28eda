//! jiraflow's flow engine: the flow file format (YAML, validated with positions), template
//! mapping from trigger and step outputs to action inputs, the actions, the executor that runs
//! flows and records their history, and (later) triggers.

pub mod actions;
pub mod connections;
pub mod executor;
pub mod flow;
pub mod mapping;
pub mod triggers;

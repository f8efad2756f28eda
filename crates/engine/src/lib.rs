//! jiraflow's flow engine: the flow file format (YAML, validated with positions), template
//! mapping from trigger and step outputs to action inputs, and (in later parts) triggers, the
//! executor and the actions.

pub mod actions;
pub mod flow;
pub mod mapping;

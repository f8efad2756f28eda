//! Integration tests of the flow engine.

mod mapping;

mod flow;

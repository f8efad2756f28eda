//! Integration tests of the Jira client against the simulator and wiremock.

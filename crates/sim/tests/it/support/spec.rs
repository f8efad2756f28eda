//! Validation of response bodies against Atlassian's official OpenAPI spec
//! (`testdata/jira/jira-platform-v3.openapi.json`). Filled in by the fidelity work.

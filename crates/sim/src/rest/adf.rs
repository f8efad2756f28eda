//! Validation of Atlassian Document Format bodies, as strict as Jira.

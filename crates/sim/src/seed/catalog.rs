//! The Jira configuration every seeded site starts with: issue types, the workflow, priorities,
//! custom fields and link types.

use std::collections::BTreeMap;

use crate::world::{
    FieldDef, FieldKind, IssueType, JiraData, LinkType, Priority, SiteSettings, Status,
    StatusCategory, Transition,
};

/// The site configuration shared by every seeded site.
pub fn site_configuration() -> JiraData {
    let issue_type = |id: &str, name: &str, subtask: bool, level: i32| IssueType {
        id: id.to_owned(),
        name: name.to_owned(),
        description: format!("A {}.", name.to_lowercase()),
        subtask,
        hierarchy_level: level,
    };
    let status = |id: &str, name: &str, category| Status {
        id: id.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        category,
    };
    let transition = |id: &str, name: &str, from: &[&str], to: &str, resolves| Transition {
        id: id.to_owned(),
        name: name.to_owned(),
        from: from.iter().map(|s| (*s).to_owned()).collect(),
        to: to.to_owned(),
        resolves,
    };
    let priority = |id: &str, name: &str, color: &str, default| Priority {
        id: id.to_owned(),
        name: name.to_owned(),
        status_color: color.to_owned(),
        is_default: default,
    };
    let field = |id: &str, name: &str, kind, options: &[(&str, &str)]| {
        (
            id.to_owned(),
            FieldDef {
                id: id.to_owned(),
                name: name.to_owned(),
                kind,
                options: options
                    .iter()
                    .map(|(i, v)| ((*i).to_owned(), (*v).to_owned(), Vec::new()))
                    .collect(),
            },
        )
    };
    let mut custom_fields: BTreeMap<String, FieldDef> = [
        field("customfield_10016", "Story Points", FieldKind::Number, &[]),
        field(
            "customfield_10020",
            "Team",
            FieldKind::Select,
            &[
                ("10100", "Platform"),
                ("10101", "Payments"),
                ("10102", "Mobile"),
            ],
        ),
        field(
            "customfield_10021",
            "Severity",
            FieldKind::Select,
            &[("10110", "S1"), ("10111", "S2"), ("10112", "S3")],
        ),
        field(
            "customfield_10022",
            "Components Affected",
            FieldKind::MultiSelect,
            &[("10120", "API"), ("10121", "Web"), ("10122", "Worker")],
        ),
        field(
            "customfield_10030",
            "Acceptance Criteria",
            FieldKind::TextArea,
            &[],
        ),
        field(
            "customfield_10040",
            "External Reference",
            FieldKind::TextField,
            &[],
        ),
        field("customfield_10050", "Reviewer", FieldKind::User, &[]),
        field("customfield_10060", "Start Date", FieldKind::Date, &[]),
        field("customfield_10061", "Deployed At", FieldKind::DateTime, &[]),
        field("customfield_10070", "Tags", FieldKind::Labels, &[]),
    ]
    .into_iter()
    .collect();
    custom_fields.insert(
        "customfield_10080".to_owned(),
        FieldDef {
            id: "customfield_10080".to_owned(),
            name: "Region".to_owned(),
            kind: FieldKind::Cascading,
            options: vec![
                (
                    "10130".to_owned(),
                    "Europe".to_owned(),
                    vec![
                        ("10131".to_owned(), "Berlin".to_owned()),
                        ("10132".to_owned(), "Paris".to_owned()),
                    ],
                ),
                (
                    "10133".to_owned(),
                    "Americas".to_owned(),
                    vec![
                        ("10134".to_owned(), "Toronto".to_owned()),
                        ("10135".to_owned(), "Lima".to_owned()),
                    ],
                ),
            ],
        },
    );
    JiraData {
        issue_types: vec![
            issue_type("10000", "Epic", false, 1),
            issue_type("10001", "Task", false, 0),
            issue_type("10002", "Bug", false, 0),
            issue_type("10003", "Story", false, 0),
            issue_type("10004", "Subtask", true, -1),
        ],
        statuses: vec![
            status("10000", "To Do", StatusCategory::ToDo),
            status("3", "In Progress", StatusCategory::InProgress),
            status("10001", "In Review", StatusCategory::InProgress),
            status("10002", "Done", StatusCategory::Done),
        ],
        transitions: vec![
            transition("11", "Start Progress", &["10000"], "3", false),
            transition("21", "Request Review", &["3"], "10001", false),
            transition("31", "Done", &[], "10002", true),
            transition("41", "Reopen", &["10002"], "10000", false),
            transition("51", "Back to To Do", &["3", "10001"], "10000", false),
        ],
        priorities: vec![
            priority("1", "Highest", "#d04437", false),
            priority("2", "High", "#f15c75", false),
            priority("3", "Medium", "#f79232", true),
            priority("4", "Low", "#707070", false),
            priority("5", "Lowest", "#999999", false),
        ],
        custom_fields,
        link_types: vec![
            link_type("10000", "Blocks", "is blocked by", "blocks"),
            link_type("10001", "Cloners", "is cloned by", "clones"),
            link_type("10002", "Duplicate", "is duplicated by", "duplicates"),
            link_type("10003", "Relates", "relates to", "relates to"),
        ],
        settings: SiteSettings::default(),
        ..JiraData::default()
    }
}

fn link_type(id: &str, name: &str, inward: &str, outward: &str) -> LinkType {
    LinkType {
        id: id.to_owned(),
        name: name.to_owned(),
        inward: inward.to_owned(),
        outward: outward.to_owned(),
    }
}

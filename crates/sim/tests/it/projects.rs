//! Projects over HTTP: create (permissions, key, name, lead, type and template rules), get
//! (case-sensitive keys, restricted projects), update (project vs. Jira administration, key
//! changes), delete, and `project/search` (visibility, filters, paging, order).

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::spec::assert_matches_spec;
use crate::support::{TestSim, as_user, send_json};
use jiraflow_sim::seed::{
    ACME_CLOUD_ID, ADMIN_ACCOUNT, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT, SECURITY_ACCOUNT,
};

const CREATE: &str = "/rest/api/3/project";
const ONE: &str = "/rest/api/3/project/{projectIdOrKey}";
const SEARCH: &str = "/rest/api/3/project/search";

fn new_project(key: &str, name: &str) -> Value {
    json!({
        "key": key,
        "name": name,
        "leadAccountId": ADMIN_ACCOUNT,
        "projectTypeKey": "software",
        "description": "Made over REST",
        "assigneeType": "PROJECT_LEAD"
    })
}

fn keys(page: &Value) -> Vec<String> {
    page["values"]
        .as_array()
        .expect("values")
        .iter()
        .map(|p| p["key"].as_str().expect("key").to_owned())
        .collect()
}

#[tokio::test]
async fn a_jira_admin_creates_a_project_and_gets_its_identifiers() {
    let sim = TestSim::start().await;
    let (status, created) = send_json(
        as_user(&sim, JIRA_ADMIN_ACCOUNT, Method::POST, "/project")
            .json(&new_project("NEW", "New Things")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_matches_spec("POST", CREATE, 201, &created);
    assert!(created["id"].is_u64(), "ProjectIdentifiers.id is a number");
    assert_eq!(created["key"], "NEW");
    let id = created["id"].as_u64().expect("id");
    assert!(
        created["self"]
            .as_str()
            .expect("self")
            .ends_with(&format!("/rest/api/3/project/{id}"))
    );

    let (status, project) = send_json(sim.admin(Method::GET, "/project/NEW")).await;
    assert_eq!(status, 200, "{project}");
    assert_matches_spec("GET", ONE, 200, &project);
    assert_eq!(project["id"], json!(id.to_string()));
    assert_eq!(project["name"], "New Things");
    assert_eq!(project["description"], "Made over REST");
    assert_eq!(project["lead"]["accountId"], ADMIN_ACCOUNT);
    assert_eq!(project["projectTypeKey"], "software");
    assert_eq!(project["assigneeType"], "PROJECT_LEAD");
    assert!(
        !project["issueTypes"]
            .as_array()
            .expect("issue types")
            .is_empty()
    );
}

#[tokio::test]
async fn creating_a_project_needs_administer_jira_and_the_configuration_scope() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::POST, "/project").json(&new_project("BOB", "Bob's")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body["errorMessages"][0].is_string());
    let token = sim.token_for(ADMIN_ACCOUNT, &["read:jira-work", "manage:jira-project"]);
    let (status, body) = send_json(
        sim.http
            .post(sim.api("/project"))
            .bearer_auth(token)
            .json(&new_project("ADA", "Ada's")),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code": 401, "message": "Unauthorized; scope does not match"})
    );
}

#[tokio::test]
async fn project_keys_names_and_leads_are_validated_with_jiras_messages() {
    let sim = TestSim::start().await;
    let cases = [
        (
            new_project("lower", "Lower"),
            "projectKey",
            "Project keys must start with an uppercase letter, followed by one or more uppercase alphanumeric characters.",
        ),
        (
            new_project("ABCDEFGHIJK", "Long key"),
            "projectKey",
            "The project key must not exceed 10 characters in length.",
        ),
        (
            new_project("DEMO", "Another demo"),
            "projectKey",
            "Project 'Demo Project' uses this project key.",
        ),
        (
            new_project("DUP", "demo project"),
            "projectName",
            "A project with that name already exists.",
        ),
    ];
    for (body, field, message) in cases {
        let (status, answer) = send_json(sim.admin(Method::POST, "/project").json(&body)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["errors"][field], message, "{answer}");
    }
    let mut missing = new_project("NOLEAD", "No lead");
    missing
        .as_object_mut()
        .expect("object")
        .remove("leadAccountId");
    let (status, answer) = send_json(sim.admin(Method::POST, "/project").json(&missing)).await;
    assert_eq!(status, 400);
    assert!(answer["errors"]["projectLead"].is_string());
    let mut ghost = new_project("GHOST", "Ghost lead");
    ghost["leadAccountId"] = json!("5f1a0000000000000000ffff");
    let (status, answer) = send_json(sim.admin(Method::POST, "/project").json(&ghost)).await;
    assert_eq!(status, 400);
    assert!(answer["errors"]["projectLead"].is_string());
    let (status, answer) = send_json(
        sim.admin(Method::POST, "/project")
            .json(&json!({"leadAccountId": ADMIN_ACCOUNT, "projectTypeKey": "software"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(answer["errors"]["projectKey"].is_string());
    assert!(answer["errors"]["projectName"].is_string());
}

#[tokio::test]
async fn a_template_must_match_the_type_and_excludes_explicit_schemes() {
    let sim = TestSim::start().await;
    let kanban = "com.pyxis.greenhopper.jira:gh-simplified-kanban-classic";
    let mut body = new_project("TPL", "Template");
    body["projectTypeKey"] = json!("business");
    body["projectTemplateKey"] = json!(kanban);
    let (status, answer) = send_json(sim.admin(Method::POST, "/project").json(&body)).await;
    assert_eq!(status, 400);
    assert!(
        answer["errors"]["projectTemplateKey"].is_string(),
        "{answer}"
    );

    body["projectTypeKey"] = json!("software");
    body["workflowScheme"] = json!(10001);
    let (status, _) = send_json(sim.admin(Method::POST, "/project").json(&body)).await;
    assert_eq!(status, 400);

    let mut only_template = new_project("TPL", "Template");
    only_template
        .as_object_mut()
        .expect("object")
        .remove("projectTypeKey");
    only_template["projectTemplateKey"] =
        json!("com.atlassian.jira-core-project-templates:jira-core-simplified-task-tracking");
    let (status, created) =
        send_json(sim.admin(Method::POST, "/project").json(&only_template)).await;
    assert_eq!(status, 201, "{created}");
    let (_, project) = send_json(sim.admin(Method::GET, "/project/TPL")).await;
    assert_eq!(project["projectTypeKey"], "business");

    let (status, _) = send_json(
        sim.admin(Method::POST, "/project")
            .json(&json!({"key": "UNK", "name": "Unknown field", "leadAccountId": ADMIN_ACCOUNT, "projectTypeKey": "software", "colour": "red"})),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn project_keys_in_paths_are_case_sensitive_and_restricted_projects_are_hidden() {
    let sim = TestSim::start().await;
    let (status, _) = send_json(sim.admin(Method::GET, "/project/DEMO")).await;
    assert_eq!(status, 200);
    let (status, body) = send_json(sim.admin(Method::GET, "/project/demo")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"errorMessages": ["No project could be found with key 'demo'."], "errors": {}})
    );
    let (status, body) =
        send_json(as_user(&sim, MEMBER_ACCOUNT, Method::GET, "/project/SEC")).await;
    assert_eq!(status, 404);
    assert_eq!(
        body["errorMessages"][0],
        "No project could be found with key 'SEC'."
    );
    let (status, project) =
        send_json(as_user(&sim, SECURITY_ACCOUNT, Method::GET, "/project/SEC")).await;
    assert_eq!(status, 200);
    let id = project["id"].as_str().expect("id").to_owned();
    let (status, by_id) = send_json(as_user(
        &sim,
        SECURITY_ACCOUNT,
        Method::GET,
        &format!("/project/{id}?expand=insight,permissions"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", ONE, 200, &by_id);
    assert_eq!(by_id["insight"]["totalIssueCount"], 3);
    assert_eq!(by_id["permissions"]["canEdit"], false);
}

#[tokio::test]
async fn project_administrators_edit_projects_but_only_jira_admins_change_keys() {
    let sim = TestSim::start().await;
    let (status, body) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::PUT, "/project/DEMO")
            .json(&json!({"name": "Bob's now"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");

    // Make Bob an administrator of DEMO (not a Jira admin).
    {
        let mut world = sim.sim.state.world.write();
        let site = world.site_mut(ACME_CLOUD_ID).expect("site");
        let demo = site
            .jira
            .projects
            .values_mut()
            .find(|p| p.key == "DEMO")
            .expect("DEMO");
        demo.admins.push(MEMBER_ACCOUNT.to_owned());
    }
    let (status, project) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::PUT, "/project/DEMO")
            .json(&json!({"name": "Demo (renamed)", "description": "New words", "leadAccountId": MEMBER_ACCOUNT})),
    )
    .await;
    assert_eq!(status, 200, "{project}");
    assert_matches_spec("PUT", ONE, 200, &project);
    assert_eq!(project["name"], "Demo (renamed)");
    assert_eq!(project["description"], "New words");
    assert_eq!(project["lead"]["accountId"], MEMBER_ACCOUNT);

    let (status, body) = send_json(
        as_user(&sim, MEMBER_ACCOUNT, Method::PUT, "/project/DEMO").json(&json!({"key": "DMO"})),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = send_json(
        sim.admin(Method::PUT, "/project/DEMO")
            .json(&json!({"name": "Operations"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["errors"]["projectName"],
        "A project with that name already exists."
    );

    let token = sim.token_for(
        ADMIN_ACCOUNT,
        &["read:jira-work", "manage:jira-configuration"],
    );
    let (status, _) = send_json(
        sim.http
            .put(sim.api("/project/DEMO"))
            .bearer_auth(token)
            .json(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 401, "update needs manage:jira-project");
}

#[tokio::test]
async fn changing_a_project_key_rekeys_its_issues_and_keeps_old_issue_keys_working() {
    let sim = TestSim::start().await;
    let (status, project) = send_json(
        as_user(&sim, JIRA_ADMIN_ACCOUNT, Method::PUT, "/project/OPS").json(&json!({"key": "OPX"})),
    )
    .await;
    assert_eq!(status, 200, "{project}");
    assert_eq!(project["key"], "OPX");
    {
        let world = sim.sim.state.world.read();
        let site = &world.sites[ACME_CLOUD_ID];
        let by_new = site.jira.resolve_issue("OPX-2").expect("new key resolves");
        assert_eq!(site.jira.resolve_issue("OPS-2"), Some(by_new));
        assert_eq!(site.jira.issues[&by_new].key, "OPX-2");
    }
    let (status, _) = send_json(sim.admin(Method::GET, "/project/OPS")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn deleting_a_project_hides_it_and_its_key_stays_taken() {
    let sim = TestSim::start().await;
    let (status, _) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::DELETE,
        "/project/OPS",
    ))
    .await;
    assert_eq!(status, 404, "non-admins are told the project is not there");
    let (status, body) = send_json(sim.admin(Method::DELETE, "/project/OPS")).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = send_json(sim.admin(Method::GET, "/project/OPS")).await;
    assert_eq!(status, 404);
    let (status, body) = send_json(
        sim.admin(Method::POST, "/project")
            .json(&new_project("OPS", "Ops again")),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["errors"]["projectKey"].is_string());
}

#[tokio::test]
async fn project_search_lists_only_browsable_projects_in_key_order() {
    let sim = TestSim::start().await;
    let (status, page) = send_json(sim.admin(Method::GET, "/project/search")).await;
    assert_eq!(status, 200, "{page}");
    assert_matches_spec("GET", SEARCH, 200, &page);
    assert_eq!(keys(&page), vec!["DEMO", "OPS", "SEC"]);
    assert_eq!(page["total"], 3);
    assert_eq!(page["isLast"], true);
    assert!(
        page["values"][0].get("lead").is_none(),
        "lead only on expand"
    );

    let (_, as_bob) = send_json(as_user(
        &sim,
        MEMBER_ACCOUNT,
        Method::GET,
        "/project/search",
    ))
    .await;
    assert_eq!(keys(&as_bob), vec!["DEMO", "OPS"]);

    let (_, desc) = send_json(sim.admin(Method::GET, "/project/search?orderBy=-key")).await;
    assert_eq!(keys(&desc), vec!["SEC", "OPS", "DEMO"]);
    let (_, by_count) =
        send_json(sim.admin(Method::GET, "/project/search?orderBy=-issueCount")).await;
    assert_eq!(keys(&by_count), vec!["DEMO", "OPS", "SEC"]);
    let (status, _) = send_json(sim.admin(Method::GET, "/project/search?orderBy=colour")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn project_search_filters_and_pages() {
    let sim = TestSim::start().await;
    let (_, found) = send_json(sim.admin(Method::GET, "/project/search?query=oper")).await;
    assert_eq!(keys(&found), vec!["OPS"]);
    let (_, found) = send_json(sim.admin(Method::GET, "/project/search?query=de")).await;
    assert_eq!(keys(&found), vec!["DEMO"]);
    let (_, found) = send_json(sim.admin(Method::GET, "/project/search?keys=SEC&keys=DEMO")).await;
    assert_eq!(keys(&found), vec!["DEMO", "SEC"]);
    let (_, found) = send_json(sim.admin(Method::GET, "/project/search?typeKey=business")).await;
    assert_eq!(keys(&found), vec!["OPS"]);

    let (status, page) = send_json(sim.admin(
        Method::GET,
        "/project/search?startAt=1&maxResults=1&expand=lead,description,issueTypes",
    ))
    .await;
    assert_eq!(status, 200);
    assert_matches_spec("GET", SEARCH, 200, &page);
    assert_eq!(keys(&page), vec!["OPS"]);
    assert_eq!(page["isLast"], false);
    assert!(
        page["nextPage"]
            .as_str()
            .expect("nextPage")
            .contains("startAt=2")
    );
    assert_eq!(page["values"][0]["lead"]["accountId"], ADMIN_ACCOUNT);
    assert!(page["values"][0]["description"].is_string());

    let (_, capped) = send_json(sim.admin(Method::GET, "/project/search?maxResults=500")).await;
    assert_eq!(capped["maxResults"], 100);
}

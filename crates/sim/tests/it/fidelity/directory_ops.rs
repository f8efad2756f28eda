//! Fidelity of the directory operations: projects, users and groups, with the permission errors
//! Jira answers to non-admins.

use reqwest::Method;
use serde_json::json;

use super::Driver;

#[tokio::test]
async fn every_project_operation_answers_in_the_shapes_of_the_spec() {
    let mut d = Driver::start().await;
    d.call(Method::GET, "/project/search", "/project/search", None, 200)
        .await;
    d.call(
        Method::GET,
        "/project/search",
        "/project/search?query=demo&expand=description,lead",
        None,
        200,
    )
    .await;
    d.call(Method::GET, "/project", "/project", None, 200).await;
    let t = "/project/{projectIdOrKey}";
    d.call(Method::GET, t, "/project/DEMO", None, 200).await;
    d.call(Method::GET, t, "/project/NOPE", None, 404).await;

    let create = json!({
        "key": "FID",
        "name": "Fidelity",
        "projectTypeKey": "software",
        "leadAccountId": jiraflow_sim::seed::ADMIN_ACCOUNT,
        "assigneeType": "UNASSIGNED",
    });
    d.call(Method::POST, "/project", "/project", Some(&create), 201)
        .await;
    // The key is taken now.
    d.call(Method::POST, "/project", "/project", Some(&create), 400)
        .await;
    let token = d.sim.token_for(
        jiraflow_sim::seed::MEMBER_ACCOUNT,
        &["manage:jira-configuration", "manage:jira-project"],
    );
    let forbidden = d
        .sim
        .http
        .post(d.sim.api("/project"))
        .bearer_auth(&token)
        .json(&json!({"key": "NOPE", "name": "Nope", "projectTypeKey": "software", "leadAccountId": jiraflow_sim::seed::MEMBER_ACCOUNT}));
    d.send(Method::POST, "/project", forbidden, 403).await;
    d.call(
        Method::PUT,
        t,
        "/project/FID",
        Some(&json!({"name": "Fidelity renamed", "description": "Edited."})),
        200,
    )
    .await;
    d.finish("projects");
}

#[tokio::test]
async fn every_user_and_group_operation_answers_in_the_shapes_of_the_spec() {
    let mut d = Driver::start().await;
    let bob = jiraflow_sim::seed::MEMBER_ACCOUNT;
    d.call(
        Method::GET,
        "/user",
        &format!("/user?accountId={bob}"),
        None,
        200,
    )
    .await;
    d.call(
        Method::GET,
        "/user",
        "/user?accountId=000000000000000000000000",
        None,
        404,
    )
    .await;
    d.call(
        Method::GET,
        "/user/search",
        "/user/search?query=bob",
        None,
        200,
    )
    .await;
    d.call(Method::GET, "/users/search", "/users/search", None, 200)
        .await;
    d.call(
        Method::GET,
        "/user/bulk",
        &format!("/user/bulk?accountId={bob}"),
        None,
        200,
    )
    .await;
    d.call(
        Method::GET,
        "/user/groups",
        &format!("/user/groups?accountId={bob}"),
        None,
        200,
    )
    .await;
    d.call(
        Method::GET,
        "/user/assignable/search",
        "/user/assignable/search?project=DEMO",
        None,
        200,
    )
    .await;

    d.call(Method::GET, "/group/bulk", "/group/bulk", None, 200)
        .await;
    d.call(
        Method::GET,
        "/groups/picker",
        "/groups/picker?query=team",
        None,
        200,
    )
    .await;
    let created = d
        .call(
            Method::POST,
            "/group",
            "/group",
            Some(&json!({"name": "fidelity-team"})),
            201,
        )
        .await;
    d.call(
        Method::POST,
        "/group",
        "/group",
        Some(&json!({"name": "fidelity-team"})),
        400,
    )
    .await;
    let group_id = created
        .as_ref()
        .and_then(|g| g["groupId"].as_str().map(str::to_owned));
    if let Some(id) = group_id {
        d.call(
            Method::POST,
            "/group/user",
            &format!("/group/user?groupId={id}"),
            Some(&json!({"accountId": bob})),
            201,
        )
        .await;
        d.call(
            Method::GET,
            "/group/member",
            &format!("/group/member?groupId={id}"),
            None,
            200,
        )
        .await;
        d.call(
            Method::DELETE,
            "/group/user",
            &format!("/group/user?groupId={id}&accountId={bob}"),
            None,
            200,
        )
        .await;
        d.call(
            Method::DELETE,
            "/group",
            &format!("/group?groupId={id}"),
            None,
            200,
        )
        .await;
    }
    d.finish("users+groups");
}

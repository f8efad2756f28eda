//! Fidelity of what a client reads before it works: `myself`, `serverInfo`, the site's catalog
//! (fields, issue types, priorities, statuses, resolutions, labels, permissions), and the
//! gateway's and Jira's answers to bad tokens, missing scopes and missing permissions.

use reqwest::Method;

use super::Driver;

#[tokio::test]
async fn the_connection_and_catalog_operations_answer_in_the_shapes_of_the_spec() {
    let mut d = Driver::start().await;
    d.call(Method::GET, "/myself", "/myself", None, 200).await;
    d.call(Method::GET, "/serverInfo", "/serverInfo", None, 200)
        .await;
    for path in [
        "/field",
        "/issuetype",
        "/priority",
        "/status",
        "/resolution",
        "/label",
    ] {
        d.call(Method::GET, path, path, None, 200).await;
    }
    d.call(
        Method::GET,
        "/mypermissions",
        "/mypermissions?permissions=BROWSE_PROJECTS,CREATE_ISSUES",
        None,
        200,
    )
    .await;
    d.call(
        Method::GET,
        "/project/{projectIdOrKey}/statuses",
        "/project/DEMO/statuses",
        None,
        200,
    )
    .await;
    d.finish("catalog");
}

#[tokio::test]
async fn token_and_scope_failures_answer_in_the_gateway_shape() {
    let mut d = Driver::start().await;
    let bad = d
        .sim
        .http
        .get(d.sim.api("/myself"))
        .bearer_auth("not-a-token");
    d.send(Method::GET, "/myself", bad, 401).await;
    let missing = d.sim.http.get(d.sim.api("/myself"));
    d.send(Method::GET, "/myself", missing, 401).await;

    // A token without read:jira-user may not read /myself.
    let token = d
        .sim
        .token_for(jiraflow_sim::seed::MEMBER_ACCOUNT, &["read:jira-work"]);
    let scoped = d.sim.http.get(d.sim.api("/myself")).bearer_auth(&token);
    d.send(Method::GET, "/myself", scoped, 401).await;

    // An issue in a project the caller may not browse is a 404 like a missing one.
    let token = d.sim.token_for(
        jiraflow_sim::seed::MEMBER_ACCOUNT,
        &["read:jira-work", "read:jira-user"],
    );
    let hidden = d
        .sim
        .http
        .get(d.sim.api("/issue/SEC-1"))
        .bearer_auth(&token);
    d.send(Method::GET, "/issue/{issueIdOrKey}", hidden, 404)
        .await;
    d.finish("gateway");
}

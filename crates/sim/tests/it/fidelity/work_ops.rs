//! Fidelity of the issue-work operations: issues, transitions, changelogs, comments, properties,
//! JQL search, attachments, watchers and links. Each operation runs once with a valid request
//! and with its main error cases; every body is validated against the spec by the driver.

use reqwest::Method;
use serde_json::{Value, json};

use super::{Driver, testdata};
use crate::support::spec::assert_valid_adf;

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
}

/// Creates an issue in DEMO with `description`; returns its key (None when not implemented).
async fn create_issue(d: &mut Driver, summary: &str, description: &Value) -> Option<String> {
    let body = json!({"fields": {
        "project": {"key": "DEMO"},
        "issuetype": {"id": "10001"},
        "summary": summary,
        "description": description,
    }});
    let created = d
        .call(Method::POST, "/issue", "/issue", Some(&body), 201)
        .await?;
    created["key"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn every_issue_operation_answers_in_the_shapes_of_the_spec() {
    let mut d = Driver::start().await;
    let rich = testdata("fixtures/jira-cli/adf/md.json");
    let key = create_issue(&mut d, "Fidelity: issue operations", &rich)
        .await
        .unwrap_or_else(|| "DEMO-2".to_owned());
    let issue_path = format!("/issue/{key}");

    if let Some(issue) = d
        .call(Method::GET, "/issue/{issueIdOrKey}", &issue_path, None, 200)
        .await
    {
        if key != "DEMO-2" {
            assert_eq!(
                issue["fields"]["description"], rich,
                "a real ADF document is stored and returned unchanged"
            );
        }
        if !issue["fields"]["description"].is_null() {
            assert_valid_adf(&issue["fields"]["description"]);
        }
    }
    d.call(
        Method::GET,
        "/issue/{issueIdOrKey}",
        "/issue/DEMO-99999",
        None,
        404,
    )
    .await;

    // Field errors: a missing summary, a plain-string description.
    for fields in [
        json!({"project": {"key": "DEMO"}, "issuetype": {"id": "10001"}}),
        json!({"project": {"key": "DEMO"}, "issuetype": {"id": "10001"}, "summary": "x", "description": "plain"}),
    ] {
        d.call(
            Method::POST,
            "/issue",
            "/issue",
            Some(&json!({ "fields": fields })),
            400,
        )
        .await;
    }

    let edit = json!({"fields": {"summary": "Fidelity: edited"}, "update": {"labels": [{"add": "fidelity"}]}});
    d.call(
        Method::PUT,
        "/issue/{issueIdOrKey}",
        &issue_path,
        Some(&edit),
        204,
    )
    .await;
    d.call(
        Method::PUT,
        "/issue/{issueIdOrKey}",
        &format!("{issue_path}?returnIssue=true"),
        Some(&json!({"fields": {"summary": "Fidelity: edited again"}})),
        200,
    )
    .await;
    d.call(
        Method::PUT,
        "/issue/{issueIdOrKey}",
        &issue_path,
        Some(&json!({"fields": {"description": "plain"}})),
        400,
    )
    .await;

    d.call(
        Method::GET,
        "/issue/{issueIdOrKey}/editmeta",
        &format!("{issue_path}/editmeta"),
        None,
        200,
    )
    .await;
    let transitions = d
        .call(
            Method::GET,
            "/issue/{issueIdOrKey}/transitions",
            &format!("{issue_path}/transitions"),
            None,
            200,
        )
        .await;
    let transition_id = transitions
        .as_ref()
        .and_then(|t| t["transitions"].as_array())
        .and_then(|t| t.iter().find_map(|t| t["id"].as_str().map(str::to_owned)));
    if let Some(id) = transition_id {
        d.call(
            Method::POST,
            "/issue/{issueIdOrKey}/transitions",
            &format!("{issue_path}/transitions"),
            Some(&json!({"transition": {"id": id}})),
            204,
        )
        .await;
    }
    d.call(
        Method::POST,
        "/issue/{issueIdOrKey}/transitions",
        &format!("{issue_path}/transitions"),
        Some(&json!({"transition": {"id": "999999"}})),
        400,
    )
    .await;

    d.call(
        Method::GET,
        "/issue/{issueIdOrKey}/changelog",
        &format!("{issue_path}/changelog"),
        None,
        200,
    )
    .await;
    d.call(
        Method::POST,
        "/changelog/bulkfetch",
        "/changelog/bulkfetch",
        Some(&json!({"issueIdsOrKeys": [key]})),
        200,
    )
    .await;
    d.call(
        Method::POST,
        "/issue/bulk",
        "/issue/bulk",
        Some(&json!({"issueUpdates": [
            {"fields": {"project": {"key": "DEMO"}, "issuetype": {"id": "10001"}, "summary": "Bulk one"}},
            {"fields": {"project": {"key": "DEMO"}, "issuetype": {"id": "10001"}}}
        ]})),
        201,
    )
    .await;
    d.call(
        Method::GET,
        "/issue/createmeta/{projectIdOrKey}/issuetypes",
        "/issue/createmeta/DEMO/issuetypes",
        None,
        200,
    )
    .await;
    d.call(
        Method::GET,
        "/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
        "/issue/createmeta/DEMO/issuetypes/10001",
        None,
        200,
    )
    .await;

    if let Some(doomed) = create_issue(&mut d, "Fidelity: to delete", &adf("bye")).await {
        let path = format!("/issue/{doomed}");
        d.call(Method::DELETE, "/issue/{issueIdOrKey}", &path, None, 204)
            .await;
        d.call(Method::GET, "/issue/{issueIdOrKey}", &path, None, 404)
            .await;
    }
    d.finish("issues");
}

#[tokio::test]
async fn every_comment_and_property_operation_answers_in_the_shapes_of_the_spec() {
    let mut d = Driver::start().await;
    let template = "/issue/{issueIdOrKey}/comment";
    let body = testdata("fixtures/jira-cli/adf/md.json");
    let added = d
        .call(
            Method::POST,
            template,
            "/issue/DEMO-1/comment",
            Some(&json!({ "body": body })),
            201,
        )
        .await;
    if let Some(added) = &added {
        assert_eq!(
            added["body"], body,
            "the ADF comment body is returned as sent"
        );
        assert_valid_adf(&added["body"]);
    }
    d.call(
        Method::POST,
        template,
        "/issue/DEMO-1/comment",
        Some(&json!({"body": "plain string"})),
        400,
    )
    .await;
    d.call(
        Method::POST,
        template,
        "/issue/DEMO-99999/comment",
        Some(&json!({"body": adf("x")})),
        404,
    )
    .await;
    if let Some(list) = d
        .call(Method::GET, template, "/issue/DEMO-1/comment", None, 200)
        .await
    {
        for comment in list["comments"].as_array().into_iter().flatten() {
            assert_valid_adf(&comment["body"]);
        }
    }
    let id = added
        .as_ref()
        .and_then(|c| c["id"].as_str().map(str::to_owned));
    if let Some(id) = id {
        let one = format!("/issue/DEMO-1/comment/{id}");
        let t = "/issue/{issueIdOrKey}/comment/{id}";
        d.call(Method::GET, t, &one, None, 200).await;
        d.call(
            Method::PUT,
            t,
            &one,
            Some(&json!({"body": adf("edited")})),
            200,
        )
        .await;
        d.call(
            Method::POST,
            "/comment/list",
            "/comment/list",
            Some(&json!({"ids": [id.parse::<i64>().unwrap_or(0)]})),
            200,
        )
        .await;
        let prop = format!("/comment/{id}/properties/fidelity");
        let pt = "/comment/{commentId}/properties/{propertyKey}";
        d.call(Method::PUT, pt, &prop, Some(&json!({"n": 1})), 201)
            .await;
        d.call(Method::PUT, pt, &prop, Some(&json!({"n": 2})), 200)
            .await;
        d.call(
            Method::GET,
            "/comment/{commentId}/properties",
            &format!("/comment/{id}/properties"),
            None,
            200,
        )
        .await;
        d.call(Method::GET, pt, &prop, None, 200).await;
        d.call(Method::DELETE, pt, &prop, None, 204).await;
        d.call(Method::DELETE, t, &one, None, 204).await;
        d.call(Method::GET, t, &one, None, 404).await;
    }

    let prop = "/issue/DEMO-1/properties/fidelity.check";
    let pt = "/issue/{issueIdOrKey}/properties/{propertyKey}";
    d.call(Method::PUT, pt, prop, Some(&json!({"seen": true})), 201)
        .await;
    d.call(Method::PUT, pt, prop, Some(&json!({"seen": false})), 200)
        .await;
    d.call(
        Method::GET,
        "/issue/{issueIdOrKey}/properties",
        "/issue/DEMO-1/properties",
        None,
        200,
    )
    .await;
    d.call(Method::GET, pt, prop, None, 200).await;
    d.call(Method::DELETE, pt, prop, None, 204).await;
    d.call(Method::GET, pt, prop, None, 404).await;
    d.finish("comments+properties");
}

#[tokio::test]
async fn every_search_operation_answers_in_the_shapes_of_the_spec() {
    let mut d = Driver::start().await;
    let jql = "project = DEMO ORDER BY created DESC";
    d.call(
        Method::GET,
        "/search/jql",
        &format!(
            "/search/jql?jql={}&fields=summary,status&maxResults=5",
            urlencode(jql)
        ),
        None,
        200,
    )
    .await;
    let page = d
        .call(
            Method::POST,
            "/search/jql",
            "/search/jql",
            Some(&json!({"jql": jql, "fields": ["*all"], "maxResults": 5})),
            200,
        )
        .await;
    if let Some(token) = page
        .as_ref()
        .and_then(|p| p["nextPageToken"].as_str().map(str::to_owned))
    {
        d.call(
            Method::POST,
            "/search/jql",
            "/search/jql",
            Some(&json!({"jql": jql, "fields": ["*all"], "maxResults": 5, "nextPageToken": token})),
            200,
        )
        .await;
    }
    d.call(
        Method::POST,
        "/search/jql",
        "/search/jql",
        Some(&json!({"jql": "project = DEMO AND"})),
        400,
    )
    .await;
    d.call(
        Method::POST,
        "/search/approximate-count",
        "/search/approximate-count",
        Some(&json!({"jql": "project = DEMO"})),
        200,
    )
    .await;
    d.call(
        Method::POST,
        "/jql/parse",
        "/jql/parse?validation=strict",
        Some(&json!({"queries": ["project = DEMO", "project = "]})),
        200,
    )
    .await;
    d.call(
        Method::POST,
        "/jql/match",
        "/jql/match",
        Some(&json!({"jqls": ["project = DEMO"], "issueIds": [10001]})),
        200,
    )
    .await;
    d.finish("search");
}

#[tokio::test]
async fn attachment_watcher_and_link_operations_answer_in_the_shapes_of_the_spec() {
    let mut d = Driver::start().await;
    let upload = |d: &Driver, token_header: bool| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"fidelity\n".to_vec())
                .file_name("fidelity.txt")
                .mime_str("text/plain")
                .expect("mime type parses"),
        );
        let mut request = d
            .sim
            .admin(Method::POST, "/issue/DEMO-1/attachments")
            .multipart(form);
        if token_header {
            request = request.header("X-Atlassian-Token", "no-check");
        }
        request
    };
    let at = "/issue/{issueIdOrKey}/attachments";
    let attached = d.send(Method::POST, at, upload(&d, true), 200).await;
    let request = upload(&d, false);
    d.send(Method::POST, at, request, 403).await;
    d.call(
        Method::GET,
        "/attachment/meta",
        "/attachment/meta",
        None,
        200,
    )
    .await;
    let attachment_id = attached
        .as_ref()
        .and_then(|a| a[0]["id"].as_str().map(str::to_owned));
    if let Some(id) = attachment_id {
        let one = format!("/attachment/{id}");
        d.call(Method::GET, "/attachment/{id}", &one, None, 200)
            .await;
        d.call(
            Method::GET,
            "/attachment/content/{id}",
            &format!("/attachment/content/{id}"),
            None,
            303,
        )
        .await;
        d.call(Method::DELETE, "/attachment/{id}", &one, None, 204)
            .await;
        d.call(Method::GET, "/attachment/{id}", &one, None, 404)
            .await;
    }

    let wt = "/issue/{issueIdOrKey}/watchers";
    let bob = jiraflow_sim::seed::MEMBER_ACCOUNT;
    d.call(
        Method::POST,
        wt,
        "/issue/DEMO-1/watchers",
        Some(&json!(bob)),
        204,
    )
    .await;
    d.call(Method::GET, wt, "/issue/DEMO-1/watchers", None, 200)
        .await;
    d.call(
        Method::DELETE,
        wt,
        &format!("/issue/DEMO-1/watchers?accountId={bob}"),
        None,
        204,
    )
    .await;
    d.call(
        Method::POST,
        wt,
        "/issue/DEMO-99999/watchers",
        Some(&json!(bob)),
        404,
    )
    .await;

    d.call(Method::GET, "/issueLinkType", "/issueLinkType", None, 200)
        .await;
    d.call(
        Method::GET,
        "/issueLinkType/{issueLinkTypeId}",
        "/issueLinkType/10000",
        None,
        200,
    )
    .await;
    let link = json!({"type": {"name": "Blocks"}, "inwardIssue": {"key": "DEMO-3"}, "outwardIssue": {"key": "DEMO-4"}});
    d.call(Method::POST, "/issueLink", "/issueLink", Some(&link), 201)
        .await;
    let bad = json!({"type": {"name": "No such type"}, "inwardIssue": {"key": "DEMO-3"}, "outwardIssue": {"key": "DEMO-4"}});
    d.call(Method::POST, "/issueLink", "/issueLink", Some(&bad), 404)
        .await;
    let issue = d
        .call(
            Method::GET,
            "/issue/{issueIdOrKey}",
            "/issue/DEMO-3?fields=issuelinks",
            None,
            200,
        )
        .await;
    let link_id =
        issue.as_ref().and_then(|i| {
            i["fields"]["issuelinks"].as_array()?.iter().find(|l| {
                l["outwardIssue"]["key"] == "DEMO-4" || l["inwardIssue"]["key"] == "DEMO-4"
            })?["id"]
                .as_str()
                .map(str::to_owned)
        });
    if let Some(id) = link_id {
        let one = format!("/issueLink/{id}");
        d.call(Method::GET, "/issueLink/{linkId}", &one, None, 200)
            .await;
        d.call(Method::DELETE, "/issueLink/{linkId}", &one, None, 204)
            .await;
    }
    d.finish("attachments+watchers+links");
}

/// Minimal query-component encoding for JQL in URLs.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

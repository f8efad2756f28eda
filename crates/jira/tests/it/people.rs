//! Watchers, groups and users against the simulator; wiremock for shapes the simulator does not
//! serve (`/user/bulk`) or cannot easily produce (two accounts sharing a hidden e-mail).

#![allow(clippy::unwrap_used)]

use futures_util::TryStreamExt;
use jiraflow_jira::Error;
use jiraflow_jira::client::RequestBody;
use jiraflow_jira::ids::{AccountId, GroupId};
use jiraflow_jira::ops::groups::{GroupRef, Membership};
use jiraflow_sim::seed::{ADMIN_ACCOUNT, CLASSIC_SCOPES, JIRA_ADMIN_ACCOUNT, MEMBER_ACCOUNT};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::core::{admin, client, start_sim, token_for};
use crate::support::offline;

#[tokio::test]
async fn a_watcher_is_added_listed_and_removed() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let watchers = jira.watchers("DEMO-7");
    watchers.add(MEMBER_ACCOUNT).await.unwrap();
    let list = watchers.list().await.unwrap();
    let ids: Vec<_> = list
        .watchers
        .iter()
        .filter_map(|w| w.account_id.clone())
        .collect();
    assert!(ids.contains(&AccountId::new(MEMBER_ACCOUNT)));
    assert_eq!(list.watch_count, Some(list.watchers.len() as u64));
    // Adding twice is harmless.
    watchers.add(MEMBER_ACCOUNT).await.unwrap();
    watchers.remove(MEMBER_ACCOUNT).await.unwrap();
    let after = watchers.list().await.unwrap();
    assert!(!after.watchers.iter().any(|w| {
        w.account_id
            .as_ref()
            .is_some_and(|a| a.as_str() == MEMBER_ACCOUNT)
    }));
}

#[tokio::test]
async fn watchers_of_a_restricted_issue_are_not_found_for_an_outsider() {
    let sim = start_sim().await;
    let bob = client(
        &sim.info.jira_base_url,
        &token_for(&sim, MEMBER_ACCOUNT, CLASSIC_SCOPES),
    );
    let error = bob.watchers("SEC-1").list().await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let error = bob.watchers("SEC-1").add(MEMBER_ACCOUNT).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn adding_an_unknown_watcher_is_an_error() {
    let sim = start_sim().await;
    let error = admin(&sim)
        .watchers("DEMO-1")
        .add("no-such-account")
        .await
        .unwrap_err();
    assert!(
        error.status().is_some_and(|s| s == 400 || s == 404),
        "{error}"
    );
}

#[test]
fn the_watcher_body_is_a_bare_json_string_never_an_object() {
    let jira = offline();
    let request = jira
        .watchers("DEMO-1")
        .add_request(&AccountId::new(MEMBER_ACCOUNT))
        .unwrap();
    let RequestBody::Json(bytes) = request.request_body() else {
        panic!("expected a JSON body");
    };
    let text = std::str::from_utf8(bytes).unwrap();
    assert_eq!(text, format!("\"{MEMBER_ACCOUNT}\""));
    insta::assert_snapshot!("add_watcher_body", text);
    crate::support::assert_request_matches_spec(&request);
}

#[tokio::test]
async fn the_watcher_body_reaches_jira_as_json_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/api/3/issue/DEMO-1/watchers"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    client(&server.uri(), "t")
        .watchers("DEMO-1")
        .add("acc-1")
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received[0].body, b"\"acc-1\"");
    assert_eq!(
        received[0].headers.get("content-type").unwrap(),
        "application/json"
    );
}

#[tokio::test]
async fn a_group_is_created_filled_listed_emptied_and_deleted() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let group = jira.groups().create("release-managers").await.unwrap();
    assert_eq!(group.name.as_deref(), Some("release-managers"));
    let id = group.group_id.clone().unwrap();

    let added = jira
        .groups()
        .add_user(id.clone(), MEMBER_ACCOUNT)
        .await
        .unwrap();
    assert!(matches!(added, Membership::Added(_)));
    let again = jira
        .groups()
        .add_user(GroupRef::Name("release-managers".into()), MEMBER_ACCOUNT)
        .await
        .unwrap();
    assert_eq!(again, Membership::AlreadyMember);

    let members: Vec<_> = jira
        .groups()
        .members(id.clone())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        members[0].account_id.as_ref().unwrap().as_str(),
        MEMBER_ACCOUNT
    );

    let found = jira
        .groups()
        .bulk()
        .name("RELEASE-managers")
        .send()
        .await
        .unwrap();
    assert_eq!(found.values.len(), 1);
    assert_eq!(found.values[0].group_id.as_ref(), Some(&id));

    jira.groups()
        .remove_user(id.clone(), MEMBER_ACCOUNT)
        .await
        .unwrap();
    let error = jira
        .groups()
        .remove_user(id.clone(), MEMBER_ACCOUNT)
        .await
        .unwrap_err();
    assert!(error.is_bad_request(), "{error}");

    jira.groups()
        .delete(id.clone())
        .swap_to(GroupRef::Name("developers".into()))
        .send()
        .await
        .unwrap();
    let error = jira.groups().members(id).send().await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[tokio::test]
async fn a_duplicate_group_name_is_a_bad_request() {
    let sim = start_sim().await;
    let error = admin(&sim).groups().create("Developers").await.unwrap_err();
    assert!(error.is_bad_request(), "{error}");
}

#[tokio::test]
async fn only_a_site_admin_may_create_groups() {
    let sim = start_sim().await;
    for account in [MEMBER_ACCOUNT, JIRA_ADMIN_ACCOUNT] {
        let other = client(
            &sim.info.jira_base_url,
            &token_for(&sim, account, CLASSIC_SCOPES),
        );
        let error = other.groups().create("not-allowed").await.unwrap_err();
        assert!(error.is_permission_denied(), "{account}: {error}");
    }
}

#[tokio::test]
async fn every_group_is_streamed_page_by_page() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let one_page = jira.groups().bulk().send().await.unwrap();
    let all: Vec<_> = jira
        .groups()
        .bulk()
        .max_results(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), one_page.values.len());
    assert!(
        all.iter()
            .any(|g| g.name.as_deref() == Some("security-team"))
    );
    let error = jira
        .groups()
        .members(GroupRef::Id(GroupId::new("no-such-group")))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}

#[test]
fn group_bodies_are_stable() {
    let jira = offline();
    let create = jira.groups().create_request("power-users").unwrap();
    insta::assert_json_snapshot!("create_group_body", crate::support::body_json(&create));
    crate::support::assert_request_matches_spec(&create);
    let add = jira
        .groups()
        .add_user_request(&GroupRef::Id(GroupId::new("g-1")), &AccountId::new("acc-1"))
        .unwrap();
    assert_eq!(add.query_pairs(), [("groupId".into(), "g-1".into())]);
    insta::assert_json_snapshot!("add_group_user_body", crate::support::body_json(&add));
    crate::support::assert_request_matches_spec(&add);
}

#[tokio::test]
async fn users_are_found_by_name_and_fetched_by_account_id() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let found = jira.users().search("ada").send().await.unwrap();
    assert_eq!(found[0].account_id.as_str(), ADMIN_ACCOUNT);
    let user = jira.users().get(MEMBER_ACCOUNT).await.unwrap();
    assert_eq!(user.account_id.as_str(), MEMBER_ACCOUNT);
    let error = jira.users().get("no-such-account").await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let everyone: Vec<_> = jira
        .users()
        .search("a")
        .max_results(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let one_page = jira
        .users()
        .search("a")
        .max_results(100)
        .send()
        .await
        .unwrap();
    assert_eq!(everyone.len(), one_page.len());
}

#[tokio::test]
async fn an_email_resolves_to_one_account_or_a_clear_error() {
    let sim = start_sim().await;
    let jira = admin(&sim);
    let id = jira
        .users()
        .account_id_by_email("Ada@Acme.example")
        .await
        .unwrap();
    assert_eq!(id.as_str(), ADMIN_ACCOUNT);
    // Kiri hides her e-mail: Jira still finds her by the whole address, without showing it.
    let kiri = jira
        .users()
        .account_id_by_email("kiri@acme.example")
        .await
        .unwrap();
    assert_eq!(kiri.as_str(), "5f1a00000000000000000c03");
    let error = jira
        .users()
        .account_id_by_email("nobody@acme.example")
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::NoUniqueMatch { matches: 0, .. }),
        "{error}"
    );
    assert!(error.is_not_found());
    assert!(error.to_string().contains("nobody@acme.example"));
}

#[tokio::test]
async fn two_accounts_behind_one_hidden_email_are_ambiguous() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"accountId": "a-1", "displayName": "One"},
            {"accountId": "a-2", "displayName": "Two"}
        ])))
        .mount(&server)
        .await;
    let error = client(&server.uri(), "t")
        .users()
        .account_id_by_email("shared@example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::NoUniqueMatch { matches: 2, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("ambiguous"));
}

#[tokio::test]
async fn bulk_user_lookup_follows_pages() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user/bulk"))
        .and(wiremock::matchers::query_param("startAt", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "startAt": 0, "maxResults": 1, "total": 2, "isLast": false,
            "values": [{"accountId": "a-1"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/3/user/bulk"))
        .and(wiremock::matchers::query_param("startAt", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "startAt": 1, "maxResults": 1, "total": 2, "isLast": true,
            "values": [{"accountId": "a-2"}]
        })))
        .mount(&server)
        .await;
    let users = client(&server.uri(), "t")
        .users()
        .bulk(["a-1", "a-2"].map(AccountId::new))
        .await
        .unwrap();
    let ids: Vec<_> = users.iter().map(|u| u.account_id.as_str()).collect();
    assert_eq!(ids, ["a-1", "a-2"]);
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0].url.query(),
        Some("startAt=0&accountId=a-1&accountId=a-2")
    );
}

//! Field metadata fetched from a started simulator, and issues created there with coerced custom
//! fields: `GET /field` and createmeta feed the catalog, the create answers 201, and the values
//! read back equal what was sent.

#![allow(clippy::unwrap_used)]

use jiraflow_jira::fields::{CreateMetaFieldsPage, FieldCache, FieldCatalog, FieldDetails};
use jiraflow_jira::ids::{IssueTypeId, ProjectKey};
use jiraflow_sim::SimConfig;
use serde_json::{Value, json};

async fn start_sim() -> (jiraflow_sim::RunningSim, reqwest::Client) {
    let config = SimConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        media_listen: ([127, 0, 0, 1], 0).into(),
        ..SimConfig::default()
    };
    let sim = jiraflow_sim::start(config).await.expect("simulator starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds");
    (sim, http)
}

async fn get(sim: &jiraflow_sim::RunningSim, http: &reqwest::Client, path: &str) -> Value {
    let response = http
        .get(format!("{}/rest/api/3{path}", sim.info.jira_base_url))
        .bearer_auth(&sim.info.admin_token)
        .send()
        .await
        .expect("request is answered");
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("JSON body")
}

#[tokio::test]
async fn issues_created_with_coerced_custom_fields_read_back_equal() {
    let (sim, http) = start_sim().await;
    let fields: Vec<FieldDetails> =
        serde_json::from_value(get(&sim, &http, "/field").await).expect("field list");
    let meta: CreateMetaFieldsPage =
        serde_json::from_value(get(&sim, &http, "/issue/createmeta/DEMO/issuetypes/10001").await)
            .expect("createmeta page");
    let catalog = FieldCatalog::from_fields(fields).with_metadata(&meta.fields);
    assert!(catalog.lookup("summary").is_ok_and(|f| f.required));
    let bob = "5f1a00000000000000000b02";

    let body = catalog
        .coerce_all([
            ("project", json!("DEMO")),
            ("issuetype", json!("Task")),
            ("summary", json!("Coerced fields")),
            ("Team", json!("payments")),
            ("Components Affected", json!("API, Worker")),
            ("Region", json!("Europe > Paris")),
            ("Reviewer", json!(bob)),
            ("Start Date", json!("2026-01-17T08:00:00Z")),
            ("Deployed At", json!(1768653240000_i64)),
            ("Story Points", json!("5")),
            ("Tags", json!("checkout,p1")),
            (
                "Acceptance Criteria",
                json!("Pays in EUR\n\nShows a receipt"),
            ),
            ("labels", json!(["triaged"])),
            ("priority", json!("High")),
        ])
        .expect("inputs coerce");
    let response = http
        .post(format!("{}/rest/api/3/issue", sim.info.jira_base_url))
        .bearer_auth(&sim.info.admin_token)
        .json(&json!({ "fields": body }))
        .send()
        .await
        .expect("create is answered");
    let status = response.status();
    let created: Value = response.json().await.expect("JSON body");
    assert_eq!(status, 201, "{created}");

    let key = created["key"].as_str().expect("created key");
    let issue = get(&sim, &http, &format!("/issue/{key}")).await;
    let f = &issue["fields"];
    assert_eq!(f["customfield_10020"]["value"], "Payments");
    let multi: Vec<&str> = f["customfield_10022"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["value"].as_str())
        .collect();
    assert_eq!(multi, ["API", "Worker"]);
    assert_eq!(f["customfield_10080"]["value"], "Europe");
    assert_eq!(f["customfield_10080"]["child"]["value"], "Paris");
    assert_eq!(f["customfield_10050"]["accountId"], bob);
    assert_eq!(f["customfield_10060"], "2026-01-17");
    let deployed = f["customfield_10061"].as_str().unwrap_or_default();
    let deployed = chrono::DateTime::parse_from_str(deployed, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .map(|d| d.timestamp_millis());
    assert_eq!(deployed.ok(), Some(1768653240000));
    assert_eq!(f["customfield_10016"].as_f64(), Some(5.0));
    assert_eq!(f["customfield_10070"], json!(["checkout", "p1"]));
    assert_eq!(f["customfield_10030"], body["customfield_10030"]);
    assert_eq!(f["labels"], json!(["triaged"]));
    assert_eq!(f["priority"]["name"], "High");
    sim.shutdown().await;
}

#[tokio::test]
async fn createmeta_allowed_values_reject_unknown_options_before_any_request() {
    let (sim, http) = start_sim().await;
    let meta: CreateMetaFieldsPage =
        serde_json::from_value(get(&sim, &http, "/issue/createmeta/DEMO/issuetypes/10001").await)
            .expect("createmeta page");
    let catalog = FieldCatalog::default().with_metadata(&meta.fields);
    let error = catalog.coerce("Team", json!("Infra")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "field 'Team' (customfield_10020) does not allow 'Infra'; allowed values: Platform, \
         Payments, Mobile"
    );
    let error = catalog
        .coerce("Region", json!("Americas > Berlin"))
        .unwrap_err();
    assert!(
        error.to_string().contains("allowed values: Toronto, Lima"),
        "{error}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_client_fetches_a_catalog_with_the_create_screen_merged_and_caches_it() {
    let (sim, _http) = start_sim().await;
    let client = jiraflow_jira::JiraClient::builder(&sim.info.jira_base_url)
        .token_provider(jiraflow_jira::StaticToken::shared(&sim.info.admin_token))
        .build()
        .unwrap();
    let catalog =
        FieldCatalog::fetch_for_create(&client, ProjectKey::new("DEMO"), IssueTypeId::new("10001"))
            .await
            .unwrap();
    assert!(catalog.lookup("Summary").unwrap().required);
    assert_eq!(
        catalog.coerce("team", json!("mobile")).unwrap(),
        ("customfield_10020".to_owned(), json!({"value": "Mobile"}))
    );
    assert!(catalog.coerce("Team", json!("Infra")).is_err());

    let cache = FieldCache::default();
    let first = cache.catalog(&client).await.unwrap();
    let second = cache.catalog(&client).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    assert!(first.lookup("Story Points").is_ok());
    sim.shutdown().await;
}

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, assert_ok, codes, nodes};

const PAGE: &str = "query($first: Int, $after: String) { referrals(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id createdAt } } } }";

#[tokio::test]
async fn walking_the_pages_visits_every_row_once_in_order() {
    let app = TestApp::spawn().await;
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let mut created = Vec::new();
    let total = loop {
        let response = app.query(Who::Admin, PAGE, json!({ "first": 7, "after": after })).await;
        assert_ok(&response);
        let page = &response["data"]["referrals"];
        for node in nodes(&response, &["referrals"]) {
            seen.push(node["id"].as_str().unwrap().to_owned());
            created.push(chrono::DateTime::parse_from_rfc3339(node["createdAt"].as_str().unwrap()).unwrap());
        }
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break page["totalCount"].as_i64().unwrap();
        }
        assert_eq!(page["edges"].as_array().unwrap().len(), 7);
        after = page["pageInfo"]["endCursor"].clone();
    };
    assert_eq!(seen.len() as i64, total);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len(), "no row twice");
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[tokio::test]
async fn the_default_page_is_twenty_and_more_than_a_hundred_is_refused() {
    let app = TestApp::spawn().await;
    let response = app.query(Who::Admin, PAGE, json!({})).await;
    assert_eq!(response["data"]["referrals"]["edges"].as_array().unwrap().len(), 20);
    let response = app.query(Who::Admin, PAGE, json!({ "first": 100 })).await;
    assert_ok(&response);
    let response = app.query(Who::Admin, PAGE, json!({ "first": 101 })).await;
    assert_eq!(codes(&response), vec!["QUERY_TOO_COMPLEX"]);
    let response = app.query(Who::Admin, PAGE, json!({ "first": -1 })).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    let response = app.query(Who::Admin, PAGE, json!({ "first": 0 })).await;
    assert_ok(&response);
    assert!(response["data"]["referrals"]["edges"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn cursors_are_opaque_and_cannot_be_forged() {
    let app = TestApp::spawn().await;
    let response = app.query(Who::Admin, PAGE, json!({ "first": 3 })).await;
    let edges = response["data"]["referrals"]["edges"].as_array().unwrap().clone();
    for edge in &edges {
        let cursor = edge["cursor"].as_str().unwrap();
        let id = edge["node"]["id"].as_str().unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!cursor.contains(id) && !text.contains(id), "the cursor shows the row id");
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        assert!(!bytes.windows(16).any(|w| w == uuid.as_bytes()), "the cursor holds the raw id");
    }

    let cursor = edges[0]["cursor"].as_str().unwrap();
    let mut tampered = URL_SAFE_NO_PAD.decode(cursor).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    for bad in
        [URL_SAFE_NO_PAD.encode(tampered), "bm90IGEgY3Vyc29y".to_owned(), "%%%".to_owned(), String::new()]
    {
        let response = app.query(Who::Admin, PAGE, json!({ "after": bad })).await;
        assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{bad}");
    }

    // A cursor of one list does not page another.
    let services = app.query(Who::Admin, "{ services(first: 1) { edges { cursor } } }", json!({})).await;
    let foreign = services["data"]["services"]["edges"][0]["cursor"].clone();
    let response = app.query(Who::Admin, PAGE, json!({ "after": foreign })).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_partners_total_and_pages_agree() {
    let app = TestApp::spawn().await;
    let response = app.query(Who::Woonclub, PAGE, json!({ "first": 100 })).await;
    assert_ok(&response);
    let total = response["data"]["referrals"]["totalCount"].as_i64().unwrap();
    assert_eq!(total, response["data"]["referrals"]["edges"].as_array().unwrap().len() as i64);
    assert!(total > 0 && total < 64);
}

//! The HTTP surface of the real server.

use serde_json::json;

use crate::helpers::{TestApp, Who, codes};

#[tokio::test]
async fn health_readiness_graphiql_and_metrics_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().to_lowercase().contains("graphiql"));
    app.post(None, "{ me { role } }", json!({})).await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("welzijnshuis_graphql_requests_total"));
    assert!(metrics.contains("welzijnshuis_sql_statements_total"));
}

#[tokio::test]
async fn every_error_carries_a_code_and_no_internals() {
    let app = TestApp::spawn().await;
    for (query, variables, code) in [
        ("{ me { role ", json!({}), "BAD_USER_INPUT"),
        ("{ noSuchField }", json!({}), "BAD_USER_INPUT"),
        ("query($id: ID!) { service(id: $id) { name } }", json!({}), "BAD_USER_INPUT"),
        (
            "query($id: ID!) { service(id: $id) { name } }",
            json!({ "id": "x'; DROP TABLE services; --" }),
            "BAD_USER_INPUT",
        ),
        ("{ services(first: 1000) { totalCount } }", json!({}), "QUERY_TOO_COMPLEX"),
        ("{ clients { totalCount } }", json!({}), "BAD_USER_INPUT"),
    ] {
        let (_, body) = app.post(None, query, variables).await;
        assert_eq!(codes(&body), vec![code], "{query}: {body}");
        let text = body.to_string().to_lowercase();
        for leak in ["select ", "sqlx", "sqlite", "postgres", "panicked", "src/"] {
            assert!(!text.contains(leak), "{query} leaks {leak}: {body}");
        }
    }
}

#[tokio::test]
async fn too_deep_a_query_is_refused() {
    let app = TestApp::spawn().await;
    let level = "referrals { edges { node { client { ";
    let deep = format!("{{ {} id {} }}", level.repeat(4), "} } } } ".repeat(4));
    let (_, body) = app.post_as(Who::Admin, &deep, json!({})).await;
    assert_eq!(codes(&body), vec!["QUERY_TOO_COMPLEX"], "{body}");
}

#[tokio::test]
async fn a_partner_reads_its_inbox_over_http() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_as(
            Who::Pension,
            r#"{ referrals(filter: { direction: INCOMING, status: [REQUESTED, RECEIVED] }) {
            totalCount edges { node { status recipient { name } } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let edges = body["data"]["referrals"]["edges"].as_array().unwrap();
    assert!(!edges.is_empty(), "{body}");
    for edge in edges {
        assert_eq!(edge["node"]["recipient"]["name"], "Federale Pensioendienst");
        assert!(["REQUESTED", "RECEIVED"].contains(&edge["node"]["status"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn an_internal_error_names_the_request_and_nothing_else() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    // Break the database under the service: the languages table is gone.
    app.db.conn.execute_unprepared("DROP TABLE service_languages").await.unwrap();
    let response = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .header("X-Request-Id", "desk-trace-42")
        .json(&json!({ "query": "{ services(first: 2) { edges { node { name languages } } } }" }))
        .send()
        .await
        .unwrap();
    // The server's own id answers, never the caller's: ids in the log and audit trail are ours.
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(codes(&body).iter().all(|c| c == "INTERNAL") && !codes(&body).is_empty(), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["requestId"], id.as_str());
    assert_eq!(body["errors"][0]["message"], "internal error");
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("service_languages") && !text.contains("no such table") && !text.contains("relation"),
        "{body}"
    );
    // A fresh id when none (or a strange one) is sent.
    let (_, _) = app.post(None, "{ me { role } }", json!({})).await;
    let plain = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .header("X-Request-Id", "bad id!")
        .json(&json!({ "query": "{ me { role } }" }))
        .send()
        .await
        .unwrap();
    let id = plain.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
}

#[tokio::test]
async fn json_logs_name_each_request_and_hold_no_personal_data() {
    let app = TestApp::spawn().await;
    let env = [("WELZIJNSHUIS_LOG_FORMAT", "json"), ("RUST_LOG", "info,sqlx=warn,sea_orm=warn")];
    let server = crate::helpers::ServerProcess::start(&app.database.url, &env).await;
    let token = app.token(Who::Caw).await.unwrap();
    let response: serde_json::Value = app
        .http
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(&token)
        .header("X-Request-Id", "trace-me-42")
        .json(&json!({ "query": crate::helpers::INBOX_QUERY }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<String> = crate::helpers::nodes(&response, &["referrals"])
        .iter()
        .filter_map(|n| n["client"]["familyName"].as_str().map(str::to_owned))
        .collect();
    assert!(!names.is_empty(), "the inbox shows client names: {response}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = server.log.lock().unwrap().clone();
    let lines: Vec<serde_json::Value> =
        log.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let request = lines
        .iter()
        .find(|l| {
            l["fields"]["message"] == "graphql request" && l["fields"]["caller_request_id"] == "trace-me-42"
        })
        .unwrap_or_else(|| panic!("no line for the request in {log:#?}"));
    assert_eq!(request["fields"]["operation"], "Inbox");
    assert_eq!(request["fields"]["status"], 200);
    let text = log.join("\n");
    for name in &names {
        assert!(!text.contains(name.as_str()), "the log holds a client's name ({name})");
    }
    assert!(!text.contains(&token), "the log holds the token");
}

//! The GraphQL-over-HTTP specification as the real server answers it: media types, status
//! codes, GET, compression, CORS, caching, and what `/metrics` counts.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, codes};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn send(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn url(app: &TestApp) -> String {
    format!("http://{}/graphql", app.addr)
}

#[tokio::test]
async fn graphql_response_json_gets_the_specs_status_codes() {
    let app = TestApp::spawn().await;
    let post = |query: &str, accept: &str| {
        app.http.post(url(&app)).header("Accept", accept).json(&json!({ "query": query }))
    };
    for (query, status, code) in [
        ("{ me { role } }", 200, None),
        ("{ me { role ", 400, Some("BAD_USER_INPUT")), // does not parse
        ("{ noSuchField }", 400, Some("BAD_USER_INPUT")), // does not validate
        ("{ clients { totalCount } }", 400, Some("BAD_USER_INPUT")), // hidden from the public: unknown
        ("{ service(id: \"0190c5a6-0000-7000-8000-000000000000\") { name } }", 200, Some("NOT_FOUND")), // executed
    ] {
        let (got, headers, body) = send(post(query, GRAPHQL_RESPONSE)).await;
        assert_eq!(got, status, "{query}: {body}");
        assert_eq!(headers["content-type"], GRAPHQL_RESPONSE);
        assert_eq!(codes(&body).first().map(String::as_str), code, "{query}: {body}");
        assert_eq!(headers["cache-control"], "no-store", "personal data is never cached");
        assert!(headers.contains_key("x-request-id"));
        if status == 400 {
            assert!(body.get("data").is_none(), "a request error has no data entry at all: {body}");
        }
        // The older application/json answers a GraphQL error with 200, as the spec says.
        let (got, headers, _) = send(post(query, "application/json")).await;
        assert_eq!((got, headers["content-type"].to_str().unwrap()), (200, "application/json"), "{query}");
    }
    // Not a GraphQL request at all: 400 whatever the format, 415 for a foreign media type.
    let (got, _, body) =
        send(app.http.post(url(&app)).header("Content-Type", "application/json").body("[1,")).await;
    assert_eq!((got, codes(&body)), (400, vec!["BAD_USER_INPUT".to_owned()]));
    let (got, _, _) = send(app.http.post(url(&app)).header("Content-Type", "text/csv").body("a,b")).await;
    assert_eq!(got, 415);
    // application/graphql bodies are read too.
    let (got, _, body) =
        send(app.http.post(url(&app)).header("Content-Type", "application/graphql").body("{ me { role } }"))
            .await;
    assert_eq!((got, body["data"]["me"]["role"].as_str()), (200, Some("PUBLIC")), "{body}");
}

/// A POST with no `Accept` header at all, which reqwest cannot send (it adds `Accept: */*`):
/// HTTP/1.1 by hand. Status, content type and JSON body.
async fn post_without_accept(app: &TestApp, query: &str) -> (u16, String, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = json!({ "query": query }).to_string();
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.expect("the server listens");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let content_type = head
        .lines()
        .find_map(|line| line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("content-type")))
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default();
    (status, content_type, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// The spec's SHOULDs: `*/*` or no `Accept` at all gets `application/json`; graphql-response+json
/// only when the client names it.
#[tokio::test]
async fn any_or_no_accept_gets_application_json() {
    let app = TestApp::spawn().await;
    let parses = "{ me { role } }";
    let does_not_parse = "{ me { role ";
    // No Accept: application/json, and so 200 for a document that does not parse too.
    for query in [parses, does_not_parse] {
        let (status, content_type, body) = post_without_accept(&app, query).await;
        assert_eq!((status, content_type.as_str()), (200, "application/json"), "no Accept, {query}: {body}");
        assert!(body["errors"].is_array() || body["data"]["me"]["role"] == "PUBLIC", "{body}");
    }
    for (accept, expected) in [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("text/html, */*;q=0.8", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json;q=0.9, */*;q=0.8, application/graphql-response+json", GRAPHQL_RESPONSE),
    ] {
        for query in [parses, does_not_parse] {
            let request = app.http.post(url(&app)).header("Accept", accept).json(&json!({ "query": query }));
            let (status, headers, body) = send(request).await;
            assert_eq!(headers["content-type"], expected, "Accept: {accept}, {query}: {body}");
            // application/json answers a document that does not parse with 200.
            let status_expected = if query == parses || expected == "application/json" { 200 } else { 400 };
            assert_eq!(status, status_expected, "Accept: {accept}, {query}: {body}");
        }
    }
}

/// With graphql-response+json, a request that does not parse, validate or coerce its variables
/// has no `data` entry at all (not `"data": null`): it never executed.
#[tokio::test]
async fn request_errors_have_no_data_entry_with_graphql_response_json() {
    let app = TestApp::spawn().await;
    for (what, request, status) in [
        ("does not parse", json!({ "query": "{ me { role " }), 400),
        ("does not validate", json!({ "query": "{ noSuchField }" }), 400),
        ("variables", json!({ "query": "query($n: Int!) { me { role } }", "variables": { "n": "x" } }), 400),
        ("no such operation", json!({ "query": "query A { me { role } }", "operationName": "B" }), 400),
        ("hidden from the caller's role", json!({ "query": "{ clients { totalCount } }" }), 400),
        (
            "a field error",
            json!({ "query": "{ service(id: \"0190c5a6-0000-7000-8000-000000000000\") { name } }" }),
            200,
        ),
    ] {
        let post = app.http.post(url(&app)).header("Accept", GRAPHQL_RESPONSE).json(&request);
        let (got, _, body) = send(post).await;
        assert_eq!(got, status, "{what}: {body}");
        assert!(!codes(&body).is_empty(), "{what}: {body}");
        if status == 400 {
            assert!(body.get("data").is_none(), "{what}: a request error has no data entry: {body}");
        } else {
            assert!(body.get("data").is_some(), "{what}: an executed request has data: {body}");
        }
    }
}

#[tokio::test]
async fn queries_run_over_get_and_mutations_are_405() {
    let app = TestApp::spawn().await;
    let token = app.token(Who::Intake).await.unwrap();
    let get = |query: &str| {
        app.http
            .get(url(&app))
            .bearer_auth(&token)
            .header("Accept", GRAPHQL_RESPONSE)
            .query(&[("query", query)])
    };
    let (status, _, body) = send(get("{ me { role } }")).await;
    assert_eq!((status, body["data"]["me"]["role"].as_str()), (200, Some("INTAKE")), "{body}");
    let mutation = r#"mutation { registerClient(input: { givenName: "Get", familyName: "Niet" }) { id } }"#;
    let (status, headers, body) = send(get(mutation)).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(headers["allow"], "POST");
    // Variables and an operation name travel in the query string as JSON and text.
    let named = "query A { me { role } } mutation B { registerClient(input: { givenName: \"x\", familyName: \"y\" }) { id } }";
    let request =
        app.http.get(url(&app)).bearer_auth(&token).query(&[("query", named), ("operationName", "A")]);
    let (status, _, body) = send(request).await;
    assert_eq!(status, 200, "{body}");
    let request =
        app.http.get(url(&app)).bearer_auth(&token).query(&[("query", named), ("operationName", "B")]);
    assert_eq!(send(request).await.0, 405);
    use entities::client;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let made =
        client::Entity::find().filter(client::Column::GivenName.is_in(["Get", "x"])).count(&app.db.conn);
    assert_eq!(made.await.unwrap(), 0, "nothing was written over GET");
}

#[tokio::test]
async fn large_answers_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let query = "{ services(first: 100) { edges { node { name description } } } }";
    let response = app
        .http
        .post(url(&app))
        .header("Accept-Encoding", "gzip")
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.bytes().await.unwrap();
    assert_eq!(&compressed[..2], &[0x1f, 0x8b], "a gzip stream");
    let plain = app.http.post(url(&app)).json(&json!({ "query": query })).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain.bytes().await.unwrap().len() > compressed.len() * 2);
}

#[tokio::test]
async fn cors_lets_the_configured_dashboard_origin_in_and_no_other() {
    let app = TestApp::spawn_with(|config| {
        config.cors_origins = vec!["https://dashboard.welzijnshuis.test".into()]
    })
    .await;
    let preflight = |origin: &str| {
        app.http
            .request(reqwest::Method::OPTIONS, url(&app))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://dashboard.welzijnshuis.test").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://dashboard.welzijnshuis.test");
    assert!(allowed.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let response = app
        .http
        .post(url(&app))
        .header("Origin", "https://dashboard.welzijnshuis.test")
        .json(&json!({ "query": "{ me { role } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "https://dashboard.welzijnshuis.test");
    assert!(response.headers()["access-control-expose-headers"].to_str().unwrap().contains("x-request-id"));
}

#[tokio::test]
async fn metrics_count_requests_by_operation_and_outcome() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.post_as(Who::Caw, crate::helpers::INBOX_QUERY, json!({})).await;
    }
    app.post(None, "query Mine { clients { totalCount } }", json!({})).await;
    app.post(None, "{ nope }", json!({})).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .to_owned()
    };
    let inbox = line("welzijnshuis_graphql_requests_total{operation=\"Inbox\"");
    assert!(inbox.ends_with(" 3"), "{inbox}");
    // A document refused before it ran names no operation: the caller's name is not believed.
    line("welzijnshuis_graphql_requests_total{operation=\"anonymous\",outcome=\"BAD_USER_INPUT\"}");
    let count: u64 = line("welzijnshuis_graphql_request_duration_seconds_count")
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(count, 5);
    // Statements per request: the three inboxes ran the same handful each.
    let sum: f64 =
        line("welzijnshuis_graphql_request_sql_statements_sum").rsplit(' ').next().unwrap().parse().unwrap();
    assert!((3.0 * 5.0..=3.0 * 16.0 + 10.0).contains(&sum), "{sum}");
    for gauge in ["welzijnshuis_db_pool_connections{state=\"idle\"}", "welzijnshuis_open_subscriptions"] {
        line(gauge);
    }
    line("welzijnshuis_sql_statements_total");
}

/// The keys of an object in the raw JSON text, in the order they appear (the tests' `Value`
/// sorts them, so the order is read from the text).
fn keys_in_text(text: &str, keys: &[&str]) -> Vec<usize> {
    keys.iter().map(|k| text.find(&format!("\"{k}\":")).unwrap_or_else(|| panic!("{k} in {text}"))).collect()
}

#[tokio::test]
async fn every_object_lists_its_fields_in_selection_order_with_refused_fields_as_null() {
    let app = crate::helpers::TestApp::spawn().await;
    let token = app.token(crate::helpers::Who::Caw).await.unwrap();
    // Not alphabetical, with an alias, a fragment and consent-gated fields in between (some come
    // back null with FORBIDDEN); every referral of the page must follow the selection.
    let query = "{ referrals(first: 20) { totalCount edges { node { zStatus: status ...R id
        client { phone id givenName } createdAt } } } }
        fragment R on Referral { reason lifeDomain }";
    let response = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "some client fields are refused: {text}"
    );
    let data = &text[..text.find("\"errors\"").unwrap_or(text.len())];
    let nodes: Vec<&str> = data.split("{\"zStatus\":").skip(1).collect();
    assert_eq!(nodes.len(), body["data"]["referrals"]["edges"].as_array().unwrap().len(), "{text}");
    for node in nodes {
        let node = format!("{{\"zStatus\":{node}");
        let order = keys_in_text(&node, &["zStatus", "reason", "lifeDomain", "id", "client", "createdAt"]);
        assert!(order.windows(2).all(|w| w[0] < w[1]), "out of order: {node}");
        let client = &node[node.find("\"client\":").unwrap()..];
        let order = keys_in_text(client, &["phone", "id", "givenName"]);
        assert!(order.windows(2).all(|w| w[0] < w[1]), "client out of order: {client}");
    }
    // And the top of the page before its edges.
    let order = keys_in_text(&text, &["referrals", "totalCount", "edges"]);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
}

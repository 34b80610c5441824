//! The edges hold: no request, connection or header can crash, exhaust or blind the service.
//! HTTP semantics (`HEAD`, `/readyz`), what `/metrics` lets callers write, and the bounds on
//! connections: header, body and idle timeouts, and caps a flood cannot lock everyone out with.

use entities::client;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::helpers::{TestApp, Who, test_config};

const REGISTER: &str =
    r#"mutation { registerClient(input: { givenName: "Kop", familyName: "Loos" }) { id } }"#;

async fn clients(app: &TestApp) -> u64 {
    client::Entity::find().count(&app.db.conn).await.unwrap()
}

#[tokio::test]
async fn head_never_runs_a_mutation() {
    let app = TestApp::spawn().await;
    let token = app.token(Who::Intake).await.unwrap();
    let before = clients(&app).await;
    let url = format!("http://{}/graphql", app.addr);
    // A mutation in the query string, as a GET would carry it: refused as GET refuses it.
    let response =
        app.http.head(&url).bearer_auth(&token).query(&[("query", REGISTER)]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405, "HEAD is GET without a body: no mutation");
    assert_eq!(response.headers()["allow"], "POST");
    // In a JSON body, as a POST would carry it: HEAD reads its request from the query string, as
    // GET does, so there is no request at all.
    let response = app
        .http
        .head(&url)
        .bearer_auth(&token)
        .header("Accept", "application/graphql-response+json")
        .json(&json!({ "query": REGISTER }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "a HEAD's body is not a request");
    assert_eq!(clients(&app).await, before, "no client was registered");
    // A query over HEAD answers as GET would (without the body).
    let response = app.http.head(&url).query(&[("query", "{ me { role } }")]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn readyz_checks_the_database_at_most_once_a_second() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let before = app.db.statements();
    for _ in 0..20 {
        assert_eq!(app.get("/readyz").await.status(), 200);
    }
    let ran = app.db.statements() - before;
    assert!(ran <= 1, "20 hits within a second ran {ran} database checks");
    // After a second, the next hit checks again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let before = app.db.statements();
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.db.statements() - before, 1, "a stale check is run again");
}

/// Checks a scrape line by line as a Prometheus/OpenMetrics parser reads it: comments, samples
/// `name{label="value",…} number`, label values with only `\\`, `\"` and `\n` escapes, and one
/// `# EOF` that ends it.
fn assert_parseable(text: &str) {
    let body = text.strip_suffix("# EOF\n").unwrap_or_else(|| panic!("no final # EOF:\n{text}"));
    let is_name = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    for line in body.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap_or("");
            assert!(["HELP", "TYPE", "UNIT"].contains(&kind), "a stray comment line: {line:?}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line:?}"));
        assert!(value.parse::<f64>().is_ok(), "not a number in {line:?}");
        let Some((name, labels)) = series.split_once('{') else {
            assert!(is_name(series), "not a metric name: {line:?}");
            continue;
        };
        assert!(is_name(name), "not a metric name: {line:?}");
        let mut rest = labels.strip_suffix('}').unwrap_or_else(|| panic!("labels not closed: {line:?}"));
        while !rest.is_empty() {
            let (label, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("a bad label in {line:?}"));
            assert!(is_name(label), "not a label name {label:?} in {line:?}");
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        let escaped = chars.next().map(|(_, c)| c);
                        assert!(matches!(escaped, Some('\\' | '"' | 'n')), "a bad escape in {line:?}");
                    }
                    Some((at, '"')) => break at,
                    Some(_) => {}
                    None => panic!("a label value not closed in {line:?}"),
                }
            };
            rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
        }
    }
}

/// The operation labels of `welzijnshuis_graphql_requests_total`.
fn operation_labels(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("welzijnshuis_graphql_requests_total{operation=\""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn operation_names_cannot_write_into_metrics() {
    let app = TestApp::spawn().await;
    let forged = [
        "x\"} 1\n# EOF\n",
        "Forged\nwelzijnshuis_graphql_requests_total{operation=\"Inbox\",outcome=\"ok\"} 1000000",
        "quote\"d",
        "# EOF",
        "with space",
    ];
    let url = format!("http://{}/graphql", app.addr);
    for name in forged {
        // Named by the caller over a document that has no such operation (it is anonymous) …
        let body = json!({ "query": "{ me { role } }", "operationName": name });
        app.http.post(&url).json(&body).send().await.unwrap();
        // … over GET …
        let query = [("query", "{ me { role } }"), ("operationName", name)];
        app.http.get(&url).query(&query).send().await.unwrap();
        // … and over the WebSocket.
        let socket = crate::subscriptions::connect(&app.addr.to_string(), None).await;
        let mut socket = socket.unwrap();
        let message = json!({ "id": "1", "type": "subscribe",
            "payload": { "query": "{ me { role } }", "operationName": name } });
        use futures_util::SinkExt;
        socket.send(tokio_tungstenite::tungstenite::Message::text(message.to_string())).await.unwrap();
        crate::subscriptions::next_message(&mut socket, std::time::Duration::from_secs(10)).await.unwrap();
    }
    // A real named operation is still counted under its name.
    app.post(None, "query Kaart { services(first: 1) { totalCount } }", json!({})).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_parseable(&text);
    let before_the_end = text.strip_suffix("# EOF\n").unwrap();
    for name in forged {
        assert!(!before_the_end.contains(name), "{name:?} reached /metrics:\n{text}");
    }
    let labels = operation_labels(&text);
    assert!(labels.contains("Kaart"), "{labels:?}");
    for label in &labels {
        let mut chars = label.chars();
        let graphql_name = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        assert!(graphql_name, "{label:?} is not a GraphQL name");
    }
}

#[tokio::test]
async fn a_flood_of_operation_names_does_not_take_a_partners_place_in_metrics() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let url = format!("http://{}/graphql", app.addr);
    for n in 0..300 {
        let body = json!({ "query": format!("query Flood{n} {{ me {{ role }} }}") });
        let response = app.http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let (status, body) =
        app.post_as(Who::Caw, "query PartnerInbox { referrals(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_parseable(&text);
    let labels = operation_labels(&text);
    assert!(labels.contains("PartnerInbox"), "the partner's operation has its own series: {labels:?}");
    let flood = labels.iter().filter(|l| l.starts_with("Flood")).count();
    assert!(flood <= 16, "one public caller took {flood} names");
    assert!(labels.contains("other"), "the rest of the flood is counted, as other: {labels:?}");
}

#[tokio::test]
async fn metrics_can_be_served_on_an_address_of_their_own() {
    let app = TestApp::spawn().await;
    let mut config = test_config(&app.database.url);
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let db = welzijnshuis::db::Database::connect(&app.database.url).await.unwrap();
    let service = welzijnshuis::startup::Application::with_database(&config, db).await.unwrap();
    let (addr, metrics_addr) = (service.local_addr(), service.metrics_addr().expect("a metrics address"));
    let server = tokio::spawn(service.run_until(std::future::pending()));
    let get = |addr: std::net::SocketAddr, path: &'static str| {
        let http = app.http.clone();
        async move { http.get(format!("http://{addr}{path}")).send().await.unwrap() }
    };
    assert_eq!(get(addr, "/healthz").await.status(), 200);
    assert_eq!(get(addr, "/metrics").await.status(), 404, "not on the public address");
    let metrics = get(metrics_addr, "/metrics").await;
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("welzijnshuis_sql_statements_total"));
    assert_eq!(get(metrics_addr, "/graphql").await.status(), 404, "only the metrics there");
    server.abort();
}

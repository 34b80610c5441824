//! The edges hold: no request, connection or header can crash, exhaust or blind the service.
//! HTTP semantics (`HEAD`, `/readyz`), what `/metrics` lets callers write, and the bounds on
//! connections: header, body and idle timeouts, and caps a flood cannot lock everyone out with.

use entities::client;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::helpers::{TestApp, Who};

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

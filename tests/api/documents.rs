//! Documents by hash (automatic persisted queries), trusted documents for partner tokens, who may
//! introspect, and the cap on open subscriptions.

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, codes};

async fn post(app: &TestApp, who: Who, body: Value) -> (u16, Value) {
    let mut request = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .header("Accept", "application/graphql-response+json")
        .json(&body);
    if let Some(token) = app.token(who).await {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn automatic_persisted_queries_register_once_then_run_by_hash() {
    let app = TestApp::spawn().await;
    let query = "{ organisations(first: 3) { edges { node { name } } } }";
    let hash = schema::sha256(query);
    // Unknown hash: the message Apollo clients answer by sending the document.
    let (_, body) = post(&app, Who::Public, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
    assert_eq!(codes(&body), vec!["BAD_USER_INPUT"]);
    // A document with a hash that is not its own is refused and not registered.
    let (status, body) =
        post(&app, Who::Public, json!({ "query": "{ me { role } }", "extensions": persisted(&hash) })).await;
    assert_eq!((status, codes(&body)), (400, vec!["BAD_USER_INPUT".to_owned()]), "{body}");
    // Sent with its hash, it runs and is registered …
    let (status, with_document) =
        post(&app, Who::Public, json!({ "query": query, "extensions": persisted(&hash) })).await;
    assert_eq!(status, 200, "{with_document}");
    // … and from then on the hash alone runs it, over POST or GET.
    let (status, by_hash) = post(&app, Who::Caw, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!((status, &by_hash["data"]), (200, &with_document["data"]), "{by_hash}");
    let extensions = persisted(&hash).to_string();
    let response = app
        .http
        .get(format!("http://{}/graphql", app.addr))
        .query(&[("extensions", extensions.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let by_get: Value = response.json().await.unwrap();
    assert_eq!(by_get["data"], with_document["data"]);
}

#[tokio::test]
async fn with_trusted_documents_partners_run_only_those() {
    let inbox = crate::helpers::INBOX_QUERY;
    let file = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, json!({ format!("sha256:{}", schema::sha256(inbox)): inbox }).to_string()).unwrap();
    let path = file.clone();
    let app = TestApp::spawn_with(move |config| config.trusted_documents = Some(path)).await;
    std::fs::remove_file(&file).unwrap();
    let other = "{ referrals(first: 100) { edges { node { client { givenName familyName } } } } }";
    // A partner: the listed document, by text or by hash, and nothing else.
    let (status, body) = post(&app, Who::Caw, json!({ "query": inbox })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        post(&app, Who::Caw, json!({ "extensions": persisted(&schema::sha256(inbox)) })).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["referrals"]["totalCount"].as_u64().unwrap() > 0);
    for attempt in [
        json!({ "query": other }),
        json!({ "query": other, "extensions": persisted(&schema::sha256(other)) }),
        json!({ "query": format!("{inbox} ") }), // one byte off is another document
    ] {
        let (status, body) = post(&app, Who::Caw, attempt.clone()).await;
        assert_eq!((status, codes(&body)), (403, vec!["FORBIDDEN".to_owned()]), "{attempt}: {body}");
    }
    // Staff and the public are not bound by the list.
    assert_eq!(post(&app, Who::CaseWorker, json!({ "query": other })).await.0, 200);
    assert_eq!(post(&app, Who::Public, json!({ "query": "{ me { role } }" })).await.0, 200);
}

#[tokio::test]
async fn a_trusted_documents_file_with_a_wrong_hash_stops_the_start() {
    let file = std::env::temp_dir().join(format!("trusted-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&file, json!({ schema::sha256("{ a }"): "{ b }" }).to_string()).unwrap();
    let database = crate::helpers::TestDatabase::create().await;
    let mut config = crate::helpers::test_config(&database.url);
    config.trusted_documents = Some(file.clone());
    let db = welzijnshuis::db::Database::connect(&database.url).await.unwrap();
    let built = welzijnshuis::startup::Application::with_database(&config, db).await;
    std::fs::remove_file(&file).unwrap();
    let err = built.err().expect("refused").to_string();
    assert!(err.contains("another SHA-256"), "{err}");
}

#[tokio::test]
async fn introspection_can_be_kept_to_staff() {
    let app =
        TestApp::spawn_with(|config| config.introspection = welzijnshuis::config::Introspection::Staff).await;
    let introspect = json!({ "query": "{ __schema { queryType { name } } }" });
    for who in [Who::Admin, Who::Intake, Who::CaseWorker, Who::Analyst] {
        let (status, body) = post(&app, who, introspect.clone()).await;
        assert_eq!(
            (status, &body["data"]["__schema"]["queryType"]["name"]),
            (200, &json!("Query")),
            "{who:?}"
        );
    }
    for who in [Who::Public, Who::Caw, Who::Dyzo] {
        let (status, body) = post(&app, who, introspect.clone()).await;
        assert_eq!(status, 403, "{who:?}: {body}");
        assert_eq!(codes(&body), vec!["FORBIDDEN"], "{who:?}: {body}");
        // Ordinary queries still run.
        assert_eq!(post(&app, who, json!({ "query": "{ me { role } }" })).await.0, 200);
    }
    let app =
        TestApp::spawn_with(|config| config.introspection = welzijnshuis::config::Introspection::Off).await;
    assert_eq!(post(&app, Who::Admin, introspect).await.0, 403);
}

#[tokio::test]
async fn the_public_cannot_flood_out_what_partners_registered() {
    // Rate limits are not what this tests.
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let inbox = "query Inbox { referrals(first: 3) { totalCount } }";
    let hash = schema::sha256(inbox);
    let (status, _) = post(&app, Who::Caw, json!({ "query": inbox, "extensions": persisted(&hash) })).await;
    assert_eq!(status, 200);
    // Over a thousand public documents, and megabytes of them (each within the body limit).
    for i in 0..1_100 {
        let query = format!("query Q{i} {{ organisations(first: 1) {{ totalCount }} }}");
        post(&app, Who::Public, json!({ "query": query, "extensions": persisted(&schema::sha256(&query)) }))
            .await;
    }
    for i in 0..60 {
        let query =
            format!("query Big{i} {{ organisations(first: 1) {{ totalCount }} }} #{}", "x".repeat(90_000));
        post(&app, Who::Public, json!({ "query": query, "extensions": persisted(&schema::sha256(&query)) }))
            .await;
    }
    let (status, body) = post(&app, Who::Caw, json!({ "extensions": persisted(&hash) })).await;
    assert_eq!(status, 200, "the partner's document is still known: {body}");
    assert!(body["data"]["referrals"]["totalCount"].is_number());
    // A document that names what the caller cannot see is not registered at all.
    let hidden = "{ auditLog { totalCount } }";
    let hidden_hash = schema::sha256(hidden);
    post(&app, Who::Public, json!({ "query": hidden, "extensions": persisted(&hidden_hash) })).await;
    let (_, body) = post(&app, Who::Admin, json!({ "extensions": persisted(&hidden_hash) })).await;
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{body}");
}

#[tokio::test]
async fn a_persisted_document_is_known_only_to_its_own_audience_and_get_never_runs_a_mutation() {
    let app = TestApp::spawn().await;
    // CAW registers a search and a mutation (which fails harmlessly: no such appointment).
    let search = "query CawSearch { referrals(first: 1) { totalCount } }";
    let cancel = "mutation Cancel { cancelAppointment(id: \"0190c5a6-0000-7000-8000-000000000000\") { id } }";
    for document in [search, cancel] {
        post(
            &app,
            Who::Caw,
            json!({ "query": document, "extensions": persisted(&schema::sha256(document)) }),
        )
        .await;
    }
    // Another organisation and the public cannot tell that CAW ran them.
    for who in [Who::Public, Who::Pension] {
        let (_, body) = post(&app, who, json!({ "extensions": persisted(&schema::sha256(search)) })).await;
        assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound", "{who:?}: {body}");
    }
    let (status, _) = post(&app, Who::Caw, json!({ "extensions": persisted(&schema::sha256(search)) })).await;
    assert_eq!(status, 200, "CAW's own document runs by hash");
    // A mutation by hash over GET is refused, whoever knows the hash.
    let extensions = persisted(&schema::sha256(cancel)).to_string();
    let response = app
        .http
        .get(format!("http://{}/graphql", app.addr))
        .query(&[("extensions", extensions.as_str())])
        .bearer_auth(app.token(Who::Caw).await.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");
}

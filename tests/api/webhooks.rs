//! Webhooks end to end: a receiver started by the test on loopback, the real server delivering
//! to it. Signatures are checked with the Standard Webhooks reference implementation.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use entities::{ReferralStatus, referral};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;
use welzijnshuis::webhooks::{AllowHttp, RetrySchedule};

use crate::helpers::{TestApp, Who, codes};

/// What the receiver does with the next request.
#[derive(Clone, Copy, Debug)]
enum Reply {
    Status(u16),
    /// Answers 200 only after this long (the server should have given up by then).
    Slow(Duration),
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<VecDeque<Reply>>>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    /// Serves on a loopback port of its own until the test ends; answers 200 unless scripted.
    async fn start(script: &[Reply]) -> (Receiver, SocketAddr) {
        let receiver = Receiver::default();
        receiver.script.lock().unwrap().extend(script.iter().copied());
        let app =
            axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        (receiver, addr)
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    receiver.got.lock().unwrap().push(Received { headers, body });
    let reply = receiver.script.lock().unwrap().pop_front();
    match reply {
        Some(Reply::Status(code)) => StatusCode::from_u16(code).unwrap(),
        Some(Reply::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK
        }
        None => StatusCode::OK,
    }
}

/// A server that delivers quickly: polls often, retries after 100 ms, gives up on a receiver
/// after 400 ms, and calls `http://127.0.0.1`.
async fn spawn() -> TestApp {
    TestApp::spawn_with(|config| {
        config.webhooks.allow_http = AllowHttp::Loopback;
        config.webhooks.poll_ms = 25;
        config.webhooks.timeout_ms = 400;
        config.webhooks.retry_schedule = RetrySchedule::parse("100ms,100ms,100ms").unwrap();
    })
    .await
}

/// Waits (at most 20 s) until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

const CREATE: &str = "mutation($input: WebhookInput!) {
    createWebhook(input: $input) { secret webhook { id url events active organisation { id } } } }";

/// Registers an endpoint for `who`'s organisation; returns its id and secret.
async fn register(app: &TestApp, who: Who, url: &str, events: &[&str]) -> (String, String) {
    let org = app.user(who).await.unwrap().organisation_id;
    let response = app
        .query(who, CREATE, json!({ "input": { "organisationId": org, "url": url, "events": events } }))
        .await;
    let created = &response["data"]["createWebhook"];
    assert!(created.is_object(), "{response}");
    (created["webhook"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
}

/// A referral to `who`'s organisation, still REQUESTED.
async fn requested_referral_to(app: &TestApp, who: Who) -> referral::Model {
    let org = app.user(who).await.unwrap().organisation_id;
    referral::Entity::find()
        .filter(referral::Column::RecipientId.eq(org))
        .filter(referral::Column::Status.eq(ReferralStatus::Requested))
        .order_by_asc(referral::Column::Id)
        .one(&app.db.conn)
        .await
        .unwrap()
        .expect("the demo has a REQUESTED referral to every partner")
}

async fn change_status(app: &TestApp, who: Who, referral: Uuid, status: &str, version: i32) {
    let response = app
        .query(
            who,
            "mutation($id: ID!, $status: ReferralStatus!, $v: Int!) {
                changeReferralStatus(id: $id, status: $status, expectedVersion: $v) { version } }",
            json!({ "id": referral, "status": status, "v": version }),
        )
        .await;
    assert_eq!(response["data"]["changeReferralStatus"]["version"], version + 1, "{response}");
}

const DELIVERIES: &str = "query($id: ID!) { webhookDeliveries(webhookId: $id, first: 50) { totalCount
    edges { node { id eventType attempts status lastStatusCode deliveredAt payload
                   history { statusCode latencyMs error } } } } }";

async fn deliveries(app: &TestApp, who: Who, webhook: &str) -> Vec<Value> {
    let response = app.query(who, DELIVERIES, json!({ "id": webhook })).await;
    let edges = response["data"]["webhookDeliveries"]["edges"].as_array().cloned();
    edges.unwrap_or_else(|| panic!("{response}")).into_iter().map(|e| e["node"].clone()).collect()
}

fn verify(secret: &str, received: &Received) {
    let reference = standardwebhooks::Webhook::new(secret).expect("a Standard Webhooks secret");
    reference
        .verify(received.body.as_bytes(), &received.headers)
        .unwrap_or_else(|e| panic!("the signature does not verify: {e:?}"));
}

fn body(received: &Received) -> Value {
    serde_json::from_str(&received.body).expect("a JSON body")
}

#[tokio::test]
async fn a_partner_receives_every_event_of_its_referrals_signed_in_order_and_without_personal_data() {
    let app = spawn().await;
    let (receiver, addr) = Receiver::start(&[]).await;
    let (webhook, secret) =
        register(&app, Who::Caw, &format!("http://{addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;
    // Another partner's endpoint hears nothing of the CAW's referrals.
    let (other_receiver, other_addr) = Receiver::start(&[]).await;
    register(&app, Who::Pension, &format!("http://{other_addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;

    let referral = requested_referral_to(&app, Who::Caw).await;
    change_status(&app, Who::Caw, referral.id, "RECEIVED", referral.version).await;
    change_status(&app, Who::Caw, referral.id, "ACCEPTED", referral.version + 1).await;
    change_status(&app, Who::Caw, referral.id, "IN_PROGRESS", referral.version + 2).await;
    eventually("three events arrived", || async { receiver.got().len() >= 3 }).await;

    let got = receiver.got();
    assert_eq!(got.len(), 3, "each event once");
    let org = app.user(Who::Caw).await.unwrap().organisation_id;
    let mut ids = Vec::new();
    for (received, (status, version)) in got.iter().zip(
        [("RECEIVED", 2), ("ACCEPTED", 3), ("IN_PROGRESS", 4)].map(|(s, v)| (s, referral.version + v - 1)),
    ) {
        verify(&secret, received);
        let body = body(received);
        assert_eq!(body["type"], "referral.status_changed");
        assert_eq!(body["data"]["referralId"], referral.id.to_string());
        assert_eq!(body["data"]["status"], status, "in order");
        assert_eq!(body["data"]["version"], version);
        assert_eq!(body["data"]["organisationId"], org.to_string());
        assert!(body["timestamp"].is_string());
        ids.push(received.headers["webhook-id"].to_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3, "a webhook-id per event");

    // No personal data: not a name of any client of the demo, nor the referral's reason.
    let clients = entities::client::Entity::find().all(&app.db.conn).await.unwrap();
    for received in &got {
        for client in &clients {
            for name in [&client.given_name, &client.family_name].into_iter().filter(|n| n.len() > 2) {
                assert!(!received.body.contains(name.as_str()), "a client's name in {}", received.body);
            }
        }
        assert!(!received.body.contains(&referral.reason));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(other_receiver.got().is_empty(), "another partner's endpoint heard the CAW's referral");

    let shown = deliveries(&app, Who::Caw, &webhook).await;
    assert_eq!(shown.len(), 3);
    assert!(
        shown.iter().all(|d| d["status"] == "DELIVERED" && d["attempts"] == 1 && d["lastStatusCode"] == 200)
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("welzijnshuis_webhook_deliveries_total{outcome=\"delivered\"} 3"), "{metrics}");
    assert!(metrics.contains("welzijnshuis_webhook_oldest_pending_seconds"), "{metrics}");
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_event_on_the_third_try_with_the_same_id() {
    let app = spawn().await;
    let (receiver, addr) = Receiver::start(&[Reply::Status(500), Reply::Status(503)]).await;
    let (webhook, secret) =
        register(&app, Who::Caw, &format!("http://{addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;
    let referral = requested_referral_to(&app, Who::Caw).await;
    change_status(&app, Who::Caw, referral.id, "RECEIVED", referral.version).await;
    eventually("the third try", || async { receiver.got().len() >= 3 }).await;
    eventually("the delivery is recorded", || async {
        deliveries(&app, Who::Caw, &webhook).await[0]["status"] == "DELIVERED"
    })
    .await;

    let got = receiver.got();
    let ids: Vec<&str> = got.iter().map(|r| r.headers["webhook-id"].to_str().unwrap()).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "every attempt carries the same webhook-id: {ids:?}");
    got.iter().for_each(|r| verify(&secret, r));
    let delivery = &deliveries(&app, Who::Caw, &webhook).await[0];
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["id"], ids[0]);
    let codes: Vec<&Value> =
        delivery["history"].as_array().unwrap().iter().map(|a| &a["statusCode"]).collect();
    assert_eq!(codes, [&json!(500), &json!(503), &json!(200)]);
}

#[tokio::test]
async fn a_410_gone_disables_the_endpoint_at_once() {
    let app = spawn().await;
    let (receiver, addr) = Receiver::start(&[Reply::Status(410)]).await;
    let (webhook, _) =
        register(&app, Who::Caw, &format!("http://{addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;
    let referral = requested_referral_to(&app, Who::Caw).await;
    change_status(&app, Who::Caw, referral.id, "RECEIVED", referral.version).await;
    eventually("the endpoint is disabled", || async {
        let response = app.query(Who::Caw, "{ webhooks { id active disabledReason } }", json!({})).await;
        response["data"]["webhooks"][0]["active"] == false
    })
    .await;
    let delivery = &deliveries(&app, Who::Caw, &webhook).await[0];
    assert_eq!(delivery["status"], "FAILED");
    assert_eq!(delivery["lastStatusCode"], 410);
    // A disabled endpoint gets no more events.
    change_status(&app, Who::Caw, referral.id, "ACCEPTED", referral.version + 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.got().len(), 1);
    assert_eq!(deliveries(&app, Who::Caw, &webhook).await.len(), 1);
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_is_retried() {
    let app = spawn().await;
    let (receiver, addr) = Receiver::start(&[Reply::Slow(Duration::from_secs(3))]).await;
    let (webhook, _) =
        register(&app, Who::Caw, &format!("http://{addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;
    let referral = requested_referral_to(&app, Who::Caw).await;
    change_status(&app, Who::Caw, referral.id, "RECEIVED", referral.version).await;
    eventually("delivered on the second try", || async {
        deliveries(&app, Who::Caw, &webhook).await[0]["status"] == "DELIVERED"
    })
    .await;
    let delivery = &deliveries(&app, Who::Caw, &webhook).await[0];
    assert_eq!(delivery["attempts"], 2);
    let first = &delivery["history"][0];
    assert_eq!(first["statusCode"], Value::Null);
    assert!(first["error"].as_str().unwrap().contains("no answer within 400 ms"), "{first}");
    assert_eq!(receiver.got().len(), 2);
}

#[tokio::test]
async fn during_a_secret_rotation_both_secrets_verify_and_an_endpoint_is_only_its_organisations() {
    let app = spawn().await;
    let (receiver, addr) = Receiver::start(&[]).await;
    let (webhook, old) =
        register(&app, Who::Caw, &format!("http://{addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;
    let rotated = app
        .query(
            Who::Caw,
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
            json!({ "id": webhook }),
        )
        .await;
    let first = rotated["data"]["rotateWebhookSecret"]["secret"].as_str().unwrap().to_owned();
    assert!(first.starts_with("whsec_") && first != old);
    // Rotated again (its answer lost, say): the newest secret signs, and the one the receiver
    // had before the first rotation still does until its grace ends.
    let again = app
        .query(
            Who::Caw,
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
            json!({ "id": webhook }),
        )
        .await;
    let new = again["data"]["rotateWebhookSecret"]["secret"].as_str().unwrap().to_owned();
    assert!(new != first && new != old);
    let referral = requested_referral_to(&app, Who::Caw).await;
    change_status(&app, Who::Caw, referral.id, "RECEIVED", referral.version).await;
    eventually("the event arrived", || async { !receiver.got().is_empty() }).await;
    let received = &receiver.got()[0];
    verify(&old, received);
    verify(&new, received);
    assert_eq!(received.headers["webhook-signature"].to_str().unwrap().split(' ').count(), 2);

    // Another partner neither sees nor manages the CAW's endpoint.
    let pension = app.query(Who::Pension, "{ webhooks { id } }", json!({})).await;
    assert_eq!(pension["data"]["webhooks"], json!([]), "{pension}");
    let deleted = app
        .query(Who::Pension, "mutation($id: ID!) { deleteWebhook(id: $id) { id } }", json!({ "id": webhook }))
        .await;
    assert_eq!(codes(&deleted), ["NOT_FOUND"]);
    let history = app.query(Who::Pension, DELIVERIES, json!({ "id": webhook })).await;
    assert_eq!(codes(&history), ["NOT_FOUND"]);
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let foreign = app
        .query(
            Who::Pension,
            CREATE,
            json!({ "input": { "organisationId": caw, "url": "https://example.org/hook", "events": ["REFERRAL_CREATED"] } }),
        )
        .await;
    assert_eq!(codes(&foreign), ["FORBIDDEN"]);
    // ADMIN sees every organisation's.
    let admin = app.query(Who::Admin, "{ webhooks { id } }", json!({})).await;
    assert_eq!(admin["data"]["webhooks"][0]["id"], webhook.as_str());
    // Roles without webhooks do not even see the field.
    for who in [Who::Client, Who::Analyst, Who::Public, Who::Intake] {
        let response = app.query(who, "{ webhooks { id } }", json!({})).await;
        assert!(response["data"].is_null() || response["data"]["webhooks"].is_null(), "{who:?}: {response}");
        assert!(!codes(&response).is_empty(), "{who:?}: {response}");
    }
}

#[tokio::test]
async fn endpoints_must_be_https_and_never_private_addresses() {
    let app = TestApp::spawn().await;
    let org = app.user(Who::Caw).await.unwrap().organisation_id;
    for url in [
        "http://example.org/hook",
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[64:ff9b:1::a00:1]/hook",
        "https://[64:ff9b::7f00:1]/hook",
        "https://[2002:7f00:1::]/hook",
        "https://[::ffff:0:127.0.0.1]/hook",
        "https://[fec0::1]/hook",
        "https://[100::1]/hook",
        "https://[2001::1]/hook",
        "https://[2001:db8::1]/hook",
        "https://192.88.99.1/hook",
        "https://user:pass@example.org/hook",
        "ftp://example.org/hook",
        "not a url",
    ] {
        let response = app
            .query(
                Who::Caw,
                CREATE,
                json!({ "input": { "organisationId": org, "url": url, "events": ["REFERRAL_CREATED"] } }),
            )
            .await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{url}: {response}");
    }
    let allowed = app
        .query(
            Who::Caw,
            CREATE,
            json!({ "input": { "organisationId": org, "url": "https://hooks.caw.example/in", "events": ["REFERRAL_CREATED"] } }),
        )
        .await;
    let secret = allowed["data"]["createWebhook"]["secret"].as_str().unwrap_or_else(|| panic!("{allowed}"));
    for public in
        ["https://[2a02:1800::1]/hook", "https://[64:ff9b::5db8:d822]/hook", "https://93.184.216.34/hook"]
    {
        let response = app
            .query(
                Who::Caw,
                CREATE,
                json!({ "input": { "organisationId": org, "url": public, "events": ["REFERRAL_CREATED"] } }),
            )
            .await;
        assert!(response["data"]["createWebhook"].is_object(), "{public}: {response}");
    }
    assert!(secret.starts_with("whsec_"));
    assert!(standardwebhooks::Webhook::new(secret).is_ok());
    // The secret is shown once: the endpoint's fields never hold it.
    let listed = app.query(Who::Caw, "{ webhooks { id url events active } }", json!({})).await;
    assert!(!listed.to_string().contains(&secret[6..]));
}

/// A database of its own with the demo network, for server processes of their own.
struct Processes {
    database: crate::helpers::TestDatabase,
    db: welzijnshuis::db::Database,
    tokens: welzijnshuis::auth::Tokens,
    http: reqwest::Client,
}

/// How the processes deliver: `http://127.0.0.1` allowed, polled often; an attempt may take 2 s
/// (so a lease lasts 7 s).
const PROCESS_ENV: &[(&str, &str)] = &[
    ("WELZIJNSHUIS_WEBHOOK_ALLOW_HTTP", "loopback"),
    ("WELZIJNSHUIS_WEBHOOK_POLL_MS", "25"),
    ("WELZIJNSHUIS_WEBHOOK_TIMEOUT_MS", "2000"),
    ("WELZIJNSHUIS_WEBHOOK_RETRY_SCHEDULE", "100ms,100ms,100ms"),
    ("WELZIJNSHUIS_RATE_LIMIT", "0"),
];

impl Processes {
    async fn new() -> Processes {
        let database = crate::helpers::TestDatabase::create().await;
        let db = welzijnshuis::db::Database::connect(&database.url).await.unwrap();
        db.migrate().await.unwrap();
        welzijnshuis::demo::load(&db.conn, chrono::Utc::now()).await.unwrap();
        let tokens = welzijnshuis::auth::Tokens::hs256(crate::helpers::SECRET.as_bytes());
        Processes { database, db, tokens, http: reqwest::Client::new() }
    }

    async fn start(&self) -> crate::helpers::ServerProcess {
        crate::helpers::ServerProcess::start(&self.database.url, PROCESS_ENV).await
    }

    async fn token(&self, email: &str) -> (String, Uuid) {
        let user = entities::user::Entity::find()
            .filter(entities::user::Column::Email.eq(email))
            .one(&self.db.conn)
            .await
            .unwrap()
            .unwrap();
        (self.tokens.issue(user.id, chrono::Duration::hours(1)).unwrap(), user.organisation_id)
    }

    async fn post(&self, addr: &str, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = crate::helpers::post_to(&self.http, addr, Some(token), query, variables).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn delivery_statuses(&self) -> Vec<(Uuid, entities::DeliveryStatus, i32)> {
        let rows = entities::webhook_delivery::Entity::find().all(&self.db.conn).await.unwrap();
        rows.into_iter().map(|d| (d.id, d.status, d.attempts)).collect()
    }
}

/// Registers an endpoint for the CAW through `addr`; returns its secret.
async fn register_through(processes: &Processes, addr: &str, url: &str) -> String {
    let (token, org) = processes.token("medewerker@caw.test").await;
    let response = processes
        .post(
            addr,
            &token,
            CREATE,
            json!({ "input": { "organisationId": org, "url": url, "events": ["REFERRAL_STATUS_CHANGED"] } }),
        )
        .await;
    response["data"]["createWebhook"]["secret"].as_str().unwrap_or_else(|| panic!("{response}")).to_owned()
}

#[tokio::test]
async fn kill_9_mid_delivery_then_a_restart_delivers_it_with_the_same_webhook_id() {
    let processes = Processes::new().await;
    // The first attempt hangs in the receiver while the server is killed.
    let (receiver, addr) = Receiver::start(&[Reply::Slow(Duration::from_secs(30))]).await;
    let first = processes.start().await;
    let secret = register_through(&processes, &first.addr, &format!("http://{addr}/hook")).await;
    let (token, org) = processes.token("medewerker@caw.test").await;
    let referral = referral::Entity::find()
        .filter(referral::Column::RecipientId.eq(org))
        .filter(referral::Column::Status.eq(ReferralStatus::Requested))
        .one(&processes.db.conn)
        .await
        .unwrap()
        .unwrap();
    let changed = processes
        .post(
            &first.addr,
            &token,
            "mutation($id: ID!, $v: Int!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: $v) { version } }",
            json!({ "id": referral.id, "v": referral.version }),
        )
        .await;
    assert!(changed["data"]["changeReferralStatus"].is_object(), "{changed}");
    eventually("the first attempt is under way", || async { !receiver.got().is_empty() }).await;
    first.signal("KILL");
    drop(first);

    let second = processes.start().await;
    eventually("the delivery is recorded delivered", || async {
        processes
            .delivery_statuses()
            .await
            .iter()
            .any(|(_, status, _)| *status == entities::DeliveryStatus::Delivered)
    })
    .await;
    let got = receiver.got();
    assert_eq!(got.len(), 2, "the killed attempt and the one after the restart");
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"], "the same webhook-id");
    verify(&secret, &got[1]);
    assert_eq!(processes.delivery_statuses().await.len(), 1);
    drop(second);
}

#[tokio::test]
async fn two_server_processes_on_one_database_deliver_each_event_exactly_once() {
    let processes = Processes::new().await;
    let (receiver, addr) = Receiver::start(&[]).await;
    let (one, two) = (processes.start().await, processes.start().await);
    let secret = register_through(&processes, &one.addr, &format!("http://{addr}/hook")).await;
    let (token, org) = processes.token("medewerker@caw.test").await;
    let referrals = referral::Entity::find()
        .filter(referral::Column::RecipientId.eq(org))
        .filter(referral::Column::Status.eq(ReferralStatus::Requested))
        .all(&processes.db.conn)
        .await
        .unwrap();
    assert!(referrals.len() >= 2, "the demo has REQUESTED referrals to the CAW");
    // Each referral moved along three steps, through both processes in turn.
    let mut events = 0;
    for (step, status) in ["RECEIVED", "ACCEPTED", "IN_PROGRESS"].into_iter().enumerate() {
        for (i, referral) in referrals.iter().enumerate() {
            let addr = if (i + step) % 2 == 0 { &one.addr } else { &two.addr };
            let changed = processes
                .post(
                    addr,
                    &token,
                    "mutation($id: ID!, $s: ReferralStatus!, $v: Int!) {
                        changeReferralStatus(id: $id, status: $s, expectedVersion: $v) { version } }",
                    json!({ "id": referral.id, "s": status, "v": referral.version + step as i32 }),
                )
                .await;
            assert!(changed["data"]["changeReferralStatus"].is_object(), "{changed}");
            events += 1;
        }
    }
    eventually("every event arrived", || async { receiver.got().len() >= events }).await;
    // Give a duplicate the time to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = receiver.got();
    let mut ids: Vec<String> =
        got.iter().map(|r| r.headers["webhook-id"].to_str().unwrap().to_owned()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(got.len(), events, "each event exactly once");
    assert_eq!(ids.len(), events);
    got.iter().for_each(|r| verify(&secret, r));
    // And in order per referral.
    for referral in &referrals {
        let versions: Vec<i64> = got
            .iter()
            .map(body)
            .filter(|b| b["data"]["referralId"] == referral.id.to_string())
            .map(|b| b["data"]["version"].as_i64().unwrap())
            .collect();
        let mut sorted = versions.clone();
        sorted.sort();
        assert_eq!(versions, sorted, "a referral's events in order");
        assert_eq!(versions.len(), 3);
    }
    assert!(
        processes
            .delivery_statuses()
            .await
            .iter()
            .all(|(_, s, a)| *s == entities::DeliveryStatus::Delivered && *a == 1)
    );
}

/// Books the first free slot of the CAW's office hours for `client` (as the intake desk);
/// returns the appointment's id.
async fn book_at_the_caw(app: &TestApp, client: &entities::client::Model) -> String {
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let from = chrono::Utc::now() + chrono::Duration::days(1);
    let slots = app
        .query(
            Who::Intake,
            "query($org: ID!, $from: DateTime!, $to: DateTime!) {
                officeHours(organisationId: $org, from: $from, to: $to) { startsAt free } }",
            json!({ "org": caw, "from": from, "to": from + chrono::Duration::days(21) }),
        )
        .await;
    let slot = slots["data"]["officeHours"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["free"] == true))
        .unwrap_or_else(|| panic!("a free slot of the CAW: {slots}"))["startsAt"]
        .clone();
    let booked = app
        .query(
            Who::Intake,
            "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }",
            json!({ "input": { "clientId": client.id, "organisationId": caw, "startsAt": slot } }),
        )
        .await;
    booked["data"]["bookAppointment"]["id"].as_str().unwrap_or_else(|| panic!("{booked}")).to_owned()
}

#[tokio::test]
async fn bookings_and_cancellations_reach_the_partner_whose_office_hours_they_are_and_redeliver_keeps_the_id()
{
    let app = spawn().await;
    let (receiver, addr) = Receiver::start(&[]).await;
    let (webhook, secret) = register(
        &app,
        Who::Caw,
        &format!("http://{addr}/hook"),
        &["APPOINTMENT_BOOKED", "APPOINTMENT_CANCELLED"],
    )
    .await;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let client = app.demo_client().await;
    let appointment = book_at_the_caw(&app, &client).await;
    let cancelled = app
        .query(
            Who::Intake,
            "mutation($id: ID!) { cancelAppointment(id: $id) { id } }",
            json!({ "id": appointment }),
        )
        .await;
    assert!(cancelled["data"]["cancelAppointment"].is_object(), "{cancelled}");
    eventually("both events arrived", || async { receiver.got().len() >= 2 }).await;

    let got = receiver.got();
    let kinds: Vec<Value> = got.iter().map(|r| body(r)["type"].clone()).collect();
    assert_eq!(kinds, [json!("appointment.booked"), json!("appointment.cancelled")]);
    for received in &got {
        verify(&secret, received);
        let data = &body(received)["data"];
        assert_eq!(data["appointmentId"], appointment.as_str());
        assert_eq!(data["organisationId"], caw.to_string());
        for name in [&client.given_name, &client.family_name] {
            assert!(!received.body.contains(name.as_str()), "the client's name in {}", received.body);
        }
    }

    // Sent again on request, with the same webhook-id.
    let first = got[0].headers["webhook-id"].to_str().unwrap().to_owned();
    eventually("the delivery is recorded", || async {
        deliveries(&app, Who::Caw, &webhook).await.iter().all(|d| d["status"] == "DELIVERED")
    })
    .await;
    let again = app
        .query(
            Who::Caw,
            "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id status attempts } }",
            json!({ "id": first }),
        )
        .await;
    assert_eq!(again["data"]["redeliverWebhook"]["status"], "PENDING", "{again}");
    eventually("the redelivery arrived", || async { receiver.got().len() >= 3 }).await;
    assert_eq!(receiver.got()[2].headers["webhook-id"].to_str().unwrap(), first);
    // Another partner cannot redeliver it.
    let foreign = app
        .query(
            Who::Pension,
            "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }",
            json!({ "id": first }),
        )
        .await;
    assert_eq!(codes(&foreign), ["NOT_FOUND"]);
}

#[tokio::test]
async fn erasing_a_client_cancels_their_appointments_ahead_and_tells_the_partner() {
    let app = spawn().await;
    let (receiver, addr) = Receiver::start(&[]).await;
    let (_, secret) =
        register(&app, Who::Caw, &format!("http://{addr}/hook"), &["APPOINTMENT_CANCELLED"]).await;
    let client = app.demo_client().await;
    let appointment = book_at_the_caw(&app, &client).await;
    let erased = app
        .query(
            Who::Admin,
            "mutation($id: ID!) { eraseClient(id: $id, reason: \"verzoek tot wissing\") { erasedAt } }",
            json!({ "id": client.id }),
        )
        .await;
    assert!(erased["data"]["eraseClient"]["erasedAt"].is_string(), "{erased}");
    eventually("the cancellation arrived", || async { !receiver.got().is_empty() }).await;
    let got = receiver.got();
    verify(&secret, &got[0]);
    let event = body(&got[0]);
    assert_eq!(event["type"], "appointment.cancelled");
    assert_eq!(event["data"]["appointmentId"], appointment.as_str());
    assert_eq!(event["data"]["status"], "CANCELLED");
}

#[tokio::test]
async fn a_host_name_is_resolved_at_every_delivery_and_a_private_answer_refused() {
    use welzijnshuis::webhooks::resolve;
    // A name accepted when registered can later point anywhere (DNS rebinding): each connection
    // resolves it again and keeps only addresses the rules allow. `localhost` stands in for a
    // name that now answers with a loopback address.
    let strict = resolvers::webhooks::UrlRules::default();
    let refused = resolve("localhost", &strict).await.expect_err("loopback refused");
    assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied, "{refused}");
    let loopback = resolvers::webhooks::UrlRules { allow_loopback: true, ..Default::default() };
    let found = resolve("localhost", &loopback).await.expect("loopback allowed by the operator");
    assert!(found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
    let listed =
        resolvers::webhooks::UrlRules { allowed_hosts: vec!["localhost".into()], ..Default::default() };
    assert!(resolve("localhost", &listed).await.is_ok(), "a listed host is exempt");
    // A name that does not exist fails in the same words: a partner reading the attempt's error
    // learns nothing about which names the house's network knows.
    let unknown = resolve("no-such-host.invalid", &strict).await.expect_err("no such name");
    let words = |e: &std::io::Error, host: &str| e.to_string().replace(host, "HOST");
    assert_eq!(words(&unknown, "no-such-host.invalid"), words(&refused, "localhost"));
}

#[tokio::test]
async fn a_page_of_deliveries_with_their_endpoint_and_attempts_costs_the_same_statements_whatever_its_size() {
    use sea_orm::{ActiveModelTrait, Set};
    let app = TestApp::spawn().await;
    let (webhook, _) = register(&app, Who::Caw, "https://hooks.caw.example/in", &["REFERRAL_CREATED"]).await;
    let webhook_id: Uuid = webhook.parse().unwrap();
    let now = chrono::Utc::now();
    for n in 0..40 {
        let delivery = entities::webhook_delivery::ActiveModel {
            id: Set(Uuid::now_v7()),
            webhook_id: Set(webhook_id),
            event_type: Set(entities::WebhookEventType::ReferralCreated),
            payload: Set("{}".into()),
            referral_id: Set(None),
            status: Set(entities::DeliveryStatus::Failed),
            attempts: Set(2),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            last_status_code: Set(Some(500)),
            delivered_at: Set(None),
            created_at: Set(now + chrono::Duration::milliseconds(n)),
        }
        .insert(&app.db.conn)
        .await
        .unwrap();
        for try_ in 0..2 {
            entities::webhook_attempt::ActiveModel {
                id: Set(Uuid::now_v7()),
                delivery_id: Set(delivery.id),
                at: Set(now + chrono::Duration::seconds(try_)),
                status_code: Set(Some(500)),
                latency_ms: Set(12),
                error: Set(None),
            }
            .insert(&app.db.conn)
            .await
            .unwrap();
        }
    }
    let query = "query($id: ID!, $first: Int) { webhookDeliveries(webhookId: $id, first: $first) {
        totalCount edges { node { id status webhook { url organisation { name } } history { statusCode } } } } }";
    let mut counts = Vec::new();
    for first in [2, 40] {
        let before = app.db.statements();
        let response = app.query(Who::Caw, query, json!({ "id": webhook, "first": first })).await;
        let edges =
            response["data"]["webhookDeliveries"]["edges"].as_array().unwrap_or_else(|| panic!("{response}"));
        assert_eq!(edges.len(), first as usize);
        assert!(edges.iter().all(|e| e["node"]["history"].as_array().unwrap().len() == 2), "{response}");
        counts.push(app.db.statements() - before);
    }
    assert_eq!(counts[0], counts[1], "statements for 2 and for 40 deliveries");
}

#[tokio::test]
async fn an_organisation_has_at_most_ten_endpoints_and_a_deactivated_one_receives_nothing() {
    let app = TestApp::spawn().await;
    for n in 0..10 {
        register(
            &app,
            Who::Woonclub,
            &format!("https://hooks.woonclub.example/{n}"),
            &["REFERRAL_STATUS_CHANGED"],
        )
        .await;
    }
    let org = app.user(Who::Woonclub).await.unwrap().organisation_id;
    let eleventh = app
        .query(
            Who::Woonclub,
            CREATE,
            json!({ "input": { "organisationId": org, "url": "https://hooks.woonclub.example/11", "events": ["REFERRAL_CREATED"] } }),
        )
        .await;
    assert_eq!(codes(&eleventh), ["CONFLICT"], "{eleventh}");
    let listed = app.query(Who::Woonclub, "{ webhooks { id } }", json!({})).await;
    assert_eq!(listed["data"]["webhooks"].as_array().map(Vec::len), Some(10), "{listed}");

    // Deactivated: no events are queued for it (no one of it can sign in to manage them).
    let deactivated = app
        .query(
            Who::Admin,
            "mutation($id: ID!) { deactivateOrganisation(id: $id) { active } }",
            json!({ "id": org }),
        )
        .await;
    assert_eq!(deactivated["data"]["deactivateOrganisation"]["active"], false, "{deactivated}");
    let referral = referral::Entity::find()
        .filter(referral::Column::RecipientId.eq(org))
        .filter(referral::Column::Status.eq(ReferralStatus::Requested))
        .one(&app.db.conn)
        .await
        .unwrap()
        .expect("a REQUESTED referral to the housing club");
    change_status(&app, Who::Intake, referral.id, "CANCELLED", referral.version).await;
    let queued = entities::webhook_delivery::Entity::find().all(&app.db.conn).await.unwrap();
    assert!(queued.is_empty(), "{queued:?}");
    // And ADMIN cannot switch its endpoints back on while it stays deactivated.
    let hooks = app
        .query(Who::Admin, "query($o: ID!) { webhooks(organisationId: $o) { id } }", json!({ "o": org }))
        .await;
    let updated = app
        .query(
            Who::Admin,
            "mutation($id: ID!, $o: ID!) { updateWebhook(id: $id, input: { organisationId: $o,
                url: \"https://hooks.woonclub.example/0\", events: [REFERRAL_CREATED] }) { id } }",
            json!({ "id": hooks["data"]["webhooks"][0]["id"], "o": org }),
        )
        .await;
    assert_eq!(codes(&updated), ["CONFLICT"], "{updated}");
}

/// A receiver that holds every request open for `hold`, counting how many it holds at once.
#[derive(Clone, Default)]
struct Hanging {
    open: Arc<std::sync::atomic::AtomicUsize>,
    most_open: Arc<std::sync::atomic::AtomicUsize>,
}

impl Hanging {
    async fn start(hold: Duration) -> (Hanging, SocketAddr) {
        use std::sync::atomic::Ordering::SeqCst;
        let hanging = Hanging::default();
        let state = hanging.clone();
        let app = axum::Router::new().route(
            "/{*path}",
            axum::routing::post(move || {
                let state = state.clone();
                async move {
                    let now = state.open.fetch_add(1, SeqCst) + 1;
                    state.most_open.fetch_max(now, SeqCst);
                    tokio::time::sleep(hold).await;
                    state.open.fetch_sub(1, SeqCst);
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        (hanging, addr)
    }
}

#[tokio::test]
async fn one_partners_hanging_endpoints_never_hold_up_another_partners_events() {
    use std::sync::atomic::Ordering::SeqCst;
    let app = TestApp::spawn_with(|config| {
        config.webhooks.allow_http = AllowHttp::Loopback;
        config.webhooks.poll_ms = 25;
        config.webhooks.timeout_ms = 5_000;
        config.webhooks.retry_schedule = RetrySchedule::parse("100ms").unwrap();
    })
    .await;
    // dyzo's ten endpoints hang until the timeout; referrals to dyzo queue ten deliveries
    // each, all older than the CAW's.
    let (hanging, slow) = Hanging::start(Duration::from_secs(10)).await;
    for n in 0..10 {
        register(&app, Who::Dyzo, &format!("http://{slow}/hang/{n}"), &["REFERRAL_STATUS_CHANGED"]).await;
    }
    let dyzo = app.user(Who::Dyzo).await.unwrap().organisation_id;
    let to_dyzo = referral::Entity::find()
        .filter(referral::Column::RecipientId.eq(dyzo))
        .filter(referral::Column::Status.eq(ReferralStatus::Requested))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert!(!to_dyzo.is_empty());
    for referral in to_dyzo.iter().take(3) {
        change_status(&app, Who::Dyzo, referral.id, "RECEIVED", referral.version).await;
    }
    eventually("dyzo's endpoints are being called", || async { hanging.open.load(SeqCst) > 0 }).await;

    let (receiver, addr) = Receiver::start(&[]).await;
    register(&app, Who::Caw, &format!("http://{addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;
    let referral = requested_referral_to(&app, Who::Caw).await;
    change_status(&app, Who::Caw, referral.id, "RECEIVED", referral.version).await;
    eventually("the CAW's event arrived", || async { !receiver.got().is_empty() }).await;
    // It came while dyzo's first attempts were still hanging: none of them has ended yet.
    let attempts = entities::webhook_attempt::Entity::find().all(&app.db.conn).await.unwrap();
    let timed_out: Vec<_> = attempts.iter().filter(|a| a.status_code.is_none()).collect();
    assert!(timed_out.is_empty(), "the CAW waited for dyzo's timeouts: {timed_out:?}");
    assert_eq!(attempts.len(), 1, "only the CAW's delivery ended: {attempts:?}");
    assert!(
        hanging.most_open.load(SeqCst) <= welzijnshuis::webhooks::PER_ORGANISATION,
        "dyzo had {} attempts in flight at once",
        hanging.most_open.load(SeqCst)
    );
}

#[tokio::test]
async fn with_every_slot_held_by_hanging_partners_another_partner_waits_for_one_attempt_not_the_backlog() {
    use std::sync::atomic::Ordering::SeqCst;
    let app = TestApp::spawn_with(|config| {
        config.webhooks.allow_http = AllowHttp::Loopback;
        config.webhooks.poll_ms = 25;
        config.webhooks.timeout_ms = 1_000;
        config.webhooks.retry_schedule = RetrySchedule::parse("100ms,100ms,100ms,100ms").unwrap();
        config.webhooks.disable_after = 1_000;
    })
    .await;
    // Four organisations (the house among them, through its ADMIN) with ten hanging endpoints
    // each, and three referrals from the house to each of the other three: 120 deliveries,
    // every one older than the housing club's, enough to hold all sixteen slots for eight
    // timeouts in a row.
    let (hanging, slow) = Hanging::start(Duration::from_secs(30)).await;
    for who in [Who::Admin, Who::Caw, Who::Pension, Who::Dyzo] {
        for n in 0..10 {
            register(&app, who, &format!("http://{slow}/hang/{who:?}/{n}"), &["REFERRAL_CREATED"]).await;
        }
    }
    let woonclub = app.user(Who::Woonclub).await.unwrap().organisation_id;
    let client = app.demo_client().await;
    for who in [Who::Caw, Who::Pension, Who::Dyzo] {
        let org = app.user(who).await.unwrap().organisation_id;
        let consent = app
            .query(
                Who::Intake,
                "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY] }) { id } }",
                json!({ "c": client.id, "o": org }),
            )
            .await;
        assert!(consent["data"]["recordConsent"].is_object(), "{consent}");
        for _ in 0..3 {
            let created = app
                .query(
                    Who::Intake,
                    "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o,
                        lifeDomain: FINANCES, reason: \"Doorverwijzing\" }) { id } }",
                    json!({ "c": client.id, "o": org }),
                )
                .await;
            assert!(created["data"]["createReferral"].is_object(), "{created}");
        }
    }
    eventually("every slot is held", || async { hanging.open.load(SeqCst) == 16 }).await;

    let (receiver, addr) = Receiver::start(&[]).await;
    register(&app, Who::Woonclub, &format!("http://{addr}/hook"), &["REFERRAL_STATUS_CHANGED"]).await;
    let referral = referral::Entity::find()
        .filter(referral::Column::RecipientId.eq(woonclub))
        .filter(referral::Column::Status.eq(ReferralStatus::Requested))
        .one(&app.db.conn)
        .await
        .unwrap()
        .expect("a REQUESTED referral to the housing club");
    change_status(&app, Who::Woonclub, referral.id, "RECEIVED", referral.version).await;
    eventually("the housing club's event arrived", || async { !receiver.got().is_empty() }).await;
    // It took the first slot that freed: at most one wave of sixteen attempts had timed out.
    let attempts = entities::webhook_attempt::Entity::find().all(&app.db.conn).await.unwrap();
    let timed_out = attempts.iter().filter(|a| a.status_code.is_none()).count();
    assert!(timed_out <= 16, "the housing club waited behind {timed_out} timed-out attempts");
}

//! referralEvents over graphql-transport-ws, against the real server: authenticated in
//! connection_init, filtered by the row policy, with fresh rights for every event, and heard by
//! every replica over one PostgreSQL database.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{ServerProcess, TestApp, Who, assert_ok, codes, post_to};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const EVENTS: &str = "subscription { referralEvents { fromStatus toStatus note referral { id status recipient { name } client { givenName } } } }";

/// Opens a graphql-transport-ws connection; returns the socket, or the server's refusal.
pub(crate) async fn connect(addr: &str, token: Option<&str>) -> Result<Socket, String> {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| e.to_string())?;
    let payload = token.map(|t| json!({ "Authorization": format!("Bearer {t}") })).unwrap_or(json!({}));
    socket
        .send(Message::text(json!({ "type": "connection_init", "payload": payload }).to_string()))
        .await
        .unwrap();
    match next_message(&mut socket, Duration::from_secs(10)).await {
        Some(message) if message["type"] == "connection_ack" => Ok(socket),
        other => Err(format!("{other:?}")),
    }
}

pub(crate) async fn subscribe(addr: &str, who_token: Option<&str>, id: &str) -> Socket {
    let mut socket = connect(addr, who_token).await.expect("connected");
    let message = json!({ "id": id, "type": "subscribe", "payload": { "query": EVENTS } });
    socket.send(Message::text(message.to_string())).await.unwrap();
    socket
}

/// The next protocol message (pings answered), or `None` on close or timeout.
pub(crate) async fn next_message(socket: &mut Socket, wait: Duration) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(wait, socket.next()).await.ok()??.ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).ok()?;
                if value["type"] == "ping" {
                    socket.send(Message::text(json!({ "type": "pong" }).to_string())).await.ok()?;
                    continue;
                }
                return Some(value);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// The payload of the next event delivered to a subscription, or `None` if none comes in time.
async fn next_event(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let message = next_message(socket, wait).await?;
    assert_eq!(message["type"], "next", "{message}");
    Some(message["payload"].clone())
}

const CREATE: &str = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }";

/// A demo client with an active consent for `partner` that includes IDENTITY.
pub(crate) async fn consented_client(app: &TestApp, partner: Who) -> (String, String) {
    use entities::consent;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let org = app.user(partner).await.unwrap().organisation_id;
    let consent = consent::Entity::find()
        .filter(consent::Column::RecipientId.eq(org))
        .filter(consent::Column::RevokedAt.is_null())
        .filter(consent::Column::ScopeIdentity.eq(true))
        .one(&app.db.conn)
        .await
        .unwrap()
        .expect("the demo has one");
    (consent.client_id.to_string(), consent.id.to_string())
}

pub(crate) async fn refer(app: &TestApp, partner: Who, domain: &str) -> String {
    let (client, _) = consented_client(app, partner).await;
    let org = app.user(partner).await.unwrap().organisation_id.to_string();
    let response = app
        .query(Who::Intake, CREATE, json!({ "input": { "clientId": client, "recipientId": org, "lifeDomain": domain, "reason": "Live" } }))
        .await;
    assert_ok(&response);
    response["data"]["createReferral"]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_partner_hears_the_events_of_its_own_referrals_only() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    let mut woonclub = subscribe(&addr, app.token(Who::Woonclub).await.as_deref(), "w").await;
    let mut dyzo = subscribe(&addr, app.token(Who::Dyzo).await.as_deref(), "d").await;
    let mut staff = subscribe(&addr, app.token(Who::CaseWorker).await.as_deref(), "s").await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let for_woonclub = refer(&app, Who::Woonclub, "HOUSING").await;
    let for_dyzo = refer(&app, Who::Dyzo, "WORK").await;

    let heard =
        next_event(&mut woonclub, Duration::from_secs(10)).await.expect("Woonclub hears its referral");
    let event = &heard["data"]["referralEvents"];
    assert_eq!(event["referral"]["id"], for_woonclub.as_str());
    assert_eq!((event["fromStatus"].clone(), event["toStatus"].clone()), (Value::Null, json!("REQUESTED")));
    assert!(event["referral"]["client"]["givenName"].is_string(), "consented data: {heard}");

    // dyzo's first event is its own: Woonclub's, created before, was never delivered to it.
    let heard = next_event(&mut dyzo, Duration::from_secs(10)).await.expect("dyzo hears its referral");
    assert_eq!(heard["data"]["referralEvents"]["referral"]["id"], for_dyzo.as_str());
    // Nor does Woonclub hear dyzo's.
    assert!(next_event(&mut woonclub, Duration::from_millis(500)).await.is_none());

    // The welfare house hears both, in order.
    let first = next_event(&mut staff, Duration::from_secs(10)).await.unwrap();
    let second = next_event(&mut staff, Duration::from_secs(10)).await.unwrap();
    assert_eq!(first["data"]["referralEvents"]["referral"]["id"], for_woonclub.as_str());
    assert_eq!(second["data"]["referralEvents"]["referral"]["id"], for_dyzo.as_str());

    // A status change is an event too, with its note.
    let change = "mutation($id: ID!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: 1, note: \"Gezien\") { version } }";
    assert_ok(&app.query(Who::Woonclub, change, json!({ "id": for_woonclub })).await);
    let heard = next_event(&mut woonclub, Duration::from_secs(10)).await.unwrap();
    assert_eq!(heard["data"]["referralEvents"]["toStatus"], "RECEIVED");
    assert_eq!(heard["data"]["referralEvents"]["note"], "Gezien");
}

#[tokio::test]
async fn a_consent_revoked_mid_stream_applies_to_the_next_event() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    let mut woonclub = subscribe(&addr, app.token(Who::Woonclub).await.as_deref(), "w").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (client, consent) = consented_client(&app, Who::Woonclub).await;
    let org = app.user(Who::Woonclub).await.unwrap().organisation_id.to_string();
    let created = app
        .query(Who::Intake, CREATE, json!({ "input": { "clientId": client, "recipientId": org, "lifeDomain": "HOUSING", "reason": "Live" } }))
        .await;
    let id = created["data"]["createReferral"]["id"].clone();
    let heard = next_event(&mut woonclub, Duration::from_secs(10)).await.unwrap();
    assert!(heard["data"]["referralEvents"]["referral"]["client"]["givenName"].is_string());

    // The client withdraws every consent to Woonclub.
    use entities::consent;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let all = consent::Entity::find()
        .filter(consent::Column::RecipientId.eq(org.parse::<uuid::Uuid>().unwrap()))
        .filter(consent::Column::ClientId.eq(client.parse::<uuid::Uuid>().unwrap()))
        .filter(consent::Column::RevokedAt.is_null())
        .all(&app.db.conn)
        .await
        .unwrap();
    assert!(all.iter().any(|c| c.id.to_string() == consent));
    for c in all {
        let revoke = "mutation($id: ID!) { revokeConsent(id: $id) { active } }";
        assert_ok(&app.query(Who::Intake, revoke, json!({ "id": c.id.to_string() })).await);
    }
    let change = "mutation($id: ID!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: 1) { version } }";
    assert_ok(&app.query(Who::Woonclub, change, json!({ "id": id })).await);
    let heard = next_event(&mut woonclub, Duration::from_secs(10)).await.unwrap();
    assert_eq!(heard["data"]["referralEvents"]["toStatus"], "RECEIVED");
    assert_eq!(heard["data"]["referralEvents"]["referral"]["client"]["givenName"], Value::Null, "{heard}");
    assert_eq!(codes(&heard), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn subscribing_needs_a_good_token_and_a_role_that_reads_referrals() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    assert!(connect(&addr, Some("not-a-token")).await.is_err(), "a bad token is refused, not made PUBLIC");
    for who in [Who::Public, Who::Analyst] {
        let mut socket = subscribe(&addr, app.token(who).await.as_deref(), "x").await;
        let message = next_message(&mut socket, Duration::from_secs(10)).await.expect("an answer");
        // Refused before it runs, as the protocol says: an `error` message. Neither role has a
        // subscription type at all, so the refusal reads as for any schema without one.
        assert_eq!(message["type"], "error", "{who:?}: {message}");
        let refusal = json!({ "errors": message["payload"] });
        assert_eq!(crate::helpers::denied(&refusal), "HIDDEN", "{who:?}: {message}");
        assert_eq!(message["payload"][0]["message"], "Schema is not configured for subscriptions.");
    }
}

#[tokio::test]
async fn two_processes_on_one_database_behave_as_one_service() {
    let app = TestApp::spawn().await;
    if !app.database.is_postgres() {
        println!(
            "replicas share events through PostgreSQL: run with WELZIJNSHUIS_TEST_DATABASE_URL=postgres://…"
        );
        return;
    }
    let (a, b) = (
        ServerProcess::start(&app.database.url, &[]).await,
        ServerProcess::start(&app.database.url, &[]).await,
    );
    let mut on_a = subscribe(&a.addr, app.token(Who::Woonclub).await.as_deref(), "a").await;
    let mut on_b = subscribe(&b.addr, app.token(Who::Woonclub).await.as_deref(), "b").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A referral created through replica B ...
    let (client, _) = consented_client(&app, Who::Woonclub).await;
    let org = app.user(Who::Woonclub).await.unwrap().organisation_id.to_string();
    let token = app.token(Who::Intake).await.unwrap();
    let input = json!({ "input": { "clientId": client, "recipientId": org, "lifeDomain": "HOUSING", "reason": "Twee replica's" } });
    let (_, created) = post_to(&app.http, &b.addr, Some(&token), CREATE, input).await;
    assert_ok(&created);
    let id = created["data"]["createReferral"]["id"].clone();
    // ... is heard by the subscribers of both.
    for socket in [&mut on_a, &mut on_b] {
        let heard = next_event(socket, Duration::from_secs(10)).await.expect("every replica hears it");
        assert_eq!(heard["data"]["referralEvents"]["referral"]["id"], id);
    }
    // And a change through A reaches B's subscriber.
    let token = app.token(Who::Woonclub).await.unwrap();
    let change = "mutation($id: ID!) { changeReferralStatus(id: $id, status: ACCEPTED, expectedVersion: 1) { version } }";
    let (_, changed) = post_to(&app.http, &a.addr, Some(&token), change, json!({ "id": id })).await;
    assert_ok(&changed);
    let heard = next_event(&mut on_b, Duration::from_secs(10)).await.expect("B hears A's change");
    assert_eq!(heard["data"]["referralEvents"]["toStatus"], "ACCEPTED");
}

#[tokio::test]
async fn a_user_may_hold_only_so_many_subscriptions_open() {
    let app = TestApp::spawn_with(|config| config.limits.max_subscriptions = 2).await;
    let addr = app.addr.to_string();
    let token = app.token(Who::Caw).await;
    async fn subscribe_on(
        socket: &mut Socket,
        id: &str,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        let message = json!({ "id": id, "type": "subscribe", "payload": { "query": EVENTS } });
        socket.send(Message::text(message.to_string())).await
    }
    let mut first = subscribe(&addr, token.as_deref(), "a").await;
    let mut second = connect(&addr, token.as_deref()).await.unwrap();
    subscribe_on(&mut second, "b").await.unwrap();
    subscribe_on(&mut second, "c").await.unwrap();
    // The third, over two connections, is refused with an `error`, which ends it.
    let refusal = next_message(&mut second, Duration::from_secs(10)).await.expect("an answer");
    assert_eq!((refusal["type"].as_str(), refusal["id"].as_str()), (Some("error"), Some("c")), "{refusal}");
    assert_eq!(codes(&json!({ "errors": refusal["payload"] })), vec!["RATE_LIMITED"], "{refusal}");
    // Another user is not affected.
    let mut dyzo = subscribe(&addr, app.token(Who::Dyzo).await.as_deref(), "d").await;
    // Closing one gives its place back.
    first.close(None).await.unwrap();
    drop(first);
    let mut accepted = false;
    for attempt in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let id = format!("retry-{attempt}");
        subscribe_on(&mut second, &id).await.unwrap();
        // A refusal is an `error`; an open subscription is quiet.
        let mut refused = false;
        if let Some(m) = next_message(&mut second, Duration::from_millis(300)).await {
            assert_eq!((m["type"].as_str(), m["id"].as_str()), (Some("error"), Some(id.as_str())), "{m}");
            assert_eq!(codes(&json!({ "errors": m["payload"] })), vec!["RATE_LIMITED"], "{m}");
            refused = true;
        }
        if !refused {
            accepted = true;
            break;
        }
    }
    assert!(accepted, "the place of the closed subscription was given back");
    // Events still reach the open ones.
    refer(&app, Who::Dyzo, "WORK").await;
    assert!(next_event(&mut dyzo, Duration::from_secs(10)).await.is_some());
}

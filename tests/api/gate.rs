//! One gate for every operation, whatever its door: each hole found from outside, closed and
//! kept closed. The WebSocket's operations are checked like HTTP's (user read per operation,
//! audit, limits), the protocol's close codes are those graphql-transport-ws gives, hidden names
//! stay unknown, bad input stops at the edge, and no nesting takes the process down.

use std::time::{Duration, Instant};

use entities::{Role, audit_entry, user};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TestApp, Transport, Who, assert_ok, codes, denied, ws_query};
use crate::subscriptions::{Socket, connect, next_message};

/// A socket after the graphql-transport-ws handshake, without `connection_init`.
async fn raw_socket(addr: &str) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    tokio_tungstenite::connect_async(request).await.expect("the upgrade is accepted").0
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.expect("sent");
}

/// The close code the server ends the socket with (`None`: no close within `wait`); other
/// messages are skipped.
async fn close_code(socket: &mut Socket, wait: Duration) -> Option<u16> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, socket.next()).await.ok()? {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

fn subscribe_message(id: &str, query: &str) -> Value {
    json!({ "id": id, "type": "subscribe", "payload": { "query": query } })
}

const CLIENT_NAMES: &str = "{ clients(first: 5) { edges { node { id givenName familyName } } } }";
const SECONDS: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_user_deactivated_while_the_socket_is_open_is_refused_and_closed() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    let mut socket = connect(&addr, app.token(Who::Intake).await.as_deref()).await.unwrap();
    send(&mut socket, subscribe_message("1", CLIENT_NAMES)).await;
    let first = next_message(&mut socket, SECONDS).await.unwrap();
    assert_eq!(first["type"], "next", "{first}");
    let intake = app.user(Who::Intake).await.unwrap();
    let mut row: user::ActiveModel = intake.into();
    row.active = Set(false);
    row.update(&app.db.conn).await.unwrap();
    send(&mut socket, subscribe_message("2", CLIENT_NAMES)).await;
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(4403), "the next operation closes the socket");
}

#[tokio::test]
async fn a_role_changed_while_the_socket_is_open_closes_it_at_its_next_operation() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    let mut socket = connect(&addr, app.token(Who::CaseWorker).await.as_deref()).await.unwrap();
    send(&mut socket, subscribe_message("1", CLIENT_NAMES)).await;
    assert_eq!(next_message(&mut socket, SECONDS).await.unwrap()["type"], "next");
    assert_eq!(next_message(&mut socket, SECONDS).await.unwrap()["type"], "complete");
    let worker = app.user(Who::CaseWorker).await.unwrap();
    let mut row: user::ActiveModel = worker.into();
    row.role = Set(Role::Analyst);
    row.update(&app.db.conn).await.unwrap();
    send(&mut socket, subscribe_message("2", CLIENT_NAMES)).await;
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(4403), "demoted: sign in again");
    // A new connection works with the new role.
    let response =
        ws_query(&addr, app.token(Who::CaseWorker).await.as_deref(), CLIENT_NAMES, json!({})).await;
    assert_eq!(denied(&response), "HIDDEN", "an analyst has no clients: {response}");
}

#[tokio::test]
async fn a_subscriber_demoted_meanwhile_is_closed_at_the_next_event_not_told_of_it() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    let mut socket = connect(&addr, app.token(Who::Caw).await.as_deref()).await.unwrap();
    send(&mut socket, subscribe_message("events", "subscription { referralEvents { toStatus } }")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let caw = app.user(Who::Caw).await.unwrap();
    let mut row: user::ActiveModel = caw.into();
    row.role = Set(Role::Analyst);
    row.update(&app.db.conn).await.unwrap();
    crate::subscriptions::refer(&app, Who::Dyzo, "WORK").await;
    assert_eq!(
        close_code(&mut socket, SECONDS).await,
        Some(4403),
        "no message about an event it may not see"
    );
}

#[tokio::test]
async fn an_id_is_free_again_the_moment_its_operation_completes() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let mut socket = connect(&app.addr.to_string(), app.token(Who::Caw).await.as_deref()).await.unwrap();
    for round in 0..40 {
        send(&mut socket, subscribe_message("same", "{ me { role } }")).await;
        let next =
            next_message(&mut socket, SECONDS).await.unwrap_or_else(|| panic!("round {round}: closed"));
        assert_eq!(next["type"], "next", "round {round}: {next}");
        let complete = next_message(&mut socket, SECONDS).await.unwrap();
        assert_eq!(complete["type"], "complete", "round {round}: {complete}");
    }
}

#[tokio::test]
async fn a_token_on_the_upgrade_request_is_checked_never_ignored() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    let upgrade = |authorization: &str| {
        let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
        request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
        request.headers_mut().insert("Authorization", authorization.parse().unwrap());
        request
    };
    let refused = tokio_tungstenite::connect_async(upgrade("Bearer not-a-token")).await;
    assert!(refused.is_err(), "a bad token on the upgrade is refused, not made PUBLIC");
    let token = app.token(Who::Caw).await.unwrap();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(upgrade(&format!("Bearer {token}"))).await.unwrap();
    send(&mut socket, json!({ "type": "connection_init", "payload": {} })).await;
    assert_eq!(next_message(&mut socket, SECONDS).await.unwrap()["type"], "connection_ack");
    send(&mut socket, subscribe_message("me", "{ me { role } }")).await;
    let me = next_message(&mut socket, SECONDS).await.unwrap();
    assert_eq!(me["payload"]["data"]["me"]["role"], "PARTNER", "{me}");
}

#[tokio::test]
async fn a_socket_closes_when_its_token_expires() {
    let app = TestApp::spawn().await;
    let user = app.user(Who::Caw).await.unwrap();
    let token = app.tokens.issue(user.id, chrono::Duration::seconds(2)).unwrap();
    let mut socket = connect(&app.addr.to_string(), Some(&token)).await.unwrap();
    // The token's leeway is 30 s: the socket closes when the token itself says it expires.
    assert_eq!(close_code(&mut socket, Duration::from_secs(8)).await, Some(4403));
}

#[tokio::test]
async fn a_consent_revoked_while_the_socket_is_open_applies_to_its_next_query() {
    let app = TestApp::spawn().await;
    let (client, consent) = crate::subscriptions::consented_client(&app, Who::Caw).await;
    let query = format!("{{ client(id: \"{client}\") {{ givenName }} }}");
    let addr = app.addr.to_string();
    let mut socket = connect(&addr, app.token(Who::Caw).await.as_deref()).await.unwrap();
    send(&mut socket, subscribe_message("1", &query)).await;
    let before = next_message(&mut socket, SECONDS).await.unwrap();
    assert!(before["payload"]["data"]["client"]["givenName"].is_string(), "{before}");
    let _ = next_message(&mut socket, SECONDS).await; // complete
    use entities::consent as c;
    let consents = c::Entity::find()
        .filter(c::Column::ClientId.eq(client.parse::<uuid::Uuid>().unwrap()))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert!(consents.iter().any(|row| row.id.to_string() == consent));
    for row in consents {
        let revoke = "mutation($id: ID!) { revokeConsent(id: $id) { active } }";
        assert_ok(&app.query(Who::Intake, revoke, json!({ "id": row.id.to_string() })).await);
    }
    send(&mut socket, subscribe_message("2", &query)).await;
    let after = next_message(&mut socket, SECONDS).await.unwrap();
    assert_eq!(after["payload"]["data"]["client"]["givenName"], Value::Null, "{after}");
    assert_eq!(codes(&after["payload"]), vec!["FORBIDDEN"], "{after}");
}

#[tokio::test]
async fn client_data_read_over_the_socket_is_audited_under_the_servers_id() {
    let app = TestApp::spawn().await;
    let before = audit_entry::Entity::find().all(&app.db.conn).await.unwrap().len();
    let response =
        ws_query(&app.addr.to_string(), app.token(Who::Intake).await.as_deref(), CLIENT_NAMES, json!({}))
            .await;
    assert_ok(&response);
    let rows = audit_entry::Entity::find().all(&app.db.conn).await.unwrap();
    let new: Vec<_> = rows.iter().skip(before).filter(|r| r.action == "READ").collect();
    assert_eq!(new.len(), 5, "one row per client read: {new:?}");
    for row in new {
        assert!(uuid::Uuid::parse_str(row.request_id.as_deref().unwrap()).is_ok(), "the server's own id");
        assert_eq!(row.caller_request_id.as_deref(), Some("q"), "the caller's id for its message, apart");
    }
}

#[tokio::test]
async fn the_caller_request_id_never_takes_the_servers_place() {
    let app = TestApp::spawn().await;
    let token = app.token(Who::Intake).await.unwrap();
    let response = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .bearer_auth(&token)
        .header("X-Request-Id", "forged-id-1")
        .json(&json!({ "query": "query Look { clients(first: 1) { edges { node { givenName } } } }" }))
        .send()
        .await
        .unwrap();
    let server_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_ne!(server_id, "forged-id-1");
    let row = audit_entry::Entity::find()
        .filter(audit_entry::Column::CallerRequestId.eq("forged-id-1"))
        .one(&app.db.conn)
        .await
        .unwrap()
        .expect("the caller's id is kept");
    assert_eq!(row.request_id.as_deref(), Some(server_id.as_str()));
    let shown = app
        .query(
            Who::Admin,
            "{ auditLog(first: 100) { edges { node { requestId callerRequestId callerOperationName } } } }",
            json!({}),
        )
        .await;
    assert!(
        shown.to_string().contains("forged-id-1")
            && shown.to_string().contains("\"callerOperationName\":\"Look\"")
    );
}

#[tokio::test]
async fn the_limits_of_http_hold_on_the_socket() {
    let app = TestApp::spawn_with(|config| {
        config.limits.rate_limit = 2;
        config.limits.rate_burst = 3;
        config.limits.max_body_bytes = 2_000;
    })
    .await;
    let addr = app.addr.to_string();
    let token = app.token(Who::Caw).await;
    // Document limits: depth, aliases.
    let deep =
        format!("{{ {}id{} }}", "referrals { edges { node { client { ".repeat(4), " } } } }".repeat(4));
    let response = ws_query(&addr, token.as_deref(), &deep, json!({})).await;
    assert_eq!(codes(&response), vec!["QUERY_TOO_COMPLEX"], "{response}");
    // Rate: the same bucket as HTTP, per user.
    let mut socket = connect(&addr, token.as_deref()).await.unwrap();
    let mut refused = 0;
    for i in 0..8 {
        send(&mut socket, subscribe_message(&format!("r{i}"), "{ me { role } }")).await;
    }
    while let Some(message) = next_message(&mut socket, Duration::from_millis(500)).await {
        if message["type"] == "error" {
            assert_eq!(message["payload"][0]["extensions"]["code"], "RATE_LIMITED", "{message}");
            refused += 1;
        }
    }
    assert!(refused >= 4, "{refused} of 8 refused at 2 a second with a burst of 3");
    // A message larger than a request body may be closes the socket (1009: too big).
    let big = format!("{{ me {{ role }} }} #{}", "x".repeat(3_000));
    let mut socket = connect(&addr, token.as_deref()).await.unwrap();
    send(&mut socket, subscribe_message("big", &big)).await;
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(1009));
}

#[tokio::test]
async fn the_protocol_closes_as_graphql_transport_ws_says() {
    let app = TestApp::spawn_with(|config| config.limits.ws_init_timeout_secs = 1).await;
    let addr = app.addr.to_string();
    let token = app.token(Who::Caw).await.unwrap();
    let init =
        json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {token}") } });

    // 4408: no connection_init in time.
    let mut socket = raw_socket(&addr).await;
    let started = Instant::now();
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(4408));
    assert!(started.elapsed() < Duration::from_secs(5));
    // 4401: subscribe before connection_ack.
    let mut socket = raw_socket(&addr).await;
    send(&mut socket, subscribe_message("1", "{ me { role } }")).await;
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(4401));
    // 4400: not a protocol message.
    for bad in ["not json", "[]", r#"{"type":"nonsense"}"#, r#"{"type":"subscribe","id":"1"}"#] {
        let mut socket = raw_socket(&addr).await;
        send(&mut socket, init.clone()).await;
        socket.send(Message::text(bad)).await.unwrap();
        assert_eq!(close_code(&mut socket, SECONDS).await, Some(4400), "{bad}");
    }
    // 4429: a second connection_init.
    let mut socket = raw_socket(&addr).await;
    send(&mut socket, init.clone()).await;
    send(&mut socket, init.clone()).await;
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(4429));
    // 4403: a refused connection_init.
    let mut socket = raw_socket(&addr).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer nonsense" } }),
    )
    .await;
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(4403));
    // 4409: a second subscribe with an id in use.
    let mut socket = connect(&addr, Some(&token)).await.unwrap();
    let events = "subscription { referralEvents { id } }";
    send(&mut socket, subscribe_message("same", events)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    send(&mut socket, subscribe_message("same", events)).await;
    assert_eq!(close_code(&mut socket, SECONDS).await, Some(4409));
    // A subscription selects exactly one root field; errors carry codes like over HTTP.
    let mut socket = connect(&addr, Some(&token)).await.unwrap();
    send(
        &mut socket,
        subscribe_message("two", "subscription { a: referralEvents { id } b: referralEvents { id } }"),
    )
    .await;
    let refusal = next_message(&mut socket, SECONDS).await.unwrap();
    assert_eq!(refusal["type"], "error", "{refusal}");
    assert_eq!(refusal["payload"][0]["extensions"]["code"], "BAD_USER_INPUT", "{refusal}");
    // Ping is answered.
    send(&mut socket, json!({ "type": "ping" })).await;
    let mut raw = socket;
    let pong = tokio::time::timeout(SECONDS, raw.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(serde_json::from_str::<Value>(pong.to_text().unwrap()).unwrap()["type"], "pong");
}

#[tokio::test]
async fn nothing_hidden_is_named_or_suggested() {
    let app = TestApp::spawn().await;
    for transport in Transport::BOTH {
        for who in [Who::Caw, Who::Analyst, Who::Public] {
            let hidden = app.query_over(transport, who, "{ auditLog { totalCount } }", json!({})).await;
            let never = app.query_over(transport, who, "{ auditLug { totalCount } }", json!({})).await;
            let message =
                |r: &Value| r["errors"][0]["message"].as_str().unwrap().replace("auditLug", "auditLog");
            assert_eq!(
                message(&hidden),
                message(&never),
                "{who:?}: a hidden field reads as one that never was"
            );
            assert_eq!(codes(&hidden), codes(&never));
            let typo =
                app.query_over(transport, who, "{ audiLog { totalCount } clint { id } }", json!({})).await;
            assert!(!typo.to_string().contains("Did you mean"), "{who:?}: {typo}");
            // Types too: a fragment on a hidden type is an unknown type.
            let on_hidden = app
                .query_over(transport, who, "{ me { role } } fragment F on AuditEntry { id }", json!({}))
                .await;
            let on_never = app
                .query_over(transport, who, "{ me { role } } fragment F on AuditEntri { id }", json!({}))
                .await;
            assert_eq!(
                on_hidden["errors"][0]["message"].as_str().unwrap().replace("AuditEntry", "X"),
                on_never["errors"][0]["message"].as_str().unwrap().replace("AuditEntri", "X"),
                "{who:?}"
            );
        }
    }
    for (who, has) in [(Who::Public, false), (Who::Analyst, false), (Who::Caw, true), (Who::Admin, true)] {
        let response = app.query(who, "{ __schema { subscriptionType { name } } }", json!({})).await;
        assert_eq!(response["data"]["__schema"]["subscriptionType"].is_object(), has, "{who:?}: {response}");
    }
}

#[tokio::test]
async fn nul_bytes_and_dates_out_of_range_are_bad_input_on_every_database() {
    let app = TestApp::spawn().await;
    let cases = [
        (Who::Public, "{ services(filter: { search: \"a\\u0000b\" }) { totalCount } }", json!({})),
        (
            Who::Public,
            "query($s: String) { services(filter: { search: $s }) { totalCount } }",
            json!({ "s": "x\u{0}" }),
        ),
        (
            Who::Public,
            "query($m: String) { services(filter: { municipality: $m }) { totalCount } }",
            json!({ "m": "\u{0}" }),
        ),
        (
            Who::Admin,
            "{ referrals(filter: { createdAfter: \"-4714-11-24T00:00:00Z\" }) { totalCount } }",
            json!({}),
        ),
        (
            Who::Admin,
            "query($f: ReferralFilter) { referrals(filter: $f) { totalCount } }",
            json!({ "f": { "createdBefore": "+20000-01-01T00:00:00Z" } }),
        ),
        (
            Who::Public,
            "{ officeHours(from: \"-0001-01-01T00:00:00Z\", to: \"0000-01-07T00:00:00Z\") { free } }",
            json!({}),
        ),
        (
            Who::Intake,
            "mutation($i: RegisterClientInput!) { registerClient(input: $i) { id } }",
            json!({ "i": { "givenName": "A\u{0}", "familyName": "B" } }),
        ),
        (
            Who::Intake,
            "mutation($i: RegisterClientInput!) { registerClient(input: $i) { id } }",
            json!({ "i": { "givenName": "A", "familyName": "B", "dateOfBirth": "-0004-02-29" } }),
        ),
        (
            Who::Intake,
            "mutation($i: RegisterClientInput!) { registerClient(input: $i) { id } }",
            json!({ "i": { "givenName": "A", "familyName": "B", "dateOfBirth": "0000-01-01" } }),
        ),
        (Who::Intake, "{ clients(filter: { dateOfBirth: \"-4714-01-01\" }) { totalCount } }", json!({})),
        (
            Who::Caw,
            "mutation($o: ID!) { createService(organisationId: $o, input: { name: \"x\", lifeDomains: [HOUSING], languages: [\"nl\"], assuredDate: \"+262142-12-31\" }) { id } }",
            json!({ "o": "00000000-0000-0000-0000-000000000000" }),
        ),
    ];
    for transport in Transport::BOTH {
        for (who, query, variables) in &cases {
            let response = app.query_over(transport, *who, query, variables.clone()).await;
            assert_eq!(
                codes(&response),
                vec!["BAD_USER_INPUT"],
                "{transport:?} {query} {variables}: {response}"
            );
        }
    }
}

/// A document nesting `depth` levels of one kind, and its variables as JSON text (built as text:
/// a deep `serde_json::Value` would overflow the test's own stack).
fn nested(kind: &str, depth: usize) -> (String, String) {
    let document = match kind {
        "list value" => format!("{{ __typename @skip(if: {}true{}) }}", "[".repeat(depth), "]".repeat(depth)),
        "object value" => {
            format!(
                "{{ services(filter: {}) {{ totalCount }} }}",
                "{ near: ".repeat(depth) + "{}" + &"}".repeat(depth)
            )
        }
        "selection" => format!("{}__typename{}", "{ me ".repeat(depth), " }".repeat(depth)),
        "fragment chain" => {
            let mut text = String::from("query { ...F0 }");
            for i in 0..depth.min(20_000) {
                text.push_str(&format!(" fragment F{i} on Query {{ ...F{} }}", i + 1));
            }
            text
        }
        "fragment fan-out" => {
            let mut text = String::from("query { ...F0 }");
            for i in 0..depth.min(40) {
                let next = format!("...F{} ", i + 1).repeat(6);
                text.push_str(&format!(" fragment F{i} on Query {{ __typename {next} }}"));
            }
            text.push_str(&format!(" fragment F{} on Query {{ __typename }}", depth.min(40)));
            text
        }
        "variables" => {
            let value = format!("{}true{}", "[".repeat(depth), "]".repeat(depth));
            return ("query($v: [Boolean]) { __typename }".into(), format!("{{\"v\":{value}}}"));
        }
        _ => unreachable!(),
    };
    (document, "{}".into())
}

#[tokio::test]
async fn no_nesting_takes_the_process_down() {
    let app = TestApp::spawn().await;
    let addr = app.addr.to_string();
    let kinds =
        ["list value", "object value", "selection", "fragment chain", "fragment fan-out", "variables"];
    for kind in kinds {
        for depth in [33, 100, 1_500, 100_000] {
            let (query, variables) = nested(kind, depth);
            let request = format!("{{\"query\":{},\"variables\":{variables}}}", Value::from(query.as_str()));
            let started = Instant::now();
            // POST: refused with a code (or 413 when the body is larger than a request may be).
            let response = app
                .http
                .post(format!("http://{addr}/graphql"))
                .header("Content-Type", "application/json")
                .body(request.clone())
                .send()
                .await
                .expect("POST answered");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(status == 413 || !codes(&body).is_empty(), "{kind} {depth}: {status} {body}");
            // WebSocket: a coded error; a message whose JSON nests too deep to read closes the
            // socket as invalid (4400), one too large as too big (1009).
            let mut socket = connect(&addr, None).await.unwrap();
            let message = format!("{{\"id\":\"n\",\"type\":\"subscribe\",\"payload\":{request}}}");
            socket.send(Message::text(message)).await.unwrap();
            let deadline = Instant::now() + SECONDS;
            let answer = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, socket.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => {
                        break Ok(serde_json::from_str::<Value>(&text).unwrap());
                    }
                    Ok(Some(Ok(Message::Close(frame)))) => break Err(frame.map(|f| u16::from(f.code))),
                    Ok(Some(Ok(_))) => continue,
                    other => panic!("{kind} {depth}: no answer over the socket: {other:?}"),
                }
            };
            match answer {
                Ok(answer) => {
                    let payload = if answer["type"] == "error" {
                        json!({ "errors": answer["payload"] })
                    } else {
                        answer["payload"].clone()
                    };
                    assert!(!codes(&payload).is_empty(), "{kind} {depth} over the socket: {answer}");
                }
                Err(code) => assert!(
                    matches!(code, Some(1009)) || (kind == "variables" && code == Some(4400)),
                    "{kind} {depth}: closed with {code:?}"
                ),
            }
            // GET: a coded refusal while the address fits what HTTP servers take; beyond, the
            // connection layer may refuse it, as long as the process lives.
            let get = app
                .http
                .get(format!("http://{addr}/graphql"))
                .query(&[("query", query.as_str())])
                .send()
                .await;
            if query.len() < 20_000 {
                let body: Value = get.expect("GET answered").json().await.unwrap_or(Value::Null);
                assert!(!codes(&body).is_empty(), "{kind} {depth} over GET: {body}");
            }
            let health = app.get("/healthz").await;
            assert_eq!(health.status(), 200, "{kind} {depth}: the server lives");
            assert!(started.elapsed() < Duration::from_secs(20), "{kind} {depth}: answered in time");
        }
    }
}

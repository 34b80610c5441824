//! The citizen's own place (role CLIENT): their whole trajectory and nothing of anyone else's,
//! consent in their own hands (a revocation binding the partner at its next operation, on every
//! door), who looked at their file, and booking their own appointments.

use std::time::Duration;

use chrono::Utc;
use entities::{referral, referral_event};
use futures_util::SinkExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{TestApp, Transport, Who, assert_ok, codes, denied};
use crate::subscriptions::{Socket, connect, next_message};

const SECONDS: Duration = Duration::from_secs(10);

/// The partner (as a demo user) that received one of `client`'s referrals.
async fn a_partner_of(app: &TestApp, client: Uuid) -> (Who, Uuid) {
    let referrals = referral::Entity::find()
        .filter(referral::Column::ClientId.eq(client))
        .all(&app.db.conn)
        .await
        .unwrap();
    for who in Who::PARTNERS {
        let org = app.user(who).await.unwrap().organisation_id;
        if referrals.iter().any(|r| r.recipient_id == org) {
            return (who, org);
        }
    }
    panic!("the demo client has a referral to a partner");
}

async fn as_client(
    app: &TestApp,
    transport: Transport,
    client: Uuid,
    query: &str,
    variables: Value,
) -> Value {
    app.query_as_client(transport, client, query, variables).await
}

const PHONE: &str = "query($id: ID!) { client(id: $id) { id phone } }";

/// One operation on an open socket: its result payload.
async fn on_socket(socket: &mut Socket, id: &str, query: &str, variables: Value) -> Value {
    let message =
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket.send(Message::text(message.to_string())).await.unwrap();
    let next = next_message(socket, SECONDS).await.expect("an answer");
    let _ = next_message(socket, SECONDS).await; // complete
    next["payload"].clone()
}

#[tokio::test]
async fn a_revocation_by_the_client_binds_the_partner_at_its_next_operation_on_every_door() {
    let app = TestApp::spawn().await;
    let me = app.demo_client().await.id;
    let (partner, org) = a_partner_of(&app, me).await;
    let mine = json!({ "id": me });

    // The client withdraws every consent they gave this partner: the partner no longer reads the
    // phone number.
    let consents = as_client(
        &app,
        Transport::Http,
        me,
        "{ me { client { consents { id active recipient { id } } } } }",
        json!({}),
    )
    .await;
    assert_ok(&consents);
    for consent in consents["data"]["me"]["client"]["consents"].as_array().unwrap() {
        if consent["active"] == true && consent["recipient"]["id"] == org.to_string() {
            let revoked = as_client(
                &app,
                Transport::Http,
                me,
                "mutation($id: ID!) { revokeConsent(id: $id) { active revokedBy } }",
                json!({ "id": consent["id"] }),
            )
            .await;
            assert_ok(&revoked);
            assert_eq!(revoked["data"]["revokeConsent"]["revokedBy"], "CLIENT");
        }
    }
    let refused = app.query_over(Transport::Http, partner, PHONE, mine.clone()).await;
    assert_eq!(codes(&refused), vec!["FORBIDDEN"], "{refused}");

    // The client gives CONTACT themself; the partner reads it, over HTTP and on an open socket.
    let grant = "mutation($o: ID!) { grantConsent(input: { recipientId: $o, scopes: [CONTACT], purpose: \"Opvolging van mijn woonvraag\" }) { id givenBy scopes purpose } }";
    let granted = as_client(&app, Transport::WebSocket, me, grant, json!({ "o": org })).await;
    assert_ok(&granted);
    assert_eq!(granted["data"]["grantConsent"]["givenBy"], "CLIENT");
    let consent = granted["data"]["grantConsent"]["id"].clone();
    let read = app.query_over(Transport::Http, partner, PHONE, mine.clone()).await;
    assert_ok(&read);
    let mut socket = connect(&app.addr.to_string(), app.token(partner).await.as_deref()).await.unwrap();
    let on_the_socket = on_socket(&mut socket, "1", PHONE, mine.clone()).await;
    assert_ok(&on_the_socket);

    // The client takes it back (over the WebSocket); the partner's very next operation, on
    // either door, no longer reads it.
    let revoke = "mutation($id: ID!) { revokeConsent(id: $id) { active revokedBy } }";
    let revoked = as_client(&app, Transport::WebSocket, me, revoke, json!({ "id": consent })).await;
    assert_ok(&revoked);
    assert_eq!(revoked["data"]["revokeConsent"], json!({ "active": false, "revokedBy": "CLIENT" }));
    let after = app.query_over(Transport::Http, partner, PHONE, mine.clone()).await;
    assert_eq!(codes(&after), vec!["FORBIDDEN"], "{after}");
    assert_eq!(after["data"]["client"]["phone"], Value::Null);
    let after = on_socket(&mut socket, "2", PHONE, mine.clone()).await;
    assert_eq!(codes(&after), vec!["FORBIDDEN"], "{after}");

    // A client grants and revokes only for themself: another client's consent does not exist
    // for them, and staff-only consent recording is not in their schema.
    let someone_else = app
        .query(Who::Intake, "{ clients(first: 50) { edges { node { id consents { id } } } } }", json!({}))
        .await;
    let foreign = crate::helpers::nodes(&someone_else, &["clients"])
        .into_iter()
        .filter(|c| c["id"] != me.to_string())
        .find_map(|c| c["consents"].as_array().and_then(|list| list.first()).map(|c| c["id"].clone()))
        .expect("another client has a consent");
    let refused = as_client(&app, Transport::Http, me, revoke, json!({ "id": foreign })).await;
    assert_eq!(codes(&refused), vec!["NOT_FOUND"], "{refused}");
    let record = "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY] }) { id } }";
    let hidden = as_client(&app, Transport::Http, me, record, json!({ "c": me, "o": org })).await;
    assert_eq!(denied(&hidden), "HIDDEN", "{hidden}");
    // Staff still record consent given at the desk, and the consent says so.
    let desk = app.query(Who::Intake, record, json!({ "c": me, "o": org })).await;
    assert_ok(&desk);
    let listed =
        as_client(&app, Transport::Http, me, "{ me { client { consents { id givenBy } } } }", json!({}))
            .await;
    let by_desk = listed["data"]["me"]["client"]["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == desk["data"]["recordConsent"]["id"])
        .cloned()
        .expect("the desk's consent is listed");
    assert_eq!(by_desk["givenBy"], "STAFF");
}

const TRAJECTORY: &str = "{ me { role client { id givenName nationalRegisterNumber
    helpRequests { id summary lifeDomains }
    consents { id givenBy recipient { name } }
    caseNotes { body sharedWithClient }
    appointments { id startsAt cancelledAt }
    referrals(first: 100) { totalCount edges { node { id status client { id }
        events { toStatus noteForClient at } } } } } } }";

#[tokio::test]
async fn a_client_sees_their_whole_trajectory_and_nothing_of_anyone_else() {
    let app = TestApp::spawn().await;
    let client = app.demo_client().await;
    let me = client.id;
    let (partner, _) = a_partner_of(&app, me).await;
    let note = "mutation($c: ID!, $body: String!, $shared: Boolean!) { addCaseNote(input: { clientId: $c, body: $body, sharedWithClient: $shared }) { id } }";
    for (body, shared) in
        [("Afspraak gemaakt met de woonclub", true), ("Interne inschatting: twijfel over inkomen", false)]
    {
        assert_ok(
            &app.query(Who::CaseWorker, note, json!({ "c": me, "body": body, "shared": shared })).await,
        );
    }
    // The partner answers one open referral with a word for the client.
    let org = app.user(partner).await.unwrap().organisation_id;
    let open = referral::Entity::find()
        .filter(referral::Column::ClientId.eq(me))
        .filter(referral::Column::RecipientId.eq(org))
        .all(&app.db.conn)
        .await
        .unwrap()
        .into_iter()
        .find(|r| {
            matches!(r.status, entities::ReferralStatus::Requested | entities::ReferralStatus::Received)
        });
    if let Some(open) = &open {
        let answer = "mutation($id: ID!, $v: Int!) { changeReferralStatus(id: $id, status: ACCEPTED, expectedVersion: $v,
            note: \"Intern: dossier compleet\", noteForClient: \"Welkom, we bellen je deze week.\") { status } }";
        assert_ok(&app.query(partner, answer, json!({ "id": open.id, "v": open.version })).await);
    }

    for transport in Transport::BOTH {
        let response = as_client(&app, transport, me, TRAJECTORY, json!({})).await;
        assert_ok(&response);
        let file = &response["data"]["me"]["client"];
        assert_eq!(response["data"]["me"]["role"], "CLIENT");
        assert_eq!(file["id"], me.to_string());
        assert_eq!(file["givenName"], client.given_name.as_str());
        let own_referrals = referral::Entity::find()
            .filter(referral::Column::ClientId.eq(me))
            .all(&app.db.conn)
            .await
            .unwrap();
        assert_eq!(file["referrals"]["totalCount"].as_u64().unwrap() as usize, own_referrals.len());
        let text = response.to_string();
        assert!(text.contains("Afspraak gemaakt met de woonclub"), "the shared note");
        assert!(!text.contains("twijfel over inkomen"), "never the internal note");
        assert!(!text.contains("Intern: dossier compleet"), "never the note to the sender");
        if open.is_some() {
            assert!(text.contains("Welkom, we bellen je deze week."), "the word meant for the client");
        }
        for edge in file["referrals"]["edges"].as_array().unwrap() {
            assert_eq!(edge["node"]["client"]["id"], me.to_string());
        }
    }

    // Every list and total is theirs alone; another client's rows do not exist for them.
    let totals = as_client(
        &app,
        Transport::Http,
        me,
        "{ clients { totalCount edges { node { id } } } referrals { totalCount } }",
        json!({}),
    )
    .await;
    assert_ok(&totals);
    assert_eq!(totals["data"]["clients"]["totalCount"], 1);
    assert_eq!(totals["data"]["clients"]["edges"][0]["node"]["id"], me.to_string());
    let foreign = referral::Entity::find()
        .filter(referral::Column::ClientId.ne(me))
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    for (query, id) in [
        ("query($id: ID!) { referral(id: $id) { id } }", foreign.id),
        ("query($id: ID!) { client(id: $id) { id } }", foreign.client_id),
    ] {
        let response = as_client(&app, Transport::Http, me, query, json!({ "id": id })).await;
        assert_eq!(codes(&response), vec!["NOT_FOUND"], "{response}");
    }
    // Staff-only fields are not in the client's schema at all.
    for query in [
        "{ referrals { edges { node { outcomeNote } } } }",
        "{ referrals { edges { node { events { note } } } } }",
        "{ me { client { helpRequests { outcome } } } }",
        "{ me { client { caseNotes { authorId } } } }",
        "{ me { client { consents { recordedByUserId } } } }",
        "{ myAccessLog { edges { node { userId } } } }",
        "{ myAccessLog { edges { node { callerOperationName } } } }",
        "{ auditLog { totalCount } }",
        "{ dashboard { totalReferrals } }",
        "{ users { totalCount } }",
    ] {
        let response = as_client(&app, Transport::Http, me, query, json!({})).await;
        assert_eq!(denied(&response), "HIDDEN", "{query}: {response}");
    }
    // The events the client is told of are those of their own referrals.
    let events = referral_event::Entity::find().all(&app.db.conn).await.unwrap();
    let own_ids: std::collections::HashSet<Uuid> = referral::Entity::find()
        .filter(referral::Column::ClientId.eq(me))
        .all(&app.db.conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert!(events.iter().any(|e| own_ids.contains(&e.referral_id)));
}

#[tokio::test]
async fn who_looked_at_my_file() {
    let app = TestApp::spawn().await;
    let me = app.demo_client().await.id;
    // Someone at the desk reads the client's name and national register number.
    let read = "query($id: ID!) { client(id: $id) { givenName nationalRegisterNumber } }";
    assert_ok(&app.query(Who::Intake, read, json!({ "id": me })).await);
    let log = "{ myAccessLog(first: 100) { totalCount edges { node { at role action categories subjectType organisation { name kind } } } } }";
    let response = as_client(&app, Transport::Http, me, log, json!({})).await;
    assert_ok(&response);
    let entries = crate::helpers::nodes(&response, &["myAccessLog"]);
    assert!(
        entries.iter().any(|e| e["role"] == "INTAKE"
            && e["action"] == "READ"
            && e["organisation"]["kind"] == "WELFARE_HOUSE"
            && e["categories"].as_array().unwrap().iter().any(|c| c == "NATIONAL_NUMBER")),
        "the desk's read is in the client's access log: {entries:?}"
    );
    // Only entries about this client: the log counts exactly the audit rows about them.
    let about_me = entities::audit_entry::Entity::find()
        .filter(entities::audit_entry::Column::ClientId.eq(me))
        .all(&app.db.conn)
        .await
        .unwrap()
        .len();
    let total = response["data"]["myAccessLog"]["totalCount"].as_u64().unwrap() as usize;
    assert!(total >= 1 && total <= about_me, "{total} of {about_me}");
    // Staff have no access log of their own to ask for: it is the client's.
    let staff = app.query(Who::Admin, "{ myAccessLog { totalCount } }", json!({})).await;
    assert_eq!(denied(&staff), "HIDDEN");
}

#[tokio::test]
async fn a_client_books_and_cancels_their_own_appointment() {
    let app = TestApp::spawn().await;
    let me = app.demo_client().await.id;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let from = Utc::now() + chrono::Duration::days(1);
    let slots = as_client(
        &app,
        Transport::Http,
        me,
        "query($o: ID!, $from: DateTime!, $to: DateTime!) { officeHours(organisationId: $o, from: $from, to: $to) { startsAt free appointment { id } } }",
        json!({ "o": caw, "from": from, "to": from + chrono::Duration::days(14) }),
    )
    .await;
    assert_ok(&slots);
    let slots = slots["data"]["officeHours"].as_array().unwrap();
    assert!(slots.iter().all(|s| s["appointment"].is_null() || s["free"] == false), "{slots:?}");
    let free =
        slots.iter().find(|s| s["free"] == true).expect("a free slot in two weeks")["startsAt"].clone();
    let book = "mutation($c: ID!, $o: ID!, $at: DateTime!) { bookAppointment(input: { clientId: $c, organisationId: $o, startsAt: $at }) { id client { id } } }";
    let booked = as_client(&app, Transport::Http, me, book, json!({ "c": me, "o": caw, "at": free })).await;
    assert_ok(&booked);
    let id = booked["data"]["bookAppointment"]["id"].clone();
    let row = entities::appointment::Entity::find_by_id(Uuid::parse_str(id.as_str().unwrap()).unwrap())
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert!(row.booked_by_client && row.booked_by.is_none(), "booked by the client themself");
    // The slot now shows their own appointment to them; the partner sees it at its office hours.
    let mine = as_client(
        &app,
        Transport::Http,
        me,
        "{ me { client { appointments { id cancelledAt } } } }",
        json!({}),
    )
    .await;
    assert!(mine.to_string().contains(id.as_str().unwrap()), "{mine}");
    // For someone else: refused, whatever the id.
    let other = referral::Entity::find()
        .filter(referral::Column::ClientId.ne(me))
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    let later = slots.iter().filter(|s| s["free"] == true).nth(1).unwrap()["startsAt"].clone();
    for someone in [other.client_id, Uuid::new_v4()] {
        let refused =
            as_client(&app, Transport::Http, me, book, json!({ "c": someone, "o": caw, "at": later })).await;
        assert_eq!(codes(&refused), vec!["FORBIDDEN"], "{refused}");
    }
    let cancel = "mutation($id: ID!) { cancelAppointment(id: $id) { cancelledAt } }";
    let cancelled = as_client(&app, Transport::WebSocket, me, cancel, json!({ "id": id })).await;
    assert_ok(&cancelled);
    assert!(cancelled["data"]["cancelAppointment"]["cancelledAt"].is_string());
    // Another client's appointment does not exist for them.
    let theirs = app.query(Who::Intake, book, json!({ "c": other.client_id, "o": caw, "at": later })).await;
    assert_ok(&theirs);
    let refused = as_client(
        &app,
        Transport::Http,
        me,
        cancel,
        json!({ "id": theirs["data"]["bookAppointment"]["id"] }),
    )
    .await;
    assert_eq!(codes(&refused), vec!["NOT_FOUND"], "{refused}");
}

#[tokio::test]
async fn a_client_token_stops_working_when_the_client_is_merged_away_or_the_token_lies() {
    let app = TestApp::spawn().await;
    let me = app.demo_client().await.id;
    // A duplicate registered at the desk, who signed in before the merge.
    let duplicate = app
        .query(
            Who::Intake,
            "mutation { registerClient(input: { givenName: \"Dubbel\", familyName: \"Dossier\" }) { id } }",
            json!({}),
        )
        .await;
    assert_ok(&duplicate);
    let duplicate = duplicate["data"]["registerClient"]["id"].as_str().unwrap().to_owned();
    let token = app.client_token(Uuid::parse_str(&duplicate).unwrap());
    let (status, _) = app.post(Some(&format!("Bearer {token}")), "{ me { role } }", json!({})).await;
    assert_eq!(status, 200);
    let merge = "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }";
    assert_ok(&app.query(Who::Admin, merge, json!({ "k": me, "m": duplicate })).await);
    let (status, response) = app.post(Some(&format!("Bearer {token}")), "{ me { role } }", json!({})).await;
    assert_eq!((status, codes(&response)), (401, vec!["UNAUTHENTICATED".to_owned()]), "{response}");
    // A user's id presented as a client's (or a client's as a user's) names no one.
    let user = app.user(Who::Admin).await.unwrap().id;
    for token in [app.client_token(user), app.tokens.issue(me, chrono::Duration::hours(1)).unwrap()] {
        let (status, _) = app.post(Some(&format!("Bearer {token}")), "{ me { role } }", json!({})).await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn a_client_hears_the_events_of_their_own_referrals_only() {
    let app = TestApp::spawn().await;
    let me = app.demo_client().await.id;
    let woonclub = app.user(Who::Woonclub).await.unwrap().organisation_id;
    let mut socket = connect(&app.addr.to_string(), Some(&app.client_token(me))).await.unwrap();
    let events = "subscription { referralEvents { toStatus noteForClient referral { id client { id } } } }";
    let message = json!({ "id": "mine", "type": "subscribe", "payload": { "query": events } });
    socket.send(Message::text(message.to_string())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // A referral for another client first, then one for them: they hear only their own.
    let create = "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o, lifeDomain: HOUSING, reason: \"Woonvraag\" }) { id } }";
    let grant = "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY] }) { id } }";
    let other = referral::Entity::find()
        .filter(referral::Column::ClientId.ne(me))
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    for client in [other.client_id, me] {
        assert_ok(&app.query(Who::Intake, grant, json!({ "c": client, "o": woonclub })).await);
        assert_ok(&app.query(Who::Intake, create, json!({ "c": client, "o": woonclub })).await);
    }
    let heard = next_message(&mut socket, SECONDS).await.expect("an event");
    assert_eq!(heard["type"], "next", "{heard}");
    let event = &heard["payload"]["data"]["referralEvents"];
    assert_eq!(
        event["referral"]["client"]["id"],
        me.to_string(),
        "their own referral, not the other's: {heard}"
    );
    assert_eq!(event["toStatus"], "REQUESTED");
    // The organisations' note is not theirs to subscribe to.
    let with_note = json!({ "id": "note", "type": "subscribe", "payload": { "query": "subscription { referralEvents { note } }" } });
    socket.send(Message::text(with_note.to_string())).await.unwrap();
    let refused = next_message(&mut socket, SECONDS).await.expect("an answer");
    assert_eq!(refused["type"], "error", "{refused}");
}

#[tokio::test]
async fn every_read_of_the_clients_referrals_and_consents_is_in_their_access_log() {
    let app = TestApp::spawn().await;
    let me = app.demo_client().await.id;
    let (partner, _) = a_partner_of(&app, me).await;
    let log = "{ myAccessLog(first: 100) { edges { node { role action categories organisation { id } } } } }";
    let categories_read_by = |response: &Value, role: &str| -> Vec<String> {
        crate::helpers::nodes(response, &["myAccessLog"])
            .into_iter()
            .filter(|e| e["role"] == role && e["action"] == "READ")
            .flat_map(|e| {
                e["categories"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    // The partner reads only the referrals' words and history, no consent category at all.
    let referral = referral::Entity::find()
        .filter(referral::Column::ClientId.eq(me))
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    let read = "query($id: ID!) { referral(id: $id) { reason events { toStatus note } } }";
    let who = if Some(referral.recipient_id) == app.user(partner).await.map(|u| u.organisation_id) {
        partner
    } else {
        Who::CaseWorker
    };
    assert_ok(&app.query(who, read, json!({ "id": referral.id })).await);
    assert_ok(
        &app.query(
            Who::Intake,
            "query($id: ID!) { client(id: $id) { consents { purpose } appointments { startsAt } } }",
            json!({ "id": me }),
        )
        .await,
    );
    let response = as_client(&app, Transport::Http, me, log, json!({})).await;
    assert_ok(&response);
    let role = if who == partner { "PARTNER" } else { "CASE_WORKER" };
    assert!(categories_read_by(&response, role).contains(&"REFERRALS".to_owned()), "{response}");
    let desk = categories_read_by(&response, "INTAKE");
    assert!(desk.contains(&"CONSENTS".to_owned()) && desk.contains(&"APPOINTMENTS".to_owned()), "{desk:?}");
}

#[tokio::test]
async fn a_citizen_cannot_take_every_slot_of_the_office_hours() {
    let app = TestApp::spawn().await;
    let me = app.demo_client().await.id;
    let pension = app.user(Who::Pension).await.unwrap().organisation_id;
    let from = Utc::now() + chrono::Duration::days(1);
    let slots = as_client(
        &app,
        Transport::Http,
        me,
        "query($o: ID!, $from: DateTime!, $to: DateTime!) { officeHours(organisationId: $o, from: $from, to: $to) { startsAt free } }",
        json!({ "o": pension, "from": from, "to": from + chrono::Duration::days(30) }),
    )
    .await;
    let free: Vec<Value> = slots["data"]["officeHours"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["free"] == true)
        .map(|s| s["startsAt"].clone())
        .collect();
    assert!(free.len() > 6, "enough free slots: {}", free.len());
    let upcoming = entities::appointment::Entity::find()
        .filter(entities::appointment::Column::ClientId.eq(me))
        .filter(entities::appointment::Column::ActiveSlot.is_not_null())
        .filter(entities::appointment::Column::StartsAt.gt(Utc::now()))
        .all(&app.db.conn)
        .await
        .unwrap()
        .len();
    let book = "mutation($c: ID!, $o: ID!, $at: DateTime!) { bookAppointment(input: { clientId: $c, organisationId: $o, startsAt: $at }) { id } }";
    let mut outcomes = Vec::new();
    for at in free.iter().take(5) {
        let response =
            as_client(&app, Transport::Http, me, book, json!({ "c": me, "o": pension, "at": at })).await;
        outcomes.push(codes(&response).first().cloned().unwrap_or_else(|| "OK".into()));
    }
    let allowed = 3usize.saturating_sub(upcoming);
    let expected: Vec<String> =
        (0..5).map(|i| if i < allowed { "OK".to_owned() } else { "CONFLICT".to_owned() }).collect();
    assert_eq!(outcomes, expected, "at most three appointments ahead, booked by the citizen");
    // Staff at the desk book without that bound.
    let desk = app.query(Who::Intake, book, json!({ "c": me, "o": pension, "at": free[5] })).await;
    assert_ok(&desk);
}

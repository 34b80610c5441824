//! The contract's "Who may see what" as a matrix: every role against every root field, the
//! nested paths that reach client data, connection totals and mutations, over HTTP and over the
//! WebSocket (both doors pass one gate: this proves it). The expectations are
//! written here from the contract's table, and the scoped totals are counted straight from the
//! database, independently of the policy module.

use std::collections::HashSet;

use entities::{Role, client, referral};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, Transport, Who, codes};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Ok,
    /// In the role's schema, refused here.
    Forbidden,
    /// Not in the role's schema at all: refused as unknown, like a name that never existed.
    Hidden,
    NotFound,
    BadInput,
    /// Not asked of this role here (its answer depends on the office hours' free slots).
    Skip,
}
use Expect::*;

fn role_of(who: Who) -> Role {
    match who {
        Who::Public => Role::Public,
        Who::Admin => Role::Admin,
        Who::Intake => Role::Intake,
        Who::CaseWorker => Role::CaseWorker,
        Who::Analyst => Role::Analyst,
        Who::Client => Role::Client,
        _ => Role::Partner,
    }
}

const EVERYONE: [Who; 10] = [
    Who::Client,
    Who::Public,
    Who::Admin,
    Who::Intake,
    Who::CaseWorker,
    Who::Analyst,
    Who::Caw,
    Who::Pension,
    Who::Dyzo,
    Who::Woonclub,
];

fn staff(role: Role) -> bool {
    matches!(role, Role::Intake | Role::CaseWorker | Role::Admin)
}

/// Roles that may ask for clients and referrals at all (a partner then sees its own, a client
/// themself).
fn reads_clients(role: Role) -> bool {
    staff(role) || matches!(role, Role::Partner | Role::Client)
}

/// Roles that move referrals along.
fn changes_referrals(role: Role) -> bool {
    staff(role) || role == Role::Partner
}

struct Fixture {
    client_of_all: Uuid,
    referrals: Vec<referral::Model>,
}

#[tokio::test]
async fn every_role_against_every_root_field_and_mutation() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let referrals = referral::Entity::find().all(db).await.unwrap();
    let fixture = Fixture { client_of_all: referrals[0].client_id, referrals };
    let org_id = app.user(Who::Caw).await.unwrap().organisation_id;
    let service_id =
        nodes_first_id(&app, "{ services(first: 1) { edges { node { id } } } }", "services").await;

    let me = app.demo_client().await.id;
    let caw_webhook = caw_webhook_with_a_delivery(&app, org_id).await;
    let mut table = Vec::new();
    for transport in Transport::BOTH {
        for who in EVERYONE {
            let role = role_of(who);
            // Earlier roles' mutations may have added clients: count from the database as it is now.
            let all_clients = client::Entity::find().all(db).await.unwrap();
            let org = app.user(who).await.map(|u| u.organisation_id);
            let mine = |r: &&referral::Model| match role {
                Role::Client => r.client_id == me,
                _ => Some(r.sender_id) == org || Some(r.recipient_id) == org,
            };
            let own_referral =
                fixture.referrals.iter().find(mine).map(|r| r.id).filter(|_| reads_clients(role));
            let foreign_referral = fixture.referrals.iter().find(|r| !mine(r)).map(|r| r.id).unwrap();
            let visible_referrals = if staff(role) {
                fixture.referrals.len()
            } else {
                fixture.referrals.iter().filter(mine).count()
            };
            let visible_clients: HashSet<Uuid> = if staff(role) {
                all_clients.iter().map(|c| c.id).collect()
            } else {
                fixture.referrals.iter().filter(mine).map(|r| r.client_id).collect()
            };
            let a_client = if staff(role) {
                Some(fixture.client_of_all)
            } else if role == Role::Client {
                Some(me)
            } else {
                visible_clients.iter().next().copied()
            }
            .filter(|_| reads_clients(role));
            let hidden_client = all_clients.iter().map(|c| c.id).find(|c| !visible_clients.contains(c));

            let read_clients = if reads_clients(role) { Ok } else { Hidden };
            let mut cases: Vec<(&str, String, Value, Expect)> = vec![
            ("me", "{ me { role } }".into(), json!({}), Ok),
            ("organisations", "{ organisations { totalCount } }".into(), json!({}), Ok),
            ("organisation(id)", "query($id: ID!) { organisation(id: $id) { name services { totalCount } } }".into(), json!({ "id": org_id }), Ok),
            ("services", "{ services { totalCount edges { node { organisation { name } } } } }".into(), json!({}), Ok),
            ("service(id)", "query($id: ID!) { service(id: $id) { name locations { name } } }".into(), json!({ "id": service_id }), Ok),
            ("clients", "{ clients { totalCount } }".into(), json!({}), read_clients),
            ("referrals", "{ referrals { totalCount } }".into(), json!({}), read_clients),
            ("referral(foreign id)", "query($id: ID!) { referral(id: $id) { id } }".into(), json!({ "id": foreign_referral }),
                if staff(role) { Ok } else if reads_clients(role) { NotFound } else { Hidden }),
            ("referral(made-up id)", "query($id: ID!) { referral(id: $id) { id } }".into(), json!({ "id": Uuid::new_v4() }),
                if reads_clients(role) { NotFound } else { Hidden }),
            ("client(made-up id)", "query($id: ID!) { client(id: $id) { id } }".into(), json!({ "id": Uuid::new_v4() }),
                if reads_clients(role) { NotFound } else { Hidden }),
            ("auditLog", "{ auditLog { totalCount } }".into(), json!({}), if role == Role::Admin { Ok } else { Hidden }),
            ("recordConsent", "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY] }) { id } }".into(),
                json!({ "c": fixture.client_of_all, "o": org_id }), if staff(role) { Ok } else { Hidden }),
            ("registerClient", "mutation { registerClient(input: { givenName: \"Test\", familyName: \"Matrix\" }) { id } }".into(), json!({}),
                if staff(role) { Ok } else { Hidden }),
            ("openHelpRequest(made-up client)", "mutation($c: ID!) { openHelpRequest(input: { clientId: $c, summary: \"s\", lifeDomains: [HOUSING] }) { id } }".into(),
                json!({ "c": Uuid::new_v4() }), if staff(role) { BadInput } else { Hidden }),
            ("createReferral(made-up client)", "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o, lifeDomain: HOUSING, reason: \"r\" }) { id } }".into(),
                json!({ "c": Uuid::new_v4(), "o": org_id }), if staff(role) { BadInput } else { Hidden }),
            ("changeReferralStatus(made-up id)", "mutation($id: ID!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: 1) { id } }".into(),
                json!({ "id": Uuid::new_v4() }), if changes_referrals(role) { NotFound } else { Hidden }),
            ("officeHours", "{ officeHours(from: \"2030-01-07T00:00:00Z\", to: \"2030-01-14T00:00:00Z\") { startsAt free } }".into(), json!({}), Ok),
            ("cancelAppointment(made-up id)", "mutation($id: ID!) { cancelAppointment(id: $id) { id } }".into(), json!({ "id": Uuid::new_v4() }),
                if reads_clients(role) { NotFound } else { Hidden }),
            ("createService(for CAW)", "mutation($o: ID!) { createService(organisationId: $o, input: { name: \"Matrix\", lifeDomains: [HOUSING], languages: [\"nl\"] }) { id } }".into(),
                json!({ "o": org_id }), if role == Role::Admin || who == Who::Caw { Ok } else if role == Role::Partner { Forbidden } else { Hidden }),
            ("dashboard", "{ dashboard { totalReferrals partners { received } } }".into(), json!({}),
                if matches!(role, Role::Admin | Role::Analyst | Role::Partner) { Ok } else { Hidden }),
            ("revokeConsent(made-up id)", "mutation($id: ID!) { revokeConsent(id: $id) { id } }".into(), json!({ "id": Uuid::new_v4() }),
                if staff(role) || role == Role::Client { NotFound } else { Hidden }),
            ("me.client", "{ me { client { id givenName } } }".into(), json!({}), if role == Role::Client { Ok } else { Hidden }),
            ("myAccessLog", "{ myAccessLog { totalCount edges { node { at role organisation { name } action categories } } } }".into(), json!({}),
                if role == Role::Client { Ok } else { Hidden }),
            ("grantConsent", "mutation($o: ID!) { grantConsent(input: { recipientId: $o, scopes: [CONTACT], purpose: \"Matrix\" }) { id givenBy } }".into(),
                json!({ "o": org_id }), if role == Role::Client { Ok } else { Hidden }),
            ("bookAppointment(someone else)", "mutation($c: ID!, $o: ID!) { bookAppointment(input: { clientId: $c, organisationId: $o, startsAt: \"2030-01-07T09:00:00Z\" }) { id } }".into(),
                json!({ "c": fixture.client_of_all, "o": org_id }),
                if role == Role::Client && fixture.client_of_all != me { Forbidden } else if reads_clients(role) { Skip } else { Hidden }),
            ("referral notes between organisations", "{ referrals(first: 5) { edges { node { outcomeNote events { note } } } } }".into(), json!({}),
                if changes_referrals(role) { Ok } else { Hidden }),
            ("noteForClient", "{ referrals(first: 5) { edges { node { events { toStatus noteForClient } } } } }".into(), json!({}),
                if reads_clients(role) { Ok } else { Hidden }),
            ("help request outcome", "{ clients(first: 5) { edges { node { helpRequests { outcome } } } } }".into(), json!({}),
                if staff(role) { Ok } else { Hidden }),
            ("audit entry's person", "{ auditLog(first: 1) { edges { node { userId requestId } } } }".into(), json!({}),
                if role == Role::Admin { Ok } else { Hidden }),
            ("consent recorder", "{ clients(first: 5) { edges { node { consents { recordedByUserId givenBy revokedBy } } } } }".into(), json!({}),
                if staff(role) { Ok } else { Hidden }),
            ("client appointments", "{ clients(first: 5) { edges { node { appointments { startsAt organisation { name } } } } } }".into(), json!({}),
                if reads_clients(role) { Ok } else { Hidden }),
            ("webhooks", "{ webhooks { id url organisation { id } } }".into(), json!({}), if manages_webhooks(role) { Ok } else { Hidden }),
            ("webhookDeliveries(CAW's) with endpoint and attempts", "query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount edges { node { payload webhook { url } history { statusCode } } } } }".into(),
                json!({ "id": caw_webhook }), caw_webhook_access(who)),
            ("createWebhook(for CAW)", "mutation($o: ID!) { createWebhook(input: { organisationId: $o, url: \"https://hooks.caw.example/matrix\", events: [REFERRAL_CREATED] }) { secret } }".into(),
                json!({ "o": org_id }), if caw_webhook_access(who) == NotFound { Forbidden } else { caw_webhook_access(who) }),
            ("updateWebhook(CAW's)", "mutation($id: ID!, $o: ID!) { updateWebhook(id: $id, input: { organisationId: $o, url: \"https://hooks.caw.example/in\", events: [REFERRAL_CREATED] }) { id } }".into(),
                json!({ "id": caw_webhook, "o": org_id }), caw_webhook_access(who)),
            ("rotateWebhookSecret(CAW's)", "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }".into(),
                json!({ "id": caw_webhook }), caw_webhook_access(who)),
            ("deleteWebhook(made-up id)", "mutation($id: ID!) { deleteWebhook(id: $id) { id } }".into(), json!({ "id": Uuid::new_v4() }),
                if manages_webhooks(role) { NotFound } else { Hidden }),
            ("redeliverWebhook(made-up id)", "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }".into(), json!({ "id": Uuid::new_v4() }),
                if manages_webhooks(role) { NotFound } else { Hidden }),
        ];
            if role == Role::Partner {
                cases.push(("changeReferralStatus(foreign id)", "mutation($id: ID!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: 1) { id } }".into(),
                json!({ "id": foreign_referral }), NotFound));
            }
            if let Some(id) = own_referral {
                cases.push(("referral(own id) with events and organisations", "query($id: ID!) { referral(id: $id) { id events { toStatus referral { id } } sender { name } recipient { name } client { id } } }".into(), json!({ "id": id }), Ok));
            }
            if let Some(client) = a_client {
                cases.push((
                    "client(id) with referrals total",
                    "query($id: ID!) { client(id: $id) { id referrals { totalCount } consents { id } } }"
                        .into(),
                    json!({ "id": client }),
                    Ok,
                ));
                cases.push((
                    "client.helpRequests.caseNotes",
                    "query($id: ID!) { client(id: $id) { helpRequests { caseNotes { body } } } }".into(),
                    json!({ "id": client }),
                    if staff(role) || role == Role::Client { Ok } else { Hidden },
                ));
            }
            if let Some(client) = hidden_client {
                cases.push((
                    "client(someone else's id)",
                    "query($id: ID!) { client(id: $id) { id } }".into(),
                    json!({ "id": client }),
                    if reads_clients(role) { NotFound } else { Hidden },
                ));
            }

            for (name, query, variables, expect) in cases {
                if expect == Skip {
                    continue;
                }
                let response = app.query_over(transport, who, &query, variables).await;
                let got = codes(&response);
                let outcome = match got.first().map(String::as_str) {
                    None => Ok,
                    Some(_) if crate::helpers::denied(&response) == "HIDDEN" => Hidden,
                    Some("FORBIDDEN") => Forbidden,
                    Some("NOT_FOUND") => NotFound,
                    Some("BAD_USER_INPUT") => BadInput,
                    Some(other) => panic!("{who:?} {name}: unexpected {other}: {response}"),
                };
                assert_eq!(outcome, expect, "{transport:?} {who:?} {name}: {response}");
                assert!(
                    !response.to_string().contains("\"body\"") || staff(role) || role == Role::Client,
                    "{who:?} {name}: a case note"
                );
                table.push(format!("{transport:?} {who:?} {name}: {outcome:?}"));
                if expect == Ok {
                    assert!(got.is_empty(), "{who:?} {name}: {response}");
                } else {
                    assert!(
                        response["data"].is_null()
                            || response["data"]
                                .as_object()
                                .map(|m| m.values().all(Value::is_null))
                                .unwrap_or(true),
                        "{who:?} {name}: nothing else answered: {response}"
                    );
                }
                // Totals count exactly the rows in scope.
                if name == "referrals" && expect == Ok {
                    assert_eq!(
                        response["data"]["referrals"]["totalCount"].as_u64().unwrap() as usize,
                        visible_referrals,
                        "{who:?}"
                    );
                }
                if name == "webhooks" && role == Role::Partner {
                    let orgs: HashSet<&str> = response["data"]["webhooks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter_map(|w| w["organisation"]["id"].as_str())
                        .collect();
                    assert!(
                        orgs.iter().all(|o| Some(o.to_string()) == org.map(|o| o.to_string())),
                        "{who:?}: {response}"
                    );
                }
                if name == "clients" && expect == Ok {
                    assert_eq!(
                        response["data"]["clients"]["totalCount"].as_u64().unwrap() as usize,
                        visible_clients.len(),
                        "{who:?}"
                    );
                }
            }
        }
    }
    println!("{}", table.join("\n"));
}

/// Roles that manage webhooks: ADMIN every organisation's, a partner its own.
fn manages_webhooks(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Partner)
}

/// What a caller gets asking for the CAW's endpoint by id: another partner learns nothing of it.
fn caw_webhook_access(who: Who) -> Expect {
    match role_of(who) {
        Role::Admin => Ok,
        Role::Partner if who == Who::Caw => Ok,
        Role::Partner => NotFound,
        _ => Hidden,
    }
}

/// An endpoint of the CAW with one failed delivery and its attempt; returns its id.
async fn caw_webhook_with_a_delivery(app: &TestApp, caw: Uuid) -> Uuid {
    use sea_orm::{ActiveModelTrait, Set};
    let created = app
        .query(
            Who::Admin,
            "mutation($o: ID!) { createWebhook(input: { organisationId: $o, url: \"https://hooks.caw.example/in\",
                events: [REFERRAL_CREATED] }) { webhook { id } } }",
            json!({ "o": caw }),
        )
        .await;
    let id: Uuid = created["data"]["createWebhook"]["webhook"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .parse()
        .unwrap();
    let now = chrono::Utc::now();
    let delivery = entities::webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(id),
        event_type: Set(entities::WebhookEventType::ReferralCreated),
        payload: Set("{}".into()),
        referral_id: Set(None),
        status: Set(entities::DeliveryStatus::Failed),
        attempts: Set(1),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_status_code: Set(Some(500)),
        delivered_at: Set(None),
        created_at: Set(now),
    }
    .insert(&app.db.conn)
    .await
    .unwrap();
    entities::webhook_attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(delivery.id),
        at: Set(now),
        status_code: Set(Some(500)),
        latency_ms: Set(3),
        error: Set(None),
    }
    .insert(&app.db.conn)
    .await
    .unwrap();
    id
}

async fn nodes_first_id(app: &TestApp, query: &str, field: &str) -> Value {
    let response = app.query(Who::Public, query, json!({})).await;
    response["data"][field]["edges"][0]["node"]["id"].clone()
}

#[tokio::test]
async fn aliases_and_fragments_do_not_open_a_way_around() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let org = app.user(Who::Pension).await.unwrap().organisation_id;
    let referrals = referral::Entity::find().all(db).await.unwrap();
    let foreign = referrals.iter().find(|r| r.sender_id != org && r.recipient_id != org).unwrap();
    let own = referrals.iter().find(|r| r.recipient_id == org).unwrap();
    let query = "query($a: ID!, $b: ID!) {
        mine: referral(id: $a) { ...R }
        theirs: referral(id: $b) { ...R }
        again: referrals(first: 100) { totalCount edges { node { ... on Referral { id } } } }
    }
    fragment R on Referral { id client { ... on Client { id nationalRegisterNumber referrals(first: 100) { totalCount } } } }";
    let response = app.query(Who::Pension, query, json!({ "a": own.id, "b": foreign.id })).await;
    assert!(response["data"]["mine"]["id"].is_string());
    assert_eq!(response["data"]["theirs"], Value::Null);
    let own_total = referrals.iter().filter(|r| r.sender_id == org || r.recipient_id == org).count();
    assert_eq!(response["data"]["again"]["totalCount"].as_u64().unwrap() as usize, own_total);
    let seen: Vec<&str> = response["data"]["again"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert!(!seen.contains(&foreign.id.to_string().as_str()));
    let text = response.to_string();
    assert!(!text.contains(&foreign.client_id.to_string()), "the foreign client's id never shows");
    assert_eq!(codes(&response).iter().filter(|c| *c == "NOT_FOUND").count(), 1);
}

#[tokio::test]
async fn error_messages_never_confirm_existence() {
    let app = TestApp::spawn().await;
    let org = app.user(Who::Dyzo).await.unwrap().organisation_id;
    let referrals = referral::Entity::find().all(&app.db.conn).await.unwrap();
    let foreign = referrals.iter().find(|r| r.sender_id != org && r.recipient_id != org).unwrap();
    let mut messages = HashSet::new();
    for (query, id) in [
        ("query($id: ID!) { referral(id: $id) { id } }", foreign.id),
        ("query($id: ID!) { referral(id: $id) { id } }", Uuid::new_v4()),
        ("query($id: ID!) { client(id: $id) { id } }", foreign.client_id),
        ("query($id: ID!) { client(id: $id) { id } }", Uuid::new_v4()),
    ] {
        let response = app.query(Who::Dyzo, query, json!({ "id": id })).await;
        let mut error = response["errors"][0].clone();
        error.as_object_mut().unwrap().remove("locations");
        messages.insert(error.to_string());
    }
    assert_eq!(messages.len(), 2, "one answer for referrals, one for clients: {messages:?}");
}

//! The audit log: reads of client data and every change, append-only, for ADMIN.

use entities::{audit_entry, consent, referral};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{TestApp, Who, assert_ok, codes, nodes};

/// The reads the test made (not the demo citizens' access log, which is days old).
async fn reads(app: &TestApp) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("READ"))
        .filter(audit_entry::Column::At.gt(chrono::Utc::now() - chrono::Duration::hours(1)))
        .all(&app.db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn reading_client_data_is_audited_in_one_statement() {
    let app = TestApp::spawn().await;
    let intake = app.user(Who::Intake).await.unwrap();
    let query = "query Desk { clients(first: 30) { edges { node { id givenName phone helpRequests { summary } } } } }";
    let before = app.db.statements();
    let response = app.query(Who::Intake, query, json!({})).await;
    assert_ok(&response);
    let statements = app.db.statements() - before;
    let rows = reads(&app).await;
    assert_eq!(rows.len(), 30, "one row per client read");
    for row in &rows {
        assert_eq!(
            (row.user_id, row.role, row.organisation_id),
            (Some(intake.id), entities::Role::Intake, Some(intake.organisation_id))
        );
        assert_eq!(row.categories.as_deref(), Some("CONTACT,IDENTITY,SITUATION"));
        assert_eq!(row.operation_name.as_deref(), Some("Desk"));
        assert!(row.request_id.is_some());
    }
    // caller lookup, clients page, help requests, one audit insert
    assert!(statements <= 4, "{statements} statements");
}

#[tokio::test]
async fn what_a_partner_may_not_read_is_not_logged_as_read() {
    let app = TestApp::spawn().await;
    let response = app
        .query(
            Who::Caw,
            "{ referrals(first: 100) { edges { node { client { id givenName nationalRegisterNumber } } } } }",
            json!({}),
        )
        .await;
    let forbidden = codes(&response).len();
    assert!(forbidden > 0);
    let rows = reads(&app).await;
    let caw = app.user(Who::Caw).await.unwrap();
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(row.user_id, Some(caw.id));
        let categories = row.categories.clone().unwrap();
        assert!(categories.split(',').all(|c| c == "IDENTITY" || c == "NATIONAL_NUMBER"), "{categories}");
    }
}

#[tokio::test]
async fn the_social_map_and_ids_alone_leave_no_trace() {
    let app = TestApp::spawn().await;
    app.query(Who::Public, "{ services(first: 50) { edges { node { name } } } }", json!({})).await;
    app.query(Who::Admin, "{ referrals(first: 50) { edges { node { status client { id } } } } }", json!({}))
        .await;
    assert_eq!(reads(&app).await.len(), 0);
}

#[tokio::test]
async fn only_admin_reads_the_audit_log() {
    let app = TestApp::spawn().await;
    let query = "query($client: ID) { auditLog(clientId: $client, first: 10) { totalCount edges { node { action subjectType clientId categories role userId } } } }";
    // The demo citizens' access log is there from the start.
    let before =
        app.query(Who::Admin, query, json!({})).await["data"]["auditLog"]["totalCount"].as_i64().unwrap();
    app.query(Who::CaseWorker, "{ clients(first: 2) { edges { node { familyName } } } }", json!({})).await;
    let admin = app.query(Who::Admin, query, json!({})).await;
    assert_ok(&admin);
    assert_eq!(admin["data"]["auditLog"]["totalCount"], before + 2);
    let client = nodes(&admin, &["auditLog"])[0]["clientId"].clone();
    let one = app.query(Who::Admin, query, json!({ "client": client })).await;
    assert_eq!(one["data"]["auditLog"]["totalCount"], 1);
    for who in [Who::Public, Who::Caw, Who::Intake, Who::CaseWorker, Who::Analyst] {
        let response = app.query(who, query, json!({})).await;
        assert_eq!(crate::helpers::denied(&response), "HIDDEN", "{who:?}");
    }
}

#[tokio::test]
async fn the_audit_log_cannot_be_rewritten() {
    let app = TestApp::spawn().await;
    app.query(Who::CaseWorker, "{ clients(first: 1) { edges { node { familyName } } } }", json!({})).await;
    assert_eq!(reads(&app).await.len(), 1);
    assert!(app.db.conn.execute_unprepared("UPDATE audit_log SET action = 'NOTHING'").await.is_err());
    assert!(app.db.conn.execute_unprepared("DELETE FROM audit_log").await.is_err());
    assert_eq!(reads(&app).await.len(), 1);
}

const RECORD: &str = "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { id scopes purpose active recipient { name } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeConsent(id: $id) { id active revokedAt } }";

#[tokio::test]
async fn consent_opens_and_revocation_closes_a_partners_view_at_once() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let woonclub = app.user(Who::Woonclub).await.unwrap().organisation_id;
    // A Woonclub referral whose client gave Woonclub no CONTACT consent.
    let referrals =
        referral::Entity::find().filter(referral::Column::RecipientId.eq(woonclub)).all(db).await.unwrap();
    let consents =
        consent::Entity::find().filter(consent::Column::RecipientId.eq(woonclub)).all(db).await.unwrap();
    let target = referrals
        .iter()
        .find(|r| {
            !consents.iter().any(|c| c.client_id == r.client_id && c.revoked_at.is_none() && c.scope_contact)
        })
        .expect("the demo has one");
    let read = "query($id: ID!) { referral(id: $id) { client { phone } } }";
    let id = json!({ "id": target.id.to_string() });
    assert_eq!(codes(&app.query(Who::Woonclub, read, id.clone()).await), vec!["FORBIDDEN"]);

    let input = json!({ "input": { "clientId": target.client_id.to_string(), "recipientId": woonclub.to_string(), "scopes": ["CONTACT"], "purpose": "Woning zoeken" } });
    let recorded = app.query(Who::Intake, RECORD, input).await;
    assert_ok(&recorded);
    assert_eq!(recorded["data"]["recordConsent"]["scopes"], json!(["CONTACT"]));
    assert_eq!(recorded["data"]["recordConsent"]["recipient"]["name"], "Woonclub Waregem");
    let opened = app.query(Who::Woonclub, read, id.clone()).await;
    assert_ok(&opened);
    assert!(opened["data"]["referral"]["client"]["phone"].is_string());

    let consent_id = recorded["data"]["recordConsent"]["id"].clone();
    let revoked = app.query(Who::CaseWorker, REVOKE, json!({ "id": consent_id })).await;
    assert_ok(&revoked);
    assert_eq!(revoked["data"]["revokeConsent"]["active"], false);
    assert_eq!(codes(&app.query(Who::Woonclub, read, id).await), vec!["FORBIDDEN"]);
    assert_eq!(
        codes(&app.query(Who::CaseWorker, REVOKE, json!({ "id": consent_id })).await),
        vec!["CONFLICT"]
    );

    // Both changes are in the audit log, by who made them.
    let changes = audit_entry::Entity::find()
        .filter(audit_entry::Column::SubjectType.eq("Consent"))
        .all(db)
        .await
        .unwrap();
    let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(actions, vec!["CREATE", "REVOKE"]);
    assert!(changes.iter().all(|c| c.client_id == Some(target.client_id)));
}

#[tokio::test]
async fn consent_is_recorded_by_staff_only_and_checked() {
    let app = TestApp::spawn().await;
    let client = nodes(
        &app.query(Who::Admin, "{ clients(first: 1) { edges { node { id } } } }", json!({})).await,
        &["clients"],
    )[0]["id"]
        .clone();
    let caw = app.user(Who::Caw).await.unwrap().organisation_id.to_string();
    let input = |client: serde_json::Value, recipient: &str, scopes: serde_json::Value| json!({ "input": { "clientId": client, "recipientId": recipient, "scopes": scopes } });
    for who in [Who::Public, Who::Caw, Who::Analyst] {
        let response = app.query(who, RECORD, input(client.clone(), &caw, json!(["IDENTITY"]))).await;
        assert_eq!(crate::helpers::denied(&response), "HIDDEN", "{who:?}");
    }
    let cases = [
        (input(client.clone(), &caw, json!([])), "input.scopes"),
        (input(client.clone(), &uuid::Uuid::new_v4().to_string(), json!(["IDENTITY"])), "input.recipientId"),
        (input(json!(uuid::Uuid::new_v4().to_string()), &caw, json!(["IDENTITY"])), "input.clientId"),
        (input(json!("nope"), &caw, json!(["IDENTITY"])), "input.clientId"),
    ];
    let before = consent::Entity::find().count(&app.db.conn).await.unwrap();
    for (variables, field) in cases {
        let response = app.query(Who::Intake, RECORD, variables).await;
        assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{field}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(consent::Entity::find().count(&app.db.conn).await.unwrap(), before, "nothing half-written");
    let response = app.query(Who::Intake, REVOKE, json!({ "id": uuid::Uuid::new_v4().to_string() })).await;
    assert_eq!(codes(&response), vec!["NOT_FOUND"]);
}

/// Concurrent requests' reads are written together (one commit for many requests), and each
/// request still answers only with its rows written: when the rows of one caller cannot be
/// written, that caller's answers are withheld, and nobody else's.
#[tokio::test]
async fn reads_of_concurrent_requests_are_written_together_and_fail_alone() {
    let app = TestApp::spawn().await;
    // The database refuses every audit row of a partner from now on.
    let refuse = if app.database.is_postgres() {
        vec![
            "CREATE FUNCTION refuse_partner_reads() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.role = 'PARTNER' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_partner_reads BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_partner_reads()",
        ]
    } else {
        vec![
            "CREATE TRIGGER refuse_partner_reads BEFORE INSERT ON audit_log WHEN new.role = 'PARTNER'
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
        ]
    };
    for sql in refuse {
        app.db.conn.execute_unprepared(sql).await.unwrap();
    }
    let desk = "query Desk { clients(first: 5) { edges { node { id givenName } } } }";
    let inbox = "query Inbox { referrals(first: 5, filter: { direction: INCOMING }) {
        edges { node { id client { id givenName } } } } }";
    let answers = futures_util::future::join_all((0..16).map(|i| {
        let (who, query) = if i % 2 == 0 { (Who::Intake, desk) } else { (Who::Caw, inbox) };
        let app = &app;
        async move { (who, app.query(who, query, json!({})).await) }
    }))
    .await;
    for (who, response) in &answers {
        if *who == Who::Intake {
            assert_ok(response);
        } else {
            assert_eq!(codes(response), ["INTERNAL"], "{response}");
            assert!(response["data"].is_null(), "nothing of what could not be accounted for: {response}");
        }
    }
    let rows = reads(&app).await;
    assert_eq!(rows.len(), 8 * 5, "the desk's eight requests, five clients each");
    assert!(rows.iter().all(|row| row.role == entities::Role::Intake));
    let requests: std::collections::HashSet<_> = rows.iter().map(|row| row.request_id.clone()).collect();
    assert_eq!(requests.len(), 8);
}

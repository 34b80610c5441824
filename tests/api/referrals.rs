//! The closed loop: intake, consent, referral, the partner's answers, and the sender reading the
//! outcome — with the state machine, optimistic concurrency and idempotent retries.

use entities::{audit_entry, help_request, referral, referral_event, referral_notice, webhook_delivery};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, assert_ok, codes};

const REGISTER: &str = "mutation($input: RegisterClientInput!) { registerClient(input: $input) { id givenName nationalRegisterNumber } }";
const OPEN: &str = "mutation($input: OpenHelpRequestInput!) { openHelpRequest(input: $input) { id status lifeDomains channel } }";
const CONSENT: &str = "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { id } }";
const CREATE: &str = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id status version events { fromStatus toStatus } } }";
const CHANGE: &str =
    "mutation($id: ID!, $status: ReferralStatus!, $version: Int!, $note: String, $reason: RejectionReason) {
    changeReferralStatus(id: $id, status: $status, expectedVersion: $version, note: $note, reason: $reason) {
        id status version outcomeNote rejectionReason } }";

/// 15 March 1990, serial 123: 900315123, check 97 - (900315123 mod 97).
fn valid_number() -> String {
    let body: u64 = 900_315_123;
    format!("{body}{:02}", 97 - body % 97)
}

async fn org(app: &TestApp, who: Who) -> String {
    app.user(who).await.unwrap().organisation_id.to_string()
}

/// Registers a client with a help request and a consent for Woonclub; returns (client, help request).
async fn client_for_woonclub(app: &TestApp) -> (String, String) {
    let registered = app
        .query(
            Who::Intake,
            REGISTER,
            json!({ "input": {
            "givenName": "Ilse", "familyName": "Verstraete", "dateOfBirth": "1990-03-15",
            "nationalRegisterNumber": valid_number(), "phone": "+32 470 12 34 56",
            "address": { "street": "Markt 1", "postcode": "8790", "municipality": "Waregem" } } }),
        )
        .await;
    assert_ok(&registered);
    let client = registered["data"]["registerClient"]["id"].as_str().unwrap().to_owned();
    let opened = app
        .query(Who::Intake, OPEN, json!({ "input": { "clientId": client, "summary": "Huur opgezegd, zoekt woning", "lifeDomains": ["HOUSING", "FINANCES"], "channel": "phone" } }))
        .await;
    assert_ok(&opened);
    assert_eq!(opened["data"]["openHelpRequest"]["channel"], "PHONE");
    let help = opened["data"]["openHelpRequest"]["id"].as_str().unwrap().to_owned();
    let consent = app
        .query(Who::Intake, CONSENT, json!({ "input": { "clientId": client, "recipientId": org(app, Who::Woonclub).await, "scopes": ["IDENTITY", "CONTACT", "SITUATION"] } }))
        .await;
    assert_ok(&consent);
    (client, help)
}

async fn create(app: &TestApp, client: &str, help: Option<&str>) -> Value {
    let input = json!({ "input": { "clientId": client, "helpRequestId": help, "recipientId": org(app, Who::Woonclub).await,
        "lifeDomain": "HOUSING", "reason": "Zoekt dringend een betaalbare huurwoning" } });
    app.query(Who::Intake, CREATE, input).await
}

async fn change(
    app: &TestApp,
    who: Who,
    id: &str,
    status: &str,
    version: i64,
    note: Option<&str>,
    reason: Option<&str>,
) -> Value {
    app.query(
        who,
        CHANGE,
        json!({ "id": id, "status": status, "version": version, "note": note, "reason": reason }),
    )
    .await
}

#[tokio::test]
async fn a_full_trajectory_from_intake_to_outcome() {
    let app = TestApp::spawn().await;
    let (client, help) = client_for_woonclub(&app).await;
    let created = create(&app, &client, Some(&help)).await;
    assert_ok(&created);
    let referral = &created["data"]["createReferral"];
    assert_eq!((referral["status"].as_str(), referral["version"].as_i64()), (Some("REQUESTED"), Some(1)));
    assert_eq!(referral["events"], json!([{ "fromStatus": null, "toStatus": "REQUESTED" }]));
    let id = referral["id"].as_str().unwrap().to_owned();

    // The partner finds it in its inbox, with the client's consented data.
    let inbox = app.query(Who::Woonclub, "{ referrals(filter: { direction: INCOMING, status: [REQUESTED] }) { edges { node { id client { givenName phone } } } } }", json!({})).await;
    let mine = inbox["data"]["referrals"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["id"] == id.as_str())
        .expect("in the inbox")
        .clone();
    assert_eq!(mine["node"]["client"]["givenName"], "Ilse");

    let mut version = 1;
    for (status, note) in [
        ("RECEIVED", None),
        ("ACCEPTED", None),
        ("IN_PROGRESS", None),
        ("COMPLETED", Some("Huurcontract getekend voor een appartement in de Stationsstraat.")),
    ] {
        let response = change(&app, Who::Woonclub, &id, status, version, note, None).await;
        assert_ok(&response);
        version += 1;
        assert_eq!(response["data"]["changeReferralStatus"]["version"], version);
        assert_eq!(response["data"]["changeReferralStatus"]["status"], status);
    }

    // The sender reads the outcome and the whole history.
    let read = app.query(Who::Intake, "query($id: ID!) { referral(id: $id) { status outcomeNote events { fromStatus toStatus note organisation { name } } } }", json!({ "id": id })).await;
    assert_ok(&read);
    let referral = &read["data"]["referral"];
    assert_eq!(referral["status"], "COMPLETED");
    assert_eq!(referral["outcomeNote"], "Huurcontract getekend voor een appartement in de Stationsstraat.");
    let steps: Vec<(Value, Value)> = referral["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["fromStatus"].clone(), e["toStatus"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, json!("REQUESTED")),
            (json!("REQUESTED"), json!("RECEIVED")),
            (json!("RECEIVED"), json!("ACCEPTED")),
            (json!("ACCEPTED"), json!("IN_PROGRESS")),
            (json!("IN_PROGRESS"), json!("COMPLETED")),
        ]
    );
    assert_eq!(referral["events"][4]["organisation"]["name"], "Woonclub Waregem");

    // Its only referral done, the help request is closed; every change is audited.
    let help = help_request::Entity::find_by_id(help.parse::<uuid::Uuid>().unwrap())
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(help.status, entities::HelpRequestStatus::Closed);
    let changes = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("STATUS_CHANGE"))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(changes, 4);
}

#[tokio::test]
async fn only_the_state_machines_moves_and_only_by_the_right_side() {
    let app = TestApp::spawn().await;
    let (client, _) = client_for_woonclub(&app).await;
    let id = create(&app, &client, None).await["data"]["createReferral"]["id"].as_str().unwrap().to_owned();
    // Not in the state machine: CONFLICT, whoever asks.
    for status in ["IN_PROGRESS", "COMPLETED", "REQUESTED"] {
        let response = change(&app, Who::Woonclub, &id, status, 1, Some("n"), None).await;
        assert_eq!(codes(&response), vec!["CONFLICT"], "REQUESTED → {status}");
    }
    // The wrong side: the sender cannot accept, the recipient cannot cancel.
    assert_eq!(codes(&change(&app, Who::Intake, &id, "ACCEPTED", 1, None, None).await), vec!["FORBIDDEN"]);
    assert_eq!(codes(&change(&app, Who::Woonclub, &id, "CANCELLED", 1, None, None).await), vec!["FORBIDDEN"]);
    // Another partner does not see it at all.
    assert_eq!(codes(&change(&app, Who::Caw, &id, "ACCEPTED", 1, None, None).await), vec!["NOT_FOUND"]);
    // The loop's feedback is required.
    assert_eq!(
        codes(&change(&app, Who::Woonclub, &id, "REJECTED", 1, Some("Geen plaats"), None).await),
        vec!["BAD_USER_INPUT"]
    );
    assert_eq!(
        codes(&change(&app, Who::Woonclub, &id, "REJECTED", 1, None, Some("NO_CAPACITY")).await),
        vec!["BAD_USER_INPUT"]
    );
    assert_eq!(
        codes(&change(&app, Who::Woonclub, &id, "ACCEPTED", 1, None, Some("NO_CAPACITY")).await),
        vec!["BAD_USER_INPUT"]
    );
    // A stale version is a conflict.
    assert_ok(&change(&app, Who::Woonclub, &id, "RECEIVED", 1, None, None).await);
    assert_eq!(codes(&change(&app, Who::Woonclub, &id, "ACCEPTED", 1, None, None).await), vec!["CONFLICT"]);
    // Rejection closes the loop with a reason; final statuses stay final.
    let rejected = change(
        &app,
        Who::Woonclub,
        &id,
        "REJECTED",
        2,
        Some("Wachtlijst van drie maanden."),
        Some("NO_CAPACITY"),
    )
    .await;
    assert_ok(&rejected);
    assert_eq!(rejected["data"]["changeReferralStatus"]["rejectionReason"], "NO_CAPACITY");
    assert_eq!(rejected["data"]["changeReferralStatus"]["outcomeNote"], "Wachtlijst van drie maanden.");
    for status in ["ACCEPTED", "CANCELLED", "RECEIVED"] {
        assert_eq!(codes(&change(&app, Who::Admin, &id, status, 3, None, None).await), vec!["CONFLICT"]);
    }
    // Nothing of the refused attempts was written.
    let events = referral_event::Entity::find()
        .filter(referral_event::Column::ReferralId.eq(id.parse::<uuid::Uuid>().unwrap()))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(events, 3);
}

#[tokio::test]
async fn the_sender_cancels() {
    let app = TestApp::spawn().await;
    let (client, _) = client_for_woonclub(&app).await;
    let id = create(&app, &client, None).await["data"]["createReferral"]["id"].as_str().unwrap().to_owned();
    let cancelled =
        change(&app, Who::CaseWorker, &id, "CANCELLED", 1, Some("Cliënt vond zelf een woning."), None).await;
    assert_ok(&cancelled);
    assert_eq!(cancelled["data"]["changeReferralStatus"]["status"], "CANCELLED");
}

#[tokio::test]
async fn two_changes_on_one_version_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let (client, _) = client_for_woonclub(&app).await;
    let id = create(&app, &client, None).await["data"]["createReferral"]["id"].as_str().unwrap().to_owned();
    let token = app.token(Who::Woonclub).await.unwrap();
    let header = format!("Bearer {token}");
    let query = CHANGE.to_owned();
    let attempts = ["RECEIVED", "ACCEPTED", "REJECTED", "ACCEPTED", "RECEIVED", "ACCEPTED"].map(|status| {
        let (app_http, url, header, query, id) = (app.http.clone(), format!("http://{}/graphql", app.addr), header.clone(), query.clone(), id.clone());
        tokio::spawn(async move {
            let note = (status == "REJECTED").then_some("Geen plaats");
            let reason = (status == "REJECTED").then_some("NO_CAPACITY");
            let body = json!({ "query": query, "variables": { "id": id, "status": status, "version": 1, "note": note, "reason": reason } });
            let response = app_http.post(url).header("Authorization", header).json(&body).send().await.unwrap();
            response.json::<Value>().await.unwrap()
        })
    });
    let mut wins = 0;
    for attempt in attempts {
        let response = attempt.await.unwrap();
        match codes(&response).as_slice() {
            [] => wins += 1,
            [code] => assert_eq!(code, "CONFLICT", "{response}"),
            _ => panic!("{response}"),
        }
    }
    assert_eq!(wins, 1);
    let row = referral::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.version, 2);
    let events = referral_event::Entity::find()
        .filter(referral_event::Column::ReferralId.eq(row.id))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(events, 2, "one creation, one change");
}

#[tokio::test]
async fn a_retried_creation_returns_the_first_result() {
    let app = TestApp::spawn().await;
    let (client, _) = client_for_woonclub(&app).await;
    let input = json!({ "input": { "clientId": client, "recipientId": org(&app, Who::Woonclub).await, "lifeDomain": "HOUSING", "reason": "Woning" } });
    let headers = [("Idempotency-Key", "desk-42-attempt")];
    let (_, first) = app.post_with(Who::Intake, &headers, CREATE, input.clone()).await;
    let (_, again) = app.post_with(Who::Intake, &headers, CREATE, input.clone()).await;
    assert_ok(&first);
    assert_eq!(first["data"]["createReferral"]["id"], again["data"]["createReferral"]["id"]);
    // Concurrent retries too.
    let token = format!("Bearer {}", app.token(Who::Intake).await.unwrap());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (http, url, token, body) = (
                app.http.clone(),
                format!("http://{}/graphql", app.addr),
                token.clone(),
                json!({ "query": CREATE, "variables": input }),
            );
            tokio::spawn(async move {
                let response = http
                    .post(url)
                    .header("Authorization", token)
                    .header("Idempotency-Key", "desk-43")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                response.json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for handle in handles {
        let response = handle.await.unwrap();
        assert_ok(&response);
        ids.insert(response["data"]["createReferral"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "one referral for one key");
    // The same through clientMutationId.
    let mut with_id = input.clone();
    with_id["input"]["clientMutationId"] = json!("desk-44");
    let a = app.query(Who::Intake, CREATE, with_id.clone()).await;
    let b = app.query(Who::Intake, CREATE, with_id).await;
    assert_eq!(a["data"]["createReferral"]["id"], b["data"]["createReferral"]["id"]);
    let total = referral::Entity::find()
        .filter(referral::Column::ClientId.eq(client.parse::<uuid::Uuid>().unwrap()))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(total, 3);
}

#[tokio::test]
async fn a_referral_needs_consent_a_partner_and_a_matching_life_domain() {
    let app = TestApp::spawn().await;
    let (client, _) = client_for_woonclub(&app).await;
    let before = referral::Entity::find().count(&app.db.conn).await.unwrap();
    let attempt = |recipient: String, domain: &str| json!({ "input": { "clientId": client, "recipientId": recipient, "lifeDomain": domain, "reason": "r" } });
    // No consent for dyzo.
    let response = app.query(Who::Intake, CREATE, attempt(org(&app, Who::Dyzo).await, "WORK")).await;
    assert_eq!(codes(&response), vec!["FORBIDDEN"]);
    assert!(response["errors"][0]["message"].as_str().unwrap().contains("dyzo"));
    // Woonclub answers housing only.
    let response = app.query(Who::Intake, CREATE, attempt(org(&app, Who::Woonclub).await, "CHILDREN")).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    assert_eq!(response["errors"][0]["extensions"]["field"], "input.lifeDomain");
    // The welfare house itself is the sender, not a recipient; a made-up organisation neither.
    let response = app.query(Who::Intake, CREATE, attempt(org(&app, Who::Intake).await, "HOUSING")).await;
    assert_eq!(response["errors"][0]["extensions"]["field"], "input.recipientId");
    let response = app.query(Who::Intake, CREATE, attempt(uuid::Uuid::new_v4().to_string(), "HOUSING")).await;
    assert_eq!(response["errors"][0]["extensions"]["field"], "input.recipientId");
    // Partners and analysts do not create referrals.
    for who in [Who::Woonclub, Who::Analyst, Who::Public] {
        assert_eq!(
            crate::helpers::denied(
                &app.query(who, CREATE, attempt(org(&app, Who::Woonclub).await, "HOUSING")).await
            ),
            "HIDDEN"
        );
    }
    assert_eq!(referral::Entity::find().count(&app.db.conn).await.unwrap(), before, "nothing written");
}

#[tokio::test]
async fn registering_checks_the_national_number_and_refuses_duplicates() {
    let app = TestApp::spawn().await;
    let (client, _) = client_for_woonclub(&app).await;
    let register = |input: Value| app.query(Who::Intake, REGISTER, json!({ "input": input }));
    let bad = register(
        json!({ "givenName": "Jan", "familyName": "Peeters", "nationalRegisterNumber": "90031512300" }),
    )
    .await;
    assert_eq!(codes(&bad), vec!["BAD_USER_INPUT"]);
    assert_eq!(bad["errors"][0]["extensions"]["field"], "input.nationalRegisterNumber");
    let same_number = register(
        json!({ "givenName": "Other", "familyName": "Person", "nationalRegisterNumber": valid_number() }),
    )
    .await;
    assert_eq!(codes(&same_number), vec!["CONFLICT"]);
    assert!(same_number["errors"][0]["message"].as_str().unwrap().contains(&client));
    let same_person =
        register(json!({ "givenName": "ILSE", "familyName": "verstraete", "dateOfBirth": "1990-03-15" }))
            .await;
    assert_eq!(codes(&same_person), vec!["CONFLICT"]);
    for (input, field) in [
        (json!({ "givenName": " ", "familyName": "X" }), "input.givenName"),
        (json!({ "givenName": "A", "familyName": "B", "email": "no-at-sign" }), "input.email"),
        (json!({ "givenName": "A", "familyName": "B", "dateOfBirth": "2999-01-01" }), "input.dateOfBirth"),
    ] {
        let response = register(input).await;
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
    let born_2005 = {
        let body: u64 = 50_612_001;
        format!("{body:09}{:02}", 97 - (2_000_000_000 + body) % 97)
    };
    let ok = register(json!({ "givenName": "Lena", "familyName": "Maes", "dateOfBirth": "2005-06-12", "nationalRegisterNumber": born_2005 })).await;
    assert_ok(&ok);
    for who in [Who::Caw, Who::Analyst, Who::Public] {
        let response =
            app.query(who, REGISTER, json!({ "input": { "givenName": "A", "familyName": "B" } })).await;
        assert_eq!(crate::helpers::denied(&response), "HIDDEN");
    }
}

const TOTAL: &str = "query($filter: ReferralFilter, $first: Int, $after: String) {
    referrals(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }";

/// The rows a caller's pages walk with `filter`, and the `totalCount` the first page gave.
async fn walked_and_total(app: &TestApp, who: Who, filter: &Value) -> (i64, i64) {
    let (mut walked, mut total, mut after) = (0, None, Value::Null);
    loop {
        let response = app.query(who, TOTAL, json!({ "filter": filter, "first": 100, "after": after })).await;
        assert_ok(&response);
        let page = &response["data"]["referrals"];
        total.get_or_insert(page["totalCount"].as_i64().unwrap());
        walked += page["edges"].as_array().unwrap().len() as i64;
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (walked, total.unwrap());
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Every caller's inbox and outbox totals, with and without statuses, against the rows; and the
/// kept counts against a count of the table.
async fn totals_agree(app: &TestApp) {
    let filters = [
        json!({ "direction": "INCOMING" }),
        json!({ "direction": "OUTGOING" }),
        json!({ "direction": "INCOMING", "status": ["REQUESTED", "RECEIVED", "ACCEPTED"] }),
        json!({ "direction": "OUTGOING", "status": ["COMPLETED"] }),
        json!({ "direction": "INCOMING", "status": [] }),
        json!({ "direction": "INCOMING", "lifeDomain": "HOUSING" }),
    ];
    let callers =
        [Who::Admin, Who::Intake, Who::CaseWorker, Who::Caw, Who::Pension, Who::Dyzo, Who::Woonclub];
    for who in callers {
        for filter in &filters {
            let (walked, total) = walked_and_total(app, who, filter).await;
            assert_eq!(total, walked, "{who:?} with {filter}");
        }
    }
    // Both ways: no kept count the table does not give, no count of the table not kept.
    use sea_orm::ConnectionTrait;
    let counted = "SELECT recipient_id, 'in', status, count(*) FROM referrals GROUP BY recipient_id, status
        UNION ALL SELECT sender_id, 'out', status, count(*) FROM referrals GROUP BY sender_id, status";
    let kept = "SELECT organisation_id, direction, status, CAST(sum(n) AS BIGINT) FROM referral_counts
        GROUP BY organisation_id, direction, status HAVING sum(n) <> 0";
    for difference in [
        format!("{kept} EXCEPT SELECT * FROM ({counted}) c"),
        format!("SELECT * FROM ({counted}) c EXCEPT {kept}"),
    ] {
        let sql = format!("SELECT count(*) AS n FROM ({difference}) d");
        let row = app
            .db
            .conn
            .query_one_raw(sea_orm::Statement::from_string(app.db.conn.get_database_backend(), sql))
            .await;
        assert_eq!(
            row.unwrap().unwrap().try_get::<i64>("", "n").unwrap(),
            0,
            "kept counts differ from the table"
        );
    }
}

/// An inbox's or outbox's `totalCount` is read from counts the database keeps per organisation,
/// direction and status (its triggers change them with every referral): for every caller and
/// filter they answer, the total is the rows the pages walk, through creation, status changes,
/// an erasure, and changes made in SQL behind the API's back (a status set, a referral deleted).
#[tokio::test]
async fn kept_totals_match_the_rows_for_every_caller_through_every_change() {
    let app = TestApp::spawn().await;
    totals_agree(&app).await;
    let (client, help) = client_for_woonclub(&app).await;
    let created = create(&app, &client, Some(&help)).await;
    assert_ok(&created);
    let id = created["data"]["createReferral"]["id"].as_str().unwrap().to_owned();
    assert_ok(&change(&app, Who::Woonclub, &id, "RECEIVED", 1, None, None).await);
    assert_ok(&change(&app, Who::Woonclub, &id, "ACCEPTED", 2, None, None).await);
    let second = create(&app, &client, None).await;
    assert_ok(&second);
    let second = second["data"]["createReferral"]["id"].as_str().unwrap().to_owned();
    totals_agree(&app).await;

    let erase = "mutation($id: ID!, $r: String!) { eraseClient(id: $id, reason: $r) { id } }";
    assert_ok(&app.query(Who::Admin, erase, json!({ "id": client, "r": "op verzoek van de cliënt" })).await);
    totals_agree(&app).await;

    // Behind the API's back, as a database administrator could.
    let db = &app.db.conn;
    let (id, second) = (id.parse::<uuid::Uuid>().unwrap(), second.parse::<uuid::Uuid>().unwrap());
    let set = |column: referral::Column, value: sea_orm::Value, row: uuid::Uuid| {
        referral::Entity::update_many()
            .col_expr(column, sea_orm::sea_query::Expr::value(value))
            .filter(referral::Column::Id.eq(row))
            .exec(db)
    };
    set(referral::Column::Status, "COMPLETED".into(), id).await.unwrap();
    let caw: uuid::Uuid = org(&app, Who::Caw).await.parse().unwrap();
    set(referral::Column::RecipientId, caw.into(), second).await.unwrap();
    referral_event::Entity::delete_many()
        .filter(referral_event::Column::ReferralId.eq(id))
        .exec(db)
        .await
        .unwrap();
    referral_notice::Entity::delete_many()
        .filter(referral_notice::Column::ReferralId.eq(id))
        .exec(db)
        .await
        .unwrap();
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::ReferralId.eq(id))
        .exec(db)
        .await
        .unwrap();
    let deleted = referral::Entity::delete_by_id(id).exec(db).await.unwrap();
    assert_eq!(deleted.rows_affected, 1);
    totals_agree(&app).await;
}

//! The daily work of the house's staff: case notes kept in versions, help requests changed and
//! closed with an outcome, clients changed and duplicates merged. First every role against every
//! new mutation and read path over HTTP and the WebSocket, with expectations written from the
//! contract's table; then what each mutation does, checked in the database itself.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use entities::{ReferralStatus, audit_entry, case_note, client, client_merge, help_request, referral};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, Transport, Who, assert_ok, codes, denied};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Ok,
    /// Not in the role's schema at all: refused as unknown, like a name that never existed.
    Hidden,
    NotFound,
    BadInput,
    Conflict,
}
use Expect::*;

/// The welfare house's staff who work with clients: INTAKE, CASE_WORKER, ADMIN.
fn staff(who: Who) -> bool {
    matches!(who, Who::Intake | Who::CaseWorker | Who::Admin)
}

/// Help requests: INTAKE "read, open", CASE_WORKER "read, write", ADMIN all.
fn writes_help_requests(who: Who) -> bool {
    matches!(who, Who::CaseWorker | Who::Admin)
}

/// `expect` for the roles `allowed`, Hidden for everyone else.
fn only(allowed: bool, expect: Expect) -> Expect {
    if allowed { expect } else { Hidden }
}

/// What a response amounts to.
fn outcome_of(response: &Value) -> Expect {
    match codes(response).first().map(String::as_str) {
        None => Ok,
        Some(_) if denied(response) == "HIDDEN" => Hidden,
        Some("NOT_FOUND") => NotFound,
        Some("BAD_USER_INPUT") => BadInput,
        Some("CONFLICT") => Conflict,
        Some(other) => panic!("unexpected {other}: {response}"),
    }
}

/// The data of a response that must have no errors.
async fn ok(app: &TestApp, who: Who, query: &str, variables: Value) -> Value {
    let response = app.query(who, query, variables).await;
    assert_ok(&response);
    response["data"].clone()
}

const REGISTER: &str = "mutation($input: RegisterClientInput!) { registerClient(input: $input) { id } }";
const OPEN: &str = "mutation($c: ID!, $s: String!) { openHelpRequest(input: { clientId: $c, summary: $s,
    lifeDomains: [HOUSING] }) { id } }";
const ADD_NOTE: &str = "mutation($input: AddCaseNoteInput!) { addCaseNote(input: $input) {
    id noteId version body sharedWithClient authorId createdAt notedAt supersededAt
    client { id } helpRequest { id } } }";
const CONSENT: &str = "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o,
    scopes: [IDENTITY, CONTACT, SITUATION] }) { id } }";
const REFER: &str =
    "mutation($c: ID!, $h: ID, $o: ID!) { createReferral(input: { clientId: $c, helpRequestId: $h,
    recipientId: $o, lifeDomain: HOUSING, reason: \"Zoekt een woning\" }) { id } }";

async fn register(app: &TestApp, input: Value) -> String {
    let data = ok(app, Who::Intake, REGISTER, json!({ "input": input })).await;
    data["registerClient"]["id"].as_str().unwrap().to_owned()
}

async fn open_help_request(app: &TestApp, client: &str, summary: &str) -> String {
    let data = ok(app, Who::Intake, OPEN, json!({ "c": client, "s": summary })).await;
    data["openHelpRequest"]["id"].as_str().unwrap().to_owned()
}

async fn add_note(app: &TestApp, who: Who, input: Value) -> Value {
    ok(app, who, ADD_NOTE, json!({ "input": input })).await["addCaseNote"].clone()
}

async fn org(app: &TestApp, who: Who) -> String {
    app.user(who).await.unwrap().organisation_id.to_string()
}

/// A valid national register number for a birth in 1990 with serial `serial`.
fn number(serial: u64) -> String {
    let body = 900_315_000 + serial;
    format!("{body}{:02}", 97 - body % 97)
}

/// The rows that stand for the matrix: a client with a help request and a note in two versions,
/// and a help request of the demo with a referral still open.
struct Fixture {
    client: String,
    help_request: String,
    first_version: String,
    with_open_referral: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let db = &app.db.conn;
    let open = referral::Entity::find()
        .filter(referral::Column::Status.is_in(ReferralStatus::OPEN.to_vec()))
        .filter(referral::Column::HelpRequestId.is_not_null())
        .one(db)
        .await
        .unwrap()
        .expect("the demo holds open referrals on help requests");
    let client = open.client_id.to_string();
    let help_request = open_help_request(app, &client, "Matrixvraag").await;
    let note = add_note(
        app,
        Who::CaseWorker,
        json!({ "clientId": client, "helpRequestId": help_request, "body": "Matrixnotitie, eerste versie" }),
    )
    .await;
    let first_version = note["id"].as_str().unwrap().to_owned();
    add_note(
        app,
        Who::Intake,
        json!({ "clientId": client, "correctsId": first_version, "body": "Matrixnotitie, verbeterd" }),
    )
    .await;
    Fixture {
        client,
        help_request,
        first_version,
        with_open_referral: open.help_request_id.unwrap().to_string(),
    }
}

/// Rows each iteration of the matrix uses up: a help request to close, two clients to merge.
struct Fresh {
    help_request: String,
    keep: String,
    duplicate: String,
}

async fn fresh(app: &TestApp, client: &str, n: usize) -> Fresh {
    Fresh {
        help_request: open_help_request(app, client, &format!("Te sluiten {n}")).await,
        keep: register(app, json!({ "givenName": "Houden", "familyName": format!("Matrix {n}") })).await,
        duplicate: register(app, json!({ "givenName": "Dubbel", "familyName": format!("Matrix {n}") })).await,
    }
}

#[tokio::test]
async fn every_role_against_every_daily_work_mutation_and_read_path() {
    let app = TestApp::spawn().await;
    let f = fixture(&app).await;
    let made_up = Uuid::new_v4().to_string();
    let mut table = Vec::new();
    let mut n = 0;
    for transport in Transport::BOTH {
        for who in Who::ALL {
            n += 1;
            let fresh = fresh(&app, &f.client, n).await;
            let cases: Vec<(&str, &str, Value, Expect)> = vec![
                ("addCaseNote",
                 "mutation($c: ID!, $h: ID) { addCaseNote(input: { clientId: $c, helpRequestId: $h, body: \"Gebeld met de cliënt\", sharedWithClient: true }) { id version sharedWithClient } }",
                 json!({ "c": f.client, "h": f.help_request }), only(staff(who), Ok)),
                ("addCaseNote(correcting a corrected version)",
                 "mutation($c: ID!, $n: ID!) { addCaseNote(input: { clientId: $c, correctsId: $n, body: \"Nog eens\" }) { id } }",
                 json!({ "c": f.client, "n": f.first_version }), only(staff(who), Conflict)),
                ("addCaseNote(made-up client)",
                 "mutation($c: ID!) { addCaseNote(input: { clientId: $c, body: \"Notitie\" }) { id } }",
                 json!({ "c": made_up }), only(staff(who), BadInput)),
                ("updateClient",
                 "mutation($id: ID!) { updateClient(id: $id, input: { phone: \"056 60 00 00\" }) { id phone } }",
                 json!({ "id": f.client }), only(staff(who), Ok)),
                ("updateClient(made-up id)",
                 "mutation($id: ID!) { updateClient(id: $id, input: { phone: \"056 60 00 00\" }) { id } }",
                 json!({ "id": made_up }), only(staff(who), NotFound)),
                ("updateHelpRequest",
                 "mutation($id: ID!) { updateHelpRequest(id: $id, input: { summary: \"Bijgewerkt\", lifeDomains: [HOUSING, FINANCES] }) { id summary lifeDomains } }",
                 json!({ "id": f.help_request }), only(writes_help_requests(who), Ok)),
                ("updateHelpRequest(made-up id)",
                 "mutation($id: ID!) { updateHelpRequest(id: $id, input: { summary: \"Bijgewerkt\" }) { id } }",
                 json!({ "id": made_up }), only(writes_help_requests(who), NotFound)),
                ("closeHelpRequest",
                 "mutation($id: ID!) { closeHelpRequest(id: $id, outcome: \"Opgelost aan het onthaal\") { status outcome closedAt } }",
                 json!({ "id": fresh.help_request }), only(writes_help_requests(who), Ok)),
                ("closeHelpRequest(with an open referral)",
                 "mutation($id: ID!) { closeHelpRequest(id: $id, outcome: \"Klaar\") { id } }",
                 json!({ "id": f.with_open_referral }), only(writes_help_requests(who), Conflict)),
                ("closeHelpRequest(made-up id)",
                 "mutation($id: ID!) { closeHelpRequest(id: $id, outcome: \"Klaar\") { id } }",
                 json!({ "id": made_up }), only(writes_help_requests(who), NotFound)),
                ("mergeClients",
                 "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }",
                 json!({ "k": fresh.keep, "m": fresh.duplicate }), only(who == Who::Admin, Ok)),
                ("mergeClients(made-up id)",
                 "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }",
                 json!({ "k": fresh.keep, "m": made_up }), only(who == Who::Admin, NotFound)),
                ("client.caseNotes with their versions",
                 "query($id: ID!) { client(id: $id) { caseNotes { id body version noteId supersededAt client { id } helpRequest { id }
                    versions { id version body supersededAt } } } }",
                 // A citizen reads case notes (those shared with them), of no one else.
                 json!({ "id": f.client }), if who == Who::Client { NotFound } else { only(staff(who), Ok) }),
                ("client.helpRequests.outcome and caseNotes",
                 "query($id: ID!) { client(id: $id) { helpRequests { status outcome closedAt caseNotes { body version } } } }",
                 json!({ "id": f.client }), only(staff(who), Ok)),
                ("referrals.client.caseNotes",
                 "{ referrals(first: 5) { edges { node { client { caseNotes { body versions { body } } } } } } }",
                 json!({}), only(staff(who) || who == Who::Client, Ok)),
                ("referrals.client.helpRequests.outcome",
                 "{ referrals(first: 5) { edges { node { client { helpRequests { outcome } } } } } }",
                 json!({}), only(staff(who), Ok)),
            ];
            for (name, query, variables, expect) in cases {
                let response = app.query_over(transport, who, query, variables).await;
                let got = outcome_of(&response);
                assert_eq!(got, expect, "{transport:?} {who:?} {name}: {response}");
                let text = response.to_string();
                if !staff(who) {
                    assert!(
                        !text.contains("Matrixnotitie") && !text.contains("Opgelost"),
                        "{who:?} {name}: {text}"
                    );
                }
                if expect != Ok {
                    let data = &response["data"];
                    assert!(
                        data.is_null() || data.as_object().is_some_and(|m| m.values().all(Value::is_null)),
                        "{who:?} {name}: nothing else answered: {response}"
                    );
                }
                table.push(format!("{transport:?} {who:?} {name}: {got:?}"));
            }
        }
    }
    // What the Ok cases read: the current version in the list, both versions behind it.
    let read = ok(
        &app,
        Who::CaseWorker,
        "query($id: ID!) { client(id: $id) { caseNotes { body version versions { body version } } } }",
        json!({ "id": f.client }),
    )
    .await;
    let notes = read["client"]["caseNotes"].as_array().unwrap();
    let corrected =
        notes.iter().find(|n| n["body"] == "Matrixnotitie, verbeterd").expect("the current version");
    assert_eq!(corrected["version"], 2);
    assert_eq!(corrected["versions"].as_array().unwrap().len(), 2);
    assert!(
        !notes.iter().any(|n| n["body"] == "Matrixnotitie, eerste versie"),
        "no superseded version listed"
    );
    println!("{}", table.join("\n"));
}

#[tokio::test]
async fn a_correction_is_a_new_version_and_the_one_it_corrects_is_kept() {
    let app = TestApp::spawn().await;
    let client = register(&app, json!({ "givenName": "Vera", "familyName": "Versie" })).await;
    let help = open_help_request(&app, &client, "Schulden").await;
    let first = add_note(
        &app,
        Who::CaseWorker,
        json!({ "clientId": client, "helpRequestId": help, "body": "Eerste gesprek", "sharedWithClient": true }),
    )
    .await;
    let caseworker = app.user(Who::CaseWorker).await.unwrap().id.to_string();
    assert_eq!(
        (&first["version"], &first["noteId"], &first["sharedWithClient"], &first["authorId"]),
        (&json!(1), &first["id"], &json!(true), &json!(caseworker))
    );
    assert_eq!(first["helpRequest"]["id"], help.as_str());
    assert_eq!(first["createdAt"], first["notedAt"]);
    // Two corrections, by two people: each a new version of the same note.
    let second = add_note(
        &app,
        Who::Intake,
        json!({ "clientId": client, "correctsId": first["id"], "body": "Eerste gesprek (telefonisch)" }),
    )
    .await;
    let third = add_note(
        &app,
        Who::Admin,
        json!({ "clientId": client, "helpRequestId": help, "correctsId": second["id"], "body": "Eerste gesprek, telefonisch", "sharedWithClient": false }),
    )
    .await;
    assert_eq!((&second["version"], &second["noteId"]), (&json!(2), &first["id"]));
    assert_eq!(second["helpRequest"]["id"], help.as_str(), "a correction stays on its help request");
    assert_eq!(second["sharedWithClient"], true, "a correction keeps what it does not change");
    assert_eq!(second["notedAt"], first["notedAt"], "a corrected note keeps its place in the timeline");
    assert_eq!((&third["version"], &third["sharedWithClient"]), (&json!(3), &json!(false)));

    // Lists show the current version, `versions` every one, the corrected ones marked.
    let read = ok(
        &app,
        Who::CaseWorker,
        "query($id: ID!) { client(id: $id) {
            caseNotes { id body versions { id version body authorId supersededAt } }
            helpRequests { id caseNotes { id body } } } }",
        json!({ "id": client }),
    )
    .await;
    let notes = read["client"]["caseNotes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!((&notes[0]["id"], &notes[0]["body"]), (&third["id"], &json!("Eerste gesprek, telefonisch")));
    let versions = notes[0]["versions"].as_array().unwrap();
    let bodies: Vec<&str> = versions.iter().map(|v| v["body"].as_str().unwrap()).collect();
    assert_eq!(bodies, ["Eerste gesprek", "Eerste gesprek (telefonisch)", "Eerste gesprek, telefonisch"]);
    assert!(versions[0]["supersededAt"].is_string() && versions[1]["supersededAt"].is_string());
    assert!(versions[2]["supersededAt"].is_null());
    assert_eq!(versions[0]["authorId"], caseworker.as_str());
    let on_help = &read["client"]["helpRequests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == help.as_str())
        .unwrap()["caseNotes"];
    assert_eq!(on_help, &json!([{ "id": third["id"], "body": "Eerste gesprek, telefonisch" }]));
    // In the database, every version is there with its own words.
    let thread: Uuid = first["id"].as_str().unwrap().parse().unwrap();
    let rows = case_note::Entity::find()
        .filter(case_note::Column::ThreadId.eq(thread))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().filter(|r| r.superseded_at.is_none()).count(), 1);

    // Only the current version can be corrected; the conflict names it.
    let stale = app
        .query(
            Who::CaseWorker,
            ADD_NOTE,
            json!({ "input": { "clientId": client, "correctsId": first["id"], "body": "Te laat" } }),
        )
        .await;
    assert_eq!(codes(&stale), ["CONFLICT"]);
    assert!(
        stale["errors"][0]["message"].as_str().unwrap().contains(third["id"].as_str().unwrap()),
        "{stale}"
    );
    // A note stays with its client and its help request.
    let other = register(&app, json!({ "givenName": "Otto", "familyName": "Ander" })).await;
    let others_help = open_help_request(&app, &other, "Andere vraag").await;
    for (input, field) in [
        (json!({ "clientId": other, "correctsId": third["id"], "body": "x" }), "input.correctsId"),
        (
            json!({ "clientId": client, "correctsId": third["id"], "helpRequestId": others_help, "body": "x" }),
            "input.helpRequestId",
        ),
        (json!({ "clientId": client, "helpRequestId": others_help, "body": "x" }), "input.helpRequestId"),
        (json!({ "clientId": client, "correctsId": Uuid::new_v4(), "body": "x" }), "input.correctsId"),
        (json!({ "clientId": Uuid::new_v4(), "body": "x" }), "input.clientId"),
        (json!({ "clientId": client, "body": "   " }), "input.body"),
    ] {
        let response = app.query(Who::CaseWorker, ADD_NOTE, json!({ "input": input })).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{input}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{input}");
    }
    // A note on the client alone, and the audit trail of each writing.
    let loose = add_note(&app, Who::Intake, json!({ "clientId": client, "body": "Belde zelf op" })).await;
    assert!(loose["helpRequest"].is_null());
    let actions: Vec<String> = audit_entry::Entity::find()
        .filter(audit_entry::Column::SubjectType.eq("CaseNote"))
        .filter(audit_entry::Column::ClientId.eq(client.parse::<Uuid>().unwrap()))
        .all(&app.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "CREATE").count(), 2, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| *a == "CORRECT").count(), 2, "{actions:?}");

    // Two people correcting the same version at once: exactly one of them wins.
    let correct = |who, body: &'static str| {
        let input = json!({ "input": { "clientId": client, "correctsId": loose["id"], "body": body } });
        app.query_over(Transport::Http, who, ADD_NOTE, input)
    };
    let (a, b) = tokio::join!(
        correct(Who::CaseWorker, "Belde zelf op, maandag"),
        correct(Who::Intake, "Belde op, dinsdag")
    );
    let mut outcomes = [outcome_of(&a), outcome_of(&b)];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [Conflict, Ok], "{a} {b}");
    let thread: Uuid = loose["id"].as_str().unwrap().parse().unwrap();
    let versions = case_note::Entity::find()
        .filter(case_note::Column::ThreadId.eq(thread))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(versions, 2);
}

#[tokio::test]
async fn a_help_request_changes_what_is_given_and_closes_only_without_open_referrals() {
    let app = TestApp::spawn().await;
    let client = register(&app, json!({ "givenName": "Hilde", "familyName": "Hulpvraag" })).await;
    let help = open_help_request(&app, &client, "Huur te hoog").await;
    const UPDATE: &str =
        "mutation($id: ID!, $input: UpdateHelpRequestInput!) { updateHelpRequest(id: $id, input: $input) {
        summary lifeDomains status channel } }";
    let changed = ok(
        &app,
        Who::CaseWorker,
        UPDATE,
        json!({ "id": help, "input": { "lifeDomains": ["FINANCES", "HOUSING", "FINANCES"] } }),
    )
    .await;
    assert_eq!(
        changed["updateHelpRequest"],
        json!({ "summary": "Huur te hoog", "lifeDomains": ["FINANCES", "HOUSING"], "status": "OPEN", "channel": "DESK" })
    );
    let changed = ok(
        &app,
        Who::Admin,
        UPDATE,
        json!({ "id": help, "input": { "summary": "Huur en energie te hoog" } }),
    )
    .await;
    assert_eq!(changed["updateHelpRequest"]["summary"], "Huur en energie te hoog");
    assert_eq!(
        changed["updateHelpRequest"]["lifeDomains"],
        json!(["FINANCES", "HOUSING"]),
        "what is not given stays"
    );
    for (input, field) in [
        (json!({}), "input"),
        (json!({ "lifeDomains": [] }), "input.lifeDomains"),
        (json!({ "summary": " " }), "input.summary"),
    ] {
        let response = app.query(Who::CaseWorker, UPDATE, json!({ "id": help, "input": input })).await;
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
    }

    // A referral still open keeps it open: the conflict names the referral.
    ok(&app, Who::Intake, CONSENT, json!({ "c": client, "o": org(&app, Who::Woonclub).await })).await;
    let referral =
        ok(&app, Who::Intake, REFER, json!({ "c": client, "h": help, "o": org(&app, Who::Woonclub).await }))
            .await["createReferral"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    const CLOSE: &str = "mutation($id: ID!, $o: String!) { closeHelpRequest(id: $id, outcome: $o) { status outcome closedAt } }";
    let refused = app.query(Who::CaseWorker, CLOSE, json!({ "id": help, "o": "Woning gevonden" })).await;
    assert_eq!(codes(&refused), ["CONFLICT"]);
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains(&referral), "{refused}");

    // Its last referral answered, it closes by itself; the case worker then records the outcome.
    let cancel = "mutation($id: ID!) { changeReferralStatus(id: $id, status: CANCELLED, expectedVersion: 1, note: \"Zelf gevonden\") { status } }";
    ok(&app, Who::Intake, cancel, json!({ "id": referral })).await;
    let id: Uuid = help.parse().unwrap();
    let auto = help_request::Entity::find_by_id(id).one(&app.db.conn).await.unwrap().unwrap();
    assert_eq!((auto.status, auto.outcome.as_deref()), (entities::HelpRequestStatus::Closed, None));
    let closed =
        ok(&app, Who::CaseWorker, CLOSE, json!({ "id": help, "o": "Zelf een woning gevonden" })).await;
    assert_eq!(closed["closeHelpRequest"]["status"], "CLOSED");
    assert_eq!(closed["closeHelpRequest"]["outcome"], "Zelf een woning gevonden");
    let row = help_request::Entity::find_by_id(id).one(&app.db.conn).await.unwrap().unwrap();
    assert_eq!(row.closed_at, auto.closed_at, "it keeps the moment it closed");
    assert_eq!(row.closed_by, Some(app.user(Who::CaseWorker).await.unwrap().id));

    // Closed with its outcome, it changes no more and takes no new referral.
    let again = app.query(Who::Admin, CLOSE, json!({ "id": help, "o": "Nog eens" })).await;
    assert_eq!(codes(&again), ["CONFLICT"]);
    assert_eq!(
        codes(&app.query(Who::CaseWorker, UPDATE, json!({ "id": help, "input": { "summary": "x" } })).await),
        ["CONFLICT"]
    );
    let late = app
        .query(Who::Intake, REFER, json!({ "c": client, "h": help, "o": org(&app, Who::Woonclub).await }))
        .await;
    assert_eq!(codes(&late), ["CONFLICT"]);

    // One without referrals closes at once; the outcome is required.
    let plain = open_help_request(&app, &client, "Vraag over premies").await;
    let empty = app.query(Who::CaseWorker, CLOSE, json!({ "id": plain, "o": "  " })).await;
    assert_eq!(empty["errors"][0]["extensions"]["field"], "outcome");
    let closed = ok(&app, Who::Admin, CLOSE, json!({ "id": plain, "o": "Uitgelegd" })).await;
    assert!(closed["closeHelpRequest"]["closedAt"].is_string());
    let audited = audit_entry::Entity::find()
        .filter(audit_entry::Column::SubjectType.eq("HelpRequest"))
        .filter(audit_entry::Column::Action.is_in(["UPDATE", "CLOSE"]))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(audited, 4, "two changes and two closings");
}

#[tokio::test]
async fn updating_a_client_changes_what_is_given_and_checks_the_number_again() {
    let app = TestApp::spawn().await;
    let client = register(
        &app,
        json!({ "givenName": "Ursula", "familyName": "Update", "phone": "056 11 22 33", "email": "u@example.be",
                "address": { "street": "Markt 1", "postcode": "8790", "municipality": "Waregem" } }),
    )
    .await;
    let holder = register(
        &app,
        json!({ "givenName": "Hans", "familyName": "Houder", "nationalRegisterNumber": number(2) }),
    )
    .await;
    const UPDATE: &str =
        "mutation($id: ID!, $input: UpdateClientInput!) { updateClient(id: $id, input: $input) {
        givenName familyName dateOfBirth nationalRegisterNumber phone email preferredLanguage
        address { street postcode municipality } } }";
    let changed = ok(
        &app,
        Who::Intake,
        UPDATE,
        json!({ "id": client, "input": { "nationalRegisterNumber": format!("{}-{}", &number(1)[..9], &number(1)[9..]),
            "phone": null, "preferredLanguage": "FR", "dateOfBirth": "1990-03-15" } }),
    )
    .await;
    assert_eq!(
        changed["updateClient"],
        json!({ "givenName": "Ursula", "familyName": "Update", "dateOfBirth": "1990-03-15",
                "nationalRegisterNumber": number(1), "phone": null, "email": "u@example.be", "preferredLanguage": "fr",
                "address": { "street": "Markt 1", "postcode": "8790", "municipality": "Waregem" } })
    );
    let moved = ok(
        &app,
        Who::CaseWorker,
        UPDATE,
        json!({ "id": client, "input": { "address": { "postcode": "8500", "municipality": "Kortrijk" }, "familyName": "Updaat" } }),
    )
    .await;
    assert_eq!(
        moved["updateClient"]["address"],
        json!({ "street": null, "postcode": "8500", "municipality": "Kortrijk" })
    );
    assert_eq!(moved["updateClient"]["familyName"], "Updaat");

    for (input, field) in [
        (json!({}), "input"),
        (json!({ "nationalRegisterNumber": "85073003329" }), "input.nationalRegisterNumber"),
        (json!({ "givenName": null }), "input.givenName"),
        (json!({ "email": "geen adres" }), "input.email"),
        (json!({ "phone": "bel me" }), "input.phone"),
        (json!({ "dateOfBirth": "1850-01-01" }), "input.dateOfBirth"),
        (json!({ "address": { "postcode": "", "municipality": "Waregem" } }), "input.address.postcode"),
    ] {
        let response = app.query(Who::Admin, UPDATE, json!({ "id": client, "input": input })).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{input}: {response}");
        assert_eq!(response["errors"][0]["extensions"]["field"], field, "{input}");
    }
    // Another client's number: CONFLICT naming that client, and nothing changed.
    let taken = app
        .query(
            Who::Admin,
            UPDATE,
            json!({ "id": client, "input": { "nationalRegisterNumber": number(2), "phone": "1" } }),
        )
        .await;
    assert_eq!(codes(&taken), ["CONFLICT"]);
    assert!(taken["errors"][0]["message"].as_str().unwrap().contains(&holder), "{taken}");
    let row =
        client::Entity::find_by_id(client.parse::<Uuid>().unwrap()).one(&app.db.conn).await.unwrap().unwrap();
    assert_eq!((row.national_register_number, row.phone), (Some(number(1)), None));
    // Clearing it frees it.
    ok(&app, Who::Admin, UPDATE, json!({ "id": holder, "input": { "nationalRegisterNumber": null } })).await;
    ok(&app, Who::Admin, UPDATE, json!({ "id": client, "input": { "nationalRegisterNumber": number(2) } }))
        .await;
    let audited = audit_entry::Entity::find()
        .filter(audit_entry::Column::SubjectType.eq("Client"))
        .filter(audit_entry::Column::Action.eq("UPDATE"))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(audited, 4);
}

/// Every column of the database that points at a client: the foreign keys to `clients`, and
/// the columns named `client_id` that have none (the append-only audit log). Read from the
/// database's own catalogue, so a table added later is in it.
async fn client_references(app: &TestApp) -> Vec<(String, String)> {
    let sql = if app.database.is_postgres() {
        "SELECT kcu.table_name AS t, kcu.column_name AS c
           FROM information_schema.table_constraints tc
           JOIN information_schema.key_column_usage kcu
             ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
           JOIN information_schema.constraint_column_usage ccu
             ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
          WHERE tc.constraint_type = 'FOREIGN KEY' AND ccu.table_name = 'clients'
         UNION
         SELECT table_name AS t, column_name AS c FROM information_schema.columns
          WHERE table_schema = 'public' AND column_name = 'client_id'"
    } else {
        "SELECT m.name AS t, f.\"from\" AS c FROM sqlite_master m, pragma_foreign_key_list(m.name) f
          WHERE m.type = 'table' AND f.\"table\" = 'clients'
         UNION
         SELECT m.name AS t, c.name AS c FROM sqlite_master m, pragma_table_info(m.name) c
          WHERE m.type = 'table' AND c.name = 'client_id'"
    };
    let db = &app.db.conn;
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    let mut references: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.try_get::<String>("", "t").unwrap(), r.try_get::<String>("", "c").unwrap()))
        .collect();
    references.sort();
    references.dedup();
    references
}

/// How many rows of each referencing column point at `client`.
async fn rows_of(app: &TestApp, references: &[(String, String)], client: &str) -> BTreeMap<String, i64> {
    let db = &app.db.conn;
    let backend = db.get_database_backend();
    let placeholder = if app.database.is_postgres() { "$1" } else { "?" };
    let id: Uuid = client.parse().unwrap();
    let mut counts = BTreeMap::new();
    for (table, column) in references {
        let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = {placeholder}");
        let statement = Statement::from_sql_and_values(backend, sql, [id.into()]);
        let row = db.query_one_raw(statement).await.unwrap().unwrap();
        counts.insert(format!("{table}.{column}"), row.try_get::<i64>("", "n").unwrap());
    }
    counts
}

const AUDIT_OF: &str = "query($c: ID!) { auditLog(clientId: $c, first: 100) { totalCount edges { node { action subjectId clientId } } } }";

#[tokio::test]
async fn merging_moves_everything_the_duplicate_held_and_leaves_a_trace() {
    let app = TestApp::spawn().await;
    let woonclub = org(&app, Who::Woonclub).await;
    let keep =
        register(&app, json!({ "givenName": "Mira", "familyName": "Merge", "phone": "056 00 00 01" })).await;
    let duplicate = register(
        &app,
        json!({ "givenName": "Mira", "familyName": "Merge", "nationalRegisterNumber": number(7), "phone": "056 99 99 99",
                "email": "mira@example.be", "address": { "postcode": "8790", "municipality": "Waregem" } }),
    )
    .await;
    // An earlier duplicate, merged into the duplicate: its trace must follow too.
    let older = register(&app, json!({ "givenName": "M.", "familyName": "Merge" })).await;
    ok(
        &app,
        Who::Admin,
        "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }",
        json!({ "k": duplicate, "m": older }),
    )
    .await;

    // The duplicate's trajectory: a help request with a referral, an appointment, consents, notes.
    let help = open_help_request(&app, &duplicate, "Zoekt woning").await;
    ok(&app, Who::Intake, CONSENT, json!({ "c": duplicate, "o": woonclub })).await;
    ok(&app, Who::Intake, CONSENT, json!({ "c": keep, "o": woonclub })).await;
    let referral = ok(&app, Who::Intake, REFER, json!({ "c": duplicate, "h": help, "o": woonclub })).await["createReferral"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let slots = ok(
        &app,
        Who::Intake,
        "query($o: ID, $from: DateTime!, $to: DateTime!) { officeHours(organisationId: $o, from: $from, to: $to) { startsAt free } }",
        json!({ "o": woonclub, "from": Utc::now() + Duration::days(1), "to": Utc::now() + Duration::days(15) }),
    )
    .await;
    let slot =
        slots["officeHours"].as_array().unwrap().iter().find(|s| s["free"] == true).unwrap()["startsAt"]
            .clone();
    ok(&app, Who::Intake, "mutation($c: ID!, $o: ID!, $s: DateTime!, $r: ID) { bookAppointment(input: { clientId: $c, organisationId: $o, startsAt: $s, referralId: $r }) { id } }",
        json!({ "c": duplicate, "o": woonclub, "s": slot, "r": referral })).await;
    let on_help = add_note(
        &app,
        Who::CaseWorker,
        json!({ "clientId": duplicate, "helpRequestId": help, "body": "Dossier geopend" }),
    )
    .await;
    let loose = add_note(&app, Who::CaseWorker, json!({ "clientId": duplicate, "body": "Belde op" })).await;
    let loose = add_note(
        &app,
        Who::CaseWorker,
        json!({ "clientId": duplicate, "correctsId": loose["id"], "body": "Belde zelf op" }),
    )
    .await;
    ok(&app, Who::Admin, "query($c: ID!) { client(id: $c) { givenName phone } }", json!({ "c": duplicate }))
        .await;

    // Every column that points at a client, and what the duplicate holds in each: something,
    // so that a table added later and forgotten by the merge fails here.
    let references = client_references(&app).await;
    for needed in [
        "appointments.client_id",
        "audit_log.client_id",
        "case_notes.client_id",
        "client_merges.kept_client_id",
        "consents.client_id",
        "help_requests.client_id",
        "referrals.client_id",
    ] {
        assert!(references.iter().any(|(t, c)| format!("{t}.{c}") == needed), "{needed} in {references:?}");
    }
    let held = rows_of(&app, &references, &duplicate).await;
    let kept_before = rows_of(&app, &references, &keep).await;
    for (column, count) in &held {
        assert!(
            *count > 0,
            "the duplicate holds nothing in {column}: give it a row here, and make mergeClients move it"
        );
    }

    let merged = ok(
        &app,
        Who::Admin,
        "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id givenName nationalRegisterNumber phone email
            address { municipality } } }",
        json!({ "k": keep, "m": duplicate }),
    )
    .await;
    assert_eq!(
        merged["mergeClients"],
        json!({ "id": keep, "givenName": "Mira", "nationalRegisterNumber": number(7), "phone": "056 00 00 01",
                "email": "mira@example.be", "address": { "municipality": "Waregem" } }),
        "what the kept client held wins; its gaps take the duplicate's values"
    );

    // Every reference moved, except the append-only audit log, which is read through the trace.
    let left = rows_of(&app, &references, &duplicate).await;
    let kept_after = rows_of(&app, &references, &keep).await;
    for (column, count) in &held {
        if column == "audit_log.client_id" {
            assert_eq!(left[column], *count, "the audit log is not rewritten");
            continue;
        }
        assert_eq!(left[column], 0, "{column} still points at the duplicate");
        // The merge's own trace is one more row of the kept client's.
        let trace = i64::from(column == "client_merges.kept_client_id");
        assert_eq!(kept_after[column], kept_before[column] + count + trace, "{column}");
    }
    let db = &app.db.conn;
    let duplicate_id: Uuid = duplicate.parse().unwrap();
    let keep_id: Uuid = keep.parse().unwrap();
    let trace = client_merge::Entity::find()
        .filter(client_merge::Column::MergedClientId.eq(duplicate_id))
        .one(db)
        .await
        .unwrap()
        .expect("the trace of the merge");
    assert_eq!(
        (trace.kept_client_id, trace.merged_by),
        (keep_id, Some(app.user(Who::Admin).await.unwrap().id))
    );
    assert_eq!(
        trace.moved,
        "appointments=1,case_notes=3,client_merges=1,consents=1,help_requests=1,referrals=1"
    );
    let older_trace = client_merge::Entity::find()
        .filter(client_merge::Column::MergedClientId.eq(older.parse::<Uuid>().unwrap()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(older_trace.kept_client_id, keep_id, "an earlier merge follows its client");

    // The audit log reads the duplicates' rows as the kept client's, and says which id went where.
    let of_keep = ok(&app, Who::Admin, AUDIT_OF, json!({ "c": keep })).await;
    let in_db = audit_entry::Entity::find()
        .filter(audit_entry::Column::ClientId.is_in([keep_id, duplicate_id, older.parse().unwrap()]))
        .count(db)
        .await
        .unwrap();
    assert_eq!(of_keep["auditLog"]["totalCount"], in_db);
    let merge_row = of_keep["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["action"] == "MERGE")
        .unwrap();
    assert_eq!((&merge_row["subjectId"], &merge_row["clientId"]), (&json!(duplicate), &json!(keep)));
    for gone in [&duplicate, &older] {
        assert_eq!(ok(&app, Who::Admin, AUDIT_OF, json!({ "c": gone })).await["auditLog"]["totalCount"], 0);
    }

    // The duplicate's id is gone everywhere.
    for (who, query, variables, code) in [
        (Who::Intake, "query($id: ID!) { client(id: $id) { id } }", json!({ "id": duplicate }), "NOT_FOUND"),
        (Who::Admin, "query($id: ID!) { client(id: $id) { id } }", json!({ "id": duplicate }), "NOT_FOUND"),
        (
            Who::Woonclub,
            "query($id: ID!) { client(id: $id) { id } }",
            json!({ "id": duplicate }),
            "NOT_FOUND",
        ),
        (
            Who::CaseWorker,
            "mutation($id: ID!) { updateClient(id: $id, input: { phone: \"1\" }) { id } }",
            json!({ "id": duplicate }),
            "NOT_FOUND",
        ),
        (
            Who::Admin,
            "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }",
            json!({ "k": keep, "m": duplicate }),
            "NOT_FOUND",
        ),
        (
            Who::Admin,
            "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }",
            json!({ "k": duplicate, "m": keep }),
            "NOT_FOUND",
        ),
    ] {
        assert_eq!(codes(&app.query(who, query, variables.clone()).await), [code], "{who:?} {query}");
    }
    assert_eq!(
        codes(
            &app.query(Who::CaseWorker, ADD_NOTE, json!({ "input": { "clientId": duplicate, "body": "x" } }))
                .await
        ),
        ["BAD_USER_INPUT"],
        "no such client"
    );

    // What it held belongs to the kept client, on every path.
    let read = ok(
        &app,
        Who::CaseWorker,
        "query($id: ID!) { client(id: $id) { helpRequests { id caseNotes { id } } consents { id }
            referrals { totalCount edges { node { id client { id } } } } caseNotes { id versions { id } } } }",
        json!({ "id": keep }),
    )
    .await;
    let client = &read["client"];
    assert!(
        client["helpRequests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == help.as_str() && h["caseNotes"][0]["id"] == on_help["id"])
    );
    assert_eq!(client["consents"].as_array().unwrap().len(), 2, "both consents stand");
    assert_eq!(client["referrals"]["edges"][0]["node"], json!({ "id": referral, "client": { "id": keep } }));
    let notes = client["caseNotes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().any(|n| n["id"] == loose["id"] && n["versions"].as_array().unwrap().len() == 2));
    let partner = ok(
        &app,
        Who::Woonclub,
        "query($id: ID!) { referral(id: $id) { client { id givenName } } }",
        json!({ "id": referral }),
    )
    .await;
    assert_eq!(
        partner["referral"]["client"],
        json!({ "id": keep, "givenName": "Mira" }),
        "the partner follows the client"
    );
    let appointment = entities::appointment::Entity::find()
        .filter(entities::appointment::Column::ReferralId.eq(referral.parse::<Uuid>().unwrap()))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(appointment.client_id, keep_id);
    assert!(client::Entity::find_by_id(duplicate_id).one(db).await.unwrap().is_none());
    // Its notes are corrected like any of the kept client's.
    add_note(
        &app,
        Who::CaseWorker,
        json!({ "clientId": keep, "correctsId": loose["id"], "body": "Belde zelf op, 's avonds" }),
    )
    .await;
}

#[tokio::test]
async fn two_people_are_not_merged_nor_a_client_into_itself() {
    let app = TestApp::spawn().await;
    let one = register(
        &app,
        json!({ "givenName": "Anna", "familyName": "Een", "nationalRegisterNumber": number(11) }),
    )
    .await;
    let two = register(
        &app,
        json!({ "givenName": "Anna", "familyName": "Twee", "nationalRegisterNumber": number(12) }),
    )
    .await;
    open_help_request(&app, &two, "Vraag").await;
    const MERGE: &str = "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }";
    let db = &app.db.conn;
    let merges = client_merge::Entity::find().count(db).await.unwrap();
    let refused = app.query(Who::Admin, MERGE, json!({ "k": one, "m": two })).await;
    assert_eq!(codes(&refused), ["CONFLICT"], "{refused}");
    assert!(refused["errors"][0]["message"].as_str().unwrap().contains("national register numbers"));
    assert!(
        client::Entity::find_by_id(two.parse::<Uuid>().unwrap()).one(db).await.unwrap().is_some(),
        "nothing merged"
    );
    let theirs = help_request::Entity::find()
        .filter(help_request::Column::ClientId.eq(two.parse::<Uuid>().unwrap()))
        .count(db)
        .await
        .unwrap();
    assert_eq!(theirs, 1);
    assert_eq!(client_merge::Entity::find().count(db).await.unwrap(), merges);
    let itself = app.query(Who::Admin, MERGE, json!({ "k": one, "m": one })).await;
    assert_eq!(
        (codes(&itself), &itself["errors"][0]["extensions"]["field"]),
        (vec!["BAD_USER_INPUT".to_owned()], &json!("mergeId"))
    );
}

#[tokio::test]
async fn case_notes_of_a_page_of_clients_cost_the_same_whatever_its_size() {
    let app = TestApp::spawn().await;
    // Each of the first clients gets a corrected note on a help request, so every nested list
    // of the query has rows whatever the page.
    let first = ok(&app, Who::CaseWorker, "{ clients(first: 4) { edges { node { id } } } }", json!({})).await;
    for edge in first["clients"]["edges"].as_array().unwrap() {
        let client = edge["node"]["id"].as_str().unwrap();
        let help = open_help_request(&app, client, "Vraag").await;
        let note = add_note(
            &app,
            Who::CaseWorker,
            json!({ "clientId": client, "helpRequestId": help, "body": "Notitie" }),
        )
        .await;
        add_note(
            &app,
            Who::CaseWorker,
            json!({ "clientId": client, "correctsId": note["id"], "body": "Notitie, verbeterd" }),
        )
        .await;
    }
    let query = "query($first: Int) { clients(first: $first) { edges { node { id
        caseNotes { body helpRequest { summary } versions { version } }
        helpRequests { outcome caseNotes { body } } } } } }";
    let mut counts = Vec::new();
    for first in [1, 4] {
        let before = app.db.statements();
        let response = app.query(Who::CaseWorker, query, json!({ "first": first })).await;
        assert_ok(&response);
        counts.push(app.db.statements() - before);
    }
    println!("client case notes: {} statements for 1 client, {} for 4", counts[0], counts[1]);
    assert_eq!(counts[0], counts[1]);
}

#[tokio::test]
async fn the_demo_shows_the_daily_work() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let notes = case_note::Entity::find().all(db).await.unwrap();
    assert!(notes.iter().any(|n| n.version == 3), "notes corrected twice");
    assert!(notes.iter().filter(|n| n.superseded_at.is_some()).count() >= 5, "earlier versions kept");
    assert!(
        notes.iter().any(|n| n.help_request_id.is_none() && n.shared_with_client),
        "shared notes on a client"
    );
    let closed = help_request::Entity::find()
        .filter(help_request::Column::Outcome.is_not_null())
        .count(db)
        .await
        .unwrap();
    assert!(closed > 0, "closed help requests with their outcome");
    let merges = client_merge::Entity::find().all(db).await.unwrap();
    assert_eq!(merges.len(), 1, "a merged duplicate");
    let merge = &merges[0];
    assert!(client::Entity::find_by_id(merge.merged_client_id).one(db).await.unwrap().is_none());
    assert_eq!(
        merge.moved,
        "appointments=0,case_notes=1,client_merges=0,consents=0,help_requests=1,referrals=0"
    );
    assert_eq!(client::Entity::find().count(db).await.unwrap(), 48, "the contract's 48 clients");
    // Through the API: the kept client with what came from the duplicate.
    let read = ok(
        &app,
        Who::CaseWorker,
        "query($id: ID!) { client(id: $id) { phone helpRequests { channel caseNotes { body } } } }",
        json!({ "id": merge.kept_client_id }),
    )
    .await;
    let requests = read["client"]["helpRequests"].as_array().unwrap();
    assert!(requests.len() >= 2 && requests.iter().any(|h| h["channel"] == "PHONE"), "{read}");
}

#[tokio::test]
async fn each_role_sees_only_the_daily_work_it_may_do() {
    use entities::Role::*;
    for role in [Public, Partner, Intake, CaseWorker, Analyst, Admin] {
        let sdl = schema::sdl_for(role).await;
        let staff = matches!(role, Intake | CaseWorker | Admin);
        for needle in [
            "type CaseNote ",
            "input AddCaseNoteInput",
            "input UpdateClientInput",
            "addCaseNote(",
            "updateClient(",
            "caseNotes: [CaseNote!]",
            "versions: [CaseNote!]!",
            "outcome: String",
        ] {
            assert_eq!(sdl.contains(needle), staff, "{role}: {needle}");
        }
        let writes = matches!(role, CaseWorker | Admin);
        for needle in ["input UpdateHelpRequestInput", "updateHelpRequest(", "closeHelpRequest("] {
            assert_eq!(sdl.contains(needle), writes, "{role}: {needle}");
        }
        assert_eq!(sdl.contains("mergeClients("), role == Admin, "{role}: mergeClients");
    }
}

#[tokio::test]
async fn two_merges_of_one_pair_at_once_do_not_deadlock() {
    let app = TestApp::spawn().await;
    let a = register(&app, json!({ "givenName": "Gelijk", "familyName": "Tijdig" })).await;
    let b = register(&app, json!({ "givenName": "Gelijk", "familyName": "Tijdig" })).await;
    open_help_request(&app, &a, "Vraag van a").await;
    open_help_request(&app, &b, "Vraag van b").await;
    const MERGE: &str = "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }";
    let (one, two) = tokio::join!(
        app.query_over(Transport::Http, Who::Admin, MERGE, json!({ "k": a, "m": b })),
        app.query_over(Transport::Http, Who::Admin, MERGE, json!({ "k": b, "m": a })),
    );
    let mut outcomes = [outcome_of(&one), outcome_of(&two)];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [NotFound, Ok], "{one} {two}");
    let survivor = if codes(&one).is_empty() { &a } else { &b };
    let requests = help_request::Entity::find()
        .filter(help_request::Column::ClientId.eq(survivor.parse::<Uuid>().unwrap()))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(requests, 2);
}

#[tokio::test]
async fn a_reference_the_merge_does_not_know_stops_it_whole() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let keep = register(&app, json!({ "givenName": "Karel", "familyName": "Vergeten" })).await;
    let duplicate = register(&app, json!({ "givenName": "Karel", "familyName": "Vergetn" })).await;
    open_help_request(&app, &duplicate, "Vraag").await;
    // A table added later, whose rows the merge would not move.
    db.execute_unprepared("CREATE TABLE client_badges (id INTEGER PRIMARY KEY, client_id UUID NOT NULL REFERENCES clients (id))")
        .await
        .unwrap();
    let placeholder = if app.database.is_postgres() { "$1" } else { "?" };
    let id: Uuid = duplicate.parse().unwrap();
    let sql = format!("INSERT INTO client_badges (id, client_id) VALUES (1, {placeholder})");
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, [id.into()]))
        .await
        .unwrap();
    assert!(
        client_references(&app).await.contains(&("client_badges".into(), "client_id".into())),
        "the catalogue sees it"
    );

    let refused = app
        .query(
            Who::Admin,
            "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }",
            json!({ "k": keep, "m": duplicate }),
        )
        .await;
    assert_eq!(codes(&refused), ["INTERNAL"], "{refused}");
    assert!(client::Entity::find_by_id(id).one(db).await.unwrap().is_some(), "the duplicate stays");
    let still =
        help_request::Entity::find().filter(help_request::Column::ClientId.eq(id)).count(db).await.unwrap();
    assert_eq!(still, 1, "nothing moved");
    assert_eq!(
        client_merge::Entity::find()
            .filter(client_merge::Column::MergedClientId.eq(id))
            .count(db)
            .await
            .unwrap(),
        0
    );
}

/// Found by the break test: the duplicate's older consent to a partner reopened what the kept
/// client had revoked. The kept client's word stands.
#[tokio::test]
async fn a_merge_never_brings_back_a_revoked_consent() {
    let app = TestApp::spawn().await;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let register = |given: &'static str| {
        let app = &app;
        async move {
            let query = format!(
                r#"mutation {{ registerClient(input: {{ givenName: "{given}", familyName: "Peeters", phone: "0470 00 00 00" }}) {{ id }} }}"#
            );
            let response = app.query(Who::Intake, &query, json!({})).await;
            response["data"]["registerClient"]["id"].as_str().unwrap().to_owned()
        }
    };
    let (kept, duplicate) = (register("Jan").await, register("Jean").await);
    let consent = "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY, CONTACT, SITUATION] }) { id } }";
    let given = app.query(Who::Intake, consent, json!({ "c": kept, "o": caw })).await;
    let kept_consent = given["data"]["recordConsent"]["id"].clone();
    assert_ok(&app.query(Who::Intake, consent, json!({ "c": duplicate, "o": caw })).await);
    let referral = "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o, lifeDomain: FINANCES, reason: \"Schulden\" }) { id } }";
    assert_ok(&app.query(Who::Intake, referral, json!({ "c": kept, "o": caw })).await);
    let revoked = app
        .query(
            Who::Intake,
            "mutation($id: ID!) { revokeConsent(id: $id) { id } }",
            json!({ "id": kept_consent }),
        )
        .await;
    assert_ok(&revoked);

    let read = "query($id: ID!) { client(id: $id) { givenName phone } }";
    let before = app.query(Who::Caw, read, json!({ "id": kept })).await;
    assert_eq!(before["data"]["client"]["givenName"], Value::Null, "{before}");
    let merged = app
        .query(
            Who::Admin,
            "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }",
            json!({ "k": kept, "m": duplicate }),
        )
        .await;
    assert_ok(&merged);
    let after = app.query(Who::Caw, read, json!({ "id": kept })).await;
    assert_eq!(after["data"]["client"]["givenName"], Value::Null, "the revocation stands: {after}");
    assert_eq!(after["data"]["client"]["phone"], Value::Null, "{after}");
}

//! Erasure and retention: `eraseClient` leaves no trace of the person in any table while the
//! figures stay as they were; a legal hold stops both erasure and the retention rule; the rule
//! erases exactly the closed trajectories that lay still long enough; a run killed halfway leaves
//! no client half-erased and the next run finishes the rest, each client erased (and audited)
//! once.

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entities::{
    HelpRequestStatus, appointment, audit_entry, case_note, client, consent, help_request, referral,
    referral_event,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Set, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, Transport, Who, assert_ok, codes, denied};

const PLACEHOLDER: &str = "[gewist]";

const ERASE: &str = "mutation($id: ID!, $r: String!) { eraseClient(id: $id, reason: $r) {
    id givenName familyName dateOfBirth nationalRegisterNumber phone email preferredLanguage
    address { street postcode municipality } erasedAt } }";
const HOLD: &str =
    "mutation($id: ID!, $r: String!) { holdClient(id: $id, reason: $r) { id legalHold { at reason } } }";
const RELEASE: &str = "mutation($id: ID!) { releaseClientHold(id: $id) { id legalHold { at reason } } }";

/// The data of a response that must have no errors.
async fn ok(app: &TestApp, who: Who, query: &str, variables: Value) -> Value {
    let response = app.query(who, query, variables).await;
    assert_ok(&response);
    response["data"].clone()
}

async fn org(app: &TestApp, who: Who) -> String {
    app.user(who).await.unwrap().organisation_id.to_string()
}

/// A valid national register number for a birth in 1991, from a random serial.
fn random_number() -> String {
    let serial = u64::from(Uuid::new_v4().as_u128() as u16) % 997;
    let body = 910_412_000 + serial;
    format!("{body}{:02}", 97 - body % 97)
}

/// A client with a whole trajectory, every free text carrying `mark`: two help requests (one
/// closed with an outcome), a case note in two versions, a consent with a purpose, a referral
/// rejected with notes for the sender and the client, a completed one, an appointment.
struct Trajectory {
    client: String,
    /// Every personal value and text written about the client.
    traces: Vec<String>,
}

async fn trajectory(app: &TestApp, mark: &str) -> Trajectory {
    let woonclub = org(app, Who::Woonclub).await;
    let number = random_number();
    let phone = format!("0470 {} {}", &mark[2..4].len(), Uuid::new_v4().as_u128() % 100_000);
    let email = format!("{mark}@example.be");
    let registered = ok(
        app,
        Who::Intake,
        "mutation($input: RegisterClientInput!) { registerClient(input: $input) { id } }",
        json!({ "input": { "givenName": format!("Xandra{mark}"), "familyName": format!("Vermeersch{mark}"),
                "dateOfBirth": "1991-04-12", "nationalRegisterNumber": number, "phone": phone, "email": email,
                "preferredLanguage": "nl",
                "address": { "street": format!("Kerkstraat{mark} 1"), "postcode": "8790", "municipality": "Waregem" } } }),
    )
    .await;
    let client = registered["registerClient"]["id"].as_str().unwrap().to_owned();
    let open = "mutation($c: ID!, $s: String!) { openHelpRequest(input: { clientId: $c, summary: $s, lifeDomains: [HOUSING, FINANCES] }) { id } }";
    let help =
        ok(app, Who::Intake, open, json!({ "c": client, "s": format!("Zoekt woning {mark}-summary") })).await
            ["openHelpRequest"]["id"]
            .clone();
    let done = ok(app, Who::Intake, open, json!({ "c": client, "s": format!("Schulden {mark}-summary2") }))
        .await["openHelpRequest"]["id"]
        .clone();
    ok(
        app,
        Who::CaseWorker,
        "mutation($id: ID!, $o: String!) { closeHelpRequest(id: $id, outcome: $o) { id } }",
        json!({ "id": done, "o": format!("Afbetalingsplan {mark}-outcome") }),
    )
    .await;
    let note = "mutation($input: AddCaseNoteInput!) { addCaseNote(input: $input) { id } }";
    let first = ok(
        app,
        Who::CaseWorker,
        note,
        json!({ "input": { "clientId": client, "helpRequestId": help, "body": format!("Gesprek {mark}-note1") } }),
    )
    .await["addCaseNote"]["id"]
        .clone();
    ok(
        app,
        Who::CaseWorker,
        note,
        json!({ "input": { "clientId": client, "correctsId": first, "body": format!("Gesprek {mark}-note2"), "sharedWithClient": true } }),
    )
    .await;
    ok(
        app,
        Who::Intake,
        "mutation($c: ID!, $o: ID!, $p: String) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY, CONTACT, SITUATION], purpose: $p }) { id } }",
        json!({ "c": client, "o": woonclub, "p": format!("Woonbegeleiding {mark}-purpose") }),
    )
    .await;
    let refer = "mutation($c: ID!, $h: ID, $o: ID!, $r: String!) { createReferral(input: { clientId: $c, helpRequestId: $h, recipientId: $o, lifeDomain: HOUSING, reason: $r }) { id } }";
    let rejected = ok(
        app,
        Who::Intake,
        refer,
        json!({ "c": client, "h": help, "o": woonclub, "r": format!("Woning {mark}-reason1") }),
    )
    .await["createReferral"]["id"]
        .clone();
    // Both referrals before either ends: the help request closes when its last one does.
    let completed = ok(
        app,
        Who::Intake,
        refer,
        json!({ "c": client, "h": help, "o": woonclub, "r": format!("Woning {mark}-reason2") }),
    )
    .await["createReferral"]["id"]
        .clone();
    ok(
        app,
        Who::Woonclub,
        "mutation($id: ID!, $n: String!, $c: String!) { changeReferralStatus(id: $id, status: REJECTED, expectedVersion: 1, note: $n, reason: NO_CAPACITY, noteForClient: $c) { id } }",
        json!({ "id": rejected, "n": format!("Vol {mark}-event-note"), "c": format!("Sorry {mark}-for-client") }),
    )
    .await;
    let change = "mutation($id: ID!, $s: ReferralStatus!, $v: Int!, $n: String) { changeReferralStatus(id: $id, status: $s, expectedVersion: $v, note: $n) { version } }";
    for (status, version, note) in [
        ("ACCEPTED", 1, None),
        ("IN_PROGRESS", 2, None),
        ("COMPLETED", 3, Some(format!("Gevonden {mark}-outcome-note"))),
    ] {
        ok(app, Who::Woonclub, change, json!({ "id": completed, "s": status, "v": version, "n": note }))
            .await;
    }
    let slots = ok(
        app,
        Who::Intake,
        "query($o: ID, $from: DateTime!, $to: DateTime!) { officeHours(organisationId: $o, from: $from, to: $to) { startsAt free } }",
        json!({ "o": woonclub, "from": Utc::now() + Duration::days(1), "to": Utc::now() + Duration::days(15) }),
    )
    .await;
    let slot =
        slots["officeHours"].as_array().unwrap().iter().find(|s| s["free"] == true).unwrap()["startsAt"]
            .clone();
    ok(app, Who::Intake, "mutation($c: ID!, $o: ID!, $s: DateTime!, $r: ID) { bookAppointment(input: { clientId: $c, organisationId: $o, startsAt: $s, referralId: $r }) { id } }",
        json!({ "c": client, "o": woonclub, "s": slot, "r": completed })).await;
    Trajectory { client, traces: vec![mark.to_owned(), number, phone, email] }
}

/// Every table's text columns, as `(table, column)`.
async fn text_columns(app: &TestApp) -> Vec<(String, String)> {
    let sql = if app.database.is_postgres() {
        "SELECT table_name AS t, column_name AS c FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')"
    } else {
        "SELECT m.name AS t, c.name AS c FROM sqlite_master m, pragma_table_info(m.name) c
          WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND upper(c.type) IN ('TEXT', 'VARCHAR')"
    };
    let db = &app.db.conn;
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter()
        .map(|r| (r.try_get::<String>("", "t").unwrap(), r.try_get::<String>("", "c").unwrap()))
        .collect()
}

/// Where in the whole database any of `traces` still occurs: `table.column` → rows.
async fn occurrences(app: &TestApp, traces: &[String]) -> BTreeMap<String, i64> {
    let db = &app.db.conn;
    let backend = db.get_database_backend();
    let mut found = BTreeMap::new();
    for (table, column) in text_columns(app).await {
        let (conditions, values): (Vec<String>, Vec<sea_orm::Value>) = traces
            .iter()
            .enumerate()
            .map(|(i, trace)| {
                let placeholder = if app.database.is_postgres() { format!("${}", i + 1) } else { "?".into() };
                (format!("\"{column}\" LIKE {placeholder}"), format!("%{trace}%").into())
            })
            .unzip();
        let sql = format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE {}", conditions.join(" OR "));
        let row =
            db.query_one_raw(Statement::from_sql_and_values(backend, sql, values)).await.unwrap().unwrap();
        let n = row.try_get::<i64>("", "n").unwrap();
        if n > 0 {
            found.insert(format!("{table}.{column}"), n);
        }
    }
    found
}

/// How many rows each table holds about `client` (its shape).
async fn shape(app: &TestApp, client: Uuid) -> BTreeMap<&'static str, u64> {
    let db = &app.db.conn;
    let referrals: Vec<Uuid> = referral::Entity::find()
        .select_only()
        .column(referral::Column::Id)
        .filter(referral::Column::ClientId.eq(client))
        .into_tuple()
        .all(db)
        .await
        .unwrap();
    BTreeMap::from([
        (
            "help_requests",
            help_request::Entity::find()
                .filter(help_request::Column::ClientId.eq(client))
                .count(db)
                .await
                .unwrap(),
        ),
        (
            "case_notes",
            case_note::Entity::find().filter(case_note::Column::ClientId.eq(client)).count(db).await.unwrap(),
        ),
        (
            "consents",
            consent::Entity::find().filter(consent::Column::ClientId.eq(client)).count(db).await.unwrap(),
        ),
        ("referrals", referrals.len() as u64),
        (
            "referral_events",
            referral_event::Entity::find()
                .filter(referral_event::Column::ReferralId.is_in(referrals))
                .count(db)
                .await
                .unwrap(),
        ),
        (
            "appointments",
            appointment::Entity::find()
                .filter(appointment::Column::ClientId.eq(client))
                .count(db)
                .await
                .unwrap(),
        ),
    ])
}

async fn erase_audit_rows(app: &TestApp, client: Uuid) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::SubjectId.eq(client))
        .filter(audit_entry::Column::Action.eq("ERASE"))
        .all(&app.db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn erasing_a_client_leaves_no_trace_of_them_in_any_table_and_keeps_the_shape() {
    let app = TestApp::spawn().await;
    let mark = format!("zq{}", &Uuid::new_v4().simple().to_string()[..10]);
    let person = trajectory(&app, &mark).await;
    let id: Uuid = person.client.parse().unwrap();
    // Read the file once, as staff do: the reads are audited (without their content).
    ok(
        &app,
        Who::Admin,
        "query($c: ID!) { client(id: $c) { givenName nationalRegisterNumber caseNotes { body } } }",
        json!({ "c": id }),
    )
    .await;
    let before = occurrences(&app, &person.traces).await;
    for needed in [
        "clients.given_name",
        "help_requests.summary",
        "case_notes.body",
        "consents.purpose",
        "referrals.reason",
    ] {
        assert!(before.contains_key(needed), "the trajectory wrote {needed}: {before:?}");
    }
    let shape_before = shape(&app, id).await;
    assert!(shape_before.values().all(|n| *n > 0), "{shape_before:?}");

    let reason = format!("Verzoek van {mark} per brief");
    let erased = ok(&app, Who::Admin, ERASE, json!({ "id": id, "r": reason })).await["eraseClient"].clone();
    assert_eq!(erased["givenName"], PLACEHOLDER);
    assert_eq!(erased["familyName"], PLACEHOLDER);
    for field in ["dateOfBirth", "nationalRegisterNumber", "phone", "email", "preferredLanguage", "address"] {
        assert!(erased[field].is_null(), "{field}: {erased}");
    }
    assert!(erased["erasedAt"].is_string());

    // Not a trace of the person, nor of the reason, in any text column of any table (the
    // audit log included); every row of the trajectory still there.
    let after = occurrences(&app, &[person.traces.clone(), vec![reason.clone()]].concat()).await;
    assert!(after.is_empty(), "traces left: {after:?}");
    assert_eq!(shape(&app, id).await, shape_before);
    let row = client::Entity::find_by_id(id).one(&app.db.conn).await.unwrap().unwrap();
    assert!(row.date_of_birth.is_none() && row.national_register_number.is_none() && row.street.is_none());
    let notes =
        case_note::Entity::find().filter(case_note::Column::ClientId.eq(id)).all(&app.db.conn).await.unwrap();
    assert_eq!(notes.len(), 2, "both versions kept");
    assert!(notes.iter().all(|n| n.body == PLACEHOLDER));
    let referrals: Vec<Uuid> = referral::Entity::find()
        .select_only()
        .column(referral::Column::Id)
        .filter(referral::Column::ClientId.eq(id))
        .into_tuple()
        .all(&app.db.conn)
        .await
        .unwrap();
    let events = referral_event::Entity::find()
        .filter(referral_event::Column::ReferralId.is_in(referrals))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert!(events.iter().all(|e| e.note.is_none() && e.note_for_client.is_none()));
    let helps = help_request::Entity::find()
        .filter(help_request::Column::ClientId.eq(id))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert!(helps.iter().all(|h| h.summary == PLACEHOLDER && h.outcome.is_none()));
    assert!(helps.iter().any(|h| h.status == HelpRequestStatus::Closed));

    // One audit row, with nothing in it but ids.
    let audit = erase_audit_rows(&app, id).await;
    assert_eq!(audit.len(), 1);
    assert_eq!((audit[0].subject_type.as_str(), audit[0].client_id), ("Client", Some(id)));
    assert!(audit[0].categories.is_none());

    // Idempotent: a second erasure changes nothing and answers the client.
    let again = ok(&app, Who::Admin, ERASE, json!({ "id": id, "r": "nogmaals" })).await;
    assert_eq!(again["eraseClient"]["erasedAt"], erased["erasedAt"]);
    assert_eq!(erase_audit_rows(&app, id).await.len(), 1);

    // Staff who see clients see that it was erased.
    for who in [Who::Intake, Who::CaseWorker] {
        let read =
            ok(&app, who, "query($c: ID!) { client(id: $c) { givenName erasedAt } }", json!({ "c": id }))
                .await;
        assert_eq!(read["client"]["givenName"], PLACEHOLDER);
        assert_eq!(read["client"]["erasedAt"], erased["erasedAt"]);
    }
}

#[tokio::test]
async fn only_an_administrator_erases_or_holds_a_client() {
    let app = TestApp::spawn().await;
    let target = client::Entity::find().one(&app.db.conn).await.unwrap().unwrap();
    let variables = json!({ "id": target.id, "r": "verzoek" });
    for who in Who::ALL.into_iter().filter(|w| *w != Who::Admin) {
        for (name, query, variables) in [
            ("eraseClient", ERASE, variables.clone()),
            ("holdClient", HOLD, variables.clone()),
            ("releaseClientHold", RELEASE, json!({ "id": target.id })),
        ] {
            for transport in Transport::BOTH {
                let response = app.query_over(transport, who, query, variables.clone()).await;
                assert_eq!(denied(&response), "HIDDEN", "{who:?} {name} over {transport:?}: {response}");
            }
        }
        // The hold and its reason are the administrators' alone.
        if who != Who::Public && who != Who::Analyst {
            let response = app
                .query(
                    who,
                    "query($c: ID!) { client(id: $c) { legalHold { reason } } }",
                    json!({ "c": target.id }),
                )
                .await;
            assert_eq!(denied(&response), "HIDDEN", "{who:?} legalHold: {response}");
        }
    }
    // Whether a client was erased is the house's to know, not a partner's.
    for who in Who::PARTNERS {
        let response =
            app.query(who, "query($c: ID!) { client(id: $c) { erasedAt } }", json!({ "c": target.id })).await;
        assert_eq!(denied(&response), "HIDDEN", "{who:?} erasedAt: {response}");
    }
    // The citizen cannot erase themself either (they ask the house).
    let response = app.query_as_client(Transport::Http, target.id, ERASE, variables).await;
    assert_eq!(denied(&response), "HIDDEN", "{response}");
    let row = client::Entity::find_by_id(target.id).one(&app.db.conn).await.unwrap().unwrap();
    assert!(row.erased_at.is_none() && row.legal_hold_at.is_none());
}

const DASHBOARD: &str = "query($from: DateTime, $to: DateTime) { dashboard(from: $from, to: $to) {
    from to totalReferrals
    referralsByStatus { status count suppressed }
    referralsByLifeDomain { lifeDomain count suppressed }
    helpRequestsByLifeDomain { lifeDomain count suppressed }
    referralsPerMonth { month count suppressed }
    rejections { lifeDomain reason count suppressed }
    partners { organisation { name } received accepted rejected completed stalled medianHoursToAccept suppressed } } }";

#[tokio::test]
async fn the_dashboards_are_the_same_before_and_after_erasing_clients() {
    let app = TestApp::spawn().await;
    // The default window, and windows from dates back over the demo's half year (for ANALYST:
    // the calendar quarter each lies in).
    let now = Utc::now();
    let windows = [
        json!({}),
        json!({ "from": now - Duration::days(10) }),
        json!({ "from": now - Duration::days(100) }),
        json!({ "from": now - Duration::days(190) }),
    ];
    let figures = async |who| {
        let mut all = String::new();
        for window in &windows {
            let response = app.query(who, DASHBOARD, window.clone()).await;
            assert_ok(&response);
            all += &serde_json::to_string(&response).unwrap();
        }
        all
    };
    let (admin, analyst) = (figures(Who::Admin).await, figures(Who::Analyst).await);
    // The clients with the most referrals, in every status.
    let sql =
        "SELECT client_id AS id FROM referrals GROUP BY client_id ORDER BY COUNT(*) DESC, client_id LIMIT 6";
    let db = &app.db.conn;
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    let clients: Vec<Uuid> = rows.iter().map(|r| r.try_get::<Uuid>("", "id").unwrap()).collect();
    assert_eq!(clients.len(), 6);
    for id in &clients {
        ok(&app, Who::Admin, ERASE, json!({ "id": id, "r": "verzoek van de cliënt" })).await;
    }
    assert_eq!(figures(Who::Admin).await, admin, "ADMIN's dashboard changed");
    assert_eq!(figures(Who::Analyst).await, analyst, "ANALYST's dashboard changed");
}

#[tokio::test]
async fn a_held_client_is_neither_erased_nor_retained_until_the_hold_is_released() {
    let app = TestApp::spawn().await;
    let mark = format!("zq{}", &Uuid::new_v4().simple().to_string()[..10]);
    let person = trajectory(&app, &mark).await;
    let id: Uuid = person.client.parse().unwrap();
    cancel_appointments(&app, id).await;
    let held = ok(&app, Who::Admin, HOLD, json!({ "id": id, "r": "Rechtszaak 2026/123" })).await;
    assert_eq!(held["holdClient"]["legalHold"]["reason"], "Rechtszaak 2026/123");
    let since = held["holdClient"]["legalHold"]["at"].clone();
    // Holding again replaces the reason and keeps when the hold began.
    let again = ok(&app, Who::Admin, HOLD, json!({ "id": id, "r": "Rechtszaak 2026/124" })).await;
    assert_eq!(
        (&again["holdClient"]["legalHold"]["at"], &again["holdClient"]["legalHold"]["reason"]),
        (&since, &json!("Rechtszaak 2026/124"))
    );

    let refused = app.query(Who::Admin, ERASE, json!({ "id": id, "r": "verzoek" })).await;
    assert_eq!(codes(&refused), ["CONFLICT"], "{refused}");
    // Old and closed, yet held: the retention rule leaves them.
    age(&app, id, Duration::days(6 * 366)).await;
    let (dry, _) = retention_cli(&app, &["--dry-run"]).await;
    assert!(!dry.contains(&id.to_string()), "{dry}");
    let (run, _) = retention_cli(&app, &[]).await;
    assert!(!run.contains(&id.to_string()), "{run}");
    let row = client::Entity::find_by_id(id).one(&app.db.conn).await.unwrap().unwrap();
    assert!(row.erased_at.is_none());
    // The reason of the hold stays out of the audit log.
    assert!(occurrences(&app, &["Rechtszaak".into()]).await.keys().all(|k| k.starts_with("clients.")));

    let released = ok(&app, Who::Admin, RELEASE, json!({ "id": id })).await;
    assert!(released["releaseClientHold"]["legalHold"].is_null());
    let (dry, _) = retention_cli(&app, &["--dry-run"]).await;
    assert!(dry.contains(&format!("would erase {id}")), "{dry}");
    let erased = ok(&app, Who::Admin, ERASE, json!({ "id": id, "r": "verzoek" })).await;
    assert_eq!(erased["eraseClient"]["givenName"], PLACEHOLDER);
    let actions: Vec<String> = audit_entry::Entity::find()
        .filter(audit_entry::Column::SubjectId.eq(id))
        .filter(audit_entry::Column::Action.is_in(["HOLD", "RELEASE_HOLD", "ERASE"]))
        .all(&app.db.conn)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["HOLD", "HOLD", "RELEASE_HOLD", "ERASE"]);
    // Nothing left to hold.
    let refused = app.query(Who::Admin, HOLD, json!({ "id": id, "r": "te laat" })).await;
    assert_eq!(codes(&refused), ["CONFLICT"], "{refused}");
}

/// Cancels the client's appointments (so that none is still to come).
async fn cancel_appointments(app: &TestApp, client: Uuid) {
    let rows = appointment::Entity::find()
        .filter(appointment::Column::ClientId.eq(client))
        .all(&app.db.conn)
        .await
        .unwrap();
    for row in rows {
        ok(
            app,
            Who::Admin,
            "mutation($id: ID!) { cancelAppointment(id: $id) { id } }",
            json!({ "id": row.id }),
        )
        .await;
    }
}

/// Moves every date of the client's trajectory `by` into the past, in the database itself.
async fn age(app: &TestApp, client: Uuid, by: Duration) {
    let db = &app.db.conn;
    let back = |at: DateTime<Utc>| at - by;
    let row = client::Entity::find_by_id(client).one(db).await.unwrap().unwrap();
    let (created, updated) = (row.created_at, row.updated_at);
    let mut row = row.into_active_model();
    row.created_at = Set(back(created));
    row.updated_at = Set(back(updated));
    row.update(db).await.unwrap();
    for h in
        help_request::Entity::find().filter(help_request::Column::ClientId.eq(client)).all(db).await.unwrap()
    {
        let (opened, closed) = (h.opened_at, h.closed_at);
        let mut h = h.into_active_model();
        h.opened_at = Set(back(opened));
        h.closed_at = Set(closed.map(back));
        h.update(db).await.unwrap();
    }
    for n in case_note::Entity::find().filter(case_note::Column::ClientId.eq(client)).all(db).await.unwrap() {
        let (noted, created, superseded) = (n.noted_at, n.created_at, n.superseded_at);
        let mut n = n.into_active_model();
        n.noted_at = Set(back(noted));
        n.created_at = Set(back(created));
        n.superseded_at = Set(superseded.map(back));
        n.update(db).await.unwrap();
    }
    for c in consent::Entity::find().filter(consent::Column::ClientId.eq(client)).all(db).await.unwrap() {
        let (given, revoked) = (c.given_at, c.revoked_at);
        let mut c = c.into_active_model();
        c.given_at = Set(back(given));
        c.revoked_at = Set(revoked.map(back));
        c.update(db).await.unwrap();
    }
    for r in referral::Entity::find().filter(referral::Column::ClientId.eq(client)).all(db).await.unwrap() {
        for e in referral_event::Entity::find()
            .filter(referral_event::Column::ReferralId.eq(r.id))
            .all(db)
            .await
            .unwrap()
        {
            let at = e.at;
            let mut e = e.into_active_model();
            e.at = Set(back(at));
            e.update(db).await.unwrap();
        }
        let (created, updated) = (r.created_at, r.updated_at);
        let mut r = r.into_active_model();
        r.created_at = Set(back(created));
        r.updated_at = Set(back(updated));
        r.update(db).await.unwrap();
    }
    for a in
        appointment::Entity::find().filter(appointment::Column::ClientId.eq(client)).all(db).await.unwrap()
    {
        let (starts, ends, slot, created, cancelled) =
            (a.starts_at, a.ends_at, a.active_slot, a.created_at, a.cancelled_at);
        let mut a = a.into_active_model();
        a.starts_at = Set(back(starts));
        a.ends_at = Set(back(ends));
        a.active_slot = Set(slot.map(back));
        a.created_at = Set(back(created));
        a.cancelled_at = Set(cancelled.map(back));
        a.update(db).await.unwrap();
    }
}

/// Runs `welzijnshuis retention run [args]` on the test database to its end: (stdout, stderr).
async fn retention_cli(app: &TestApp, args: &[&str]) -> (String, String) {
    let output = retention_command(app, args).output().await.expect("the binary runs");
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(output.status.success(), "retention run {args:?} failed:\n{out}\n{err}");
    (out, err)
}

fn retention_command(app: &TestApp, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"));
    command
        .args(["retention", "run"])
        .args(args)
        .env("DATABASE_URL", &app.database.url)
        .env("WELZIJNSHUIS_JWT_SECRET", crate::helpers::SECRET)
        .env_remove("WELZIJNSHUIS_RETENTION_YEARS")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A snapshot of what a run could change: the clients' rows and the audit log's size.
async fn snapshot(app: &TestApp) -> (Vec<client::Model>, u64) {
    let clients = client::Entity::find().all(&app.db.conn).await.unwrap();
    let mut clients = clients;
    clients.sort_by_key(|c| c.id);
    (clients, audit_entry::Entity::find().count(&app.db.conn).await.unwrap())
}

#[tokio::test]
async fn retention_erases_exactly_the_closed_trajectories_that_lay_still_for_the_years_set() {
    let app = TestApp::spawn().await;
    let woonclub = org(&app, Who::Woonclub).await;
    // Six years back: past the five of the default rule even for the appointment the trajectory
    // booked two weeks ahead; "four years ago" stays within it.
    let years = Duration::days(6 * 366);
    let mut cases: BTreeMap<&str, Uuid> = BTreeMap::new();
    for name in [
        "old closed",
        "four years ago",
        "old open help request",
        "old open referral",
        "old future appointment",
        "recent",
        "old but a recent note",
    ] {
        let mark = format!("zq{}", &Uuid::new_v4().simple().to_string()[..10]);
        let person = trajectory(&app, &mark).await;
        let id: Uuid = person.client.parse().unwrap();
        // The trajectory's help requests closed with its last referral.
        let open_help = help_request::Entity::find()
            .filter(help_request::Column::ClientId.eq(id))
            .filter(help_request::Column::Status.eq(HelpRequestStatus::Open));
        assert_eq!(open_help.count(&app.db.conn).await.unwrap(), 0, "{name}");
        if name == "old open help request" {
            ok(&app, Who::Intake, "mutation($c: ID!) { openHelpRequest(input: { clientId: $c, summary: \"Nog open\", lifeDomains: [WORK] }) { id } }", json!({ "c": id })).await;
        }
        if name != "old future appointment" {
            cancel_appointments(&app, id).await;
        }
        if name == "old open referral" {
            ok(&app, Who::Intake, "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o, lifeDomain: HOUSING, reason: \"Nog een woning\" }) { id } }",
                json!({ "c": id, "o": woonclub })).await;
        }
        match name {
            "recent" => {}
            "four years ago" => age(&app, id, Duration::days(4 * 365)).await,
            _ => age(&app, id, years).await,
        }
        if name == "old future appointment" {
            // Booked long ago, still to come.
            let a = appointment::Entity::find()
                .filter(appointment::Column::ClientId.eq(id))
                .one(&app.db.conn)
                .await
                .unwrap()
                .unwrap();
            let (starts, ends) = (a.starts_at + years, a.ends_at + years);
            let mut a = a.into_active_model();
            a.starts_at = Set(starts);
            a.ends_at = Set(ends);
            a.active_slot = Set(Some(starts));
            a.update(&app.db.conn).await.unwrap();
        }
        if name == "old but a recent note" {
            ok(&app, Who::CaseWorker, "mutation($c: ID!) { addCaseNote(input: { clientId: $c, body: \"Nog eens gebeld\" }) { id } }", json!({ "c": id })).await;
        }
        cases.insert(name, id);
    }
    let due = cases["old closed"];

    // A dry run names the client due, and writes nothing.
    let before = snapshot(&app).await;
    let (dry, _) = retention_cli(&app, &["--dry-run"]).await;
    assert_eq!(snapshot(&app).await, before, "a dry run wrote");
    for (name, id) in &cases {
        assert_eq!(dry.contains(&format!("would erase {id}")), *id == due, "{name}: {dry}");
    }
    assert!(dry.contains("1 client(s) would be erased"), "{dry}");

    // The run erases that client, and only that one.
    let (run, _) = retention_cli(&app, &[]).await;
    assert!(run.contains(&format!("erased {due}")) && run.contains("1 client(s) erased"), "{run}");
    for (name, id) in &cases {
        let row = client::Entity::find_by_id(*id).one(&app.db.conn).await.unwrap().unwrap();
        assert_eq!(row.erased_at.is_some(), *id == due, "{name}");
    }
    let audit = erase_audit_rows(&app, due).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].operation_name.as_deref(), Some("welzijnshuis retention run"));
    assert_eq!((audit[0].user_id, audit[0].client_id), (None, Some(due)));
    // Run again: nothing more is due.
    let (again, _) = retention_cli(&app, &[]).await;
    assert!(again.contains("0 client(s) erased"), "{again}");
    assert_eq!(erase_audit_rows(&app, due).await.len(), 1);
}

#[tokio::test]
async fn an_erased_clients_token_is_refused() {
    let app = TestApp::spawn().await;
    let mark = format!("zq{}", &Uuid::new_v4().simple().to_string()[..10]);
    let citizen = client::Entity::find_by_id(trajectory(&app, &mark).await.client.parse::<Uuid>().unwrap())
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap();
    let me = "{ me { role client { id } } }";
    let response = app.query_as_client(Transport::Http, citizen.id, me, json!({})).await;
    assert_ok(&response);
    ok(&app, Who::Admin, ERASE, json!({ "id": citizen.id, "r": "verzoek van de cliënt" })).await;
    for transport in [Transport::Http] {
        let response = app.query_as_client(transport, citizen.id, me, json!({})).await;
        assert_eq!(codes(&response), ["UNAUTHENTICATED"], "{transport:?}: {response}");
    }
}

/// Inserts `n` clients whose closed trajectory (a help request and a case note) ended ten years
/// ago, in bulk; their ids.
async fn old_clients(app: &TestApp, n: usize) -> Vec<Uuid> {
    let db = &app.db.conn;
    let author = app.user(Who::CaseWorker).await.unwrap().id;
    let long_ago = (Utc::now() - Duration::days(3660)).trunc_subsecs(6);
    let ids: Vec<Uuid> = (0..n).map(|_| Uuid::now_v7()).collect();
    for chunk in ids.chunks(200) {
        client::Entity::insert_many(chunk.iter().map(|&id| client::ActiveModel {
            id: Set(id),
            given_name: Set(format!("Oud{}", id.simple())),
            family_name: Set("Dossier".into()),
            date_of_birth: Set(None),
            national_register_number: Set(None),
            street: Set(None),
            postcode: Set(None),
            municipality: Set(None),
            phone: Set(Some("056 00 00 00".into())),
            email: Set(None),
            preferred_language: Set(None),
            created_by: Set(None),
            created_at: Set(long_ago),
            updated_at: Set(long_ago),
            erased_at: Set(None),
            legal_hold_at: Set(None),
            legal_hold_reason: Set(None),
        }))
        .exec_without_returning(db)
        .await
        .unwrap();
        let helps: Vec<(Uuid, Uuid)> = chunk.iter().map(|&c| (c, Uuid::now_v7())).collect();
        help_request::Entity::insert_many(helps.iter().map(|&(c, h)| help_request::ActiveModel {
            id: Set(h),
            client_id: Set(c),
            summary: Set(format!("Vraag van {}", c.simple())),
            channel: Set("DESK".into()),
            status: Set(HelpRequestStatus::Closed),
            opened_by: Set(None),
            opened_at: Set(long_ago),
            closed_at: Set(Some(long_ago)),
            outcome: Set(Some("Opgelost".into())),
            closed_by: Set(None),
        }))
        .exec_without_returning(db)
        .await
        .unwrap();
        case_note::Entity::insert_many(helps.iter().map(|&(c, h)| {
            let id = Uuid::now_v7();
            case_note::ActiveModel {
                id: Set(id),
                client_id: Set(c),
                help_request_id: Set(Some(h)),
                thread_id: Set(id),
                version: Set(1),
                author_id: Set(author),
                body: Set(format!("Notitie over {}", c.simple())),
                shared_with_client: Set(false),
                noted_at: Set(long_ago),
                created_at: Set(long_ago),
                superseded_at: Set(None),
            }
        }))
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    ids
}

/// Per client: (erased_at set, name erased, summary erased, note erased): all four agree for a
/// client erased whole or not at all.
async fn halves(app: &TestApp, ids: &[Uuid]) -> (usize, Vec<Uuid>) {
    let db = &app.db.conn;
    let clients: BTreeMap<Uuid, client::Model> = client::Entity::find()
        .filter(client::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let summaries: BTreeMap<Uuid, String> = help_request::Entity::find()
        .filter(help_request::Column::ClientId.is_in(ids.iter().copied()))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|h| (h.client_id, h.summary))
        .collect();
    let notes: BTreeMap<Uuid, String> = case_note::Entity::find()
        .filter(case_note::Column::ClientId.is_in(ids.iter().copied()))
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.client_id, n.body))
        .collect();
    let mut erased = 0;
    let mut half = Vec::new();
    for id in ids {
        let c = &clients[id];
        let parts = [
            c.erased_at.is_some(),
            c.given_name == PLACEHOLDER && c.phone.is_none(),
            summaries[id] == PLACEHOLDER,
            notes[id] == PLACEHOLDER,
        ];
        if parts.iter().all(|p| *p) {
            erased += 1;
        } else if parts.iter().any(|p| *p) {
            half.push(*id);
        }
    }
    (erased, half)
}

#[tokio::test]
async fn a_retention_run_killed_halfway_leaves_no_client_half_erased_and_the_next_run_finishes() {
    let app = TestApp::spawn().await;
    let ids = old_clients(&app, 3000).await;
    let db = &app.db.conn;
    let erased_count = async || {
        client::Entity::find().filter(client::Column::ErasedAt.is_not_null()).count(db).await.unwrap()
    };

    let mut child = retention_command(&app, &[]).spawn().expect("the binary starts");
    let started = std::time::Instant::now();
    loop {
        // Well into the run, so that the kill lands between and inside clients' transactions.
        if erased_count().await >= ids.len() as u64 / 10 {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it erased anyone");
        assert!(started.elapsed() < StdDuration::from_secs(60), "the run erased no one in a minute");
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    let (erased, half) = halves(&app, &ids).await;
    assert!(half.is_empty(), "half-erased clients: {half:?}");
    assert!(erased > 0 && erased < ids.len(), "killed after {erased} of {}", ids.len());
    eprintln!("killed after {erased} of {} clients", ids.len());
    // A COMMIT the process sent just before it died may still be carried out by the database
    // (PostgreSQL finishes what it received): wait until the count holds still.
    let mut erased = erased as u64;
    loop {
        tokio::time::sleep(StdDuration::from_millis(500)).await;
        let now = erased_count().await;
        if now == erased {
            break;
        }
        erased = now;
    }
    let erased = erased as usize;
    assert!(halves(&app, &ids).await.1.is_empty());

    let resumed = std::time::Instant::now();
    let (out, _) = retention_cli(&app, &[]).await;
    eprintln!(
        "the next run erased the other {} in {:.1} s",
        ids.len() - erased,
        resumed.elapsed().as_secs_f64()
    );
    // The rest, by this run, or by the test server's own daily run should this test have lasted
    // past its first minute (two runs at once: each client still erased once).
    let by_this_run = out.lines().filter(|l| l.starts_with("erased ")).count();
    assert!(by_this_run > 0 && by_this_run <= ids.len() - erased, "{}", out.lines().last().unwrap_or(""));
    let (erased, half) = halves(&app, &ids).await;
    assert!(half.is_empty(), "{half:?}");
    assert_eq!(erased, ids.len());
    // Exactly one ERASE row per client, none without a client.
    let sql =
        "SELECT subject_id AS id, COUNT(*) AS n FROM audit_log WHERE action = 'ERASE' GROUP BY subject_id";
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    let per_client: BTreeMap<Uuid, i64> = rows
        .iter()
        .map(|r| (r.try_get::<Uuid>("", "id").unwrap(), r.try_get::<i64>("", "n").unwrap()))
        .collect();
    assert_eq!(per_client.len(), ids.len());
    assert!(ids.iter().all(|id| per_client.get(id) == Some(&1)), "an ERASE row per client, once");
}

#[tokio::test]
async fn two_retention_runs_at_once_erase_each_client_once() {
    let app = TestApp::spawn().await;
    let ids = old_clients(&app, 400).await;
    // Two replicas' daily runs at the same moment, on one database.
    let (a, b) = tokio::join!(retention_cli(&app, &[]), retention_cli(&app, &[]));
    let erased_by = |out: &str| out.lines().filter(|l| l.starts_with("erased ")).count();
    assert_eq!(
        erased_by(&a.0) + erased_by(&b.0),
        ids.len(),
        "each client erased by one run:\n{}\n{}",
        a.0,
        b.0
    );
    eprintln!("the two runs erased {} and {}", erased_by(&a.0), erased_by(&b.0));
    let (erased, half) = halves(&app, &ids).await;
    assert!(half.is_empty(), "{half:?}");
    assert_eq!(erased, ids.len());
    let rows = audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq("ERASE"))
        .count(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(rows, ids.len() as u64, "one ERASE row per client");
}

#[tokio::test]
async fn what_was_erased_stays_erased_no_write_puts_data_back() {
    let app = TestApp::spawn().await;
    let mark = format!("zq{}", &Uuid::new_v4().simple().to_string()[..10]);
    let erased = trajectory(&app, &mark).await.client;
    let other = trajectory(&app, &format!("zr{}", &Uuid::new_v4().simple().to_string()[..10])).await.client;
    // Still under way when the client asks to be erased: a help request and a referral.
    let woonclub = org(&app, Who::Woonclub).await;
    let help = ok(&app, Who::Intake, "mutation($c: ID!) { openHelpRequest(input: { clientId: $c, summary: \"Nog open\", lifeDomains: [HOUSING] }) { id } }", json!({ "c": erased })).await["openHelpRequest"]["id"].clone();
    let open = ok(&app, Who::Intake, "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o, lifeDomain: HOUSING, reason: \"Nog open\" }) { id } }", json!({ "c": erased, "o": woonclub })).await["createReferral"]["id"].clone();
    let ahead = entities::appointment::Entity::find()
        .filter(entities::appointment::Column::ClientId.eq(erased.parse::<Uuid>().unwrap()))
        .filter(entities::appointment::Column::ActiveSlot.is_not_null())
        .filter(entities::appointment::Column::StartsAt.gt(Utc::now()))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert!(!ahead.is_empty(), "the trajectory has an appointment ahead");
    ok(&app, Who::Admin, ERASE, json!({ "id": erased, "r": "verzoek van de cliënt" })).await;
    // Their appointments ahead are cancelled: the slots are free for others.
    for appointment in ahead {
        let now = entities::appointment::Entity::find_by_id(appointment.id)
            .one(&app.db.conn)
            .await
            .unwrap()
            .unwrap();
        assert!(now.cancelled_at.is_some() && now.active_slot.is_none(), "{now:?}");
    }
    // No step or outcome puts words about them back.
    for (who, mutation, variables) in [
        (
            Who::Woonclub,
            "mutation($id: ID!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: 1, note: \"Over de persoon\") { id } }",
            json!({ "id": open }),
        ),
        (
            Who::CaseWorker,
            "mutation($id: ID!) { closeHelpRequest(id: $id, outcome: \"Over de persoon\") { id } }",
            json!({ "id": help }),
        ),
    ] {
        let response = app.query(who, mutation, variables).await;
        assert_eq!(codes(&response), ["CONFLICT"], "{response}");
        assert!(response["errors"][0]["message"].as_str().unwrap().contains("erased"), "{response}");
    }
    let caw = org(&app, Who::Caw).await;
    let cases = [
        (
            "updateClient",
            Who::CaseWorker,
            "mutation($c: ID!) { updateClient(id: $c, input: { phone: \"0470 00 00 00\" }) { id } }",
        ),
        (
            "addCaseNote",
            Who::CaseWorker,
            "mutation($c: ID!) { addCaseNote(input: { clientId: $c, body: \"Nieuw\" }) { id } }",
        ),
        (
            "openHelpRequest",
            Who::Intake,
            "mutation($c: ID!) { openHelpRequest(input: { clientId: $c, summary: \"Nieuw\", lifeDomains: [WORK] }) { id } }",
        ),
        (
            "recordConsent",
            Who::Intake,
            "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY] }) { id } }",
        ),
        (
            "createReferral",
            Who::Intake,
            "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o, lifeDomain: WORK, reason: \"Nieuw\" }) { id } }",
        ),
        (
            "mergeClients (kept)",
            Who::Admin,
            "mutation($c: ID!, $other: ID!) { mergeClients(keepId: $c, mergeId: $other) { id } }",
        ),
        (
            "mergeClients (merged)",
            Who::Admin,
            "mutation($c: ID!, $other: ID!) { mergeClients(keepId: $other, mergeId: $c) { id } }",
        ),
    ];
    // A held client is not merged either: the hold would stay behind while the data moved.
    ok(&app, Who::Admin, HOLD, json!({ "id": other, "r": "Gerechtelijk onderzoek" })).await;
    let fresh = ok(
        &app,
        Who::Intake,
        "mutation { registerClient(input: { givenName: \"Dubbel\", familyName: \"Dossier\" }) { id } }",
        json!({}),
    )
    .await["registerClient"]["id"]
        .clone();
    let merge = "mutation($k: ID!, $m: ID!) { mergeClients(keepId: $k, mergeId: $m) { id } }";
    for (keep, gone) in [(fresh.clone(), json!(other)), (json!(other), fresh.clone())] {
        let response = app.query(Who::Admin, merge, json!({ "k": keep, "m": gone })).await;
        assert_eq!(codes(&response), ["CONFLICT"], "{response}");
    }
    ok(&app, Who::Admin, RELEASE, json!({ "id": other })).await;
    for (name, who, mutation) in cases {
        let response = app.query(who, mutation, json!({ "c": erased, "o": caw, "other": other })).await;
        assert_eq!(codes(&response), ["CONFLICT"], "{name}: {response}");
    }
    let number_left: Vec<String> = client::Entity::find_by_id(erased.parse::<Uuid>().unwrap())
        .one(&app.db.conn)
        .await
        .unwrap()
        .unwrap()
        .phone
        .into_iter()
        .collect();
    assert!(number_left.is_empty(), "nothing written back: {number_left:?}");
}

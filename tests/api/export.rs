//! Right of access and portability: `GET /me/export` and `welzijnshuis client export <id>`.
//! Every table of the database is classified (a table holding client data, read from the
//! database's own columns and foreign keys, must be exported); a client's whole trajectory is
//! in the document and nothing of anyone else's; every key is a field the client's schema
//! shows; both doors answer the same document, audited; only the citizen themself downloads.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use chrono_tz::Europe::Brussels;
use resolvers::export::{COVERED, ENVELOPE, NO_CLIENT_DATA, SECTIONS};
use sea_orm::{ConnectionTrait, DatabaseBackend, EntityTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{SECRET, TestApp, Transport, Who, assert_ok};

// ---------------------------------------------------------------------------------------------
// What the database holds.

/// The tables of the database and, for each, its columns and its foreign keys
/// (column, referenced table, referenced column).
struct Catalogue {
    columns: BTreeMap<String, BTreeSet<String>>,
    foreign_keys: BTreeMap<String, Vec<(String, String, String)>>,
}

async fn strings(db: &impl ConnectionTrait, sql: &str, columns: &[&str]) -> Vec<Vec<String>> {
    let backend = db.get_database_backend();
    let rows = db.query_all_raw(Statement::from_string(backend, sql)).await.expect(sql);
    rows.iter().map(|row| columns.iter().map(|c| row.try_get::<String>("", c).expect(c)).collect()).collect()
}

async fn catalogue(db: &impl ConnectionTrait) -> Catalogue {
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let tables: Vec<String> = if postgres {
        strings(
            db,
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            &["name"],
        )
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
    } else {
        let all = strings(
            db,
            "SELECT name, COALESCE(sql, '') AS sql FROM sqlite_master WHERE type = 'table'",
            &["name", "sql"],
        )
        .await;
        // An FTS5 table keeps its index in shadow tables named after it.
        let virtual_tables: Vec<String> =
            all.iter().filter(|r| r[1].starts_with("CREATE VIRTUAL TABLE")).map(|r| r[0].clone()).collect();
        all.into_iter()
            .map(|r| r[0].clone())
            .filter(|t| !t.starts_with("sqlite_"))
            .filter(|t| !virtual_tables.iter().any(|v| t.starts_with(&format!("{v}_"))))
            .collect()
    };
    let tables: Vec<String> = tables.into_iter().filter(|t| t != "seaql_migrations").collect();
    let mut catalogue = Catalogue { columns: BTreeMap::new(), foreign_keys: BTreeMap::new() };
    for table in &tables {
        catalogue.columns.insert(table.clone(), BTreeSet::new());
        catalogue.foreign_keys.insert(table.clone(), Vec::new());
    }
    let columns = if postgres {
        strings(
            db,
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema()",
            &["t", "c"],
        )
        .await
    } else {
        strings(
            db,
            "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'",
            &["t", "c"],
        )
        .await
    };
    for row in columns {
        if let Some(set) = catalogue.columns.get_mut(&row[0]) {
            set.insert(row[1].clone());
        }
    }
    let keys = if postgres {
        strings(
            db,
            "SELECT kcu.table_name::text AS t, kcu.column_name::text AS c, ccu.table_name::text AS rt, \
                    ccu.column_name::text AS rc \
             FROM information_schema.table_constraints tc \
             JOIN information_schema.key_column_usage kcu \
               ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema \
             JOIN information_schema.constraint_column_usage ccu \
               ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
            &["t", "c", "rt", "rc"],
        )
        .await
    } else {
        strings(
            db,
            "SELECT m.name AS t, p.\"from\" AS c, p.\"table\" AS rt, p.\"to\" AS rc \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) p WHERE m.type = 'table'",
            &["t", "c", "rt", "rc"],
        )
        .await
    };
    for row in keys {
        if let Some(list) = catalogue.foreign_keys.get_mut(&row[0]) {
            list.push((row[1].clone(), row[2].clone(), row[3].clone()));
        }
    }
    catalogue
}

impl Catalogue {
    fn tables(&self) -> impl Iterator<Item = &String> {
        self.columns.keys()
    }

    /// The tables holding client data: `clients`, a table with a `client_id`, or one with a
    /// foreign key to a table holding client data.
    fn holding_client_data(&self) -> BTreeSet<String> {
        let mut holding: BTreeSet<String> = self
            .columns
            .iter()
            .filter(|(table, columns)| *table == "clients" || columns.contains("client_id"))
            .map(|(table, _)| table.clone())
            .collect();
        loop {
            let more: Vec<String> = self
                .foreign_keys
                .iter()
                .filter(|(table, keys)| {
                    !holding.contains(*table) && keys.iter().any(|(_, parent, _)| holding.contains(parent))
                })
                .map(|(table, _)| table.clone())
                .collect();
            if more.is_empty() {
                return holding;
            }
            holding.extend(more);
        }
    }

    /// SQL for "the row of `table` belongs to one of these clients", following the foreign keys.
    fn belongs(&self, table: &str, clients: &[Uuid], postgres: bool) -> String {
        let list = |ids: &[Uuid]| -> String {
            let literal = |id: &Uuid| {
                if postgres { format!("'{id}'::uuid") } else { format!("X'{}'", id.simple()) }
            };
            ids.iter().map(literal).collect::<Vec<_>>().join(", ")
        };
        let columns = &self.columns[table];
        if table == "clients" {
            return format!("{table}.id IN ({})", list(clients));
        }
        if columns.contains("client_id") {
            return format!("{table}.client_id IN ({})", list(clients));
        }
        let holding = self.holding_client_data();
        let through: Vec<String> = self.foreign_keys[table]
            .iter()
            .filter(|(_, parent, _)| holding.contains(parent) && parent != table)
            .map(|(column, parent, parent_column)| {
                format!(
                    "{table}.{column} IN (SELECT {parent}.{parent_column} FROM {parent} WHERE {})",
                    self.belongs(parent, clients, postgres)
                )
            })
            .collect();
        assert!(!through.is_empty(), "{table} holds no client data");
        format!("({})", through.join(" OR "))
    }
}

/// What is wrong with the export's classification of the database's tables: a table holding
/// client data that is not covered, a table classified nowhere (or twice), a covered table or
/// column that does not exist.
fn classification_problems(catalogue: &Catalogue) -> Vec<String> {
    let holding = catalogue.holding_client_data();
    let covered: BTreeSet<&str> = COVERED.iter().map(|c| c.table).collect();
    let without: BTreeSet<&str> = NO_CLIENT_DATA.iter().map(|(t, _)| *t).collect();
    let mut problems = Vec::new();
    for table in catalogue.tables() {
        let table = table.as_str();
        match (covered.contains(table), without.contains(table)) {
            (true, true) => problems.push(format!("{table}: both covered and declared without client data")),
            (false, false) if holding.contains(table) => problems.push(format!(
                "{table}: holds client data (a client_id, or a foreign key to a table that does) \
                 but the export does not cover it: add it to resolvers::export::COVERED and the document"
            )),
            (false, false) => problems.push(format!(
                "{table}: classified nowhere: add it to resolvers::export::NO_CLIENT_DATA with the reason"
            )),
            (false, true) if holding.contains(table) => problems.push(format!(
                "{table}: holds client data (a client_id, or a foreign key to a table that does) \
                 but is declared without: export it"
            )),
            _ => {}
        }
    }
    for covered in COVERED {
        if !catalogue.columns.contains_key(covered.table) {
            problems.push(format!("{}: covered, but no such table", covered.table));
        } else if !catalogue.columns[covered.table].contains(covered.column) {
            problems.push(format!("{}: no column {}", covered.table, covered.column));
        }
    }
    for (table, reason) in NO_CLIENT_DATA {
        if reason.trim().is_empty() {
            problems.push(format!("{table}: give the reason it holds no client data"));
        }
    }
    problems
}

#[tokio::test]
async fn every_table_holding_client_data_is_exported_and_every_table_is_classified() {
    let app = TestApp::spawn().await;
    let catalogue = catalogue(&app.db.conn).await;
    let holding = catalogue.holding_client_data();
    assert!(holding.contains("audit_log") && holding.contains("referral_events"), "{holding:?}");
    assert!(!holding.contains("services") && !holding.contains("users"), "{holding:?}");
    let problems = classification_problems(&catalogue);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn a_new_table_the_export_forgets_fails_the_classification() {
    let app = TestApp::spawn().await;
    let id = if app.database.is_postgres() { "uuid" } else { "BLOB" };
    for sql in [
        format!(
            "CREATE TABLE client_letters (id {id} PRIMARY KEY, client_id {id} NOT NULL REFERENCES clients (id))"
        ),
        format!(
            "CREATE TABLE letter_receipts (id {id} PRIMARY KEY, letter_id {id} REFERENCES client_letters (id))"
        ),
        format!("CREATE TABLE newsletter_topics (id {id} PRIMARY KEY, title TEXT)"),
    ] {
        app.db.conn.execute_unprepared(&sql).await.expect(&sql);
    }
    let problems = classification_problems(&catalogue(&app.db.conn).await);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].starts_with("client_letters: holds client data"), "{problems:#?}");
    assert!(problems[1].starts_with("letter_receipts: holds client data"), "{problems:#?}");
    assert!(problems[2].starts_with("newsletter_topics: classified nowhere"), "{problems:#?}");
}

// ---------------------------------------------------------------------------------------------
// The client's schema.

/// Each object type of `schema.CLIENT.graphql`: its fields and the named type of each.
fn client_schema() -> BTreeMap<String, BTreeMap<String, String>> {
    use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
    fn named(ty: &Type) -> String {
        match &ty.base {
            BaseType::Named(name) => name.to_string(),
            BaseType::List(inner) => named(inner),
        }
    }
    let sdl = include_str!("../../schema/schema.CLIENT.graphql");
    let document = async_graphql::parser::parse_schema(sdl).expect("schema.CLIENT.graphql parses");
    let mut types = BTreeMap::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = ty.node;
        if let TypeKind::Object(object) = ty.kind {
            let fields = object
                .fields
                .into_iter()
                .map(|f| (f.node.name.node.to_string(), named(&f.node.ty.node)))
                .collect();
            types.insert(ty.name.node.to_string(), fields);
        }
    }
    types
}

/// Every key of `value` that is not a field of `ty` (or its nested types) in the client's
/// schema, as a path.
fn strange_keys(
    value: &Value,
    ty: &str,
    path: &str,
    schema: &BTreeMap<String, BTreeMap<String, String>>,
    found: &mut Vec<String>,
) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strange_keys(item, ty, &format!("{path}[{i}]"), schema, found);
            }
        }
        Value::Object(object) => {
            let Some(fields) = schema.get(ty) else {
                found.push(format!("{path}: an object, but {ty} is not an object type the client sees"));
                return;
            };
            for (key, inner) in object {
                match fields.get(key) {
                    Some(field_type) => {
                        strange_keys(inner, field_type, &format!("{path}.{key}"), schema, found)
                    }
                    None => found.push(format!("{path}.{key}: not a field of {ty} in schema.CLIENT.graphql")),
                }
            }
        }
        _ => {}
    }
}

fn keys_outside_the_client_schema(document: &Value) -> Vec<String> {
    let schema = client_schema();
    let mut found = Vec::new();
    for (key, value) in document.as_object().expect("the document is an object") {
        match SECTIONS.iter().find(|(section, _)| section == key) {
            Some((_, ty)) => strange_keys(value, ty, key, &schema, &mut found),
            None if ENVELOPE.contains(&key.as_str()) => {}
            None => found.push(format!("{key}: neither a section nor the envelope")),
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// A whole trajectory.

/// A valid national register number for someone born on `yymmdd` (before 2000).
fn national_number(yymmdd: &str, serial: u32) -> String {
    let base: u64 = format!("{yymmdd}{serial:03}").parse().unwrap();
    format!("{base:09}{:02}", 97 - base % 97)
}

/// The first `weekday` (ISO) at least `days` ahead, at `hour:00` Brussels time, as UTC.
fn next_local(weekday: u32, hour: u32, days: i64) -> DateTime<Utc> {
    let mut day = (Utc::now() + Duration::days(days)).with_timezone(&Brussels).date_naive();
    while day.weekday().number_from_monday() != weekday {
        day = day.succ_opt().unwrap();
    }
    let local = day.and_hms_opt(hour, 0, 0).unwrap();
    Brussels.from_local_datetime(&local).earliest().unwrap().with_timezone(&Utc)
}

fn id_at(response: &Value, path: &[&str]) -> Uuid {
    assert_ok(response);
    let mut value = &response["data"];
    for key in path {
        value = &value[*key];
    }
    value.as_str().unwrap_or_else(|| panic!("{path:?} in {response}")).parse().unwrap()
}

async fn org(app: &TestApp, who: Who) -> Uuid {
    app.user(who).await.expect("a demo user").organisation_id
}

/// The ids of one trajectory's rows the checks single out.
struct Trajectory {
    client: Uuid,
    duplicate: Uuid,
    unshared_note: Uuid,
    cancelled_appointment: Uuid,
    closure: Uuid,
}

const REGISTER: &str = "mutation($input: RegisterClientInput!) { registerClient(input: $input) { id } }";
const OPEN: &str = "mutation($input: OpenHelpRequestInput!) { openHelpRequest(input: $input) { id } }";
const NOTE: &str = "mutation($input: AddCaseNoteInput!) { addCaseNote(input: $input) { id } }";
const CHANGE: &str = "mutation($id: ID!, $status: ReferralStatus!, $v: Int!, $forClient: String) {
    changeReferralStatus(id: $id, status: $status, expectedVersion: $v, noteForClient: $forClient) { id version } }";
const BOOK: &str = "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }";

/// A client with everything a client can have: a help request, consents given by the desk and
/// by themself (one withdrawn), a referral through several steps with notes for the client, an
/// appointment kept and one cancelled by a closure of office hours, a shared and an unshared
/// case note, a duplicate merged into them, and reads of their own file.
async fn trajectory(app: &TestApp, weeks_ahead: i64) -> Trajectory {
    let dyzo = org(app, Who::Dyzo).await;
    let caw = org(app, Who::Caw).await;
    let serial = 100 + weeks_ahead as u32;
    let given = if weeks_ahead == 0 { "Hanne" } else { "Lotte" };
    let registered = app
        .query(
            Who::Intake,
            REGISTER,
            json!({ "input": {
                "givenName": given, "familyName": "Vercruysse", "dateOfBirth": "1979-03-14",
                "nationalRegisterNumber": national_number("790314", serial),
                "address": { "street": "Stationsstraat 12", "postcode": "8790", "municipality": "Waregem" },
                "phone": "+32 470 12 34 56", "email": "hanne@voorbeeld.be", "preferredLanguage": "nl" } }),
        )
        .await;
    let client = id_at(&registered, &["registerClient", "id"]);
    let duplicate = id_at(
        &app.query(
            Who::Intake,
            REGISTER,
            json!({ "input": { "givenName": given, "familyName": "Vercruyse" } }),
        )
        .await,
        &["registerClient", "id"],
    );
    let help_request = id_at(
        &app.query(
            Who::Intake,
            OPEN,
            json!({ "input": { "clientId": client, "summary": "Schulden en een opzeg van de huur",
                               "lifeDomains": ["FINANCES", "HOUSING"] } }),
        )
        .await,
        &["openHelpRequest", "id"],
    );
    let duplicates_request = id_at(
        &app.query(
            Who::Intake,
            OPEN,
            json!({ "input": { "clientId": duplicate, "summary": "Vraag over werk", "lifeDomains": ["WORK"] } }),
        )
        .await,
        &["openHelpRequest", "id"],
    );

    // Consents: the desk records one for dyzo; the client gives one to CAW and withdraws it.
    let recorded = app
        .query(
            Who::Intake,
            "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { id } }",
            json!({ "input": { "clientId": client, "recipientId": dyzo, "scopes": ["IDENTITY", "CONTACT", "SITUATION"],
                               "purpose": "Begeleiding als zelfstandige" } }),
        )
        .await;
    assert_ok(&recorded);
    let granted = app
        .query_as_client(
            Transport::Http,
            client,
            "mutation($input: GrantConsentInput!) { grantConsent(input: $input) { id } }",
            json!({ "input": { "recipientId": caw, "scopes": ["CONTACT"], "purpose": "Budgethulp" } }),
        )
        .await;
    let granted = id_at(&granted, &["grantConsent", "id"]);
    let revoked = app
        .query_as_client(
            Transport::Http,
            client,
            "mutation($id: ID!) { revokeConsent(id: $id) { id } }",
            json!({ "id": granted }),
        )
        .await;
    assert_ok(&revoked);

    // A referral to dyzo, received and accepted with a word for the client.
    let life_domain = entities::referral::Entity::find()
        .all(&app.db.conn)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.recipient_id == dyzo)
        .expect("the demo refers to dyzo")
        .life_domain;
    let referral = id_at(
        &app.query(
            Who::Intake,
            "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }",
            json!({ "input": { "clientId": client, "helpRequestId": help_request, "recipientId": dyzo,
                               "lifeDomain": life_domain.as_str(), "reason": "Zelfstandige in moeilijkheden" } }),
        )
        .await,
        &["createReferral", "id"],
    );
    for (version, status, for_client) in
        [(1, "RECEIVED", "We hebben je vraag goed ontvangen."), (2, "ACCEPTED", "We bellen je deze week.")]
    {
        let changed = app
            .query(
                Who::Dyzo,
                CHANGE,
                json!({ "id": referral, "status": status, "v": version, "forClient": for_client }),
            )
            .await;
        assert_ok(&changed);
    }

    // dyzo's office hours: Mondays from 9:00. One appointment kept, one cancelled by a closure.
    let monday = next_local(1, 9, 14 + 14 * weeks_ahead);
    let cancelled_appointment = id_at(
        &app.query(
            Who::Intake,
            BOOK,
            json!({ "input": { "clientId": client, "organisationId": dyzo, "startsAt": monday, "referralId": referral } }),
        )
        .await,
        &["bookAppointment", "id"],
    );
    let kept = app
        .query(
            Who::Intake,
            BOOK,
            json!({ "input": { "clientId": client, "organisationId": dyzo, "startsAt": monday + Duration::days(7) } }),
        )
        .await;
    assert_ok(&kept);
    let day = monday.with_timezone(&Brussels).date_naive();
    let closed = app
        .query(
            Who::Dyzo,
            "mutation($org: ID!, $from: NaiveDate!, $to: NaiveDate!) {
                closeOfficeHours(organisationId: $org, from: $from, to: $to, reason: \"Opleiding\") { id } }",
            json!({ "org": dyzo, "from": day, "to": day }),
        )
        .await;
    let closure = id_at(&closed, &["closeOfficeHours", "id"]);

    // Case notes: one shared with the client, one not; one on the duplicate, shared.
    let shared = json!({ "input": { "clientId": client, "helpRequestId": help_request,
                                    "body": "Samen het budget overlopen.", "sharedWithClient": true } });
    assert_ok(&app.query(Who::CaseWorker, NOTE, shared).await);
    let unshared_note = id_at(
        &app.query(
            Who::CaseWorker,
            NOTE,
            json!({ "input": { "clientId": client, "body": "Interne inschatting.", "sharedWithClient": false } }),
        )
        .await,
        &["addCaseNote", "id"],
    );
    let on_duplicate = json!({ "input": { "clientId": duplicate, "helpRequestId": duplicates_request,
                                          "body": "Eerste gesprek.", "sharedWithClient": true } });
    assert_ok(&app.query(Who::CaseWorker, NOTE, on_duplicate).await);
    // Staff read the duplicate before it was found to be one: in the kept client's log later.
    assert_ok(
        &app.query(
            Who::Admin,
            "query($id: ID!) { client(id: $id) { givenName phone } }",
            json!({ "id": duplicate }),
        )
        .await,
    );
    let merged = app
        .query(
            Who::Admin,
            "mutation($keep: ID!, $merge: ID!) { mergeClients(keepId: $keep, mergeId: $merge) { id } }",
            json!({ "keep": client, "merge": duplicate }),
        )
        .await;
    assert_ok(&merged);

    // The client reads their own file.
    let read = app
        .query_as_client(
            Transport::Http,
            client,
            "{ me { client { givenName caseNotes { body } helpRequests { summary } } } }",
            json!({}),
        )
        .await;
    assert_ok(&read);
    Trajectory { client, duplicate, unshared_note, cancelled_appointment, closure }
}

/// The values at `path` in the document: `section.field`, `[]` stepping into each element.
fn values_at(document: &Value, path: &str) -> HashSet<String> {
    let mut current = vec![document];
    for step in path.split('.') {
        let (key, each) = match step.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (step, false),
        };
        let mut next = Vec::new();
        for value in current {
            let inner = &value[key];
            if each {
                next.extend(inner.as_array().into_iter().flatten());
            } else {
                next.push(inner);
            }
        }
        current = next;
    }
    current.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()
}

/// The `column` of the rows of `table` meeting `condition`, as the document writes them.
async fn column_values(app: &TestApp, table: &str, column: &str, condition: &str) -> HashSet<String> {
    let backend = app.db.conn.get_database_backend();
    let sql = format!("SELECT {table}.{column} AS v FROM {table} WHERE {condition}");
    let rows = app.db.conn.query_all_raw(Statement::from_string(backend, sql.clone())).await.expect(&sql);
    rows.iter().map(|row| row.try_get::<Uuid>("", "v").expect(&sql).to_string()).collect()
}

/// A demo client with a national register number and the most referrals.
async fn referred_demo_client(app: &TestApp) -> entities::client::Model {
    let mut referrals: BTreeMap<Uuid, usize> = BTreeMap::new();
    for row in entities::referral::Entity::find().all(&app.db.conn).await.unwrap() {
        *referrals.entry(row.client_id).or_default() += 1;
    }
    let clients = entities::client::Entity::find().all(&app.db.conn).await.unwrap();
    clients
        .into_iter()
        .filter(|c| c.national_register_number.is_some() && c.erased_at.is_none())
        .max_by_key(|c| (referrals.get(&c.id).copied().unwrap_or(0), c.id))
        .expect("the demo has clients")
}

async fn export_over_http(
    app: &TestApp,
    client: Uuid,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let response = app
        .http
        .get(format!("http://{}/me/export", app.addr))
        .bearer_auth(app.client_token(client))
        .send()
        .await
        .expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.json().await.expect("a JSON body"))
}

#[tokio::test]
async fn a_whole_trajectory_is_exported_and_nothing_of_anyone_else() {
    let app = TestApp::spawn().await;
    let t = trajectory(&app, 0).await;
    // Another client with a trajectory of their own, on a later Monday.
    let other = trajectory(&app, 2).await;
    // What the database holds, read before the export (which adds its own audit row).
    let catalogue = catalogue(&app.db.conn).await;
    let postgres = app.database.is_postgres();
    let mine = [t.client, t.duplicate];
    let mut held = Vec::new();
    for covered in COVERED {
        let belongs = catalogue.belongs(covered.table, &mine, postgres);
        let expected = column_values(&app, covered.table, covered.column, &belongs).await;
        let not_mine = format!("NOT COALESCE(({belongs}), FALSE)");
        let others = column_values(&app, covered.table, covered.column, &not_mine).await;
        held.push((covered, expected, others));
    }
    let (status, _, document) = export_over_http(&app, t.client).await;
    assert_eq!(status, 200, "{document}");

    let mut problems = Vec::new();
    for (covered, mut expected, others) in held {
        let found = values_at(&document, covered.found_at);
        if covered.table == "case_notes" {
            assert!(expected.remove(&t.unshared_note.to_string()), "the unshared note is the client's");
            assert!(!found.contains(&t.unshared_note.to_string()), "the unshared note is not exported");
        }
        assert!(!expected.is_empty(), "{}: the trajectory has rows here", covered.table);
        for missing in expected.difference(&found) {
            problems.push(format!(
                "{}: {missing} is the client's but not at {}",
                covered.table, covered.found_at
            ));
        }
        for (leaked, _) in others.iter().filter(|v| found.contains(*v)).zip(0..5) {
            problems
                .push(format!("{}: {leaked} is someone else's but at {}", covered.table, covered.found_at));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The other trajectory's ids appear nowhere in the document.
    let text = document.to_string();
    for id in [other.client, other.duplicate, other.unshared_note, other.cancelled_appointment] {
        assert!(!text.contains(&id.to_string()), "{id} of another client is in the document");
    }
    assert!(!text.contains("Interne inschatting"), "the unshared note's body is not exported");

    // What the client's file reads like.
    let client = &document["client"];
    assert_eq!(client["id"], t.client.to_string());
    assert_eq!(client["nationalRegisterNumber"], national_number("790314", 100));
    assert_eq!(client["address"]["municipality"], "Waregem");
    let requests = document["helpRequests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "their own and the duplicate's: {requests:?}");
    assert!(requests.iter().any(|r| r["lifeDomains"] == json!(["HOUSING", "FINANCES"])
        || r["lifeDomains"] == json!(["FINANCES", "HOUSING"])));
    let givers: BTreeSet<(String, String)> = document["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (c["givenBy"].as_str().unwrap().to_owned(), c["revokedBy"].as_str().unwrap_or("-").to_owned())
        })
        .collect();
    assert!(givers.contains(&("STAFF".into(), "-".into())), "{givers:?}");
    assert!(givers.contains(&("CLIENT".into(), "CLIENT".into())), "{givers:?}");
    let referral = &document["referrals"][0];
    let events = referral["events"].as_array().unwrap();
    let steps: Vec<&str> = events.iter().map(|e| e["toStatus"].as_str().unwrap()).collect();
    assert_eq!(steps, ["REQUESTED", "RECEIVED", "ACCEPTED"]);
    assert_eq!(events[2]["noteForClient"], "We bellen je deze week.");
    assert_eq!(document["referralNotices"][0]["kind"], "APPOINTMENT_CANCELLED");
    let notice = document["referralNotices"][0]["noteForClient"].as_str().unwrap();
    assert!(notice.contains("Opleiding"), "the closure's reason: {notice}");
    let appointments = document["appointments"].as_array().unwrap();
    assert_eq!(appointments.len(), 2);
    let cancelled = appointments.iter().find(|a| a["id"] == t.cancelled_appointment.to_string()).unwrap();
    assert_eq!(cancelled["cancelledBy"]["id"], t.closure.to_string(), "the closure that cancelled it");
    assert!(appointments.iter().any(|a| a["cancelledBy"].is_null() && a["cancelledAt"].is_null()));
    let notes: Vec<&str> =
        document["caseNotes"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap()).collect();
    assert_eq!(notes.len(), 2, "the shared note and the duplicate's: {notes:?}");
    let actions: Vec<&str> =
        document["accessLog"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"MERGE") && actions.contains(&"READ"), "{actions:?}");
    assert!(
        document["accessLog"].as_array().unwrap().iter().any(|e| e["clientId"] == t.duplicate.to_string()),
        "the reads of the duplicate are in the kept client's log"
    );
    // Stable order: oldest first, in every list.
    let times: Vec<&str> =
        document["accessLog"].as_array().unwrap().iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by_key(|t| DateTime::parse_from_rfc3339(t).unwrap());
    assert_eq!(times, sorted);

    // Every key is a field the client's own schema shows.
    let strange = keys_outside_the_client_schema(&document);
    assert!(strange.is_empty(), "{}", strange.join("\n"));
}

#[tokio::test]
async fn a_key_the_clients_schema_does_not_show_fails_the_check() {
    // The check itself: staff-only fields are caught wherever they hide.
    let leaks = [
        json!({ "referrals": [{ "id": "x", "outcomeNote": "intern" }] }),
        json!({ "referrals": [{ "events": [{ "note": "intern" }] }] }),
        json!({ "consents": [{ "recordedByUserId": "x" }] }),
        json!({ "caseNotes": [{ "authorId": "x" }] }),
        json!({ "accessLog": [{ "userId": "x" }] }),
        json!({ "helpRequests": [{ "outcome": "x" }] }),
        json!({ "appointments": [{ "organisation": { "id": "x", "users": [] } }] }),
        json!({ "somethingElse": [] }),
    ];
    for leak in leaks {
        assert_eq!(keys_outside_the_client_schema(&leak).len(), 1, "{leak}");
    }
    assert!(
        keys_outside_the_client_schema(&json!({ "exportedAt": "x", "client": { "id": "x" } })).is_empty()
    );
}

#[tokio::test]
async fn an_export_costs_the_same_statements_for_a_small_file_and_a_large_one() {
    let app = TestApp::spawn().await;
    let t = trajectory(&app, 0).await;
    let small = id_at(
        &app.query(Who::Intake, REGISTER, json!({ "input": { "givenName": "Jan", "familyName": "Leeg" } }))
            .await,
        &["registerClient", "id"],
    );
    let mut counts = Vec::new();
    for client in [small, t.client, referred_demo_client(&app).await.id] {
        let before = app.db.statements();
        let document = resolvers::export::document(&app.db.conn, client).await.expect("an export");
        counts.push(app.db.statements() - before);
        assert_eq!(document.client.id, client);
    }
    assert!(counts.iter().all(|c| *c == counts[0]), "{counts:?}");
    assert!(counts[0] <= 16, "{counts:?}");
}

// ---------------------------------------------------------------------------------------------
// The doors.

#[tokio::test]
async fn only_the_client_themself_downloads_their_export() {
    let app = TestApp::spawn().await;
    let client = referred_demo_client(&app).await;
    let (status, headers, document) = export_over_http(&app, client.id).await;
    assert_eq!(status, 200, "{document}");
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["cache-control"], "no-store");
    let day = document["exportedAt"].as_str().unwrap()[..10].to_owned();
    assert_eq!(
        headers["content-disposition"].to_str().unwrap(),
        format!("attachment; filename=\"welzijnshuis-export-{day}.json\"")
    );
    assert_eq!(document["client"]["id"], client.id.to_string());
    assert!(!document["referrals"].as_array().unwrap().is_empty());
    let strange = keys_outside_the_client_schema(&document);
    assert!(strange.is_empty(), "{}", strange.join("\n"));

    // HEAD would export only to drop the body (and leave a row in the log for nothing): refused.
    let head = app
        .http
        .head(format!("http://{}/me/export", app.addr))
        .header("Authorization", format!("Bearer {}", app.client_token(client.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 405);

    // The export is on record, in the client's own access log.
    let log = app
        .query_as_client(
            Transport::Http,
            client.id,
            "{ myAccessLog(first: 100) { nodes { action subjectType subjectId role categories } } }",
            json!({}),
        )
        .await;
    assert_ok(&log);
    let exports: Vec<&Value> = log["data"]["myAccessLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "EXPORT")
        .collect();
    assert_eq!(exports.len(), 1, "{log}");
    assert_eq!(exports[0]["subjectType"], "Client");
    assert_eq!(exports[0]["subjectId"], client.id.to_string());
    assert_eq!(exports[0]["role"], "CLIENT");
    assert_eq!(
        exports[0]["categories"],
        json!(["CASE_NOTES", "CONTACT", "IDENTITY", "NATIONAL_NUMBER", "SITUATION"])
    );

    let refused = |status: u16, code: &'static str| (status, code);
    let bad = format!("Bearer {}", "x".repeat(40));
    let partner = format!("Bearer {}", app.token(Who::Caw).await.unwrap());
    let admin = format!("Bearer {}", app.token(Who::Admin).await.unwrap());
    let intake = format!("Bearer {}", app.token(Who::Intake).await.unwrap());
    let cases: [(&str, Option<&str>, (u16, &str)); 5] = [
        ("public", None, refused(401, "UNAUTHENTICATED")),
        ("a bad token", Some(&bad), refused(401, "UNAUTHENTICATED")),
        ("a partner", Some(&partner), refused(403, "FORBIDDEN")),
        ("an administrator", Some(&admin), refused(403, "FORBIDDEN")),
        ("the desk", Some(&intake), refused(403, "FORBIDDEN")),
    ];
    for (who, authorization, (status, code)) in cases {
        let mut request = app.http.get(format!("http://{}/me/export", app.addr));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.expect("the server answers");
        assert_eq!(response.status().as_u16(), status, "{who}");
        assert!(response.headers().get("content-disposition").is_none(), "{who}");
        let body: Value = response.json().await.expect("a JSON error body");
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{who}: {body}");
        assert!(body.get("client").is_none(), "{who}");
    }
}

async fn run_export_command(app: &TestApp, id: &str) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"))
        .args(["client", "export", id])
        .env("DATABASE_URL", &app.database.url)
        .env("WELZIJNSHUIS_JWT_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("the binary runs")
}

#[tokio::test]
async fn the_command_prints_what_the_client_downloads_and_is_on_record() {
    let app = TestApp::spawn().await;
    let t = trajectory(&app, 0).await;
    let (status, _, mut downloaded) = export_over_http(&app, t.client).await;
    assert_eq!(status, 200);
    let output = run_export_command(&app, &t.client.to_string()).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut printed: Value = serde_json::from_slice(&output.stdout).expect("the command prints JSON");

    // The same document, but for the moment it was made and the download's own record.
    downloaded.as_object_mut().unwrap().remove("exportedAt");
    printed.as_object_mut().unwrap().remove("exportedAt");
    let mut log = printed["accessLog"].as_array().unwrap().clone();
    let download = log.pop().expect("the download is on record");
    assert_eq!(download["action"], "EXPORT");
    assert_eq!(download["role"], "CLIENT");
    printed["accessLog"] = Value::Array(log);
    assert_eq!(printed, downloaded);

    // The command's export is on record too, as a command on the server.
    let (_, _, again) = export_over_http(&app, t.client).await;
    let command = again["accessLog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "EXPORT" && e["role"] != "CLIENT")
        .expect("the command's export in the client's log")
        .clone();
    assert_eq!(command["action"], "EXPORT");
    assert_eq!(command["clientId"], t.client.to_string());
    assert_eq!(command["categories"].as_array().unwrap().len(), 5);

    // An unknown, a merged-away or an erased client: a clear error and exit code 1.
    let erased = referred_demo_client(&app).await;
    let mut row: entities::client::ActiveModel = erased.clone().into();
    row.erased_at = sea_orm::Set(Some(Utc::now()));
    sea_orm::ActiveModelTrait::update(row, &app.db.conn).await.expect("marking a client erased");
    let (status, _, body) = export_over_http(&app, erased.id).await;
    assert_eq!(status, 401, "an erased client signs in no more: {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    for (what, id) in [
        ("unknown", Uuid::now_v7().to_string()),
        ("merged away", t.duplicate.to_string()),
        ("erased", erased.id.to_string()),
    ] {
        let output = run_export_command(&app, &id).await;
        assert_eq!(output.status.code(), Some(1), "{what}");
        assert!(output.stdout.is_empty(), "{what}: nothing on stdout");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains(&format!("no client with id {id}")), "{what}: {said}");
    }
    let output = run_export_command(&app, "not-an-id").await;
    assert!(!output.status.success());
}

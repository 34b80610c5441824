//! Every limit refuses cleanly: `QUERY_TOO_COMPLEX` or `RATE_LIMITED`, the right HTTP status,
//! never a 500, and nothing executed.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, codes};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// POSTs `body` as JSON, accepting graphql-response+json; returns status, headers and JSON body.
async fn post_raw(app: &TestApp, who: Who, body: String) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .header("Content-Type", "application/json")
        .header("Accept", GRAPHQL_RESPONSE)
        .body(body);
    if let Some(token) = app.token(who).await {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.json().await.expect("a JSON body"))
}

async fn post_query(app: &TestApp, who: Who, query: &str) -> (u16, Value) {
    let (status, _, body) = post_raw(app, who, json!({ "query": query }).to_string()).await;
    (status, body)
}

fn assert_refused(status: u16, body: &Value, expected_status: u16, code: &str, what: &str) {
    assert_eq!(status, expected_status, "{what}: {body}");
    assert_eq!(codes(body), vec![code], "{what}: {body}");
    assert!(body.get("data").is_none_or(Value::is_null), "{what}: nothing ran: {body}");
}

#[tokio::test]
async fn document_limits_refuse_with_query_too_complex() {
    let app = TestApp::spawn_with(|config| {
        config.limits.max_aliases = 3;
        config.limits.max_root_fields = 3;
        config.limits.max_tokens = 60;
        config.limits.max_complexity = 500;
    })
    .await;
    let aliases = "{ a: me { role } b: me { role } c: me { role } d: me { role } }";
    let roots = "{ me { role } organisations { totalCount } services { totalCount } lifeDomains }";
    let roots_in_fragments =
        "query { ...A ...B } fragment A on Query { me { role } organisations { totalCount } }
        fragment B on Query { services { totalCount } lifeDomains }";
    let tokens = format!("{{ me {{ role {} }} }}", "__typename ".repeat(60));
    let complex =
        "{ organisations(first: 50) { edges { node { services(first: 50) { edges { node { id } } } } } } }";
    for (what, query) in [
        ("4 aliases", aliases.to_owned()),
        ("4 root fields", roots.to_owned()),
        ("4 root fields through fragments", roots_in_fragments.to_owned()),
        ("64 tokens", tokens),
        ("50 × 50 services", complex.to_owned()),
    ] {
        let (status, body) = post_query(&app, Who::Admin, &query).await;
        assert_refused(status, &body, 400, "QUERY_TOO_COMPLEX", what);
    }
    // Within every limit, the same shapes run.
    for query in [
        "{ a: me { role } b: me { role } c: me { role } }",
        "{ me { role } organisations { totalCount } services { totalCount } }",
        "{ organisations(first: 5) { edges { node { services(first: 5) { edges { node { id } } } } } } }",
    ] {
        let (status, body) = post_query(&app, Who::Admin, query).await;
        assert_eq!((status, codes(&body)), (200, vec![]), "{query}: {body}");
    }
}

#[tokio::test]
async fn the_default_limits_let_the_partner_inbox_through_and_stop_nested_pages() {
    let app = TestApp::spawn().await;
    let (status, body) = post_query(&app, Who::Caw, crate::helpers::INBOX_QUERY).await;
    assert_eq!(status, 200, "{body}");
    // Fields without consent are FORBIDDEN one by one; nothing is refused as a whole.
    assert!(codes(&body).iter().all(|code| code == "FORBIDDEN"), "{body}");
    assert!(!body["data"]["referrals"]["edges"].as_array().unwrap().is_empty());
    let nested = "{ referrals(first: 100) { edges { node { client { referrals(first: 100) {
        edges { node { id events { id } } } } } } } } }";
    let (status, body) = post_query(&app, Who::Caw, nested).await;
    assert_refused(status, &body, 400, "QUERY_TOO_COMPLEX", "100 × 100 referrals");
    let (status, body) = post_query(&app, Who::Caw, "{ referrals(first: 101) { totalCount } }").await;
    assert_eq!(codes(&body), vec!["QUERY_TOO_COMPLEX"], "{status} {body}");
}

#[test]
fn tokens_are_counted_as_graphql_reads_them() {
    let tokens = |text: &str| (0..).find(|&n| schema::within_tokens(text, n)).unwrap();
    assert_eq!(tokens(""), 0);
    assert_eq!(tokens("{ me { id } }"), 6);
    assert_eq!(tokens("query Q($n: Int = -12.5e3) { a(n: $n) }"), 19);
    assert_eq!(tokens("{ ...F } # a comment { { {\n"), 4);
    assert_eq!(tokens(r#"{ a(s: "x \" { }", b: """ block " "" \""" still """) }"#), 11);
    assert_eq!(tokens("{ a(s: \"\") }"), 8);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_before_anything_is_read() {
    let app = TestApp::spawn_with(|config| config.limits.max_body_bytes = 1_000).await;
    let padding = " ".repeat(2_000);
    let (status, _, body) =
        post_raw(&app, Who::Public, json!({ "query": format!("{{ me {{ role }} {padding}}}") }).to_string())
            .await;
    assert_refused(status, &body, 413, "QUERY_TOO_COMPLEX", "2 kB body");
    let (status, _, body) =
        post_raw(&app, Who::Public, json!({ "query": "{ me { role } }" }).to_string()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_request_over_its_time_is_cut_off_and_nothing_is_half_written() {
    use entities::client;
    use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, TransactionTrait};
    let app = TestApp::spawn_with(|config| config.limits.request_timeout_ms = 300).await;
    let clients = client::Entity::find().count(&app.db.conn).await.unwrap();
    // Another session holds the tables, so the requests below wait for it past their time.
    let blocker = sea_orm::Database::connect(&app.database.url).await.unwrap();
    let lock = if app.database.is_postgres() {
        let txn = blocker.begin().await.unwrap();
        txn.execute_unprepared("LOCK TABLE clients, referrals IN ACCESS EXCLUSIVE MODE").await.unwrap();
        txn
    } else {
        // SQLite: one writer at a time; readers are never blocked, so only the write waits.
        let options = sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        blocker.begin_with_options(options).await.unwrap()
    };
    let register = r#"mutation { registerClient(input: { givenName: "Tijd", familyName: "Slot",
        nationalRegisterNumber: "85073003328", dateOfBirth: "1985-07-30" }) { id } }"#;
    let mut stuck = vec![(Who::Intake, register)];
    if app.database.is_postgres() {
        stuck.push((Who::Admin, "{ dashboard { referralsByStatus { status count } } }"));
    }
    for (who, query) in stuck {
        let started = std::time::Instant::now();
        let (status, body) = post_query(&app, who, query).await;
        assert_refused(status, &body, 503, "QUERY_TOO_COMPLEX", query);
        assert!(started.elapsed() < Duration::from_secs(3), "cut off at its time: {:?}", started.elapsed());
        // The same over the WebSocket: one gate, one timeout.
        let token = app.token(who).await;
        let response =
            crate::helpers::ws_query(&app.addr.to_string(), token.as_deref(), query, json!({})).await;
        assert_eq!(codes(&response), vec!["QUERY_TOO_COMPLEX"], "over the socket: {response}");
    }
    lock.rollback().await.unwrap();
    blocker.close().await.unwrap();
    // The cut-off mutation was rolled back, not half-applied; the service goes on.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(client::Entity::find().count(&app.db.conn).await.unwrap(), clients);
    let (status, body) = post_query(&app, Who::Intake, register).await;
    assert_eq!((status, codes(&body)), (200, vec![]), "{body}");
}

#[tokio::test]
async fn a_statement_over_the_statement_timeout_is_cancelled_by_postgres() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    if !app.database.is_postgres() {
        println!("SQLite has no statement timeout; the request timeout covers it there");
        return;
    }
    let db = welzijnshuis::db::Database::connect_with(&app.database.url, Duration::from_millis(50), 8)
        .await
        .unwrap();
    let err = db.conn.execute_unprepared("SELECT pg_sleep(2)").await.expect_err("cancelled");
    let api = resolvers::ApiError::from(err);
    assert_eq!(api.code(), resolvers::Code::QueryTooComplex, "{api:?}");
    assert!(db.ping().await, "the connection is still usable");
}

#[tokio::test]
async fn a_caller_over_the_rate_gets_429_with_retry_after_and_others_go_on() {
    let app = TestApp::spawn_with(|config| {
        config.limits.rate_limit = 1;
        config.limits.rate_burst = 3;
    })
    .await;
    let me = "{ me { role } }";
    for _ in 0..3 {
        assert_eq!(post_query(&app, Who::Caw, me).await.0, 200);
    }
    let (status, headers, body) = post_raw(&app, Who::Caw, json!({ "query": me }).to_string()).await;
    assert_refused(status, &body, 429, "RATE_LIMITED", "fourth request at once");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    // Another user, and the public (by address), have their own budget.
    assert_eq!(post_query(&app, Who::Pension, me).await.0, 200);
    assert_eq!(post_query(&app, Who::Public, me).await.0, 200);
    // After the wait, CAW is served again.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    assert_eq!(post_query(&app, Who::Caw, me).await.0, 200);
}

/// POSTs `query` as `who` and returns the status, the size of the body in bytes and the body.
async fn post_measured(app: &TestApp, who: Who, query: &str) -> (u16, usize, Value) {
    let mut request = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .header("Accept", GRAPHQL_RESPONSE)
        .json(&json!({ "query": query }));
    if let Some(token) = app.token(who).await {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("a body");
    (status, body.len(), serde_json::from_slice(&body).expect("a JSON body"))
}

#[tokio::test]
async fn a_public_document_of_aliased_office_hours_is_refused_before_it_answers_megabytes() {
    // Found from outside: twenty aliases of two months of office hours, each slot with its
    // organisation's services, passed the complexity limit (each list counted once) and answered
    // 20 MB. Every slot a window may return now counts.
    let app = TestApp::spawn().await;
    let from = chrono::Utc::now();
    let to = from + chrono::Duration::days(62);
    let alias = |i: usize| {
        format!(
            "a{i}: officeHours(from: \"{}\", to: \"{}\") {{ startsAt organisation {{ name description
                services(first: 20) {{ edges {{ node {{ name description url }} }} }} }} }}",
            from.to_rfc3339(),
            to.to_rfc3339()
        )
    };
    let query = format!("{{ {} }}", (0..20).map(alias).collect::<Vec<_>>().join("\n"));
    let (status, size, body) = post_measured(&app, Who::Public, &query).await;
    assert_refused(status, &body, 400, "QUERY_TOO_COMPLEX", "20 aliased officeHours");
    assert!(size < 2_000, "the refusal is small: {size} bytes");

    // One window with what a calendar shows runs, and answers little.
    let one = format!(
        "{{ officeHours(from: \"{}\", to: \"{}\") {{ startsAt endsAt free organisation {{ name }} }} }}",
        from.to_rfc3339(),
        to.to_rfc3339()
    );
    let (status, size, body) = post_measured(&app, Who::Public, &one).await;
    assert_eq!((status, codes(&body)), (200, vec![]), "{body}");
    assert!(!body["data"]["officeHours"].as_array().unwrap().is_empty());
    assert!(size < 200_000, "two months of office hours: {size} bytes");
}

#[tokio::test]
async fn lists_without_first_return_at_most_their_cap_and_cost_it() {
    use entities::{location, schedule, service, service_at_location};
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
    use uuid::Uuid;
    let app = TestApp::spawn().await;
    // A service whose entry has grown (an import, say): 40 locations, 50 weekly hours.
    let service = service::Entity::find().one(&app.db.conn).await.unwrap().unwrap();
    for i in 0..40 {
        let place = location::Model {
            id: Uuid::new_v4(),
            organisation_id: Some(service.organisation_id),
            name: Some(format!("Antenne {i}")),
            street: Some(format!("Kerkstraat {i}")),
            postcode: "8790".into(),
            municipality: "Waregem".into(),
            latitude: None,
            longitude: None,
            confidential: false,
            hsds_id: None,
            imported_from: None,
        };
        place.clone().into_active_model().insert(&app.db.conn).await.unwrap();
        let link =
            service_at_location::Model { id: Uuid::new_v4(), service_id: service.id, location_id: place.id };
        link.into_active_model().insert(&app.db.conn).await.unwrap();
    }
    for i in 0..50 {
        let hours = schedule::Model {
            id: Uuid::new_v4(),
            service_id: service.id,
            location_id: None,
            weekday: i % 7 + 1,
            opens_minute: 8 * 60 + i,
            closes_minute: 9 * 60 + i,
            valid_from: None,
            valid_to: None,
            description: None,
        };
        hours.into_active_model().insert(&app.db.conn).await.unwrap();
    }
    let one = "query($id: ID!) { service(id: $id) { locations { id } openingHours { weekday opens } } }";
    let response = app.query(Who::Public, one, json!({ "id": service.id.to_string() })).await;
    assert_eq!(codes(&response), Vec::<String>::new(), "{response}");
    let locations = response["data"]["service"]["locations"].as_array().unwrap().len();
    let hours = response["data"]["service"]["openingHours"].as_array().unwrap();
    assert_eq!(locations, resolvers::connection::caps::LOCATIONS_PER_SERVICE);
    assert_eq!(hours.len(), resolvers::connection::caps::OPENING_HOURS_PER_SERVICE);
    let days: Vec<i64> = hours.iter().map(|h| h["weekday"].as_i64().unwrap()).collect();
    assert!(days.windows(2).all(|w| w[0] <= w[1]), "by weekday: {days:?}");

    // A page of services with all their places and hours counts each place and hour it may show.
    let heavy = "{ services(first: 100) { edges { node { name
        locations { id name confidential address { street postcode municipality } latitude longitude }
        openingHours { weekday opens closes locationId } } } } }";
    let (status, body) = post_query(&app, Who::Public, heavy).await;
    assert_refused(status, &body, 400, "QUERY_TOO_COMPLEX", "100 services with every place and hour");
    let light = heavy.replace("first: 100", "first: 10");
    let (status, body) = post_query(&app, Who::Public, &light).await;
    assert_eq!((status, codes(&body)), (200, vec![]), "{body}");
}

#[tokio::test]
async fn a_clients_help_requests_consents_and_notes_are_capped_to_the_most_recent() {
    use entities::{HelpRequestStatus, case_note, client, consent, help_request, organisation};
    use resolvers::connection::caps;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
    use uuid::Uuid;
    let app = TestApp::spawn().await;
    let client = client::Entity::find().one(&app.db.conn).await.unwrap().unwrap();
    let author = app.user(Who::CaseWorker).await.unwrap().id;
    let recipient = organisation::Entity::find().one(&app.db.conn).await.unwrap().unwrap().id;
    let long_ago = chrono::Utc::now() - chrono::Duration::days(3_000);
    let mut latest_request = None;
    for i in 0..30 {
        let request = help_request::Model {
            id: Uuid::new_v4(),
            client_id: client.id,
            summary: format!("Vraag {i}"),
            channel: "DESK".into(),
            status: HelpRequestStatus::Open,
            opened_by: Some(author),
            opened_at: long_ago + chrono::Duration::days(i),
            closed_at: None,
            outcome: None,
            closed_by: None,
        };
        request.clone().into_active_model().insert(&app.db.conn).await.unwrap();
        latest_request = Some(request);
    }
    let latest_request = latest_request.unwrap();
    for i in 0..60 {
        let id = Uuid::new_v4();
        let note = case_note::Model {
            id,
            client_id: client.id,
            help_request_id: Some(latest_request.id),
            thread_id: id,
            version: 1,
            author_id: author,
            body: format!("Notitie {i}"),
            shared_with_client: false,
            noted_at: long_ago + chrono::Duration::hours(i),
            created_at: long_ago + chrono::Duration::hours(i),
            superseded_at: None,
        };
        note.into_active_model().insert(&app.db.conn).await.unwrap();
    }
    for i in 0..30 {
        let given = consent::Model {
            id: Uuid::new_v4(),
            client_id: client.id,
            recipient_id: recipient,
            scope_identity: true,
            scope_contact: false,
            scope_national_number: false,
            scope_situation: false,
            purpose: format!("Doel {i}"),
            recorded_by: Some(author),
            given_at: long_ago + chrono::Duration::days(i),
            revoked_at: Some(long_ago + chrono::Duration::days(i) + chrono::Duration::hours(1)),
            revoked_by: Some(author),
            given_by_client: false,
            revoked_by_client: false,
        };
        given.into_active_model().insert(&app.db.conn).await.unwrap();
    }
    let query =
        "query($id: ID!) { client(id: $id) { helpRequests { id openedAt caseNotes { body createdAt } }
        consents { id givenAt } } }";
    let response = app.query(Who::CaseWorker, query, json!({ "id": client.id.to_string() })).await;
    assert_eq!(codes(&response), Vec::<String>::new(), "{response}");
    let found = &response["data"]["client"];
    let requests = found["helpRequests"].as_array().unwrap();
    let consents = found["consents"].as_array().unwrap();
    assert_eq!(requests.len(), caps::HELP_REQUESTS_PER_CLIENT);
    assert_eq!(consents.len(), caps::CONSENTS_PER_CLIENT);
    let times = |rows: &[Value], field: &str| -> Vec<String> {
        rows.iter().map(|r| r[field].as_str().unwrap().to_owned()).collect()
    };
    // The most recent, oldest first: the newest request is the last one shown.
    let opened = times(requests, "openedAt");
    assert!(opened.windows(2).all(|w| w[0] <= w[1]), "oldest first: {opened:?}");
    let mut all = help_request::Entity::find().all(&app.db.conn).await.unwrap();
    all.retain(|r| r.client_id == client.id);
    all.sort_by_key(|r| (r.opened_at, r.id));
    let newest: Vec<String> =
        all.iter().rev().take(caps::HELP_REQUESTS_PER_CLIENT).rev().map(|r| r.id.to_string()).collect();
    assert_eq!(times(requests, "id"), newest, "the most recent are kept");
    let last = requests.iter().find(|r| r["id"] == latest_request.id.to_string()).unwrap();
    let notes = last["caseNotes"].as_array().unwrap();
    assert_eq!(notes.len(), caps::CASE_NOTES_PER_HELP_REQUEST);
    assert_eq!(notes.last().unwrap()["body"], "Notitie 59", "the newest note is kept");
    let given = times(consents, "givenAt");
    assert!(given.windows(2).all(|w| w[0] <= w[1]), "oldest first: {given:?}");
    let mut all = consent::Entity::find().all(&app.db.conn).await.unwrap();
    all.retain(|c| c.client_id == client.id);
    all.sort_by_key(|c| (c.given_at, c.id));
    let newest: Vec<String> =
        all.iter().rev().take(caps::CONSENTS_PER_CLIENT).rev().map(|c| c.id.to_string()).collect();
    assert_eq!(times(consents, "id"), newest, "the most recent are kept");
}

#[test]
fn a_referral_gathers_no_more_events_than_its_list_counts() {
    use entities::ReferralStatus;
    use resolvers::lifecycle::side_for;
    /// The events a referral can gather from `status` on: its own and those of the longest way on.
    fn longest_from(status: ReferralStatus, depth: usize) -> usize {
        assert!(depth <= ReferralStatus::ALL.len(), "the closed loop has a cycle through {status}");
        let next = ReferralStatus::ALL.iter().filter(|to| side_for(status, **to).is_some());
        1 + next.map(|to| longest_from(*to, depth + 1)).max().unwrap_or(0)
    }
    // Creation is the first event, in REQUESTED; every change adds one.
    assert_eq!(longest_from(ReferralStatus::Requested, 0), resolvers::connection::caps::EVENTS_PER_REFERRAL);
}

/// The server has mimalloc commit its heap on demand (`main.rs`): committed in full at once,
/// mimalloc's default on Linux, the arena it reserves cost the server over a quarter of its peak
/// RSS under load (bench/RESULTS.md, session 11). Reserved on demand, the arena is mapped
/// inaccessible and opened piece by piece, so the process's memory map shows no writable
/// gigabyte; asked for the default back through the environment, it shows one, which is what
/// makes this check able to fail.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_server_commits_its_heap_on_demand() {
    use crate::helpers::ServerProcess;
    let app = TestApp::spawn().await;
    let on_demand = ServerProcess::start(&app.database.url, &[]).await;
    let eager = ServerProcess::start(&app.database.url, &[("MIMALLOC_ARENA_EAGER_COMMIT", "1")]).await;
    const GIB: u64 = 1 << 30;
    assert!(largest_writable_anonymous_mapping(&eager) >= GIB / 2, "the eager default is visible");
    assert!(
        largest_writable_anonymous_mapping(&on_demand) < GIB / 2,
        "the server maps its heap writable only where it uses it"
    );
}

/// The size of the largest private anonymous mapping a process can write to, from
/// `/proc/PID/maps` (`start-end perms offset dev inode [path]`).
#[cfg(target_os = "linux")]
fn largest_writable_anonymous_mapping(server: &crate::helpers::ServerProcess) -> u64 {
    let pid = server.child.id().expect("still running");
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("its memory map");
    maps.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let anonymous = fields.len() == 5 && fields[4] == "0";
            let (start, end) = fields[0].split_once('-')?;
            let size = u64::from_str_radix(end, 16).ok()? - u64::from_str_radix(start, 16).ok()?;
            (anonymous && fields[1].starts_with("rw")).then_some(size)
        })
        .max()
        .unwrap_or(0)
}

/// The server keeps the parses of the documents a caller sent (`schema/src/parsed.rs`), but
/// only the parse: every check after it runs again when the same caller sends the same text.
#[tokio::test]
async fn a_document_sent_again_is_checked_again() {
    let app = TestApp::spawn_with(|config| {
        config.limits.max_aliases = 3;
        config.introspection = welzijnshuis::config::Introspection::Off;
    })
    .await;
    let inbox = "{ referrals(first: 1) { totalCount } }";
    let aliases = "{ a: me { role } b: me { role } c: me { role } d: me { role } }";
    let introspect = "{ __schema { types { name } } }";
    let broken = "{ me { role }";
    let mutation = "mutation { registerClient(input: { givenName: \"x\", familyName: \"y\" }) { id } }";
    let token = app.token(Who::Intake).await.unwrap();
    for round in 1..=3 {
        let (status, body) = post_query(&app, Who::Caw, inbox).await;
        assert_eq!(status, 200, "round {round}: {body}");
        assert!(body["data"]["referrals"]["totalCount"].as_i64().is_some_and(|n| n > 0), "round {round}: {body}");
        let (_, body) = post_query(&app, Who::Public, inbox).await;
        assert!(!codes(&body).is_empty(), "round {round}: the public reads no referrals: {body}");
        assert!(body["data"].get("referrals").is_none_or(Value::is_null), "round {round}: {body}");
        let (status, body) = post_query(&app, Who::Caw, aliases).await;
        assert_refused(status, &body, 400, "QUERY_TOO_COMPLEX", &format!("4 aliases, round {round}"));
        let (status, body) = post_query(&app, Who::Admin, introspect).await;
        assert_eq!(status, 403, "round {round}: introspection is off: {body}");
        let (status, body) = post_query(&app, Who::Caw, broken).await;
        assert_eq!(status, 400, "round {round}: {body}");
        assert!(!codes(&body).is_empty() && body.get("data").is_none_or(Value::is_null), "round {round}: {body}");
        let over_get = app.http.get(format!("http://{}/graphql", app.addr)).bearer_auth(&token).query(&[("query", mutation)]);
        let status = over_get.send().await.expect("the server answers").status().as_u16();
        assert_eq!(status, 405, "round {round}: a mutation over GET");
        // The same mutation as a POST is not refused for having been sent over GET before.
        let (status, body) = post_query(&app, Who::Intake, mutation).await;
        assert_eq!(status, 200, "round {round}: {body}");
        assert!(body["data"]["registerClient"]["id"].is_string(), "round {round}: {body}");
    }
}

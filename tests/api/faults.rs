//! Faults survived: the database going away and coming back, SIGTERM with work in flight,
//! `kill -9` under a write load, and many writers at once on SQLite.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::helpers::{ServerProcess, TestApp, Who, codes, post_to as post, test_config};
use crate::subscriptions::{Socket, consented_client, subscribe};

/// A TCP proxy in front of PostgreSQL that can be cut (every connection dropped, new ones
/// closed at once, as a stopped server does) and restored.
struct Proxy {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
    connections: Arc<Mutex<JoinSet<()>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let down = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let (is_down, tasks) = (down.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if is_down.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes at once
                }
                tasks.lock().await.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Proxy { addr, down, connections, accept }
    }

    async fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn ready(http: &reqwest::Client, addr: &str) -> u16 {
    http.get(format!("http://{addr}/readyz")).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

/// Polls until `check` holds, for at most `limit`; returns how long it took.
async fn within<F: Future<Output = bool>>(limit: Duration, mut check: impl FnMut() -> F) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

#[tokio::test]
async fn with_postgres_gone_requests_fail_fast_and_the_service_recovers_by_itself() {
    let app = TestApp::spawn().await;
    if !app.database.is_postgres() {
        println!("SQLite is a file inside the process: there is no server to lose");
        return;
    }
    // The service under test reaches PostgreSQL through the proxy.
    let url: url_parts::Url = app.database.url.parse().unwrap();
    let proxy = Proxy::start(url.socket_addr()).await;
    let through_proxy = url.with_addr(proxy.addr);
    let config = test_config(&through_proxy);
    let db = welzijnshuis::db::Database::connect(&through_proxy).await.unwrap();
    let service = welzijnshuis::startup::Application::with_database(&config, db).await.unwrap();
    let addr = service.local_addr().to_string();
    let server = tokio::spawn(service.run_until(std::future::pending()));
    let http = reqwest::Client::new();
    let token = app.token(Who::Caw).await;
    let inbox = crate::helpers::INBOX_QUERY;
    assert_eq!(ready(&http, &addr).await, 200);
    assert_eq!(post(&http, &addr, token.as_deref(), inbox, json!({})).await.0, 200);

    proxy.cut().await;
    let took = within(Duration::from_secs(10), || async { ready(&http, &addr).await == 503 }).await;
    assert!(took.is_some(), "/readyz says 503 once the database is gone");
    // A partner (whose token is checked against the users table) and the public alike.
    for (who_token, query) in [(token.as_deref(), inbox), (None, "{ services(first: 5) { totalCount } }")] {
        let started = Instant::now();
        let (status, body) = post(&http, &addr, who_token, query, json!({})).await;
        let elapsed = started.elapsed();
        // Refused before execution (the token's user could not be read): 503. Failed inside
        // execution: the spec's 200 with the field null and the error at its path.
        match who_token {
            Some(_) => assert_eq!(status, 503, "{body}"),
            None => assert_eq!((status, &body["data"]["services"]), (200, &Value::Null), "{body}"),
        }
        assert_eq!(codes(&body), vec!["INTERNAL"], "{body}");
        let error = &body["errors"][0];
        assert!(error["message"].as_str().unwrap().contains("database is unavailable"), "{body}");
        assert!(error["extensions"]["requestId"].is_string(), "{body}");
        assert!(elapsed < Duration::from_secs(4), "failed fast: {elapsed:?}");
    }

    proxy.restore();
    let back = within(Duration::from_secs(20), || async {
        ready(&http, &addr).await == 200
            && post(&http, &addr, token.as_deref(), inbox, json!({})).await.0 == 200
    })
    .await;
    println!("recovered {back:?} after the database came back");
    assert!(back.is_some(), "the service recovers by itself");
    server.abort();
}

#[tokio::test]
async fn connections_postgres_ended_while_idle_are_replaced_before_a_request_gets_one() {
    use sea_orm::{ConnectionTrait, Statement};
    let app = TestApp::spawn().await;
    if !app.database.is_postgres() {
        println!("SQLite's connections are files inside the process: nothing can end them");
        return;
    }
    let http = reqwest::Client::new();
    let addr = app.addr.to_string();
    let token = app.token(Who::Caw).await;
    let inbox = crate::helpers::INBOX_QUERY;
    let requests = [(token.as_deref(), inbox), (None, "{ services(first: 5) { totalCount } }")];
    let mut before = Vec::new();
    for (who, query) in requests {
        let (status, body) = post(&http, &addr, who, query, json!({})).await;
        assert_eq!(status, 200, "{body}");
        before.push(body);
    }
    // PostgreSQL ends every other session on the test database, as an administrator or a
    // restart would: the server's pooled connections are dead while they lie idle.
    let admin = sea_orm::Database::connect(&app.database.url).await.unwrap();
    let end = "SELECT count(pg_terminate_backend(pid)) AS ended FROM pg_stat_activity \
               WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let row = admin.query_one_raw(Statement::from_string(admin.get_database_backend(), end)).await;
    let ended: i64 = row.unwrap().unwrap().try_get("", "ended").unwrap();
    assert!(ended >= 1, "the server had connections open: {ended}");
    admin.close().await.unwrap();
    // Past the idle time after which a pooled connection is tested (db::PING_IF_IDLE_FOR), no
    // request is handed a dead one: each is tested, found dead and replaced.
    tokio::time::sleep(Duration::from_millis(700)).await;
    // The same answers as before, the consent's refusals in the inbox included.
    for ((who, query), before) in requests.into_iter().zip(&before) {
        for _ in 0..3 {
            let (status, body) = post(&http, &addr, who, query, json!({})).await;
            assert_eq!((status, &body), (200, before), "{}", codes(&body).join(", "));
        }
    }
}

#[tokio::test]
async fn a_connection_goes_back_to_the_pool_only_once_the_work_dropped_on_it_is_done() {
    use sea_orm::{ConnectOptions, ConnectionTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let app = TestApp::spawn().await;
    let postgres = app.database.is_postgres();
    // The server's pool settings, with one connection, so the next transaction gets the same one.
    let mut options = ConnectOptions::new(app.database.url.clone());
    welzijnshuis::db::pool_session(&mut options).sqlx_logging(false).max_connections(1).min_connections(1);
    let db = sea_orm::Database::connect(options).await.unwrap();
    db.execute_unprepared("CREATE TABLE pool_probe (x INTEGER)").await.unwrap();
    let immediate = || TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let slow = if postgres {
        "SELECT pg_sleep(1)"
    } else {
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000) SELECT count(*) FROM c"
    };
    // A write whose next statement is cut off by its time, and the transaction dropped, as a
    // request past its time leaves them. The database goes on with the statement a while.
    let txn = db.begin_with_options(immediate()).await.unwrap();
    txn.execute_unprepared("INSERT INTO pool_probe VALUES (1)").await.unwrap();
    let cut = tokio::time::timeout(Duration::from_millis(20), txn.execute_unprepared(slow)).await;
    assert!(cut.is_err(), "the statement outlasts its time");
    drop(txn);
    // The next transaction on that connection is one of its own: the dropped one was rolled
    // back, and on SQLite the new one holds the write lock from its start (IMMEDIATE), not
    // mistaken for one nested in the old one.
    let txn = db.begin_with_options(immediate()).await.unwrap();
    let count = "SELECT count(*) AS n FROM pool_probe";
    let row = txn.query_one_raw(sea_orm::Statement::from_string(txn.get_database_backend(), count)).await;
    assert_eq!(row.unwrap().unwrap().try_get::<i64>("", "n").unwrap(), 0, "the dropped write was rolled back");
    if !postgres {
        let mut other = ConnectOptions::new(app.database.url.clone());
        other.max_connections(1).map_sqlx_sqlite_opts(|o| o.busy_timeout(Duration::ZERO));
        let other = sea_orm::Database::connect(other).await.unwrap();
        let err = other.execute_unprepared("BEGIN IMMEDIATE").await.expect_err("the write lock is held");
        assert!(err.to_string().contains("locked"), "{err}");
        other.close().await.unwrap();
    }
    txn.rollback().await.unwrap();
    db.execute_unprepared("DROP TABLE pool_probe").await.unwrap();
    db.close().await.unwrap();
}

/// Just enough of a database URL to point it elsewhere.
mod url_parts {
    use std::net::{SocketAddr, ToSocketAddrs};

    pub struct Url {
        before: String,
        host_port: String,
        after: String,
    }

    impl std::str::FromStr for Url {
        type Err = std::convert::Infallible;
        fn from_str(url: &str) -> Result<Self, Self::Err> {
            let start = url.find('@').map(|at| at + 1).unwrap_or(url.find("://").unwrap() + 3);
            let end = url[start..].find('/').map(|slash| start + slash).unwrap_or(url.len());
            Ok(Url {
                before: url[..start].into(),
                host_port: url[start..end].into(),
                after: url[end..].into(),
            })
        }
    }

    impl Url {
        pub fn socket_addr(&self) -> SocketAddr {
            let host_port = if self.host_port.contains(':') {
                self.host_port.clone()
            } else {
                format!("{}:5432", self.host_port)
            };
            host_port.to_socket_addrs().unwrap().next().unwrap()
        }

        pub fn with_addr(&self, addr: SocketAddr) -> String {
            format!("{}{addr}{}", self.before, self.after)
        }
    }
}

/// Holds the database's write lock (SQLite) or the clients table (PostgreSQL) from another
/// session, so that a mutation started now stays in flight until [`Held::release`].
struct Held {
    txn: sea_orm::DatabaseTransaction,
    conn: sea_orm::DatabaseConnection,
}

impl Held {
    async fn hold(url: &str, postgres: bool) -> Held {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let conn = sea_orm::Database::connect(url).await.unwrap();
        let options = sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = conn.begin_with_options(options).await.unwrap();
        if postgres {
            txn.execute_unprepared("LOCK TABLE clients IN ACCESS EXCLUSIVE MODE").await.unwrap();
        }
        Held { txn, conn }
    }

    async fn release(self) {
        self.txn.rollback().await.unwrap();
        self.conn.close().await.unwrap();
    }
}

#[tokio::test]
async fn sigterm_finishes_what_is_in_flight_closes_subscriptions_and_exits_0() {
    let app = TestApp::spawn().await;
    let server = ServerProcess::start(&app.database.url, &[("WELZIJNSHUIS_SHUTDOWN_GRACE_SECS", "10")]).await;
    let addr = server.addr.clone();
    let mut socket: Socket = subscribe(&addr, app.token(Who::Caw).await.as_deref(), "events").await;
    // A mutation that cannot finish until the lock is released.
    let held = Held::hold(&app.database.url, app.database.is_postgres()).await;
    let token = app.token(Who::Intake).await.unwrap();
    let register =
        r#"mutation { registerClient(input: { givenName: "Laat", familyName: "Maar" }) { id givenName } }"#;
    let in_flight = {
        let (addr, token) = (addr.clone(), token.clone());
        tokio::spawn(
            async move { post(&reqwest::Client::new(), &addr, Some(&token), register, json!({})).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal("TERM");

    // Subscriptions are closed with 1001 "going away".
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        use futures_util::StreamExt;
        while let Some(Ok(message)) = socket.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(frame) = message {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    })
    .await;
    assert_eq!(closed.ok().flatten(), Some(1001), "the subscription was closed cleanly");
    // New connections are no longer accepted.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = post(&reqwest::Client::new(), &addr, None, "{ me { role } }", json!({})).await;
    assert_eq!(status, 0, "no new requests once shutting down");

    // The request in flight still finishes, and is answered.
    tokio::time::sleep(Duration::from_millis(500)).await;
    held.release().await;
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["registerClient"]["givenName"], "Laat", "{body}");
    let mut server = server;
    let exit =
        tokio::time::timeout(Duration::from_secs(10), server.child.wait()).await.expect("it exits").unwrap();
    assert_eq!(exit.code(), Some(0), "exit status 0");
}

#[tokio::test]
async fn kill_9_under_a_write_load_loses_nothing_acknowledged_and_leaves_nothing_half_written() {
    use entities::{referral, referral_event};
    use sea_orm::{EntityTrait, QueryOrder};
    let app = TestApp::spawn().await;
    let server = ServerProcess::start(&app.database.url, &[("WELZIJNSHUIS_RATE_LIMIT", "0")]).await;
    let addr = server.addr.clone();
    let (client, _) = consented_client(&app, Who::Dyzo).await;
    let dyzo = app.user(Who::Dyzo).await.unwrap().organisation_id.to_string();
    let (intake, partner) = (app.token(Who::Intake).await.unwrap(), app.token(Who::Dyzo).await.unwrap());
    // Acknowledged writes: (referral id, version the server answered with).
    let acknowledged = Arc::new(Mutex::new(Vec::<(String, i64)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = JoinSet::new();
    for _ in 0..6 {
        let (addr, client, dyzo, intake, partner) =
            (addr.clone(), client.clone(), dyzo.clone(), intake.clone(), partner.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        writers.spawn(async move {
            let http = reqwest::Client::new();
            let create = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id version } }";
            let change = "mutation($id: ID!, $v: Int!) { changeReferralStatus(id: $id, status: RECEIVED, expectedVersion: $v) { id version } }";
            while !stop.load(Ordering::SeqCst) {
                let input = json!({ "input": { "clientId": client, "recipientId": dyzo, "lifeDomain": "WORK", "reason": "Load" } });
                let (status, body) = post(&http, &addr, Some(&intake), create, input).await;
                let Some(id) = body["data"]["createReferral"]["id"].as_str().filter(|_| status == 200) else { continue };
                acknowledged.lock().await.push((id.to_owned(), 1));
                let (status, body) = post(&http, &addr, Some(&partner), change, json!({ "id": id, "v": 1 })).await;
                if let Some(version) = body["data"]["changeReferralStatus"]["version"].as_i64().filter(|_| status == 200) {
                    acknowledged.lock().await.push((id.to_owned(), version));
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("KILL");
    stop.store(true, Ordering::SeqCst);
    while writers.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().await.clone();
    assert!(acknowledged.len() >= 10, "the load wrote something: {}", acknowledged.len());

    // Read the database as a restarted service finds it.
    let db = welzijnshuis::db::Database::connect(&app.database.url).await.unwrap();
    for (id, version) in &acknowledged {
        let row =
            referral::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap()).one(&db.conn).await.unwrap();
        let row = row.unwrap_or_else(|| panic!("acknowledged referral {id} is gone"));
        assert!(i64::from(row.version) >= *version, "{id}: acknowledged version {version} lost");
    }
    // Every referral (the demo's and the load's) has exactly its events: one per version, the
    // last one naming its status.
    let events = referral_event::Entity::find()
        .order_by_asc(referral_event::Column::At)
        .order_by_asc(referral_event::Column::Id)
        .all(&db.conn)
        .await
        .unwrap();
    for row in referral::Entity::find().all(&db.conn).await.unwrap() {
        let mine: Vec<_> = events.iter().filter(|e| e.referral_id == row.id).collect();
        assert_eq!(mine.len() as i32, row.version, "{}: events and version disagree", row.id);
        assert_eq!(mine.last().unwrap().to_status, row.status, "{}: last event and status disagree", row.id);
    }
    // And the service starts again on it.
    let again = ServerProcess::start(&app.database.url, &[]).await;
    let (status, _) =
        post(&reqwest::Client::new(), &again.addr, Some(&partner), crate::helpers::INBOX_QUERY, json!({}))
            .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn many_writers_at_once_all_get_an_answer_and_none_is_locked_out() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let (client, _) = consented_client(&app, Who::Woonclub).await;
    let woonclub = app.user(Who::Woonclub).await.unwrap().organisation_id.to_string();
    let token = app.token(Who::Intake).await.unwrap();
    let addr = app.addr.to_string();
    let mut writers = JoinSet::new();
    for n in 0..48 {
        let (addr, token, client, woonclub) = (addr.clone(), token.clone(), client.clone(), woonclub.clone());
        writers.spawn(async move {
            let http = reqwest::Client::new();
            if n % 2 == 0 {
                let create = "mutation($input: CreateReferralInput!) { createReferral(input: $input) { id } }";
                let input = json!({ "input": { "clientId": client, "recipientId": woonclub, "lifeDomain": "HOUSING", "reason": format!("Writer {n}") } });
                post(&http, &addr, Some(&token), create, input).await
            } else {
                let register = format!(r#"mutation {{ registerClient(input: {{ givenName: "Schrijver", familyName: "{n}" }}) {{ id }} }}"#);
                post(&http, &addr, Some(&token), &register, json!({})).await
            }
        });
    }
    let mut answered = 0;
    while let Some(result) = writers.join_next().await {
        let (status, body) = result.unwrap();
        assert_eq!((status, codes(&body)), (200, vec![]), "{body}");
        answered += 1;
    }
    assert_eq!(answered, 48);
}

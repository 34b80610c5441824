//! The test harness: a fresh database per test (a SQLite file, or a PostgreSQL database when
//! `WELZIJNSHUIS_TEST_DATABASE_URL=postgres://…`), migrated and loaded with the demo network,
//! and the real server on a free loopback port.

use std::net::SocketAddr;

use entities::user;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use welzijnshuis::auth::Tokens;
use welzijnshuis::config::Config;
use welzijnshuis::db::Database;
use welzijnshuis::startup::Application;

/// The partner inbox: 50 incoming referrals with their client (the fields consent may open),
/// sender, recipient and history. The benchmark runs the same query (`bench/inbox.graphql`).
pub const INBOX_QUERY: &str = include_str!("../../bench/inbox.graphql");

pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-keys";

/// The demo users, by what they are to the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Public,
    Admin,
    Intake,
    CaseWorker,
    Analyst,
    Caw,
    Pension,
    Dyzo,
    Woonclub,
    /// A citizen signed in as themself (role CLIENT): the demo client of [`TestApp::demo_client`].
    Client,
}

impl Who {
    pub const PARTNERS: [Who; 4] = [Who::Caw, Who::Pension, Who::Dyzo, Who::Woonclub];
    /// Everyone who can call: the public, the staff and partners, and a citizen as themself.
    pub const ALL: [Who; 10] = [
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

    pub fn email(self) -> Option<&'static str> {
        Some(match self {
            Who::Public | Who::Client => return None,
            Who::Admin => "admin@welzijnshuis.test",
            Who::Intake => "onthaal@welzijnshuis.test",
            Who::CaseWorker => "maatschappelijk.werker@welzijnshuis.test",
            Who::Analyst => "analist@welzijnshuis.test",
            Who::Caw => "medewerker@caw.test",
            Who::Pension => "medewerker@pensioendienst.test",
            Who::Dyzo => "medewerker@dyzo.test",
            Who::Woonclub => "medewerker@woonclub.test",
        })
    }
}

/// A fresh database, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    SqliteFile(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let name = format!("wzh_test_{}", Uuid::new_v4().simple());
        match std::env::var("WELZIJNSHUIS_TEST_DATABASE_URL") {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let admin = sea_orm::Database::connect(&admin_url).await.expect("connecting to PostgreSQL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("creating the test database");
                admin.close().await.ok();
                let url = match admin_url.rfind('/') {
                    Some(slash) if slash > "postgres://".len() => {
                        format!("{}/{name}", &admin_url[..slash])
                    }
                    _ => format!("{admin_url}/{name}"),
                };
                TestDatabase { url, cleanup: Cleanup::Postgres { admin_url, name } }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                TestDatabase { url, cleanup: Cleanup::SqliteFile(path) }
            }
        }
    }
}

impl TestDatabase {
    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::SqliteFile(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime: do the async work on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                    runtime.block_on(async {
                        let admin = sea_orm::Database::connect(&admin_url).await?;
                        admin
                            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await?;
                        admin.close().await
                    })?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                })
                .join();
            }
        }
    }
}

/// The service under test: its database, its schema, and the server on a loopback port.
pub struct TestApp {
    pub addr: SocketAddr,
    pub db: Database,
    pub gate: welzijnshuis::gate::Gate,
    pub tokens: Tokens,
    pub http: reqwest::Client,
    /// Each demo user's id, looked up once: a test counting statements counts the server's only.
    user_ids: std::sync::Mutex<std::collections::HashMap<&'static str, Uuid>>,
    server: tokio::task::JoinHandle<()>,
    // Last: the database goes after the server and pool are gone.
    pub database: TestDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        addr: "127.0.0.1:0".parse().expect("a loopback address"),
        metrics_addr: None,
        jwt_secret: Some(welzijnshuis::config::Secret::new(SECRET)),
        jwt_public_key: None,
        jwt_algorithm: "RS256".into(),
        jwt_issuer: None,
        jwt_audience: None,
        jwt_max_ttl: welzijnshuis::auth::DEFAULT_MAX_TTL,
        trusted_documents: None,
        introspection: welzijnshuis::config::Introspection::All,
        cors_origins: Vec::new(),
        trusted_proxies: Vec::new(),
        log_format: welzijnshuis::config::LogFormat::Text,
        shutdown_grace_secs: 5,
        retention_years: welzijnshuis::config::DEFAULT_RETENTION_YEARS,
        oidc: Default::default(),
        limits: Default::default(),
        webhooks: Default::default(),
    }
}

impl TestApp {
    /// A running service over a fresh database holding the demo network.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// The same, with the configuration adjusted first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,sqlx=error".into()))
            .try_init();
        let database = TestDatabase::create().await;
        let mut config = test_config(&database.url);
        adjust(&mut config);
        let db = Database::connect(&database.url).await.expect("connecting");
        db.migrate().await.expect("migrating");
        welzijnshuis::demo::load(&db.conn, chrono::Utc::now()).await.expect("loading the demo");
        let app = Application::with_database(&config, db.clone()).await.expect("building the app");
        let addr = app.local_addr();
        let gate = app.gate();
        // Every demo user's id, so that tokens cost the tests no statement later.
        let users = user::Entity::find().all(&db.conn).await.expect("listing the users");
        let user_ids = users.iter().filter_map(|u| {
            let email = Who::ALL.iter().find_map(|w| w.email().filter(|e| *e == u.email))?;
            Some((email, u.id))
        });
        let user_ids = std::sync::Mutex::new(user_ids.collect());
        let server = tokio::spawn(async move {
            let _ = app.run_until(std::future::pending()).await;
        });
        TestApp {
            addr,
            db,
            gate,
            tokens: Tokens::hs256(SECRET.as_bytes()),
            http: reqwest::Client::new(),
            user_ids,
            server,
            database,
        }
    }

    pub async fn user(&self, who: Who) -> Option<user::Model> {
        let email = who.email()?;
        user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(&self.db.conn)
            .await
            .expect("looking up a demo user")
    }

    /// A token for `who`, whose id is looked up only the first time.
    async fn cached_token(&self, who: Who) -> Option<String> {
        if who == Who::Client {
            return self.token(who).await;
        }
        let email = who.email()?;
        let known = self.user_ids.lock().unwrap().get(email).copied();
        let id = match known {
            Some(id) => id,
            None => {
                let id = self.user(who).await?.id;
                self.user_ids.lock().unwrap().insert(email, id);
                id
            }
        };
        Some(self.tokens.issue(id, chrono::Duration::hours(1)).expect("signing a token"))
    }

    pub async fn token(&self, who: Who) -> Option<String> {
        if who == Who::Client {
            return Some(self.client_token(self.demo_client().await.id));
        }
        let user = self.user(who).await?;
        Some(self.tokens.issue(user.id, chrono::Duration::hours(1)).expect("signing a token"))
    }

    /// A citizen's own token (role CLIENT) for the client `client`, as `token --client` signs it.
    pub fn client_token(&self, client: Uuid) -> String {
        self.tokens.issue_for_client(client, chrono::Duration::hours(1)).expect("signing a token")
    }

    /// Runs a query as the citizen `client` (role CLIENT) over HTTP or the WebSocket.
    pub async fn query_as_client(
        &self,
        transport: Transport,
        client: Uuid,
        query: &str,
        variables: Value,
    ) -> Value {
        let token = self.client_token(client);
        match transport {
            Transport::Http => {
                post_to(&self.http, &self.addr.to_string(), Some(&token), query, variables).await.1
            }
            Transport::WebSocket => ws_query(&self.addr.to_string(), Some(&token), query, variables).await,
        }
    }

    /// The demo client with a national register number referred to the most partners: the
    /// citizen the client tests sign in as.
    pub async fn demo_client(&self) -> entities::client::Model {
        use sea_orm::{FromQueryResult, Statement};
        #[derive(FromQueryResult)]
        struct Row {
            id: Uuid,
        }
        let sql = "SELECT c.id FROM clients c JOIN referrals r ON r.client_id = c.id \
                   WHERE c.national_register_number IS NOT NULL GROUP BY c.id \
                   ORDER BY COUNT(DISTINCT r.recipient_id) DESC, COUNT(*) DESC, c.id LIMIT 1";
        let backend = self.db.conn.get_database_backend();
        let row = Row::find_by_statement(Statement::from_string(backend, sql))
            .one(&self.db.conn)
            .await
            .expect("querying the demo")
            .expect("the demo has a client with referrals");
        entities::client::Entity::find_by_id(row.id).one(&self.db.conn).await.unwrap().unwrap()
    }

    /// Runs a query in-process through the gate every door uses, as `who` (with a fresh token);
    /// returns the response as JSON.
    pub async fn query(&self, who: Who, query: &str, variables: Value) -> Value {
        let request =
            async_graphql::Request::new(query).variables(async_graphql::Variables::from_json(variables));
        let provenance =
            resolvers::Provenance { request_id: uuid::Uuid::now_v7().to_string(), caller_request_id: None };
        let authorization = self.cached_token(who).await.map(|t| format!("Bearer {t}"));
        let credentials =
            welzijnshuis::gate::Credentials { authorization, address: [127, 0, 0, 1].into(), role: None };
        match self.gate.run(&credentials, request, &provenance).await {
            Ok(executed) => serde_json::to_value(&executed.response).expect("a response serialises"),
            Err(err) => {
                json!({ "errors": [{ "message": err.message(), "extensions": { "code": err.code().as_str() } }] })
            }
        }
    }

    /// Runs a query as `who` through a door of the running server: a POST, or a `subscribe` on a
    /// fresh WebSocket (its `next`, or its `error` as `{"errors": …}`).
    pub async fn query_over(&self, transport: Transport, who: Who, query: &str, variables: Value) -> Value {
        let token = self.cached_token(who).await;
        match transport {
            Transport::Http => {
                post_to(&self.http, &self.addr.to_string(), token.as_deref(), query, variables).await.1
            }
            Transport::WebSocket => {
                ws_query(&self.addr.to_string(), token.as_deref(), query, variables).await
            }
        }
    }

    /// POSTs a query to the running server with an optional `Authorization` header value.
    pub async fn post(&self, authorization: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// POSTs a query as `who` with extra headers.
    pub async fn post_with(
        &self,
        who: Who,
        headers: &[(&str, &str)],
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("http://{}/graphql", self.addr))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = self.token(who).await {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// POSTs a query as `who`, with a freshly signed token.
    pub async fn post_as(&self, who: Who, query: &str, variables: Value) -> (u16, Value) {
        let header = self.token(who).await.map(|t| format!("Bearer {t}"));
        self.post(header.as_deref(), query, variables).await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("http://{}{path}", self.addr)).send().await.expect("the server answers")
    }
}

/// The `extensions.code` of every error of a response.
/// The doors a test can knock on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Http,
    WebSocket,
}

impl Transport {
    pub const BOTH: [Transport; 2] = [Transport::Http, Transport::WebSocket];
}

/// One query or mutation over a fresh graphql-transport-ws connection: its `next` payload, or its
/// `error` as `{"errors": …}`.
pub async fn ws_query(addr: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut socket = crate::subscriptions::connect(addr, token).await.expect("the socket is accepted");
    let message =
        json!({ "id": "q", "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket.send(Message::text(message.to_string())).await.expect("sent");
    let wait = std::time::Duration::from_secs(20);
    let answer = crate::subscriptions::next_message(&mut socket, wait).await.expect("an answer");
    let _ = socket.close(None).await;
    match answer["type"].as_str() {
        Some("next") => answer["payload"].clone(),
        Some("error") => json!({ "errors": answer["payload"] }),
        _ => panic!("unexpected answer {answer}"),
    }
}

/// How a response refuses: `"HIDDEN"` when the document names what the caller's role does not
/// see (refused as unknown, like a name that never existed, with no data), `"FORBIDDEN"` when
/// it names what the role sees but may not read or do here; otherwise the codes joined.
pub fn denied(response: &Value) -> String {
    let codes = codes(response);
    let message = response["errors"][0]["message"].as_str().unwrap_or("");
    let unknown =
        ["Unknown field", "Unknown type", "Schema is not configured"].iter().any(|m| message.starts_with(m));
    if codes == ["BAD_USER_INPUT"] && unknown {
        assert!(
            response.get("data").is_none_or(Value::is_null),
            "a refused document has no data: {response}"
        );
        "HIDDEN".into()
    } else if !codes.is_empty() && codes.iter().all(|c| c == "FORBIDDEN") {
        "FORBIDDEN".into()
    } else {
        codes.join(",")
    }
}

pub fn codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("<none>").to_owned()).collect()
        })
        .unwrap_or_default()
}

/// The errors of a response, as (path, code).
pub fn error_paths(response: &Value) -> Vec<(String, String)> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let path = e["path"]
                        .as_array()
                        .map(|p| {
                            p.iter()
                                .map(|s| s.to_string().trim_matches('"').to_owned())
                                .collect::<Vec<_>>()
                                .join(".")
                        })
                        .unwrap_or_default();
                    (path, e["extensions"]["code"].as_str().unwrap_or("<none>").to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a response has no errors, showing them if it has.
pub fn assert_ok(response: &Value) {
    assert!(
        response.get("errors").is_none() || response["errors"].is_null(),
        "unexpected errors: {response:#}"
    );
}

/// The nodes of a connection at `path` (e.g. `["referrals"]`).
pub fn nodes<'a>(response: &'a Value, path: &[&str]) -> Vec<&'a Value> {
    let mut value = &response["data"];
    for key in path {
        value = &value[*key];
    }
    value["edges"].as_array().map(|e| e.iter().map(|edge| &edge["node"]).collect()).unwrap_or_default()
}

/// A `welzijnshuis serve` process of its own, as an operator runs it; killed when dropped.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub addr: String,
    /// What it wrote to stderr (its log), line by line, as it comes.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("WELZIJNSHUIS_ADDR", "127.0.0.1:0")
            .env("WELZIJNSHUIS_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the binary starts");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut errors = BufReader::new(child.stderr.take().unwrap()).lines();
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("listens on http://").nth(1) {
                    return rest.split('/').next().map(str::to_owned);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("the server prints its address");
        // Keep reading what it prints, or its next line would meet a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServerProcess { child, addr, log }
    }

    /// Sends a Unix signal (`TERM`, `KILL`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill").args([format!("-{signal}"), pid]).status().unwrap();
        assert!(status.success(), "kill -{signal}");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// POSTs a query to a server at `addr` (one of its own processes, say); status 0 when nothing
/// answers.
pub async fn post_to(
    http: &reqwest::Client,
    addr: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> (u16, Value) {
    let mut request =
        http.post(format!("http://{addr}/graphql")).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

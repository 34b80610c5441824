//! Connecting to the database (SQLite by default, PostgreSQL by URL) and migrating it.

use std::cell::Cell;
use std::ffi::c_int;
use std::time::Duration;

use anyhow::Context;
use libsqlite3_sys::{SQLITE_DBCONFIG_ENABLE_QPSG, SQLITE_OK, sqlite3_db_config};
use migration::{Migrator, MigratorTrait};
use prometheus_client::metrics::counter::Counter;
use sea_orm::sqlx::sqlite::{SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database as SeaDatabase, DatabaseConnection};

/// How long a request waits for a PostgreSQL connection before it fails: short, so that with
/// the database down requests fail fast (and `/readyz` says why) instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// SQLite's connections, and how long one is waited for. The database is a file (never "down"),
/// and more connections than cores read no faster and cannot write at once, while each costs
/// its own page cache and thread (10 instead of 4: +25 MB peak RSS under the inbox bench). So an
/// operation that finds the 4 busy with long reads waits its turn; its request timeout (the
/// gate's) bounds the wait, not a short acquire timeout answering "database unavailable".
const SQLITE_CONNECTIONS: u32 = 4;
const SQLITE_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(600);

/// The connection pool, and a count of the SQL statements it ran (for `/metrics` and the tests
/// that hold the statement count of a request bounded).
#[derive(Clone)]
pub struct Database {
    pub conn: DatabaseConnection,
    statements: Counter,
}

tokio::task_local! {
    /// The statements of the request running on this task (see [`count_statements`]).
    static REQUEST_STATEMENTS: Cell<u64>;
}

/// Runs `request`, returning its output and the SQL statements it ran. A request's statements
/// all run on its own task (its DataLoader batches are driven there, see `resolvers::batch`).
pub async fn count_statements<F: Future>(request: F) -> (F::Output, u64) {
    REQUEST_STATEMENTS
        .scope(Cell::new(0), async {
            let output = request.await;
            (output, REQUEST_STATEMENTS.with(Cell::get))
        })
        .await
}

/// Has SQLite plan each statement once, whatever values are bound to it (its "query planner
/// stability guarantee"). By default SQLite plans a statement again at its next execution
/// whenever a bound value could change the plan — and a `LIMIT ?` is such a value to it, so
/// every page query (three of the partner inbox's seven statements) was compiled anew at every
/// request: 2.8 % of the inbox's instructions on SQLite (bench/RESULTS.md). The plans it gives
/// up are the ones that depend on a value; the webhook queue's partial indexes are matched by
/// literals in its SQL (`webhooks::queue`), not by bound values.
async fn plan_once(conn: &mut SqliteConnection) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut now: c_int = 0;
    // SAFETY: `db` is this connection's open handle, locked for us for the call, and
    // SQLITE_DBCONFIG_ENABLE_QPSG takes an int (1: on) and an int* to report the setting into
    // (https://sqlite.org/c3ref/c_dbconfig_defensive.html).
    let rc =
        unsafe { sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_QPSG, 1 as c_int, &mut now as *mut c_int) };
    if rc != SQLITE_OK || now != 1 {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite did not take the query planner stability guarantee (code {rc})").into(),
        ));
    }
    Ok(())
}

/// How long a pooled connection may have lain idle and still be handed out untested; one idle
/// longer is pinged first, and replaced if the database dropped it meanwhile (a restart, an
/// administrator, a firewall's idle cut). sqlx pings at every acquire by default: a round trip
/// per statement, for connections under load that answered a moment ago (bench/RESULTS.md,
/// session 14). HikariCP's default bypass window is the same half second.
const PING_IF_IDLE_FOR: Duration = Duration::from_millis(500);

/// What every pool of the server gets (the requests' and the webhook worker's): connections
/// tested after idling ([`PING_IF_IDLE_FOR`]), and [`sqlite_session`]'s settings.
pub fn pool_session(options: &mut ConnectOptions) -> &mut ConnectOptions {
    options.test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
    sqlite_session(options)
}

/// What every SQLite connection of the server gets, whichever pool holds it: WAL, so readers
/// never block the writer; foreign keys; a busy timeout, so concurrent writers wait instead of
/// failing; and [`plan_once`]. PostgreSQL ignores these.
fn sqlite_session(options: &mut ConnectOptions) -> &mut ConnectOptions {
    options
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        })
        .map_sqlx_sqlite_pool_opts(|o| o.after_connect(|conn, _| Box::pin(plan_once(conn))))
}

impl Database {
    /// Connects with the default statement timeout.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let limits = &crate::config::DEFAULT_LIMITS;
        Self::connect_with(
            url,
            Duration::from_millis(limits.statement_timeout_ms),
            limits.max_concurrent_requests,
        )
        .await
    }

    /// Connects with [`pool_session`]. On PostgreSQL every statement is
    /// cancelled after `statement_timeout` (SQLite has no such setting: the request timeout
    /// answers for it there).
    /// On PostgreSQL the pool holds a connection for each operation the gate lets execute at
    /// once (`operations`) and two for the server's own tasks (the audit writer, retention), so
    /// an operation admitted never waits out [`ACQUIRE_TIMEOUT`] behind the others' long reads;
    /// SQLite keeps [`SQLITE_CONNECTIONS`].
    pub async fn connect_with(
        url: &str,
        statement_timeout: Duration,
        operations: usize,
    ) -> anyhow::Result<Self> {
        let mut options = ConnectOptions::new(url.to_owned());
        // A row another transaction holds (an import's, say) is waited for at most this long:
        // then the write is told to try again (`RATE_LIMITED`, 503), not cut off as too complex.
        let lock_timeout = format!("{}ms", statement_timeout.min(Duration::from_secs(3)).as_millis());
        let statement_timeout = format!("{}ms", statement_timeout.as_millis());
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .map_sqlx_postgres_opts(move |o| {
                o.options([
                    ("statement_timeout", statement_timeout.as_str()),
                    ("lock_timeout", lock_timeout.as_str()),
                ])
            });
        pool_session(&mut options);
        if url.starts_with("sqlite:") {
            options
                .max_connections(SQLITE_CONNECTIONS)
                .min_connections(1)
                .acquire_timeout(SQLITE_ACQUIRE_TIMEOUT);
        } else {
            let size = u32::try_from(operations.saturating_add(2)).unwrap_or(u32::MAX);
            options.max_connections(size.max(16)).min_connections(1);
        }
        let mut conn = SeaDatabase::connect(options)
            .await
            .with_context(|| format!("connecting to the database ({})", redact(url)))?;
        let statements = Counter::default();
        let counter = statements.clone();
        conn.set_metric_callback(move |_| {
            counter.inc();
            let _ = REQUEST_STATEMENTS.try_with(|n| n.set(n.get() + 1));
        });
        Ok(Database { conn, statements })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.conn, None).await.context("applying migrations")
    }

    /// SQL statements run since the start.
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    /// The same count, as the metric `/metrics` shows.
    pub fn statement_counter(&self) -> Counter {
        self.statements.clone()
    }

    /// Connections of the pool: (in use, idle).
    pub fn pool_connections(&self) -> (usize, usize) {
        let (size, idle) = match &self.conn {
            conn if conn.get_database_backend() == sea_orm::DbBackend::Postgres => {
                let pool = conn.get_postgres_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
            conn => {
                let pool = conn.get_sqlite_connection_pool();
                (pool.size() as usize, pool.num_idle())
            }
        };
        (size.saturating_sub(idle), idle)
    }

    /// Whether the database answers. A prepared statement, so that it is counted like any other.
    pub async fn ping(&self) -> bool {
        let select_1 = sea_orm::Statement::from_string(self.conn.get_database_backend(), "SELECT 1");
        self.conn.execute_raw(select_1).await.is_ok()
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

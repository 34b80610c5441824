//! The retention rule: a client whose trajectory is closed and lay still for
//! `WELZIJNSHUIS_RETENTION_YEARS` is erased (see `resolvers::erasure`). Run by
//! `welzijnshuis retention run [--dry-run]` and once a day by the server.
//!
//! The candidates are found with one query; each is then erased in a transaction of its own,
//! which decides again, with the client locked, whether they are still due (not erased, not
//! held, nothing happened since). So a run stopped halfway — killed, or the server shut down —
//! keeps the clients it finished, leaves none half-erased, and the next run does the rest; two
//! runs at once (two replicas on one PostgreSQL) wait for each other client by client, and the
//! second finds each client erased already and leaves it: one erasure, one audit row.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Months, SubsecRound, Utc};
use resolvers::erasure::{self, Erasure};
use resolvers::writes::{WriteQueue, WriteTurn};
use sea_orm::{DatabaseConnection, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use tokio::sync::watch;
use uuid::Uuid;

/// The name of the run in the audit log (`operation_name`), from the command line and the daily
/// task alike.
pub const OPERATION: &str = "welzijnshuis retention run";

/// How long after the server starts it runs the rule the first time, and how often after that.
pub const FIRST_RUN_AFTER: Duration = Duration::from_secs(60);
pub const EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// The moment before which a trajectory's last activity must lie, `years` before `now`.
pub fn cutoff(now: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(years.saturating_mul(12))).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// What a run found and did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The clients due when the run began.
    pub candidates: usize,
    /// The clients erased by this run.
    pub erased: Vec<Uuid>,
    /// Candidates left alone: erased or held meanwhile, active again, or merged away.
    pub skipped: usize,
    /// Candidates whose erasure failed (the log says why; nothing of theirs was written, and
    /// the next run tries again).
    pub failed: Vec<Uuid>,
    /// Whether the run stopped before the end (the server shutting down).
    pub stopped: bool,
}

/// The ids of the clients due for erasure now (what `--dry-run` prints).
pub async fn due(db: &DatabaseConnection, years: u32) -> anyhow::Result<Vec<Uuid>> {
    let now = Utc::now().trunc_subsecs(6);
    candidates(db, cutoff(now, years), now).await
}

/// How long the one query that finds the candidates may run on PostgreSQL: it reads every
/// client's trajectory, once a day, so it gets more than a request's statement timeout (measured
/// on SQLite with 10,000 clients and 100,000 referrals all due: 5 s; with none due: 0.1 s).
const CANDIDATES_TIMEOUT: &str = "SET LOCAL statement_timeout = '10min'";

/// The candidates, in one query (on PostgreSQL in a read transaction of its own, with the longer
/// timeout above).
async fn candidates(
    db: &DatabaseConnection,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Uuid>> {
    use sea_orm::ConnectionTrait;
    let txn = db.begin().await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared(CANDIDATES_TIMEOUT).await?;
    }
    let found = erasure::retention_candidates(&txn, cutoff, now)
        .await
        .map_err(|e| anyhow::anyhow!(e.message()))
        .context("finding the clients due for erasure")?;
    txn.commit().await?;
    Ok(found)
}

/// Applies the rule: erases every client due, each in its own transaction; `erased` hears of each
/// client once it is committed; `stop` is asked between clients.
pub async fn run(
    db: &DatabaseConnection,
    writes: &WriteQueue,
    years: u32,
    stop: impl Fn() -> bool,
    mut erased: impl FnMut(Uuid),
) -> anyhow::Result<Outcome> {
    let now = Utc::now().trunc_subsecs(6);
    let cutoff = cutoff(now, years);
    let candidates = candidates(db, cutoff, now).await?;
    let mut outcome = Outcome { candidates: candidates.len(), ..Outcome::default() };
    for id in candidates {
        if stop() {
            outcome.stopped = true;
            break;
        }
        match erase_if_due(db, writes, id, cutoff, now).await {
            Ok(true) => {
                erased(id);
                outcome.erased.push(id);
            }
            Ok(false) => outcome.skipped += 1,
            // One client that cannot be erased now does not hold up the others.
            Err(err) => {
                tracing::error!(client = %id, error = format!("{err:#}"), "retention: erasing a client failed");
                outcome.failed.push(id);
            }
        }
    }
    Ok(outcome)
}

/// Erases client `id` in one transaction if they are still due; whether they were.
async fn erase_if_due(
    db: &DatabaseConnection,
    writes: &WriteQueue,
    id: Uuid,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    // This process's writers one at a time on SQLite, as the API's operations are.
    let turn = WriteTurn::new(writes);
    turn.take().await;
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let txn = db.begin_with_options(options).await?;
    let said = |e: resolvers::ApiError| anyhow::anyhow!(e.message());
    let current = match erasure::lock_client(&txn, id).await {
        Ok(current) => current,
        // Merged into another client since the candidates were read: that one decides.
        Err(resolvers::ApiError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(said(e)),
    };
    if !erasure::still_due(&txn, id, cutoff, now).await.map_err(said)? {
        return Ok(false);
    }
    match erasure::erase_locked(&txn, current, Utc::now().trunc_subsecs(6)).await.map_err(said)? {
        Erasure::Erased(_) => {}
        Erasure::AlreadyErased(_) => return Ok(false),
    }
    resolvers::audit::record_command_about(&txn, OPERATION, erasure::ERASE, id).await?;
    txn.commit().await?;
    Ok(true)
}

/// The server's daily run: the first shortly after the start, then once a day, until `closing`
/// turns true (a run under way stops at the next client; what it finished stays).
pub fn spawn_daily(
    db: DatabaseConnection,
    writes: WriteQueue,
    years: u32,
    mut closing: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut next = tokio::time::Instant::now() + FIRST_RUN_AFTER;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                _ = closing.wait_for(|closing| *closing) => return,
            }
            let stop = {
                let closing = closing.clone();
                move || *closing.borrow()
            };
            match run(&db, &writes, years, stop, |_| {}).await {
                Ok(outcome) if outcome.candidates > 0 => tracing::info!(
                    candidates = outcome.candidates,
                    erased = outcome.erased.len(),
                    skipped = outcome.skipped,
                    failed = outcome.failed.len(),
                    stopped = outcome.stopped,
                    "retention run"
                ),
                Ok(_) => tracing::debug!("retention run: no client due"),
                // The next run does what this one could not.
                Err(err) => tracing::warn!(error = format!("{err:#}"), "retention run failed"),
            }
            next = tokio::time::Instant::now() + EVERY;
        }
    })
}

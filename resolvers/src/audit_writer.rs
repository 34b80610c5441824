//! The audit rows of reads, written for many requests at once (group commit).
//!
//! Every request that read client data must have its audit rows durable before it answers. Each
//! writing its own rows cost an `INSERT` and a commit per request; on SQLite, where one
//! transaction writes at a time, every reading request also queued for the write lock, so that
//! sixteen readers answered one after the other. Here one task per process takes the rows of all
//! requests waiting at that moment and writes them in one transaction; each request is answered
//! when the transaction holding its rows has committed, so the guarantee is the one it was.

use entities::audit_entry;
use sea_orm::{DatabaseConnection, EntityTrait, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use crate::error::{ApiError, ApiResult};
use crate::writes::WriteQueue;

/// The most requests whose rows one transaction writes.
const REQUESTS_PER_COMMIT: usize = 64;
/// Rows per `INSERT`: 13 values a row stay far below either database's parameter limit.
const ROWS_PER_STATEMENT: usize = 500;

/// Hands a request's audit rows to the process's writer.
#[derive(Clone)]
pub struct AuditWriter {
    jobs: mpsc::Sender<Job>,
}

/// One request's rows, and where to say whether they were written.
struct Job {
    rows: Vec<audit_entry::ActiveModel>,
    done: oneshot::Sender<ApiResult<()>>,
}

impl AuditWriter {
    /// Starts the writer of this process on `db`; it takes its turn in `writes` (SQLite's one
    /// writer at a time) for each transaction. It ends when the last `AuditWriter` is dropped.
    pub fn start(db: DatabaseConnection, writes: WriteQueue) -> Self {
        let (jobs, queue) = mpsc::channel(1024);
        tokio::spawn(run(db, writes, queue));
        AuditWriter { jobs }
    }

    /// Writes `rows` and returns once they are committed.
    pub async fn write(&self, rows: Vec<audit_entry::ActiveModel>) -> ApiResult<()> {
        let (done, written) = oneshot::channel();
        let stopped = || ApiError::internal("the audit writer has stopped");
        self.jobs.send(Job { rows, done }).await.map_err(|_| stopped())?;
        written.await.map_err(|_| stopped())?
    }
}

async fn run(db: DatabaseConnection, writes: WriteQueue, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(REQUESTS_PER_COMMIT);
    while queue.recv_many(&mut jobs, REQUESTS_PER_COMMIT).await > 0 {
        let turn = writes.turn().await;
        let together = insert(&db, jobs.iter().flat_map(|job| job.rows.iter().cloned())).await;
        match together {
            Ok(()) => {
                for job in jobs.drain(..) {
                    let _ = job.done.send(Ok(()));
                }
            }
            // Whatever failed, one request's rows must not fail another's: each on its own.
            Err(err) => {
                tracing::warn!(error = %err, "writing audit rows together failed; writing them one request at a time");
                for job in jobs.drain(..) {
                    let alone = insert(&db, job.rows.into_iter()).await.map_err(ApiError::from);
                    let _ = job.done.send(alone);
                }
            }
        }
        drop(turn);
    }
}

/// Inserts `rows` in one transaction (one statement, or several in a transaction).
async fn insert(
    db: &DatabaseConnection,
    rows: impl Iterator<Item = audit_entry::ActiveModel>,
) -> Result<(), sea_orm::DbErr> {
    let rows: Vec<_> = rows.collect();
    if rows.len() <= ROWS_PER_STATEMENT {
        return audit_entry::Entity::insert_many(rows).exec_without_returning(db).await.map(drop);
    }
    let txn = db.begin().await?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        audit_entry::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
    }
    txn.commit().await
}

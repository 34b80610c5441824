//! The order in which this process writes to SQLite. SQLite lets one transaction write at a
//! time, database-wide; a writer that finds the lock taken (by another request, or by a social
//! map import running in another process) waits up to its busy timeout *while holding a pooled
//! connection*. With a few such writers every connection of the pool is waiting, and readers —
//! the public map, `/readyz` — fail for want of one. So the operations of this process take
//! their turn here first, holding no connection while they queue: at most one connection waits
//! on the lock and the others stay free for readers. PostgreSQL locks rows, not the database:
//! there the queue lets everyone through at once.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};

/// The queue of this process's writers to one database.
#[derive(Clone, Default)]
pub struct WriteQueue(Option<Arc<Semaphore>>);

impl WriteQueue {
    /// A queue of one for SQLite; none for PostgreSQL.
    pub fn for_database(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Sqlite => WriteQueue(Some(Arc::new(Semaphore::new(1)))),
            _ => WriteQueue(None),
        }
    }

    /// Waits for a turn to write, held until the permit is dropped (`None`: no queue).
    pub async fn turn(&self) -> Option<OwnedSemaphorePermit> {
        // The semaphore is never closed.
        self.0.as_ref()?.clone().acquire_owned().await.ok()
    }
}

/// An operation's turn to write, taken at its first write (a mutation's transaction, or its
/// audit rows) and held until the operation ends: a document with several mutations writes them
/// one after the other in one turn.
#[derive(Default)]
pub struct WriteTurn {
    queue: WriteQueue,
    held: Mutex<Option<OwnedSemaphorePermit>>,
}

impl WriteTurn {
    pub fn new(queue: &WriteQueue) -> Self {
        WriteTurn { queue: queue.clone(), held: Mutex::new(None) }
    }

    /// Whether this operation has taken its turn (it wrote, or is writing).
    pub async fn is_held(&self) -> bool {
        self.held.lock().await.is_some()
    }

    /// Waits for this operation's turn, unless it has it already.
    pub async fn take(&self) {
        let queue = &self.queue;
        let mut held = self.held.lock().await;
        if held.is_none() {
            *held = queue.turn().await;
        }
    }
}

//! Referral events, live. The `referral_events` rows are the outbox: an event is written in the
//! same transaction as its change, and only announced once that transaction commits.
//!
//! - On PostgreSQL the announcement is a `pg_notify` inside the transaction, which PostgreSQL
//!   delivers on commit (and never on rollback) to every process listening on the channel: all
//!   replicas over one database hear every event, and each passes it to its own subscribers.
//! - On SQLite (one process) the change hands the event to this process's subscribers after
//!   its commit.
//!
//! Subscribers receive event ids and read each event through the same row policy as any query.
//! A referral notice (an appointment cancelled by a closure of office hours) travels the same
//! way: its row is written with its change and its id announced on commit.

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::ApiResult;

/// The PostgreSQL channel events are announced on.
pub const CHANNEL: &str = "welzijnshuis_referral_events";

/// This process's distribution of committed referral events to its subscribers.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Uuid>,
}

impl Default for EventBus {
    fn default() -> Self {
        // A subscriber that falls this far behind skips ahead (and is told in the log).
        EventBus { sender: broadcast::channel(1024).0 }
    }
}

impl EventBus {
    /// Inside the change's transaction: on PostgreSQL, announce the event on commit.
    pub async fn announce(&self, txn: &DatabaseTransaction, event: Uuid) -> ApiResult<()> {
        if txn.get_database_backend() == DbBackend::Postgres {
            let statement = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), event.to_string().into()],
            );
            txn.execute_raw(statement).await?;
        }
        Ok(())
    }

    /// After the commit: on SQLite, where no notification travels, deliver it here.
    pub fn committed(&self, backend: DbBackend, event: Uuid) {
        if backend != DbBackend::Postgres {
            self.deliver(event);
        }
    }

    /// Hands an event to this process's subscribers.
    pub fn deliver(&self, event: Uuid) {
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.sender.subscribe()
    }
}

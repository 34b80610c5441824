//! The delivery worker: claims due deliveries, oldest first, sends them, records each attempt.
//!
//! Claiming is safe with several replicas on one PostgreSQL database: the candidates are locked
//! `FOR UPDATE SKIP LOCKED` (a row another process is claiming is passed over, not waited for)
//! and taken with one compare-and-set on their lease, `claimed_until`, which also makes the
//! claim exact on SQLite (where one writer runs at a time). The lease outlives one attempt; when
//! a process dies mid-delivery, its lease runs out and the delivery is due again, with the same
//! id. A referral's deliveries to one endpoint go out in order: one waits while an earlier one
//! for the same endpoint is still pending.
//!
//! Fair between organisations: an endpoint gets one attempt at a time; at most
//! [`PER_ORGANISATION`] of an organisation's deliveries are in flight at once (counted over every
//! process, by their leases); free slots go to organisations in turn, those with nothing in flight
//! first; and a slot is refilled as soon as its attempt ends, not when a whole batch has. One
//! partner's endpoints that hang until the timeout hold a few slots, and another organisation's
//! delivery waits at most for one attempt to end, whatever the backlog. What the worker reads of
//! the queue costs the same however many deliveries wait ([`queue`]).

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use entities::{DeliveryStatus, webhook, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::{Sender, WebhookConfig, WebhookMetrics, queue, sign};

/// Deliveries in flight at once in one process (sent side by side).
const CONCURRENCY: usize = 16;
/// Deliveries of one organisation in flight at once, over all processes.
pub const PER_ORGANISATION: usize = 4;
/// How long attempts under way may finish when the server stops (within its shutdown grace).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);
/// What a lease adds to the attempt's timeout: room for recording the attempt.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

pub struct Worker {
    /// A small pool of its own: polling neither takes requests' connections nor counts among
    /// their statements.
    db: DatabaseConnection,
    sender: Sender,
    config: WebhookConfig,
    metrics: WebhookMetrics,
}

type Lease = DateTime<Utc>;

impl Worker {
    pub async fn connect(
        database_url: &str,
        config: &WebhookConfig,
        metrics: WebhookMetrics,
    ) -> anyhow::Result<Worker> {
        let mut options = ConnectOptions::new(database_url.to_owned());
        options
            .sqlx_logging(false)
            .max_connections(2)
            .min_connections(0)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10));
        crate::db::pool_session(&mut options);
        let db = sea_orm::Database::connect(options).await?;
        let sender = Sender::new(config.url_rules(), config.timeout())?;
        Ok(Worker { db, sender, config: config.clone(), metrics })
    }

    /// Delivers until `closing` turns true; then lets the attempts under way finish (each is
    /// bounded by the timeout).
    pub async fn run(self, mut closing: watch::Receiver<bool>) {
        let worker = Arc::new(self);
        let poll = Duration::from_millis(worker.config.poll_ms);
        let mut in_flight = JoinSet::new();
        loop {
            if *closing.borrow() {
                break;
            }
            while in_flight.try_join_next().is_some() {}
            let free = CONCURRENCY - in_flight.len();
            let mut more_due = false;
            if free > 0 {
                match worker.claim_due(free).await {
                    Ok(claimed) => {
                        more_due = claimed.len() == free;
                        for (delivery, lease) in claimed {
                            let worker = worker.clone();
                            in_flight.spawn(async move {
                                if let Err(err) = worker.deliver(delivery, lease).await {
                                    tracing::warn!(error = %err, "webhook worker: recording an attempt failed");
                                }
                            });
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "webhook worker: claiming failed"),
                }
            }
            if more_due {
                continue;
            }
            // Look again after the poll interval, or as soon as a slot frees.
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                _ = closing.wait_for(|closing| *closing) => break,
            }
        }
        // Attempts under way may finish, for a while: one not finished by then is abandoned,
        // its lease runs out and it is sent again (same id) by whichever process runs next.
        let finishing = async { while in_flight.join_next().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_WAIT, finishing).await.is_err() {
            tracing::info!(
                abandoned = in_flight.len(),
                "webhook attempts still running at shutdown: sent again later"
            );
            in_flight.abort_all();
        }
        worker.db.clone().close().await.ok();
    }

    /// Measures the backlog, then claims at most `free` due deliveries.
    async fn claim_due(&self, free: usize) -> anyhow::Result<Vec<(webhook_delivery::Model, Lease)>> {
        let now = Utc::now().trunc_subsecs(6);
        self.measure(now).await?;
        self.claim(now, free).await
    }

    /// The oldest pending delivery's age, for `/metrics`: of enabled endpoints only.
    async fn measure(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let oldest = queue::oldest_pending(&self.db).await?;
        self.metrics.oldest_pending(oldest.map_or(0, |at| (now - at).num_seconds()));
        Ok(())
    }

    async fn begin(&self) -> anyhow::Result<sea_orm::DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(self.db.begin_with_options(options).await?)
    }

    /// Takes up to `free` due deliveries for one lease, organisations in turn (see
    /// [`queue::choose`]). The candidates are read outside the writing transaction, which then
    /// only leases them: on SQLite the database's write lock is held for one short `UPDATE`.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        free: usize,
    ) -> anyhow::Result<Vec<(webhook_delivery::Model, Lease)>> {
        use webhook_delivery::Column as D;
        let candidates = queue::candidates(&self.db, now).await?;
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let in_flight = queue::leased(&self.db, now).await?;
        let chosen: Vec<Uuid> = queue::choose(candidates, &in_flight, free, PER_ORGANISATION)
            .into_iter()
            .map(|c| c.delivery)
            .collect();
        if chosen.is_empty() {
            return Ok(Vec::new());
        }
        let txn = self.begin().await?;
        // The lease counts from now, after the reading: however long that took, it covers one
        // attempt and its recording.
        let now = Utc::now().trunc_subsecs(6);
        let lease = now + chrono::Duration::from_std(self.config.timeout() + LEASE_MARGIN)?;
        let unclaimed = || Condition::any().add(D::ClaimedUntil.is_null()).add(D::ClaimedUntil.lt(now));
        let mut ids = chosen;
        if txn.get_database_backend() == DbBackend::Postgres {
            // Pass over rows another process is claiming right now rather than wait for it.
            ids = webhook_delivery::Entity::find()
                .select_only()
                .column(D::Id)
                .filter(D::Id.is_in(ids))
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .into_tuple()
                .all(&txn)
                .await?;
        }
        let mut taken = webhook_delivery::Entity::update_many()
            .col_expr(D::ClaimedUntil, Expr::value(lease))
            .filter(D::Id.is_in(ids))
            .filter(D::Status.eq(DeliveryStatus::Pending))
            .filter(unclaimed())
            .exec_with_returning(&txn)
            .await?;
        txn.commit().await?;
        taken.sort_by_key(|d| (d.created_at, d.id));
        Ok(taken.into_iter().map(|d| (d, lease)).collect())
    }

    /// One attempt at `delivery`, recorded with its outcome.
    async fn deliver(&self, delivery: webhook_delivery::Model, lease: Lease) -> anyhow::Result<()> {
        use webhook_delivery::Column as D;
        let Some(hook) = webhook::Entity::find_by_id(delivery.webhook_id).one(&self.db).await? else {
            return Ok(()); // deleted meanwhile, with its deliveries
        };
        let now = Utc::now();
        let timestamp = now.timestamp();
        let id = delivery.id.to_string();
        let mut signatures: Vec<String> =
            sign(&hook.secret, &id, timestamp, &delivery.payload).into_iter().collect();
        if let (Some(previous), Some(until)) = (&hook.previous_secret, hook.previous_secret_expires_at)
            && until > now
        {
            signatures.extend(sign(previous, &id, timestamp, &delivery.payload));
        }
        let answer =
            self.sender.send(&hook.url, &id, timestamp, &signatures.join(" "), &delivery.payload).await;

        let at = Utc::now().trunc_subsecs(6);
        let attempts = delivery.attempts + 1;
        let status = answer.status.map(i32::from);
        let delivered = answer.status.is_some_and(|s| (200..300).contains(&s));
        let gone = answer.status == Some(410);
        let retry =
            if delivered || gone { None } else { self.config.retry_schedule.after(attempts as usize) };
        let outcome = match (delivered, gone, retry) {
            (true, _, _) => "delivered",
            (_, true, _) => "gone",
            (_, _, Some(_)) => "retrying",
            _ => "failed",
        };
        let error = answer.error.clone().or_else(|| {
            (!delivered).then(|| format!("the endpoint answered {}", answer.status.unwrap_or_default()))
        });

        let txn = self.begin().await?;
        let mut update = webhook_delivery::Entity::update_many()
            .col_expr(D::Attempts, Expr::value(attempts))
            .col_expr(D::LastStatusCode, Expr::value(status))
            .col_expr(D::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None));
        update = match (delivered, retry) {
            (true, _) => update
                .col_expr(D::Status, Expr::value(DeliveryStatus::Delivered))
                .col_expr(D::DeliveredAt, Expr::value(at)),
            (false, Some(wait)) => {
                update.col_expr(D::NextAttemptAt, Expr::value(at + chrono::Duration::from_std(wait)?))
            }
            (false, None) => update.col_expr(D::Status, Expr::value(DeliveryStatus::Failed)),
        };
        // Only while our lease holds: past it, another worker may have taken the delivery.
        let recorded =
            update.filter(D::Id.eq(delivery.id)).filter(D::ClaimedUntil.eq(lease)).exec(&txn).await?;
        if recorded.rows_affected == 1 {
            self.endpoint_after(&txn, &hook, delivered, gone, retry.is_none()).await?;
        }
        // The attempt is kept even when the lease ran out meanwhile (it happened), but not for
        // a delivery deleted with its endpoint during the attempt.
        let still_there = recorded.rows_affected == 1
            || webhook_delivery::Entity::find_by_id(delivery.id).one(&txn).await?.is_some();
        if still_there {
            webhook_attempt::ActiveModel {
                id: Set(Uuid::now_v7()),
                delivery_id: Set(delivery.id),
                at: Set(at),
                status_code: Set(status),
                latency_ms: Set(answer.latency.as_millis().min(i32::MAX as u128) as i32),
                error: Set(error),
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        self.metrics.count(outcome);
        if outcome != "delivered" {
            tracing::info!(delivery = %delivery.id, webhook = %hook.id, attempts, outcome, "webhook delivery not delivered");
        }
        Ok(())
    }

    /// Keeps the endpoint's count of failed deliveries, and disables it after a 410 Gone or too
    /// many failures in a row.
    async fn endpoint_after(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        hook: &webhook::Model,
        delivered: bool,
        gone: bool,
        final_attempt: bool,
    ) -> anyhow::Result<()> {
        use webhook::Column as W;
        let now = Utc::now().trunc_subsecs(6);
        let base = || webhook::Entity::update_many().filter(W::Id.eq(hook.id));
        if delivered {
            if hook.consecutive_failures != 0 {
                base().col_expr(W::ConsecutiveFailures, Expr::value(0)).exec(txn).await?;
            }
        } else if gone {
            base()
                .col_expr(W::Active, Expr::value(false))
                .col_expr(W::DisabledReason, Expr::value("the endpoint answered 410 Gone"))
                .col_expr(W::UpdatedAt, Expr::value(now))
                .exec(txn)
                .await?;
        } else if final_attempt {
            base()
                .col_expr(W::ConsecutiveFailures, Expr::col(W::ConsecutiveFailures).add(1))
                .exec(txn)
                .await?;
            let limit = self.config.disable_after as i32;
            base()
                .col_expr(W::Active, Expr::value(false))
                .col_expr(
                    W::DisabledReason,
                    Expr::value(format!("{limit} deliveries in a row failed after every retry")),
                )
                .col_expr(W::UpdatedAt, Expr::value(now))
                .filter(W::Active.eq(true))
                .filter(W::ConsecutiveFailures.gte(limit))
                .exec(txn)
                .await?;
        }
        Ok(())
    }
}

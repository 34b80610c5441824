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
//! Fair between organisations: at most [`PER_ORGANISATION`] of an organisation's deliveries are
//! in flight at once (counted over every process, by their leases), and a slot is refilled as
//! soon as its attempt ends, not when a whole batch has. One partner's endpoints that hang until
//! the timeout hold a few slots, never the others' deliveries.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use entities::{DeliveryStatus, webhook, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::{Sender, WebhookConfig, WebhookMetrics, sign};

/// Deliveries in flight at once in one process (sent side by side).
const CONCURRENCY: usize = 16;
/// Deliveries of one organisation in flight at once, over all processes.
pub const PER_ORGANISATION: usize = 4;
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

/// The ids of the endpoints that are enabled, of organisations that are active (a deactivated
/// organisation's deliveries wait: no one of it can sign in to see or manage them).
fn active_endpoints() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(webhook::Column::Id)
        .from(webhook::Entity)
        .and_where(webhook::Column::Active.eq(true))
        .and_where(webhook::Column::OrganisationId.in_subquery(resolvers::webhooks::active_organisations()))
        .to_owned()
}

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
            .acquire_timeout(Duration::from_secs(10))
            .map_sqlx_sqlite_opts(|o| o.foreign_keys(true).busy_timeout(Duration::from_secs(5)));
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
        while in_flight.join_next().await.is_some() {}
        worker.db.clone().close().await.ok();
    }

    /// Measures the backlog, then claims at most `free` due deliveries.
    async fn claim_due(&self, free: usize) -> anyhow::Result<Vec<(webhook_delivery::Model, Lease)>> {
        let now = Utc::now().trunc_subsecs(6);
        self.measure(now).await?;
        self.claim(now, free).await
    }

    /// The oldest pending delivery's age, for `/metrics`: of active endpoints only (those of a
    /// disabled one wait for it to be enabled again, which is no backlog of ours).
    async fn measure(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let oldest = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .filter(webhook_delivery::Column::WebhookId.in_subquery(active_endpoints()))
            .order_by_asc(webhook_delivery::Column::CreatedAt)
            .one(&self.db)
            .await?;
        self.metrics.oldest_pending(oldest.map_or(0, |d| (now - d.created_at).num_seconds()));
        Ok(())
    }

    async fn begin(&self) -> anyhow::Result<sea_orm::DatabaseTransaction> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(self.db.begin_with_options(options).await?)
    }

    /// Takes up to `free` due deliveries, oldest first, for one lease, no organisation beyond
    /// its [`PER_ORGANISATION`] in flight.
    async fn claim(
        &self,
        now: DateTime<Utc>,
        free: usize,
    ) -> anyhow::Result<Vec<(webhook_delivery::Model, Lease)>> {
        use webhook_delivery::Column as D;
        let lease = now + chrono::Duration::from_std(self.config.timeout() + LEASE_MARGIN)?;
        let unclaimed = || Condition::any().add(D::ClaimedUntil.is_null()).add(D::ClaimedUntil.lt(now));
        let txn = self.begin().await?;
        let backend = txn.get_database_backend();
        let candidates: Vec<Uuid> = txn
            .query_all_raw(due_statement(backend, now, free))
            .await?
            .iter()
            .map(|row| row.try_get::<Uuid>("", "id"))
            .collect::<Result<_, _>>()?;
        if candidates.is_empty() {
            txn.commit().await?;
            return Ok(Vec::new());
        }
        let mut ids = candidates.clone();
        if backend == DbBackend::Postgres {
            // Pass over rows another process is claiming right now rather than wait for it.
            ids = webhook_delivery::Entity::find()
                .select_only()
                .column(D::Id)
                .filter(D::Id.is_in(candidates))
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

/// The due deliveries to take, oldest first: pending, due, not leased, to an enabled endpoint of
/// an active organisation, not waiting for an earlier one of the same referral to the same
/// endpoint, and each organisation's only while it has fewer than [`PER_ORGANISATION`] in
/// flight. Written as SQL: a window per organisation, which sea-query's builder would only
/// obscure.
fn due_statement(backend: DbBackend, now: DateTime<Utc>, free: usize) -> sea_orm::Statement {
    let pending = DeliveryStatus::Pending.as_str();
    let sql = "
        SELECT c.id FROM (
            SELECT d.id, d.created_at,
                   ROW_NUMBER() OVER (PARTITION BY w.organisation_id ORDER BY d.created_at, d.id) AS place,
                   COALESCE(busy.n, 0) AS busy
            FROM webhook_deliveries d
            JOIN webhooks w ON w.id = d.webhook_id
            JOIN organisations o ON o.id = w.organisation_id
            LEFT JOIN (
                SELECT w2.organisation_id AS organisation_id, COUNT(*) AS n
                FROM webhook_deliveries d2 JOIN webhooks w2 ON w2.id = d2.webhook_id
                WHERE d2.status = ? AND d2.claimed_until >= ?
                GROUP BY w2.organisation_id
            ) busy ON busy.organisation_id = w.organisation_id
            WHERE d.status = ? AND d.next_attempt_at <= ?
              AND (d.claimed_until IS NULL OR d.claimed_until < ?)
              AND w.active = ? AND o.active = ?
              AND NOT EXISTS (
                  SELECT 1 FROM webhook_deliveries e
                  WHERE e.webhook_id = d.webhook_id AND e.referral_id = d.referral_id AND e.status = ?
                    AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.id < d.id)))
        ) c
        WHERE c.place + c.busy <= ?
        ORDER BY c.created_at, c.id
        LIMIT ?";
    let values: Vec<sea_orm::Value> = vec![
        pending.into(),
        now.into(),
        pending.into(),
        now.into(),
        now.into(),
        true.into(),
        true.into(),
        pending.into(),
        (PER_ORGANISATION as i64).into(),
        (free as i64).into(),
    ];
    sea_orm::Statement::from_sql_and_values(backend, numbered(backend, sql), values)
}

/// `?` placeholders as the backend writes them (`$1`, `$2`, … on PostgreSQL).
fn numbered(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

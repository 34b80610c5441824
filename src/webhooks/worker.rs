//! The delivery worker: claims due deliveries, oldest first, sends them, records each attempt.
//!
//! Claiming is safe with several replicas on one PostgreSQL database: the due rows are selected
//! `FOR UPDATE SKIP LOCKED` (a row another process is claiming is passed over, not waited for)
//! and each is taken with a compare-and-set on its lease, `claimed_until`, which also makes the
//! claim exact on SQLite (where one writer runs at a time). The lease outlives one attempt; when
//! a process dies mid-delivery, its lease runs out and the delivery is due again, with the same
//! id. A referral's deliveries to one endpoint go out in order: one waits while an earlier one
//! for the same endpoint is still pending.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use entities::{DeliveryStatus, webhook, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::{Alias, Expr, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use tokio::sync::watch;
use uuid::Uuid;

use super::{Sender, WebhookConfig, WebhookMetrics, sign};

/// Deliveries claimed at once (sent side by side).
const BATCH: u64 = 16;
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

/// The ids of the endpoints that are enabled.
fn active_endpoints() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(webhook::Column::Id)
        .from(webhook::Entity)
        .and_where(webhook::Column::Active.eq(true))
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

    /// Delivers until `closing` turns true.
    pub async fn run(self, mut closing: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_ms);
        loop {
            if *closing.borrow() {
                break;
            }
            let busy = match self.round().await {
                Ok(claimed) => claimed as u64 == BATCH,
                Err(err) => {
                    tracing::warn!(error = %err, "webhook worker: a round failed");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    () = tokio::time::sleep(poll) => {}
                    _ = closing.wait_for(|closing| *closing) => break,
                }
            }
        }
        self.db.close().await.ok();
    }

    /// Claims what is due and delivers it; returns how many.
    async fn round(&self) -> anyhow::Result<usize> {
        let now = Utc::now().trunc_subsecs(6);
        self.measure(now).await?;
        let claimed = self.claim(now).await?;
        let count = claimed.len();
        futures_util::future::join_all(claimed.into_iter().map(|(delivery, lease)| async move {
            if let Err(err) = self.deliver(delivery, lease).await {
                tracing::warn!(error = %err, "webhook worker: recording an attempt failed");
            }
        }))
        .await;
        Ok(count)
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

    /// Takes up to [`BATCH`] due deliveries, oldest first, for one lease.
    async fn claim(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<(webhook_delivery::Model, Lease)>> {
        use webhook_delivery::Column as D;
        let lease = now + chrono::Duration::from_std(self.config.timeout() + LEASE_MARGIN)?;
        let unclaimed = || Condition::any().add(D::ClaimedUntil.is_null()).add(D::ClaimedUntil.lt(now));
        let earlier = Alias::new("earlier");
        let this = |c: D| Expr::col((webhook_delivery::Entity, c));
        let that = |c: D| Expr::col((earlier.clone(), c));
        // An earlier delivery of the same referral to the same endpoint, still pending.
        let waits_for_earlier = Query::select()
            .expr(Expr::val(1))
            .from_as(webhook_delivery::Entity, earlier.clone())
            .and_where(that(D::WebhookId).equals((webhook_delivery::Entity, D::WebhookId)))
            .and_where(that(D::ReferralId).equals((webhook_delivery::Entity, D::ReferralId)))
            .and_where(that(D::Status).eq(DeliveryStatus::Pending.as_str()))
            .cond_where(
                Condition::any().add(that(D::CreatedAt).lt(this(D::CreatedAt))).add(
                    Condition::all()
                        .add(that(D::CreatedAt).eq(this(D::CreatedAt)))
                        .add(that(D::Id).lt(this(D::Id))),
                ),
            )
            .to_owned();
        let txn = self.begin().await?;
        let mut due = webhook_delivery::Entity::find()
            .filter(D::Status.eq(DeliveryStatus::Pending))
            .filter(D::NextAttemptAt.lte(now))
            .filter(unclaimed())
            .filter(D::WebhookId.in_subquery(active_endpoints()))
            .filter(Expr::exists(waits_for_earlier).not())
            .order_by_asc(D::CreatedAt)
            .order_by_asc(D::Id)
            .limit(BATCH);
        if txn.get_database_backend() == DbBackend::Postgres {
            due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = due.all(&txn).await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let taken = webhook_delivery::Entity::update_many()
                .col_expr(D::ClaimedUntil, Expr::value(lease))
                .filter(D::Id.eq(row.id))
                .filter(D::Status.eq(DeliveryStatus::Pending))
                .filter(unclaimed())
                .exec(&txn)
                .await?;
            if taken.rows_affected == 1 {
                claimed.push((row, lease));
            }
        }
        txn.commit().await?;
        Ok(claimed)
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

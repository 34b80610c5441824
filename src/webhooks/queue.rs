//! What the worker reads of the queue, each at a cost that does not grow with the backlog: per
//! enabled endpoint (of an active organisation) its next delivery, through the partial index of
//! pending deliveries; the deliveries leased right now, per organisation; and the oldest pending
//! delivery's age. And the fair choice among the candidates.
//!
//! Written as SQL: correlated `LIMIT 1` subqueries per endpoint, which sea-query's builder
//! would only obscure. The status is written as a literal so that both databases use the
//! partial indexes (`WHERE status = 'PENDING'`), which a bound parameter would not match.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

/// An endpoint's next delivery: its oldest pending one that is due, not leased, and waits for
/// no earlier pending delivery of the same referral to the same endpoint (order per referral).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub delivery: Uuid,
    pub organisation: Uuid,
    pub created_at: DateTime<Utc>,
}

const NEXT_PER_ENDPOINT: &str = "
    SELECT w.organisation_id AS organisation_id, (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.webhook_id = w.id AND d.status = 'PENDING'
          AND d.next_attempt_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until < ?)
          AND NOT EXISTS (
              SELECT 1 FROM webhook_deliveries e
              WHERE e.webhook_id = d.webhook_id AND e.referral_id = d.referral_id AND e.status = 'PENDING'
                AND (e.created_at < d.created_at OR (e.created_at = d.created_at AND e.id < d.id)))
        ORDER BY d.created_at, d.id
        LIMIT 1
    ) AS delivery_id
    FROM webhooks w JOIN organisations o ON o.id = w.organisation_id
    WHERE w.active = ? AND o.active = ?";

const LEASED_PER_ORGANISATION: &str = "
    SELECT w.organisation_id AS organisation_id, COUNT(*) AS n
    FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.status = 'PENDING' AND d.claimed_until >= ?
    GROUP BY w.organisation_id";

const OLDEST_PER_ENDPOINT: &str = "
    SELECT (
        SELECT d.created_at FROM webhook_deliveries d
        WHERE d.webhook_id = w.id AND d.status = 'PENDING'
        ORDER BY d.created_at, d.id
        LIMIT 1
    ) AS oldest
    FROM webhooks w JOIN organisations o ON o.id = w.organisation_id
    WHERE w.active = ? AND o.active = ?";

/// Each enabled endpoint's next delivery, at most one an endpoint: an endpoint gets one attempt
/// at a time, in order.
pub async fn candidates(db: &impl ConnectionTrait, now: DateTime<Utc>) -> anyhow::Result<Vec<Candidate>> {
    let rows = db
        .query_all_raw(statement(
            db,
            NEXT_PER_ENDPOINT,
            vec![now.into(), now.into(), true.into(), true.into()],
        ))
        .await?;
    let ids: Vec<(Uuid, Uuid)> = rows
        .iter()
        .filter_map(|row| {
            let delivery: Option<Uuid> = row.try_get("", "delivery_id").ok().flatten();
            let organisation: Uuid = row.try_get("", "organisation_id").ok()?;
            delivery.map(|d| (d, organisation))
        })
        .collect();
    // The creation times, for the order (the id alone, a v7 UUID, would nearly do).
    let created = creation_times(db, ids.iter().map(|(d, _)| *d).collect()).await?;
    Ok(ids
        .into_iter()
        .filter_map(|(delivery, organisation)| {
            created.get(&delivery).map(|&created_at| Candidate { delivery, organisation, created_at })
        })
        .collect())
}

async fn creation_times(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> anyhow::Result<HashMap<Uuid, DateTime<Utc>>> {
    use entities::webhook_delivery::{Column, Entity};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, DateTime<Utc>)> = Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::CreatedAt)
        .filter(Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The deliveries each organisation has in flight now, over every process (by their leases).
pub async fn leased(db: &impl ConnectionTrait, now: DateTime<Utc>) -> anyhow::Result<HashMap<Uuid, usize>> {
    let rows = db.query_all_raw(statement(db, LEASED_PER_ORGANISATION, vec![now.into()])).await?;
    let mut out = HashMap::new();
    for row in rows {
        let organisation: Uuid = row.try_get("", "organisation_id")?;
        let n: i64 = row.try_get("", "n")?;
        out.insert(organisation, n.max(0) as usize);
    }
    Ok(out)
}

/// When the oldest delivery still pending for an enabled endpoint was made (those of a disabled
/// one wait for it to be enabled again, which is no backlog of ours).
pub async fn oldest_pending(db: &impl ConnectionTrait) -> anyhow::Result<Option<DateTime<Utc>>> {
    let rows = db.query_all_raw(statement(db, OLDEST_PER_ENDPOINT, vec![true.into(), true.into()])).await?;
    Ok(rows.iter().filter_map(|row| row.try_get::<Option<DateTime<Utc>>>("", "oldest").ok().flatten()).min())
}

/// At most `free` candidates, organisations in turn: first those with the fewest deliveries in
/// flight (one with none goes first), then by their oldest candidate; one candidate an
/// organisation a turn, and none beyond `per_organisation` in flight.
pub fn choose(
    mut candidates: Vec<Candidate>,
    in_flight: &HashMap<Uuid, usize>,
    free: usize,
    per_organisation: usize,
) -> Vec<Candidate> {
    candidates.sort_by_key(|c| (c.created_at, c.delivery));
    let mut queues: Vec<(Uuid, std::collections::VecDeque<Candidate>)> = Vec::new();
    for candidate in candidates {
        match queues.iter_mut().find(|(org, _)| *org == candidate.organisation) {
            Some((_, queue)) => queue.push_back(candidate),
            None => queues.push((candidate.organisation, [candidate].into())),
        }
    }
    let busy = |org: &Uuid| in_flight.get(org).copied().unwrap_or(0);
    // Stable: among organisations equally busy, the one with the oldest candidate first.
    queues.sort_by_key(|(org, _)| busy(org));
    let mut taken: HashMap<Uuid, usize> = HashMap::new();
    let mut chosen = Vec::new();
    while chosen.len() < free {
        let mut progressed = false;
        for (org, queue) in queues.iter_mut() {
            if chosen.len() == free {
                break;
            }
            let count = taken.entry(*org).or_default();
            if busy(org) + *count >= per_organisation {
                continue;
            }
            if let Some(candidate) = queue.pop_front() {
                *count += 1;
                chosen.push(candidate);
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    chosen
}

/// A statement with `?` placeholders, numbered as PostgreSQL writes them (`$1`, `$2`, …).
fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
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
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

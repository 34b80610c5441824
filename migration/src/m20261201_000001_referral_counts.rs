//! Referrals counted per organisation, direction and status, kept by the database itself.
//!
//! A partner's inbox asks for its `totalCount`: an exact `COUNT(*)` over its 25,000 incoming
//! referrals was 40 % of PostgreSQL's time per request (3.7 ms as an index-only scan), and it
//! grows with the network. The counts here are changed by triggers, in the transaction that
//! inserts, changes or deletes a referral, so they are exact at every commit whatever door wrote
//! (the API, the demo loader, an erasure, the retention run) and cost a few rows to sum.
//!
//! Each referral counts twice: once for its recipient (`in`) and once for its sender (`out`).
//! On PostgreSQL a count is spread over 16 slots, a referral's slot taken from its id: a count
//! row stays locked until its transaction commits, and with one row per count every referral
//! created for one partner waited for the one before it (the write loop of `bench/run.sh` lost a
//! third of its throughput). A trigger changes its rows in one statement, in key order, so that
//! two transactions changing the same counts take their row locks in the same order and cannot
//! deadlock each other. SQLite writes one transaction at a time: one slot there.

use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_referral_counts"
    }
}

const TABLE: &str = "
CREATE TABLE referral_counts (
    organisation_id UUID NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    status TEXT NOT NULL,
    slot SMALLINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, direction, status, slot)
)";

const FILL: &str = "
INSERT INTO referral_counts (organisation_id, direction, status, slot, n)
SELECT recipient_id, 'in', status, 0, count(*) FROM referrals GROUP BY recipient_id, status
UNION ALL
SELECT sender_id, 'out', status, 0, count(*) FROM referrals GROUP BY sender_id, status";

/// PostgreSQL's counts made again from the table, each referral in its trigger's slot.
const POSTGRES_REFILL: &str = "
INSERT INTO referral_counts (organisation_id, direction, status, slot, n)
SELECT recipient_id, 'in', status, get_byte(uuid_send(id), 15) % 16, count(*) FROM referrals GROUP BY 1, 3, 4
UNION ALL
SELECT sender_id, 'out', status, get_byte(uuid_send(id), 15) % 16, count(*) FROM referrals GROUP BY 1, 3, 4";

/// Before writing referrals in bulk in one transaction (the demo loader): on PostgreSQL the
/// trigger would change the same few thousand count rows millions of times in that transaction,
/// and every change leaves a row version that nothing can prune before the commit — measured
/// with a million referrals: the counts table grew to 86 MB for a few thousand live rows and the
/// load slowed down as it went (it had not finished after 40 minutes). The trigger is off for the
/// rest of `txn` (which locks the referrals table until it ends); [`count_referrals_again`] must
/// follow in the same transaction. SQLite changes its count rows in place: nothing to do there.
pub async fn pause_referral_counts(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("ALTER TABLE referrals DISABLE TRIGGER referral_counts_keep").await?;
    }
    Ok(())
}

/// After [`pause_referral_counts`]: the trigger on again and every count made once from the table.
pub async fn count_referrals_again(txn: &impl ConnectionTrait) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("ALTER TABLE referrals ENABLE TRIGGER referral_counts_keep").await?;
        txn.execute_unprepared("DELETE FROM referral_counts").await?;
        txn.execute_unprepared(POSTGRES_REFILL).await?;
    }
    Ok(())
}

const POSTGRES_FUNCTION: &str = "
CREATE FUNCTION referral_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.status = NEW.status AND OLD.sender_id = NEW.sender_id
     AND OLD.recipient_id = NEW.recipient_id THEN
    RETURN NULL;
  END IF;
  INSERT INTO referral_counts AS c (organisation_id, direction, status, slot, n)
  SELECT organisation_id, direction, status, slot, sum(d) FROM (
    SELECT NEW.recipient_id, 'in', NEW.status, get_byte(uuid_send(NEW.id), 15) % 16, 1 WHERE TG_OP <> 'DELETE'
    UNION ALL SELECT NEW.sender_id, 'out', NEW.status, get_byte(uuid_send(NEW.id), 15) % 16, 1 WHERE TG_OP <> 'DELETE'
    UNION ALL SELECT OLD.recipient_id, 'in', OLD.status, get_byte(uuid_send(OLD.id), 15) % 16, -1 WHERE TG_OP <> 'INSERT'
    UNION ALL SELECT OLD.sender_id, 'out', OLD.status, get_byte(uuid_send(OLD.id), 15) % 16, -1 WHERE TG_OP <> 'INSERT'
  ) AS change (organisation_id, direction, status, slot, d)
  GROUP BY organisation_id, direction, status, slot
  HAVING sum(d) <> 0
  ORDER BY organisation_id, direction, status, slot
  ON CONFLICT (organisation_id, direction, status, slot) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END
$$";

const POSTGRES_TRIGGER: &str = "
CREATE TRIGGER referral_counts_keep AFTER INSERT OR DELETE OR UPDATE OF status, sender_id, recipient_id
ON referrals FOR EACH ROW EXECUTE FUNCTION referral_counts_keep()";

// SQLite writes one transaction at a time: no lock order to keep.
const SQLITE_TRIGGERS: [&str; 3] = [
    "CREATE TRIGGER referral_counts_insert AFTER INSERT ON referrals BEGIN
  INSERT INTO referral_counts (organisation_id, direction, status, slot, n)
  VALUES (new.recipient_id, 'in', new.status, 0, 1), (new.sender_id, 'out', new.status, 0, 1)
  ON CONFLICT (organisation_id, direction, status, slot) DO UPDATE SET n = n + excluded.n;
END",
    "CREATE TRIGGER referral_counts_update AFTER UPDATE OF status, sender_id, recipient_id ON referrals
  WHEN old.status IS NOT new.status OR old.sender_id IS NOT new.sender_id OR old.recipient_id IS NOT new.recipient_id BEGIN
  UPDATE referral_counts SET n = n - 1
  WHERE slot = 0 AND ((organisation_id = old.recipient_id AND direction = 'in' AND status = old.status)
     OR (organisation_id = old.sender_id AND direction = 'out' AND status = old.status));
  INSERT INTO referral_counts (organisation_id, direction, status, slot, n)
  VALUES (new.recipient_id, 'in', new.status, 0, 1), (new.sender_id, 'out', new.status, 0, 1)
  ON CONFLICT (organisation_id, direction, status, slot) DO UPDATE SET n = n + excluded.n;
END",
    "CREATE TRIGGER referral_counts_delete AFTER DELETE ON referrals BEGIN
  UPDATE referral_counts SET n = n - 1
  WHERE slot = 0 AND ((organisation_id = old.recipient_id AND direction = 'in' AND status = old.status)
     OR (organisation_id = old.sender_id AND direction = 'out' AND status = old.status));
END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let txn = manager.get_connection().begin().await?;
        txn.execute_unprepared(TABLE).await?;
        txn.execute_unprepared(FILL).await?;
        if manager.get_database_backend() == DbBackend::Sqlite {
            for trigger in SQLITE_TRIGGERS {
                txn.execute_unprepared(trigger).await?;
            }
        } else {
            txn.execute_unprepared(POSTGRES_FUNCTION).await?;
            txn.execute_unprepared(POSTGRES_TRIGGER).await?;
        }
        txn.commit().await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let txn = manager.get_connection().begin().await?;
        if manager.get_database_backend() == DbBackend::Sqlite {
            for name in ["referral_counts_insert", "referral_counts_update", "referral_counts_delete"] {
                txn.execute_unprepared(&format!("DROP TRIGGER {name}")).await?;
            }
        } else {
            txn.execute_unprepared("DROP TRIGGER referral_counts_keep ON referrals").await?;
            txn.execute_unprepared("DROP FUNCTION referral_counts_keep()").await?;
        }
        txn.execute_unprepared("DROP TABLE referral_counts").await?;
        txn.commit().await
    }
}

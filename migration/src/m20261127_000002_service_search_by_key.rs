//! SQLite's search index is kept by triggers that found a service's entry by scanning the whole
//! index (`service_id` is an UNINDEXED column of the FTS5 table): every update of a service cost
//! a pass over all of them, and re-importing a social map of 10,000 services took 50 s instead of
//! 4. Now a small keyed table remembers which index row holds which service, and the triggers
//! only touch the index when the name or description did change. PostgreSQL's index is a
//! generated column: nothing to do there.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000002_service_search_by_key"
    }
}

const SQLITE_UP: &str = "
DROP TRIGGER services_fts_insert;
DROP TRIGGER services_fts_update;
DROP TRIGGER services_fts_delete;
CREATE TABLE services_fts_rows (service_id UUID PRIMARY KEY, fts_rowid INTEGER NOT NULL);
INSERT INTO services_fts_rows (service_id, fts_rowid) SELECT service_id, rowid FROM services_fts;
CREATE TRIGGER services_fts_insert AFTER INSERT ON services BEGIN
  INSERT INTO services_fts (service_id, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
  INSERT INTO services_fts_rows (service_id, fts_rowid) VALUES (new.id, last_insert_rowid());
END;
CREATE TRIGGER services_fts_update AFTER UPDATE OF name, description ON services
  WHEN old.name IS NOT new.name OR old.description IS NOT new.description BEGIN
  DELETE FROM services_fts WHERE rowid = (SELECT fts_rowid FROM services_fts_rows WHERE service_id = old.id);
  DELETE FROM services_fts_rows WHERE service_id = old.id;
  INSERT INTO services_fts (service_id, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
  INSERT INTO services_fts_rows (service_id, fts_rowid) VALUES (new.id, last_insert_rowid());
END;
CREATE TRIGGER services_fts_delete AFTER DELETE ON services BEGIN
  DELETE FROM services_fts WHERE rowid = (SELECT fts_rowid FROM services_fts_rows WHERE service_id = old.id);
  DELETE FROM services_fts_rows WHERE service_id = old.id;
END;
";

const SQLITE_DOWN: &str = "
DROP TRIGGER services_fts_insert;
DROP TRIGGER services_fts_update;
DROP TRIGGER services_fts_delete;
DROP TABLE services_fts_rows;
CREATE TRIGGER services_fts_insert AFTER INSERT ON services BEGIN
  INSERT INTO services_fts (service_id, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
END;
CREATE TRIGGER services_fts_update AFTER UPDATE OF name, description ON services BEGIN
  DELETE FROM services_fts WHERE service_id = old.id;
  INSERT INTO services_fts (service_id, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
END;
CREATE TRIGGER services_fts_delete AFTER DELETE ON services BEGIN
  DELETE FROM services_fts WHERE service_id = old.id;
END;
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run_triggers(manager, SQLITE_UP).await,
            _ => Ok(()),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run_triggers(manager, SQLITE_DOWN).await,
            _ => Ok(()),
        }
    }
}

/// Runs a script whose triggers hold `;` inside `BEGIN … END`: statements end at a `;` that
/// closes a line outside a trigger body.
async fn run_triggers(manager: &SchemaManager<'_>, script: &str) -> Result<(), DbErr> {
    use sea_orm::TransactionTrait;
    let txn = manager.get_connection().begin().await?;
    let mut statement = String::new();
    for line in script.lines().filter(|l| !l.trim().is_empty()) {
        statement.push_str(line);
        statement.push('\n');
        let in_trigger = statement.trim_start().starts_with("CREATE TRIGGER");
        let ends = if in_trigger { line.trim_end() == "END;" } else { line.trim_end().ends_with(';') };
        if ends {
            txn.execute_unprepared(statement.trim().trim_end_matches(';')).await?;
            statement.clear();
        }
    }
    txn.commit().await
}

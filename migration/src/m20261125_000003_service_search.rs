//! Full-text search over the social map: words and word prefixes of a service's name and
//! description, accent- and case-insensitive, name hits ranked above description hits.
//!
//! - PostgreSQL: a `wzh_dutch` configuration (the Dutch parser, with `unaccent` then `simple`:
//!   no stemming, so that results equal SQLite's) feeding a generated, GIN-indexed `tsvector`.
//! - SQLite: an FTS5 table (`unicode61`, diacritics removed) kept by triggers, keyed by service id.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000003_service_search"
    }
}

const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION wzh_dutch (COPY = dutch)",
    "ALTER TEXT SEARCH CONFIGURATION wzh_dutch
       ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH unaccent, simple",
    "ALTER TABLE services ADD COLUMN search tsvector GENERATED ALWAYS AS (
       setweight(to_tsvector('wzh_dutch'::regconfig, coalesce(name, '')), 'A') ||
       setweight(to_tsvector('wzh_dutch'::regconfig, coalesce(description, '')), 'B')) STORED",
    "CREATE INDEX services_search ON services USING GIN (search)",
];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE services_fts USING fts5(service_id UNINDEXED, name, description,
       tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER services_fts_insert AFTER INSERT ON services BEGIN
       INSERT INTO services_fts (service_id, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
     END",
    "CREATE TRIGGER services_fts_update AFTER UPDATE OF name, description ON services BEGIN
       DELETE FROM services_fts WHERE service_id = old.id;
       INSERT INTO services_fts (service_id, name, description) VALUES (new.id, new.name, coalesce(new.description, ''));
     END",
    "CREATE TRIGGER services_fts_delete AFTER DELETE ON services BEGIN
       DELETE FROM services_fts WHERE service_id = old.id;
     END",
    "INSERT INTO services_fts (service_id, name, description) SELECT id, name, coalesce(description, '') FROM services",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_UP,
            _ => SQLITE_UP,
        };
        for statement in statements {
            manager.get_connection().execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "DROP INDEX services_search",
                "ALTER TABLE services DROP COLUMN search",
                "DROP TEXT SEARCH CONFIGURATION wzh_dutch",
            ],
            _ => &[
                "DROP TRIGGER services_fts_insert",
                "DROP TRIGGER services_fts_update",
                "DROP TRIGGER services_fts_delete",
                "DROP TABLE services_fts",
            ],
        };
        for statement in statements {
            manager.get_connection().execute_unprepared(statement).await?;
        }
        Ok(())
    }
}

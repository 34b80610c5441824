//! The daily work of the house's staff: case notes on a client (optionally on one of its help
//! requests) kept in versions, help requests closed with an outcome, and the trace of merged
//! duplicate clients.
//!
//! - `case_notes` is rebuilt (SQLite cannot drop a NOT NULL): a note now belongs to a client, its
//!   help request is optional, and a correction is a new row of the same `thread_id` with the
//!   next `version`; the corrected row keeps its text and gets `superseded_at`. The unique
//!   (thread_id, version) lets exactly one of two corrections of one version win. `noted_at` is
//!   when the first version was written: a note keeps its place in the timeline when corrected.
//!   Existing notes become version 1 of their own thread, on their help request's client.
//! - `help_requests` gain the outcome they were closed with, and who closed them.
//! - `client_merges`: which duplicate went into which client, when, by whom and what moved. The
//!   duplicate's row is gone after a merge; its id lives on here (and in the audit log, which is
//!   append-only and so is read through this table rather than rewritten).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000020_daily_work"
    }
}

const UP: &str = "
CREATE TABLE case_notes_versioned (
    id UUID PRIMARY KEY,
    client_id UUID NOT NULL REFERENCES clients (id),
    help_request_id UUID REFERENCES help_requests (id),
    thread_id UUID NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    author_id UUID NOT NULL REFERENCES users (id),
    body TEXT NOT NULL CHECK (length(body) > 0),
    shared_with_client BOOLEAN NOT NULL DEFAULT FALSE,
    noted_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    superseded_at TIMESTAMPTZ,
    CHECK ((version = 1) = (thread_id = id)),
    CONSTRAINT case_notes_one_version UNIQUE (thread_id, version)
);
INSERT INTO case_notes_versioned
    (id, client_id, help_request_id, thread_id, version, author_id, body, shared_with_client,
     noted_at, created_at, superseded_at)
    SELECT n.id, h.client_id, n.help_request_id, n.id, 1, n.author_id, n.body, FALSE,
           n.created_at, n.created_at, NULL
    FROM case_notes n JOIN help_requests h ON h.id = n.help_request_id;
DROP TABLE case_notes;
ALTER TABLE case_notes_versioned RENAME TO case_notes;
CREATE INDEX case_notes_client ON case_notes (client_id, noted_at);
CREATE INDEX case_notes_help_request ON case_notes (help_request_id, noted_at);

ALTER TABLE help_requests ADD COLUMN outcome TEXT;
ALTER TABLE help_requests ADD COLUMN closed_by UUID REFERENCES users (id);

CREATE TABLE client_merges (
    id UUID PRIMARY KEY,
    kept_client_id UUID NOT NULL REFERENCES clients (id),
    merged_client_id UUID NOT NULL,
    merged_by UUID REFERENCES users (id),
    merged_at TIMESTAMPTZ NOT NULL,
    moved TEXT NOT NULL,
    CHECK (kept_client_id <> merged_client_id),
    CONSTRAINT client_merges_once UNIQUE (merged_client_id)
);
CREATE INDEX client_merges_kept ON client_merges (kept_client_id);
";

// Back to notes on help requests only: a note without one, and every earlier version, is lost.
const DOWN: &str = "
DROP TABLE client_merges;
ALTER TABLE help_requests DROP COLUMN closed_by;
ALTER TABLE help_requests DROP COLUMN outcome;
CREATE TABLE case_notes_unversioned (
    id UUID PRIMARY KEY,
    help_request_id UUID NOT NULL REFERENCES help_requests (id),
    author_id UUID NOT NULL REFERENCES users (id),
    body TEXT NOT NULL CHECK (length(body) > 0),
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO case_notes_unversioned (id, help_request_id, author_id, body, created_at)
    SELECT id, help_request_id, author_id, body, created_at FROM case_notes
    WHERE help_request_id IS NOT NULL AND superseded_at IS NULL;
DROP TABLE case_notes;
ALTER TABLE case_notes_unversioned RENAME TO case_notes;
CREATE INDEX case_notes_help_request ON case_notes (help_request_id, created_at);
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}

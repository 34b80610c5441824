//! The audit trail keeps the server's own request id apart from the id the caller sent: a caller
//! choosing its `X-Request-Id` must not be able to make its rows look like another request's.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000001_audit_caller_request_id"
    }
}

const UP: &str = "ALTER TABLE audit_log ADD COLUMN caller_request_id TEXT;";
const DOWN: &str = "ALTER TABLE audit_log DROP COLUMN caller_request_id;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}

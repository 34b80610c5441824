//! The webhook queue read per endpoint: each endpoint's oldest pending delivery, and the
//! deliveries leased right now, are found through partial indexes over pending rows only, so
//! that claiming costs the same however many deliveries wait (a backlog of a million, built by
//! one partner, made every claim rank them all).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000001_webhook_queue"
    }
}

const UP: &str = "
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, created_at, id) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (claimed_until) WHERE status = 'PENDING'
";

const DOWN: &str = "
DROP INDEX webhook_deliveries_leased;
DROP INDEX webhook_deliveries_pending
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

//! Database migrations. They are written in the subset of SQL that SQLite and PostgreSQL read
//! alike, so one file describes the schema exactly on both: a reviewer sees every constraint and
//! index here, with no builder in between.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_network;
mod m20261125_000002_audit_append_only;
mod m20261125_000003_service_search;
mod m20261125_000004_partner_indexes;
mod m20261126_000001_audit_caller_request_id;
mod m20261126_000002_administration;
mod m20261126_000010_office_hours_closures;
mod m20261126_000020_daily_work;
mod m20261127_000001_users_oidc_subject;
mod m20261127_000002_service_search_by_key;
mod m20261128_000001_the_client;
mod m20261129_000001_webhooks;
mod m20261130_000001_webhook_queue;
mod m20261130_000002_social_map_provenance;
mod m20261201_000001_referral_counts;

pub use m20261201_000001_referral_counts::{count_referrals_again, pause_referral_counts};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_network::Migration),
            Box::new(m20261125_000002_audit_append_only::Migration),
            Box::new(m20261125_000003_service_search::Migration),
            Box::new(m20261125_000004_partner_indexes::Migration),
            Box::new(m20261126_000001_audit_caller_request_id::Migration),
            Box::new(m20261126_000002_administration::Migration),
            Box::new(m20261127_000001_users_oidc_subject::Migration),
            Box::new(m20261126_000020_daily_work::Migration),
            Box::new(m20261127_000002_service_search_by_key::Migration),
            Box::new(m20261126_000010_office_hours_closures::Migration),
            Box::new(m20261128_000001_the_client::Migration),
            Box::new(m20261129_000001_webhooks::Migration),
            Box::new(m20261130_000001_webhook_queue::Migration),
            Box::new(m20261130_000002_social_map_provenance::Migration),
            Box::new(m20261201_000001_referral_counts::Migration),
        ]
    }
}

/// Runs each `;`-terminated statement of a portable SQL script, all in one transaction: on one
/// connection, all or nothing. (Spread over a SQLite pool, a `DROP INDEX` on one connection was
/// not always seen by the `CREATE INDEX` of the same name on the next.)
pub(crate) async fn run_script(manager: &SchemaManager<'_>, script: &str) -> Result<(), DbErr> {
    use sea_orm::TransactionTrait;
    let txn = manager.get_connection().begin().await?;
    for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        txn.execute_unprepared(statement).await?;
    }
    txn.commit().await
}

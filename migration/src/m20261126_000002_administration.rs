//! Running the network through the API: an organisation can be deactivated (its users lose
//! access, its history stays), a partner of a kind the enum does not name carries a free label,
//! and the network has exactly one welfare house (the one every staff member belongs to).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000002_administration"
    }
}

const UP: &str = "
ALTER TABLE organisations ADD COLUMN kind_label TEXT;
ALTER TABLE organisations ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE organisations ADD COLUMN deactivated_at TIMESTAMPTZ;
CREATE UNIQUE INDEX organisations_one_welfare_house ON organisations (kind) WHERE kind = 'WELFARE_HOUSE';
CREATE INDEX users_role_active ON users (role, active);
";
const DOWN: &str = "
DROP INDEX users_role_active;
DROP INDEX organisations_one_welfare_house;
ALTER TABLE organisations DROP COLUMN deactivated_at;
ALTER TABLE organisations DROP COLUMN active;
ALTER TABLE organisations DROP COLUMN kind_label;
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

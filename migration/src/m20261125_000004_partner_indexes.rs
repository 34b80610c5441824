//! A partner's referrals are `sender_id = org OR recipient_id = org`, narrowed further by the
//! inbox's direction. With the other side of the pair in the index, PostgreSQL counts a partner's
//! inbox (`totalCount`) by an index-only scan: measured over 25,000 incoming referrals, 3.7 ms
//! instead of 12 ms (a bitmap scan that rechecked every heap row). The page itself still walks
//! the index newest first.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_partner_indexes"
    }
}

const UP: &str = "
DROP INDEX referrals_recipient;
DROP INDEX referrals_sender;
CREATE INDEX referrals_recipient ON referrals (recipient_id, created_at, id, sender_id);
CREATE INDEX referrals_sender ON referrals (sender_id, created_at, id, recipient_id);
";

const DOWN: &str = "
DROP INDEX referrals_recipient;
DROP INDEX referrals_sender;
CREATE INDEX referrals_recipient ON referrals (recipient_id, created_at);
CREATE INDEX referrals_sender ON referrals (sender_id, created_at);
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

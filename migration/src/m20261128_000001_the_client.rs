//! The client's own place: what the citizen did themself (gave or withdrew a consent, booked an
//! appointment) is told apart from what staff recorded at the desk; a referral's recipient can
//! write a note meant for the client; a client can be erased (the record's shape kept, its
//! personal data gone) or held from erasure by a legal hold.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000001_the_client"
    }
}

const UP: &str = "
ALTER TABLE consents ADD COLUMN given_by_client BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE consents ADD COLUMN revoked_by_client BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE appointments ADD COLUMN booked_by_client BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE referral_events ADD COLUMN note_for_client TEXT;
ALTER TABLE clients ADD COLUMN erased_at TIMESTAMPTZ;
ALTER TABLE clients ADD COLUMN legal_hold_at TIMESTAMPTZ;
ALTER TABLE clients ADD COLUMN legal_hold_reason TEXT;
CREATE INDEX clients_erased ON clients (erased_at)
";

const DOWN: &str = "
DROP INDEX clients_erased;
ALTER TABLE clients DROP COLUMN legal_hold_reason;
ALTER TABLE clients DROP COLUMN legal_hold_at;
ALTER TABLE clients DROP COLUMN erased_at;
ALTER TABLE referral_events DROP COLUMN note_for_client;
ALTER TABLE appointments DROP COLUMN booked_by_client;
ALTER TABLE consents DROP COLUMN revoked_by_client;
ALTER TABLE consents DROP COLUMN given_by_client
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

//! Where a social map entry came from: read from another house's HSDS API by a federation
//! import (its base URL), or kept by this house itself (`NULL`). A feed may change only the
//! entries it brought: a neighbour's feed that lists this house's own services (as two houses
//! federating both ways do) or names them by id cannot rewrite them.
//!
//! And what a service's last import said (a digest of its record): a record that says the same
//! again changes nothing, not even the service's `last_modified`, so that a nightly federation
//! does not make every service look modified to those who sync incrementally; and an index on
//! the time a service last changed, which `modified_after` reads.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000002_social_map_provenance"
    }
}

const UP: &str = "
ALTER TABLE organisations ADD COLUMN imported_from TEXT;
ALTER TABLE services ADD COLUMN imported_from TEXT;
ALTER TABLE services ADD COLUMN import_digest TEXT;
ALTER TABLE locations ADD COLUMN imported_from TEXT;
CREATE INDEX services_updated ON services (updated_at, id)
";

const DOWN: &str = "
DROP INDEX services_updated;
ALTER TABLE locations DROP COLUMN imported_from;
ALTER TABLE services DROP COLUMN import_digest;
ALTER TABLE services DROP COLUMN imported_from;
ALTER TABLE organisations DROP COLUMN imported_from
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

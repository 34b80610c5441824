//! A user's subject (`sub`) at the house's OpenID Connect provider, pinned on their first sign-in
//! through the provider's verified `email` claim. Unique, so that one sign-in can never stand for
//! two users; nullable, since a user who never signed in that way has none (both databases let a
//! unique index hold many NULLs).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_users_oidc_subject"
    }
}

const UP: &str = "
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject);
";

const DOWN: &str = "
DROP INDEX users_oidc_subject;
ALTER TABLE users DROP COLUMN oidc_subject;
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

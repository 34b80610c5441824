//! The trace of a merge: a duplicate client whose help requests, consents, referrals,
//! appointments and case notes went to the kept client, and whose own row is gone.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "client_merges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kept_client_id: Uuid,
    /// The duplicate's id: it no longer exists as a client.
    pub merged_client_id: Uuid,
    pub merged_by: Option<Uuid>,
    pub merged_at: DateTimeUtc,
    /// What moved, per table: `appointments=1,case_notes=2,…`.
    pub moved: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

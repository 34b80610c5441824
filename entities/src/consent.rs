//! What a client agreed to share with one recipient organisation, and for what.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub recipient_id: Uuid,
    pub scope_identity: bool,
    pub scope_contact: bool,
    pub scope_national_number: bool,
    pub scope_situation: bool,
    pub purpose: String,
    pub recorded_by: Option<Uuid>,
    pub given_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
    /// Given by the client themself (signed in), rather than recorded by staff at the desk.
    pub given_by_client: bool,
    /// Withdrawn by the client themself.
    pub revoked_by_client: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

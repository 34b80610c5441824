//! An append-only record of a read of personal data or of a change.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub user_id: Option<Uuid>,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    /// Comma-separated data categories read.
    pub categories: Option<String>,
    /// The operation's name as the caller sent it.
    pub operation_name: Option<String>,
    /// The server's own id of the request.
    pub request_id: Option<String>,
    /// The id the caller sent with the request (`X-Request-Id`), as the caller's word.
    pub caller_request_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

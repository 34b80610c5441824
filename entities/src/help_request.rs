//! A client's welfare question as taken in at the desk.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "help_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub summary: String,
    /// desk, phone, e-mail, outreach or partner office hour.
    pub channel: String,
    pub status: HelpRequestStatus,
    pub opened_by: Option<Uuid>,
    pub opened_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    /// What came of it, as written when it was closed by hand (none when its last referral closed it).
    pub outcome: Option<String>,
    pub closed_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

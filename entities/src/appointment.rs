//! A client's booked slot in a partner's office hours at the welfare house.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "appointments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub client_id: Uuid,
    pub referral_id: Option<Uuid>,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// Equal to `starts_at` while the booking stands, `None` once cancelled: a unique index on
    /// (organisation_id, active_slot) makes a double booking impossible on both databases.
    pub active_slot: Option<DateTimeUtc>,
    pub booked_by: Option<Uuid>,
    /// Booked by the client themself (signed in); `booked_by` is then empty.
    pub booked_by_client: bool,
    pub created_at: DateTimeUtc,
    pub cancelled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

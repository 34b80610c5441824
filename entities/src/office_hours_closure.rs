//! A partner's office hours closed on a day or a range of days (a holiday, a training day): no
//! slots on those days, and the appointments booked there were cancelled when it was made.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "office_hours_closures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// The first closed day (Europe/Brussels), inclusive.
    pub starts_on: Date,
    /// The last closed day, inclusive.
    pub ends_on: Date,
    /// Why, as the clients whose appointments it cancelled are told.
    pub reason: String,
    /// How many booked appointments the closure cancelled when it was made.
    pub cancelled_appointments: i32,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// Set when the closure was lifted: its days hold office hours again.
    pub lifted_at: Option<DateTimeUtc>,
    pub lifted_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

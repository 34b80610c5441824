//! A weekly opening interval of a service, in Europe/Brussels local time (HSDS schedule).

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "schedules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub service_id: Uuid,
    /// The location the hours hold for; `None` for every location of the service.
    pub location_id: Option<Uuid>,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// Minutes after local midnight; an interval past midnight is stored as two rows.
    pub opens_minute: i32,
    pub closes_minute: i32,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub description: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A partner's weekly office hours ("zitdag") at the welfare house, cut into bookable slots.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "office_hours")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub location_id: Uuid,
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// Minutes after local (Europe/Brussels) midnight.
    pub starts_minute: i32,
    pub ends_minute: i32,
    pub slot_minutes: i32,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

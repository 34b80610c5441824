//! An appointment a closure of office hours cancelled.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "office_hours_closure_appointments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub closure_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub appointment_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

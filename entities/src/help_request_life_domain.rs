//! A life domain a help request touches.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "help_request_life_domains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub help_request_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub life_domain: LifeDomain,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

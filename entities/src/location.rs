//! A place where services are delivered (HSDS location).

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "locations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Option<Uuid>,
    pub name: Option<String>,
    pub street: Option<String>,
    pub postcode: String,
    pub municipality: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// A confidential address (a shelter, say) is shown to staff only.
    pub confidential: bool,
    pub hsds_id: Option<String>,
    /// The HSDS API it was read from by a federation import (`…/hsds`); `None` for what this
    /// house keeps itself. A feed changes only what came from it.
    pub imported_from: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! A service on the social map (HSDS service).

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: ServiceStatus,
    pub eligibility: Option<String>,
    pub fees: Option<String>,
    pub application_process: Option<String>,
    /// When the entry was last checked.
    pub assured_date: Option<Date>,
    pub alert: Option<String>,
    pub hsds_id: Option<String>,
    /// The HSDS API it was read from by a federation import (`…/hsds`); `None` for what this
    /// house keeps itself. A feed changes only what came from it.
    pub imported_from: Option<String>,
    /// A digest of the record its last import gave (cleared by an edit here): the same record
    /// again changes nothing.
    pub import_digest: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

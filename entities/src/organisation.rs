//! An organisation of the network: the welfare house itself or a partner.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: OrganisationKind,
    pub is_network_partner: bool,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The identifier in the HSDS social map this row was imported from.
    pub hsds_id: Option<String>,
    /// The HSDS API it was read from by a federation import (`…/hsds`); `None` for what this
    /// house keeps itself. A feed changes only what came from it.
    pub imported_from: Option<String>,
    pub created_at: DateTimeUtc,
    /// What kind of partner an `OTHER` organisation is, in its own words.
    pub kind_label: Option<String>,
    /// An inactive organisation's users cannot sign in; its referrals and history stay.
    pub active: bool,
    pub deactivated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

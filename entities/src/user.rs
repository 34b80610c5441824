//! A person who signs in: staff of the welfare house or of a partner.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation_id: Uuid,
    pub active: bool,
    pub created_at: DateTimeUtc,
    /// Who this user is at the house's OpenID Connect provider (its `sub`), pinned on their first
    /// sign-in there by the provider's verified `email` claim; `None` until then.
    #[sea_orm(unique)]
    pub oidc_subject: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

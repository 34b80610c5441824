//! The people who sign in, for ADMIN.

use async_graphql::{Context, ID, Object};
use entities::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::connection::{Page, PageArgs, page};
use crate::error::ApiResult;
use crate::guards::RoleIn;
use crate::policy::ADMINISTRATORS;
use crate::types::me::User;
use crate::types::parse_id;

#[derive(Default)]
pub struct AdministrationQuery;

#[Object]
impl AdministrationQuery {
    /// Everyone with access (active or not), by name; narrowed to one organisation.
    #[graphql(
        guard = "RoleIn(ADMINISTRATORS)",
        visible = "crate::policy::visible::administration",
        complexity = "crate::connection::complexity(first, child_complexity)"
    )]
    async fn users(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<User>> {
        let mut select = user::Entity::find();
        if let Some(org) = organisation_id {
            select = select.filter(user::Column::OrganisationId.eq(parse_id(&org, "organisationId")?));
        }
        page(ctx, select, &PageArgs::new(first, after), User).await
    }
}

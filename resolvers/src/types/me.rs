use async_graphql::{Context, ID, Object};
use entities::user;

use super::client::Client;
use super::organisation::Organisation;
use super::{Role, id};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{ClientId, OrganisationId, request_loader};

/// Who you are to the API.
pub struct Me(pub Caller);

#[Object]
impl Me {
    /// Your role; PUBLIC without a token.
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn user(&self) -> Option<User> {
        self.0.user.clone().map(User)
    }
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Option<Organisation>> {
        let Some(org) = self.0.organisation_id() else {
            return Ok(None);
        };
        Ok(request_loader(ctx)?.load_one(OrganisationId(org)).await?.map(Organisation))
    }
    /// For a citizen signed in as themself (CLIENT): their own file.
    #[graphql(visible = "crate::policy::visible::own_file")]
    async fn client(&self, ctx: &Context<'_>) -> ApiResult<Option<Client>> {
        let Some(me) = self.0.client_id() else {
            return Ok(None);
        };
        Ok(request_loader(ctx)?.load_one(ClientId(me)).await?.map(Client))
    }
}

/// A person who signs in.
pub struct User(pub user::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        request_loader(ctx)?
            .load_one(OrganisationId(self.0.organisation_id))
            .await?
            .map(Organisation)
            .ok_or_else(|| ApiError::internal("user without organisation"))
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Whether an identity-provider account is linked to this person (at their first sign-in).
    async fn sign_in_linked(&self) -> bool {
        self.0.oidc_subject.is_some()
    }
}

impl crate::connection::Keyset for user::Entity {
    const KIND: &'static str = "user";
    const DESCENDING: bool = false;
    fn columns() -> Vec<user::Column> {
        vec![user::Column::Name, user::Column::Id]
    }
    fn key(model: &user::Model) -> Vec<crate::cursor::KeyPart> {
        vec![crate::cursor::KeyPart::Text(model.name.clone()), crate::cursor::KeyPart::Id(model.id)]
    }
}

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::consent;

use super::client::Client;
use super::organisation::Organisation;
use super::{ConsentScope, id};
use crate::error::{ApiError, ApiResult};
use crate::loaders::{ClientId, OrganisationId, request_loader};

/// What a client agreed to share with one organisation, and for what purpose.
pub struct Consent(pub consent::Model);

/// The scopes a consent row grants.
pub fn scopes_of(row: &consent::Model) -> Vec<entities::ConsentScope> {
    use entities::ConsentScope::*;
    [
        (Identity, row.scope_identity),
        (Contact, row.scope_contact),
        (NationalNumber, row.scope_national_number),
        (Situation, row.scope_situation),
    ]
    .into_iter()
    .filter_map(|(scope, granted)| granted.then_some(scope))
    .collect()
}

#[Object]
impl Consent {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn client(&self, ctx: &Context<'_>) -> ApiResult<Option<Client>> {
        Ok(request_loader(ctx)?.load_one(ClientId(self.0.client_id)).await?.map(Client))
    }
    /// The organisation the client agreed to share with.
    async fn recipient(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        request_loader(ctx)?
            .load_one(OrganisationId(self.0.recipient_id))
            .await?
            .map(Organisation)
            .ok_or_else(|| ApiError::internal("consent without recipient"))
    }
    async fn scopes(&self) -> Vec<ConsentScope> {
        scopes_of(&self.0).into_iter().map(Into::into).collect()
    }
    /// What the data may be used for.
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    async fn given_at(&self) -> DateTime<Utc> {
        self.0.given_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// Whether the consent still holds.
    async fn active(&self) -> bool {
        self.0.revoked_at.is_none()
    }
}

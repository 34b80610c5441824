use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entities::consent;

use super::client::Client;
use super::organisation::Organisation;
use super::{ConsentScope, id};
use crate::error::{ApiError, ApiResult};
use crate::loaders::{ClientId, OrganisationId, request_loader};

/// What a client agreed to share with one organisation, and for what purpose.
pub struct Consent(pub consent::Model);

/// Who gave or withdrew a consent.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConsentActor {
    /// The client themself, signed in.
    Client,
    /// The welfare house's staff, recording what the client said at the desk.
    Staff,
}

impl ConsentActor {
    fn of(by_client: bool) -> Self {
        if by_client { ConsentActor::Client } else { ConsentActor::Staff }
    }
}

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
    async fn scopes(&self, ctx: &Context<'_>) -> ApiResult<Vec<ConsentScope>> {
        crate::audit::record_read(ctx, self.0.client_id, "CONSENTS")?;
        Ok(scopes_of(&self.0).into_iter().map(Into::into).collect())
    }
    /// What the data may be used for.
    async fn purpose(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        crate::audit::record_read(ctx, self.0.client_id, "CONSENTS")?;
        Ok(&self.0.purpose)
    }
    async fn given_at(&self) -> DateTime<Utc> {
        self.0.given_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// Who gave the consent: the client themself, or staff recording it at the desk.
    async fn given_by(&self) -> ConsentActor {
        ConsentActor::of(self.0.given_by_client)
    }
    /// Who withdrew it, once revoked.
    async fn revoked_by(&self) -> Option<ConsentActor> {
        self.0.revoked_at.map(|_| ConsentActor::of(self.0.revoked_by_client))
    }
    /// The staff member who recorded it at the desk (none when the client gave it themself).
    #[graphql(
        guard = "crate::guards::RoleIn(crate::policy::CLIENT_STAFF)",
        visible = "crate::policy::visible::client_staff"
    )]
    async fn recorded_by_user_id(&self) -> Option<ID> {
        self.0.recorded_by.map(id)
    }
    /// Whether the consent still holds.
    async fn active(&self) -> bool {
        self.0.revoked_at.is_none()
    }
}

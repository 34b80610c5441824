//! The policy's field rules as async-graphql guards: `FORBIDDEN` at the field's path unless the
//! rule allows. They sit above the loaders (a partner's consent scopes are loaded for a whole
//! page at once) and below the types that use them; the rules themselves are in `policy`.

use async_graphql::{Context, Guard};
use entities::Role;
use uuid::Uuid;

use crate::error::ApiError;
use crate::loaders::{ConsentScopesOf, request_loader};
use crate::policy::{Category, ClientDataAccess, client_data_access, consent_opens};

/// A client data field: read by staff, by a partner when the client's active consent to its
/// organisation opens the field's category, by no one else. A read let through is audited.
pub struct ClientData {
    pub client_id: Uuid,
    pub category: Category,
}

impl ClientData {
    pub fn new(client_id: Uuid, category: Category) -> Self {
        ClientData { client_id, category }
    }
}

impl Guard for ClientData {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = crate::caller_of(ctx)?;
        let allowed = match client_data_access(caller) {
            ClientDataAccess::All => true,
            ClientDataAccess::PerConsent => {
                let scopes = request_loader(ctx)?.load_one(ConsentScopesOf(self.client_id)).await?;
                consent_opens(&scopes.unwrap_or_default(), self.category)
            }
            ClientDataAccess::Own(me) => me == self.client_id,
            ClientDataAccess::Nothing => false,
        };
        if allowed {
            crate::audit::record_read(ctx, self.client_id, self.category.consent_scope().as_str())?;
            Ok(())
        } else {
            Err(ApiError::Forbidden.into())
        }
    }
}

/// A field or mutation only some roles reach (one of `policy::roles`' sets).
pub struct RoleIn(pub &'static [Role]);

impl Guard for RoleIn {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let caller = crate::caller_of(ctx)?;
        if self.0.contains(&caller.role) { Ok(()) } else { Err(ApiError::Forbidden.into()) }
    }
}

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::audit_entry;

use super::organisation::Organisation;
use super::{Role, id};
use crate::connection::Keyset;
use crate::cursor::KeyPart;
use crate::error::ApiResult;
use crate::guards::RoleIn;
use crate::loaders::{OrganisationId, request_loader};
use crate::policy::AUDIT_READERS;

/// One entry of the append-only audit log: a read of client data or a change.
pub struct AuditEntry(pub audit_entry::Model);

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The person who read or changed (staff); the client's own access log names the
    /// organisation and role, not the person.
    #[graphql(guard = "RoleIn(AUDIT_READERS)", visible = "crate::policy::visible::audit_log")]
    async fn user_id(&self) -> Option<ID> {
        self.0.user_id.map(id)
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    async fn organisation_id(&self) -> Option<ID> {
        self.0.organisation_id.map(id)
    }
    /// The organisation of whoever read or changed (none for the client themself, or a
    /// command run on the server).
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Option<Organisation>> {
        let Some(org) = self.0.organisation_id else {
            return Ok(None);
        };
        Ok(request_loader(ctx)?.load_one(OrganisationId(org)).await?.map(Organisation))
    }
    /// READ, CREATE, REVOKE, STATUS_CHANGE …
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn subject_type(&self) -> &str {
        &self.0.subject_type
    }
    async fn subject_id(&self) -> Option<ID> {
        self.0.subject_id.map(id)
    }
    /// The client whose data was read or changed.
    async fn client_id(&self) -> Option<ID> {
        self.0.client_id.map(id)
    }
    /// The data categories read (IDENTITY, CONTACT, NATIONAL_NUMBER, SITUATION, CASE_NOTES,
    /// REFERRALS: a referral's reason, notes and history, CONSENTS, APPOINTMENTS).
    async fn categories(&self) -> Vec<String> {
        self.0.categories.as_deref().map(|c| c.split(',').map(str::to_owned).collect()).unwrap_or_default()
    }
    /// The operation name the caller gave its request: the caller's word, not checked (ADMIN
    /// only: staff choose it freely, so it is never shown to a client, whose log says what was
    /// done with `action` and `subjectType`).
    #[graphql(guard = "RoleIn(AUDIT_READERS)", visible = "crate::policy::visible::audit_log")]
    async fn caller_operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }
    /// The operation name the caller gave its request.
    #[graphql(
        deprecation = "the caller's word: read callerOperationName",
        guard = "RoleIn(AUDIT_READERS)",
        visible = "crate::policy::visible::audit_log"
    )]
    async fn operation_name(&self) -> Option<&str> {
        self.0.operation_name.as_deref()
    }
    /// The server's own id of the request (as in its log).
    #[graphql(guard = "RoleIn(AUDIT_READERS)", visible = "crate::policy::visible::audit_log")]
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// The id the caller sent with its request (`X-Request-Id`): the caller's word, not checked.
    #[graphql(guard = "RoleIn(AUDIT_READERS)", visible = "crate::policy::visible::audit_log")]
    async fn caller_request_id(&self) -> Option<&str> {
        self.0.caller_request_id.as_deref()
    }
}

impl Keyset for audit_entry::Entity {
    const KIND: &'static str = "audit";
    const DESCENDING: bool = true;
    fn columns() -> Vec<audit_entry::Column> {
        vec![audit_entry::Column::At, audit_entry::Column::Id]
    }
    fn key(model: &audit_entry::Model) -> Vec<KeyPart> {
        vec![KeyPart::Time(model.at), KeyPart::Id(model.id)]
    }
}

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::help_request;

use super::case_note::CaseNote;
use super::client::Client;
use super::{LifeDomain, id};
use crate::connection::{capped, caps};
use crate::error::ApiResult;
use crate::guards::{ClientData, RoleIn};
use crate::loaders::{CaseNotesOf, ClientId, HelpRequestLifeDomainsOf, request_loader};
use crate::policy::{CASE_NOTE_READERS, Category, OUTCOME_READERS};

/// A client's welfare question as taken in.
pub struct HelpRequest(pub help_request::Model);

#[Object]
impl HelpRequest {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn client(&self, ctx: &Context<'_>) -> ApiResult<Option<Client>> {
        Ok(request_loader(ctx)?.load_one(ClientId(self.0.client_id)).await?.map(Client))
    }
    #[graphql(guard = "ClientData::new(self.0.client_id, Category::Situation)")]
    async fn summary(&self) -> Option<&str> {
        Some(&self.0.summary)
    }
    async fn life_domains(&self, ctx: &Context<'_>) -> ApiResult<Vec<LifeDomain>> {
        crate::audit::record_read(ctx, self.0.client_id, "SITUATION")?;
        let domains = request_loader(ctx)?.load_one(HelpRequestLifeDomainsOf(self.0.id)).await?;
        Ok(domains.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    /// How the question came in: DESK, PHONE, EMAIL, OUTREACH or PARTNER_OFFICE_HOUR.
    async fn channel(&self) -> &str {
        &self.0.channel
    }
    /// OPEN or CLOSED.
    async fn status(&self) -> &str {
        self.0.status.as_str()
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    /// What came of it, as `closeHelpRequest` recorded it (`null` until then, also while its last
    /// referral's answer has closed it); like case notes, never shown to partners.
    #[graphql(guard = "RoleIn(OUTCOME_READERS)", visible = "crate::policy::visible::outcomes")]
    async fn outcome(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        crate::audit::record_read(ctx, self.0.client_id, "CASE_NOTES")?;
        Ok(self.0.outcome.as_deref())
    }
    /// The welfare house's most recent case notes on this help request (at most 50, each in its
    /// current version), oldest first; never shown to partners.
    #[graphql(
        guard = "RoleIn(CASE_NOTE_READERS)",
        visible = "crate::policy::visible::case_notes",
        complexity = "capped(caps::CASE_NOTES_PER_HELP_REQUEST, child_complexity)"
    )]
    async fn case_notes(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<CaseNote>>> {
        crate::audit::record_read(ctx, self.0.client_id, "CASE_NOTES")?;
        let notes = request_loader(ctx)?.load_one(CaseNotesOf(self.0.id)).await?;
        Ok(Some(notes.unwrap_or_default().into_iter().map(CaseNote).collect()))
    }
}

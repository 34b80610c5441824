use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::case_note;

use super::client::Client;
use super::help_request::HelpRequest;
use super::id;
use crate::connection::{capped, caps};
use crate::error::ApiResult;
use crate::loaders::{CaseNoteVersionsOf, ClientId, HelpRequestId, request_loader};

/// A note of the welfare house's staff on a client, and perhaps on one of its help requests;
/// never shown to partners. A correction is a new version: lists show a note's current version,
/// `versions` every one of them.
pub struct CaseNote(pub case_note::Model);

#[Object]
impl CaseNote {
    /// This version's id.
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Whether the client reads this note in their own view.
    async fn shared_with_client(&self) -> bool {
        self.0.shared_with_client
    }
    /// Who wrote this version (the house's staff see it; the client reads the note, not who
    /// of the staff wrote it).
    #[graphql(
        guard = "crate::guards::RoleIn(crate::policy::CLIENT_STAFF)",
        visible = "crate::policy::visible::client_staff"
    )]
    async fn author_id(&self) -> Option<ID> {
        Some(id(self.0.author_id))
    }
    /// When this version was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the note's first version was written: its place in the timeline.
    async fn noted_at(&self) -> DateTime<Utc> {
        self.0.noted_at
    }
    /// 1 for the note as first written, one more for each correction.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When a correction replaced this version; `null` for the current version.
    async fn superseded_at(&self) -> Option<DateTime<Utc>> {
        self.0.superseded_at
    }
    /// The id of the note's first version, shared by all its versions.
    async fn note_id(&self) -> ID {
        id(self.0.thread_id)
    }
    async fn client(&self, ctx: &Context<'_>) -> ApiResult<Option<Client>> {
        Ok(request_loader(ctx)?.load_one(ClientId(self.0.client_id)).await?.map(Client))
    }
    /// The help request the note is about, if any.
    async fn help_request(&self, ctx: &Context<'_>) -> ApiResult<Option<HelpRequest>> {
        let Some(help_request) = self.0.help_request_id else { return Ok(None) };
        Ok(request_loader(ctx)?.load_one(HelpRequestId(help_request)).await?.map(HelpRequest))
    }
    /// Every version of this note, the first first (at most the 20 most recent).
    #[graphql(complexity = "capped(caps::VERSIONS_PER_CASE_NOTE, child_complexity)")]
    async fn versions(&self, ctx: &Context<'_>) -> ApiResult<Vec<CaseNote>> {
        crate::audit::record_read(ctx, self.0.client_id, "CASE_NOTES")?;
        let versions = request_loader(ctx)?.load_one(CaseNoteVersionsOf(self.0.thread_id)).await?;
        Ok(versions.unwrap_or_default().into_iter().map(CaseNote).collect())
    }
}

use async_graphql::{Context, ID, Object};
use chrono::NaiveDate;
use entities::{client, referral};

use super::appointment::Appointment;
use super::case_note::CaseNote;
use super::consent::Consent;
use super::help_request::HelpRequest;
use super::referral::Referral;
use super::{Address, id};
use crate::connection::{Keyset, Page, PageArgs, Sort, capped, caps, nested_page};
use crate::cursor::KeyPart;
use crate::error::ApiResult;
use crate::guards::{ClientData, RoleIn};
use crate::loaders::{
    AppointmentsOf, CaseNotesOfClient, ChildCount, ClientReferralsPage, ConsentsOf, HelpRequestsOf,
    request_loader,
};
use crate::policy::Category::*;
use crate::policy::{CASE_NOTE_READERS, ERASERS, ERASURE_READERS};

/// A citizen with a welfare question, and the owner of their trajectory. Each personal field is
/// shown only to roles that read it; to a partner only in the categories the client consented to
/// share with its organisation.
pub struct Client(pub client::Model);

#[Object]
impl Client {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    #[graphql(guard = "ClientData::new(self.0.id, Identity)")]
    async fn given_name(&self) -> Option<&str> {
        Some(&self.0.given_name)
    }
    #[graphql(guard = "ClientData::new(self.0.id, Identity)")]
    async fn family_name(&self) -> Option<&str> {
        Some(&self.0.family_name)
    }
    #[graphql(guard = "ClientData::new(self.0.id, Identity)")]
    async fn date_of_birth(&self) -> Option<NaiveDate> {
        self.0.date_of_birth
    }
    /// The Belgian national register number (rijksregisternummer).
    #[graphql(guard = "ClientData::new(self.0.id, NationalNumber)")]
    async fn national_register_number(&self) -> Option<&str> {
        self.0.national_register_number.as_deref()
    }
    #[graphql(guard = "ClientData::new(self.0.id, Contact)")]
    async fn address(&self) -> Option<Address> {
        Address::from_parts(self.0.street.clone(), self.0.postcode.clone(), self.0.municipality.clone())
    }
    #[graphql(guard = "ClientData::new(self.0.id, Contact)")]
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    #[graphql(guard = "ClientData::new(self.0.id, Contact)")]
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    #[graphql(guard = "ClientData::new(self.0.id, Contact)")]
    async fn preferred_language(&self) -> Option<&str> {
        self.0.preferred_language.as_deref()
    }
    /// The client's most recent help requests (at most 20), oldest first (for a partner: only
    /// with SITUATION consent).
    #[graphql(complexity = "capped(caps::HELP_REQUESTS_PER_CLIENT, child_complexity)")]
    async fn help_requests(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<HelpRequest>>> {
        let rows = request_loader(ctx)?.load_one(HelpRequestsOf(self.0.id)).await?;
        Ok(Some(rows.unwrap_or_default().into_iter().map(HelpRequest).collect()))
    }
    /// The client's most recent consents (at most 20), oldest first (for a partner: those given
    /// to its organisation).
    #[graphql(complexity = "capped(caps::CONSENTS_PER_CLIENT, child_complexity)")]
    async fn consents(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<Consent>>> {
        let rows = request_loader(ctx)?.load_one(ConsentsOf(self.0.id)).await?;
        Ok(Some(rows.unwrap_or_default().into_iter().map(Consent).collect()))
    }
    /// The client's latest appointments at the partners' office hours (at most 20, kept and
    /// cancelled), the soonest first (for a partner: those at its own office hours).
    #[graphql(
        complexity = "capped(caps::APPOINTMENTS_PER_CLIENT, child_complexity)",
        visible = "crate::policy::visible::booking"
    )]
    async fn appointments(&self, ctx: &Context<'_>) -> ApiResult<Vec<Appointment>> {
        crate::audit::record_read(ctx, self.0.id, "APPOINTMENTS")?;
        let rows = request_loader(ctx)?.load_one(AppointmentsOf(self.0.id)).await?;
        Ok(rows.unwrap_or_default().into_iter().map(Appointment).collect())
    }
    /// The welfare house's most recent case notes on this client, on any of its help requests or
    /// none (at most 50, each in its current version), oldest first; never shown to partners.
    #[graphql(
        guard = "RoleIn(CASE_NOTE_READERS)",
        visible = "crate::policy::visible::case_notes",
        complexity = "capped(caps::CASE_NOTES_PER_CLIENT, child_complexity)"
    )]
    async fn case_notes(&self, ctx: &Context<'_>) -> ApiResult<Option<Vec<CaseNote>>> {
        crate::audit::record_read(ctx, self.0.id, "CASE_NOTES")?;
        let notes = request_loader(ctx)?.load_one(CaseNotesOfClient(self.0.id)).await?;
        Ok(Some(notes.unwrap_or_default().into_iter().map(CaseNote).collect()))
    }
    /// When the client's personal data and free text were erased (on request or by the
    /// retention rule); the fields then read null or "[gewist]".
    #[graphql(guard = "RoleIn(ERASURE_READERS)", visible = "crate::policy::visible::erasure_state")]
    async fn erased_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.erased_at
    }
    /// The legal hold on the client, if any: while it is on, the client's data is not erased.
    #[graphql(guard = "RoleIn(ERASERS)", visible = "crate::policy::visible::erasure")]
    async fn legal_hold(&self) -> Option<LegalHold> {
        self.0.legal_hold_at.map(|at| LegalHold { at, reason: self.0.legal_hold_reason.clone() })
    }
    /// The client's referrals that you may see, newest first.
    #[graphql(complexity = "crate::connection::complexity(first, child_complexity)")]
    async fn referrals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Referral>> {
        let client = self.0.id;
        nested_page::<referral::Entity, _, _>(
            ctx,
            PageArgs::new(first, after),
            |size, after| ClientReferralsPage { client, size, after },
            ChildCount::ReferralsOfClient(client),
            Referral,
        )
        .await
    }
}

/// A legal hold: since when, and why (for administrators only).
#[derive(async_graphql::SimpleObject)]
pub struct LegalHold {
    pub at: chrono::DateTime<chrono::Utc>,
    pub reason: Option<String>,
}

/// Clients by id, for callers who may not read every client's name: nothing but what they see.
pub fn by_id() -> Sort<client::Entity> {
    Sort {
        kind: "client-by-id",
        descending: false,
        columns: vec![client::Column::Id],
        key: |model| vec![KeyPart::Id(model.id)],
    }
}

/// Clients by name, for the welfare house's staff (who read every name).
impl Keyset for client::Entity {
    const KIND: &'static str = "client";
    const DESCENDING: bool = false;
    fn columns() -> Vec<client::Column> {
        vec![client::Column::FamilyName, client::Column::GivenName, client::Column::Id]
    }
    fn key(model: &client::Model) -> Vec<KeyPart> {
        vec![
            KeyPart::Text(model.family_name.clone()),
            KeyPart::Text(model.given_name.clone()),
            KeyPart::Id(model.id),
        ]
    }
}

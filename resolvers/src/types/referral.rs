use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entities::{ReferralNoticeKind, referral, referral_event, referral_notice};

use super::appointment::Appointment;
use super::client::Client;
use super::help_request::HelpRequest;
use super::organisation::Organisation;
use super::service::Service;
use super::{LifeDomain, ReferralStatus, RejectionReason, id};
use crate::connection::{Keyset, capped, caps};
use crate::cursor::KeyPart;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::loaders::{
    AppointmentId, ClientId, EventsOf, HelpRequestId, OrganisationId, ReferralId, ServiceId, request_loader,
};

/// A client referred by one organisation to another, followed until the outcome.
pub struct Referral(pub referral::Model);

async fn organisation(ctx: &Context<'_>, org: uuid::Uuid) -> ApiResult<Organisation> {
    request_loader(ctx)?
        .load_one(OrganisationId(org))
        .await?
        .map(Organisation)
        .ok_or_else(|| ApiError::internal("referral names a missing organisation"))
}

#[Object]
impl Referral {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn status(&self) -> ReferralStatus {
        self.0.status.into()
    }
    /// Bumped by every status change; pass it as `expectedVersion` when changing the status.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn life_domain(&self) -> LifeDomain {
        self.0.life_domain.into()
    }
    /// Why the client is referred.
    async fn reason(&self, ctx: &Context<'_>) -> ApiResult<&str> {
        crate::audit::record_read(ctx, self.0.client_id, REFERRALS)?;
        Ok(&self.0.reason)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn client(&self, ctx: &Context<'_>) -> ApiResult<Option<Client>> {
        Ok(request_loader(ctx)?.load_one(ClientId(self.0.client_id)).await?.map(Client))
    }
    /// The help request the referral answers, when the caller may see it.
    async fn help_request(&self, ctx: &Context<'_>) -> ApiResult<Option<HelpRequest>> {
        let Some(help_request) = self.0.help_request_id else {
            return Ok(None);
        };
        Ok(request_loader(ctx)?.load_one(HelpRequestId(help_request)).await?.map(HelpRequest))
    }
    async fn sender(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        organisation(ctx, self.0.sender_id).await
    }
    async fn recipient(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        organisation(ctx, self.0.recipient_id).await
    }
    /// The service the client is referred to, if one was chosen.
    async fn service(&self, ctx: &Context<'_>) -> ApiResult<Option<Service>> {
        let Some(service) = self.0.service_id else {
            return Ok(None);
        };
        Ok(request_loader(ctx)?.load_one(ServiceId(service)).await?.map(Service::of))
    }
    /// The recipient's feedback that closes the loop (on REJECTED and COMPLETED), for the
    /// sender; the client reads the events' `noteForClient` instead.
    #[graphql(
        guard = "RoleIn(crate::policy::REFERRAL_NOTE_READERS)",
        visible = "crate::policy::visible::referral_notes"
    )]
    async fn outcome_note(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        crate::audit::record_read(ctx, self.0.client_id, REFERRALS)?;
        Ok(self.0.outcome_note.as_deref())
    }
    async fn rejection_reason(&self) -> Option<RejectionReason> {
        self.0.rejection_reason.map(Into::into)
    }
    /// The referral's history, oldest first; creation is the first event (at most five: the
    /// closed loop has no longer way).
    #[graphql(complexity = "capped(caps::EVENTS_PER_REFERRAL, child_complexity)")]
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<ReferralEvent>> {
        crate::audit::record_read(ctx, self.0.client_id, REFERRALS)?;
        // The events' notes are audited against this referral's client: known, not fetched.
        request_loader(ctx)?.loader().know_referral(&self.0);
        let events = request_loader(ctx)?.load_one(EventsOf(self.0.id)).await?;
        Ok(events.unwrap_or_default().into_iter().map(ReferralEvent::Change).collect())
    }
}

impl Keyset for referral::Entity {
    const KIND: &'static str = "referral";
    const DESCENDING: bool = true;
    fn columns() -> Vec<referral::Column> {
        vec![referral::Column::CreatedAt, referral::Column::Id]
    }
    fn key(model: &referral::Model) -> Vec<KeyPart> {
        vec![KeyPart::Time(model.created_at), KeyPart::Id(model.id)]
    }
}

/// Something that happened to a referral: a step in its history (its creation or a status
/// change) or a notice that changed no status (an appointment cancelled because the recipient's
/// office hours were closed). Both are delivered by `referralEvents`; only the steps are the
/// referral's `events`.
pub enum ReferralEvent {
    Change(referral_event::Model),
    Notice(referral_notice::Model),
}

/// The audit category of a read of a referral's words about the client (its reason, notes,
/// history): in the client's access log like any read of their data.
const REFERRALS: &str = "REFERRALS";

impl ReferralEvent {
    /// Records a read of this event's notes against the referral's client (looked up through the
    /// request's loader, batched with the other events read).
    async fn audit_read(&self, ctx: &Context<'_>) -> ApiResult<()> {
        let referral_id = match self {
            ReferralEvent::Change(e) => e.referral_id,
            ReferralEvent::Notice(n) => n.referral_id,
        };
        if let Some(referral) = request_loader(ctx)?.load_one(ReferralId(referral_id)).await? {
            crate::audit::record_read(ctx, referral.client_id, REFERRALS)?;
        }
        Ok(())
    }
}

/// What a referral event tells.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReferralEventKind {
    /// The referral was created (`fromStatus` null, `toStatus` REQUESTED).
    Created,
    /// Its status changed from `fromStatus` to `toStatus`.
    StatusChange,
    /// An appointment that follows the referral up was cancelled because the recipient closed
    /// its office hours that day; the status did not change (`fromStatus` = `toStatus`), and
    /// `note` says why. Not part of the referral's `events`.
    AppointmentCancelled,
}

#[Object]
impl ReferralEvent {
    async fn id(&self) -> ID {
        match self {
            ReferralEvent::Change(e) => id(e.id),
            ReferralEvent::Notice(n) => id(n.id),
        }
    }
    async fn referral(&self, ctx: &Context<'_>) -> ApiResult<Referral> {
        request_loader(ctx)?
            .load_one(ReferralId(self.referral_id()))
            .await?
            .map(Referral)
            .ok_or(ApiError::NotFound("referral"))
    }
    async fn kind(&self) -> ReferralEventKind {
        match self {
            ReferralEvent::Change(e) if e.from_status.is_none() => ReferralEventKind::Created,
            ReferralEvent::Change(_) => ReferralEventKind::StatusChange,
            ReferralEvent::Notice(n) => match n.kind {
                ReferralNoticeKind::AppointmentCancelled => ReferralEventKind::AppointmentCancelled,
            },
        }
    }
    /// The status before; none for the creation.
    async fn from_status(&self) -> Option<ReferralStatus> {
        match self {
            ReferralEvent::Change(e) => e.from_status.map(Into::into),
            ReferralEvent::Notice(n) => Some(n.referral_status.into()),
        }
    }
    async fn to_status(&self) -> ReferralStatus {
        match self {
            ReferralEvent::Change(e) => e.to_status.into(),
            ReferralEvent::Notice(n) => n.referral_status.into(),
        }
    }
    /// The note between the organisations (the recipient's feedback to the sender, or a
    /// closure's reason); never shown to the client.
    #[graphql(
        guard = "RoleIn(crate::policy::REFERRAL_NOTE_READERS)",
        visible = "crate::policy::visible::referral_notes"
    )]
    async fn note(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        self.audit_read(ctx).await?;
        Ok(match self {
            ReferralEvent::Change(e) => e.note.as_deref(),
            ReferralEvent::Notice(n) => Some(&n.note),
        })
    }
    /// What the recipient wrote for the client about this step; for an appointment cancelled by
    /// a closure, the closure's reason.
    async fn note_for_client(&self, ctx: &Context<'_>) -> ApiResult<Option<&str>> {
        self.audit_read(ctx).await?;
        Ok(match self {
            ReferralEvent::Change(e) => e.note_for_client.as_deref(),
            ReferralEvent::Notice(n) => Some(&n.note),
        })
    }
    async fn rejection_reason(&self) -> Option<RejectionReason> {
        match self {
            ReferralEvent::Change(e) => e.rejection_reason.map(Into::into),
            ReferralEvent::Notice(_) => None,
        }
    }
    /// The organisation that made the change.
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Option<Organisation>> {
        let actor = match self {
            ReferralEvent::Change(e) => e.actor_organisation_id,
            ReferralEvent::Notice(n) => n.actor_organisation_id,
        };
        let Some(org) = actor else {
            return Ok(None);
        };
        Ok(Some(organisation(ctx, org).await?))
    }
    /// The appointment a notice is about: `null` for a status change; FORBIDDEN when you may
    /// not see that appointment (another partner's office hours).
    #[graphql(visible = "crate::policy::visible::client_data")]
    async fn appointment(&self, ctx: &Context<'_>) -> ApiResult<Option<Appointment>> {
        let ReferralEvent::Notice(referral_notice::Model { appointment_id: Some(appointment), .. }) = self
        else {
            return Ok(None);
        };
        match request_loader(ctx)?.load_one(AppointmentId(*appointment)).await? {
            Some(found) => Ok(Some(Appointment(found))),
            None => Err(ApiError::Forbidden),
        }
    }
    async fn at(&self) -> DateTime<Utc> {
        match self {
            ReferralEvent::Change(e) => e.at,
            ReferralEvent::Notice(n) => n.at,
        }
    }
}

impl ReferralEvent {
    fn referral_id(&self) -> uuid::Uuid {
        match self {
            ReferralEvent::Change(e) => e.referral_id,
            ReferralEvent::Notice(n) => n.referral_id,
        }
    }
}

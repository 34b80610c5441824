use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::appointment;

use super::client::Client;
use super::id;
use super::office_hours::OfficeHoursClosure;
use super::organisation::Organisation;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{ClientId, ClosureOfAppointment, OrganisationId, request_loader};
use crate::office_hours::Slot;

/// A client's booked slot in a partner's office hours at the welfare house.
pub struct Appointment(pub appointment::Model);

#[Object]
impl Appointment {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        organisation(ctx, self.0.organisation_id).await
    }
    async fn client(&self, ctx: &Context<'_>) -> ApiResult<Option<Client>> {
        Ok(request_loader(ctx)?.load_one(ClientId(self.0.client_id)).await?.map(Client))
    }
    async fn referral_id(&self) -> Option<ID> {
        self.0.referral_id.map(id)
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }
    /// The closure of office hours that cancelled the appointment, with its reason; none when
    /// it stands or was cancelled by hand.
    async fn cancelled_by(&self, ctx: &Context<'_>) -> ApiResult<Option<OfficeHoursClosure>> {
        if self.0.cancelled_at.is_none() {
            return Ok(None);
        }
        let closure = request_loader(ctx)?.load_one(ClosureOfAppointment(self.0.id)).await?;
        Ok(closure.map(OfficeHoursClosure))
    }
}

async fn organisation(ctx: &Context<'_>, org: uuid::Uuid) -> ApiResult<Organisation> {
    request_loader(ctx)?
        .load_one(OrganisationId(org))
        .await?
        .map(Organisation)
        .ok_or_else(|| ApiError::internal("appointment without organisation"))
}

/// A slot of a partner's office hours ("zitdag") at the welfare house. Everyone sees whether it
/// is free; only staff who may see the booking see who booked it.
pub struct OfficeHourSlot {
    pub slot: Slot,
    pub taken: bool,
    /// The booking, when the caller may see it.
    pub appointment: Option<appointment::Model>,
}

#[Object]
impl OfficeHourSlot {
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        organisation(ctx, self.slot.organisation_id).await
    }
    async fn starts_at(&self) -> DateTime<Utc> {
        self.slot.starts_at
    }
    async fn ends_at(&self) -> DateTime<Utc> {
        self.slot.ends_at
    }
    async fn free(&self) -> bool {
        !self.taken
    }
    /// Who booked the slot: `null` when it is free; FORBIDDEN when it is taken and the booking
    /// is not yours to see.
    #[graphql(visible = "crate::policy::visible::client_data")]
    async fn appointment(&self) -> ApiResult<Option<Appointment>> {
        match (&self.appointment, self.taken) {
            (Some(appointment), _) => Ok(Some(Appointment(appointment.clone()))),
            (None, true) => Err(ApiError::Forbidden),
            (None, false) => Ok(None),
        }
    }
}

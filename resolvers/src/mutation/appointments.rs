//! Booking a client into a partner's office hours at the welfare house.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use chrono_tz::Europe::Brussels;
use entities::{appointment, client, office_hour, organisation, referral};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QuerySelect,
    Set, sea_query::LockType,
};
use uuid::Uuid;

use super::conflict_on_unique;
use super::office_hours::{Hold, closure_on, hold_office_hours};
use crate::audit::record_change;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::office_hours::slots;
use crate::policy::{self, BOOKERS};
use crate::types::appointment::Appointment;
use crate::types::parse_id;

#[derive(Default)]
pub struct AppointmentMutation;

/// A booking of one slot.
#[derive(InputObject)]
pub struct BookAppointmentInput {
    pub client_id: ID,
    /// The partner whose office hours the slot belongs to.
    pub organisation_id: ID,
    /// The start of the slot, as `officeHours` lists it.
    pub starts_at: DateTime<Utc>,
    /// The referral the appointment follows up, if any: it must be this client's, to this partner.
    pub referral_id: Option<ID>,
}

#[Object]
impl AppointmentMutation {
    /// Books a free slot for a client. A taken slot is CONFLICT (two bookings of one slot: exactly
    /// one wins); the slot must lie in the future and in the partner's office hours.
    #[graphql(guard = "RoleIn(BOOKERS)", visible = "crate::policy::visible::booking")]
    async fn book_appointment(
        &self,
        ctx: &Context<'_>,
        input: BookAppointmentInput,
    ) -> ApiResult<Appointment> {
        let caller = crate::caller_of(ctx)?;
        let client_id = parse_id(&input.client_id, "input.clientId")?;
        let organisation_id = parse_id(&input.organisation_id, "input.organisationId")?;
        let referral_id =
            input.referral_id.as_ref().map(|id| parse_id(id, "input.referralId")).transpose()?;
        if !policy::may_book_for(caller, organisation_id, client_id) {
            return Err(ApiError::Forbidden);
        }
        if input.starts_at <= Utc::now() {
            return Err(ApiError::bad_input("input.startsAt", "must lie in the future"));
        }

        let txn = crate::write_transaction(ctx).await?;
        // The hours and closures stay as read until this booking commits (see `Hold`).
        match hold_office_hours(&txn, organisation_id, Hold::Book).await {
            // A deactivated organisation has left the network: no one there would see the booking.
            Err(ApiError::NotFound(_)) | Ok(organisation::Model { active: false, .. }) => {
                return Err(ApiError::bad_input("input.organisationId", "no such active organisation"));
            }
            held => held.map(drop)?,
        }
        let day = input.starts_at.with_timezone(&Brussels).date_naive();
        if let Some(closure) = closure_on(&txn, organisation_id, day).await? {
            return Err(ApiError::bad_input(
                "input.startsAt",
                format!("the office hours are closed on {day}: {}", closure.reason),
            ));
        }
        let hours = office_hour::Entity::find()
            .filter(office_hour::Column::OrganisationId.eq(organisation_id))
            .all(&txn)
            .await?;
        let slot = slots(&hours, input.starts_at, input.starts_at + Duration::minutes(1))
            .into_iter()
            .find(|s| s.starts_at == input.starts_at)
            .ok_or_else(|| {
                ApiError::bad_input(
                    "input.startsAt",
                    "not the start of a slot in this organisation's office hours",
                )
            })?;
        client::Entity::find_by_id(client_id)
            .filter(policy::clients(caller))
            // Bookings of one client wait for each other, so that the bound below holds.
            .lock(LockType::NoKeyUpdate)
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.clientId", "no such client"))
            .and_then(crate::erasure::not_erased)?;
        if policy::booking_is_bounded(caller) {
            let ahead = appointment::Entity::find()
                .filter(appointment::Column::ClientId.eq(client_id))
                .filter(appointment::Column::ActiveSlot.is_not_null())
                .filter(appointment::Column::StartsAt.gt(Utc::now()))
                .count(&txn)
                .await?;
            if ahead >= policy::UPCOMING_APPOINTMENTS_PER_CLIENT {
                return Err(ApiError::Conflict(format!(
                    "you have {ahead} appointments ahead already: cancel one before you book another"
                )));
            }
        }
        if let Some(referral_id) = referral_id {
            referral::Entity::find_by_id(referral_id)
                .filter(policy::referrals(caller))
                .filter(referral::Column::ClientId.eq(client_id))
                .filter(referral::Column::RecipientId.eq(organisation_id))
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    ApiError::bad_input(
                        "input.referralId",
                        "not a referral of this client to this organisation",
                    )
                })?;
        }
        let row = appointment::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(organisation_id),
            client_id: Set(client_id),
            referral_id: Set(referral_id),
            starts_at: Set(slot.starts_at),
            ends_at: Set(slot.ends_at),
            active_slot: Set(Some(slot.starts_at)),
            booked_by: Set(caller.user_id()),
            booked_by_client: Set(caller.client_id().is_some()),
            created_at: Set(Utc::now().trunc_subsecs(6)),
            cancelled_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| conflict_on_unique(e, "this slot is taken"))?;
        record_change(ctx, &txn, "CREATE", "Appointment", row.id, Some(client_id)).await?;
        let booked = entities::WebhookEventType::AppointmentBooked;
        crate::webhooks::appointment_events(&txn, std::slice::from_ref(&row), booked, row.created_at).await?;
        txn.commit().await?;
        Ok(Appointment(row))
    }

    /// Cancels an appointment; its slot is free again.
    #[graphql(guard = "RoleIn(BOOKERS)", visible = "crate::policy::visible::booking")]
    async fn cancel_appointment(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Appointment> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        let found = appointment::Entity::find_by_id(id)
            .filter(policy::appointments(caller))
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound("appointment"))?;
        if found.cancelled_at.is_some() {
            return Err(ApiError::Conflict("this appointment is already cancelled".into()));
        }
        let client_id = found.client_id;
        let mut row = found.into_active_model();
        row.cancelled_at = Set(Some(Utc::now().trunc_subsecs(6)));
        row.active_slot = Set(None);
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "CANCEL", "Appointment", row.id, Some(client_id)).await?;
        let (cancelled, at) = (entities::WebhookEventType::AppointmentCancelled, row.cancelled_at);
        let at = at.unwrap_or_else(|| Utc::now().trunc_subsecs(6));
        crate::webhooks::appointment_events(&txn, std::slice::from_ref(&row), cancelled, at).await?;
        txn.commit().await?;
        Ok(Appointment(row))
    }
}

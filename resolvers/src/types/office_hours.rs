//! A partner's weekly office hours at the welfare house, and the closures of days in them.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entities::{office_hour, office_hours_closure};

use super::appointment::Appointment;
use super::id;
use super::organisation::Organisation;
use super::service::Location;
use crate::connection::capped;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{CANCELLED_PER_CLOSURE, CancelledBy, LocationId, OrganisationId, request_loader};
use crate::weekly_hours::hhmm;

async fn organisation(ctx: &Context<'_>, org: uuid::Uuid) -> ApiResult<Organisation> {
    request_loader(ctx)?
        .load_one(OrganisationId(org))
        .await?
        .map(Organisation)
        .ok_or_else(|| ApiError::internal("office hours of a missing organisation"))
}

/// One weekly interval of a partner's office hours ("zitdag") at the welfare house, in
/// Europe/Brussels local time, cut into slots of `slotMinutes`.
pub struct OfficeHours(pub office_hour::Model);

#[Object]
impl OfficeHours {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// The partner whose office hours they are.
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        organisation(ctx, self.0.organisation_id).await
    }
    /// Where in the welfare house.
    async fn location(&self, ctx: &Context<'_>) -> ApiResult<Location> {
        request_loader(ctx)?
            .load_one(LocationId(self.0.location_id))
            .await?
            .map(Location)
            .ok_or_else(|| ApiError::internal("office hours at a missing location"))
    }
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    async fn weekday(&self) -> i32 {
        self.0.weekday
    }
    /// Local time `HH:MM`.
    async fn opens(&self) -> String {
        hhmm(self.0.starts_minute)
    }
    /// Local time `HH:MM` (`24:00` for midnight).
    async fn closes(&self) -> String {
        hhmm(self.0.ends_minute)
    }
    async fn slot_minutes(&self) -> i32 {
        self.0.slot_minutes
    }
    /// The first day the hours hold; none: since ever.
    async fn valid_from(&self) -> Option<NaiveDate> {
        self.0.valid_from
    }
    /// The last day the hours hold; none: until further notice.
    async fn valid_to(&self) -> Option<NaiveDate> {
        self.0.valid_to
    }
}

/// A partner's office hours closed from `from` to `to` (Brussels dates, both included): those
/// days hold no slots, and the appointments booked on them were cancelled, with `reason`, when
/// the closure was made. The reason is public, like the office hours.
pub struct OfficeHoursClosure(pub office_hours_closure::Model);

#[Object]
impl OfficeHoursClosure {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        organisation(ctx, self.0.organisation_id).await
    }
    /// The first closed day.
    async fn from(&self) -> NaiveDate {
        self.0.starts_on
    }
    /// The last closed day.
    async fn to(&self) -> NaiveDate {
        self.0.ends_on
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the closure was lifted (its days hold office hours again; the appointments it
    /// cancelled stay cancelled).
    async fn lifted_at(&self) -> Option<DateTime<Utc>> {
        self.0.lifted_at
    }
    /// How many booked appointments the closure cancelled. Shown to everyone who sees the
    /// closure: it tells no more than the slots do, whose being taken everyone sees; whose the
    /// appointments were is the appointments' own scope.
    async fn cancelled_appointment_count(&self) -> i32 {
        self.0.cancelled_appointments
    }
    /// The appointments the closure cancelled that you may see, by time: the first 20 that
    /// start after `after` (pass the last `startsAt` you read for the next 20).
    #[graphql(
        visible = "crate::policy::visible::client_data",
        complexity = "capped(CANCELLED_PER_CLOSURE, child_complexity)"
    )]
    async fn cancelled_appointments(
        &self,
        ctx: &Context<'_>,
        after: Option<DateTime<Utc>>,
    ) -> ApiResult<Vec<Appointment>> {
        let key = CancelledBy { closure: self.0.id, after };
        let cancelled = request_loader(ctx)?.load_one(key).await?;
        Ok(cancelled.unwrap_or_default().into_iter().map(Appointment).collect())
    }
}

//! The loaders of partners' office hours: the weekly intervals and closures of organisations,
//! the appointments a closure cancelled and the one a referral notice names, and the welfare
//! house's locations where the hours are held. Each fetches for all parents of a page at once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Brussels;
use entities::{appointment, location, office_hour, office_hours_closure, office_hours_closure_appointment};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{Fetch, Loaders, columns, group, ids, rekey};
use crate::connection::{Keep, capped_children};
use crate::error::ApiResult;
use crate::policy;

key!(
    /// The weekly office hours of an organisation, by weekday and time (public data).
    OfficeHoursOf,
    /// The closures of an organisation's office hours that are not over nor lifted, soonest
    /// first (public data).
    UpcomingClosuresOf,
    /// An appointment by id, within the caller's appointment scope.
    AppointmentId,
    /// A location by id (public data; its `Location` type hides a confidential address).
    LocationId,
    /// The closure that cancelled an appointment (public data, like every closure).
    ClosureOfAppointment,
);

/// The most upcoming closures `Organisation.officeHoursClosures` lists.
pub const UPCOMING_CLOSURES: usize = 20;
/// The most cancelled appointments one `OfficeHoursClosure.cancelledAppointments` lists (the
/// earliest after its `after`); `cancelledAppointmentCount` counts them all.
pub const CANCELLED_PER_CLOSURE: usize = 20;

/// The appointments a closure cancelled that start after `after` (all when none), within the
/// caller's appointment scope, by time. A closure's appointments all held a slot of one
/// organisation at once, so no two start together: the start alone pages them exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CancelledBy {
    pub closure: Uuid,
    pub after: Option<DateTime<Utc>>,
}

impl Fetch<OfficeHoursOf> for Loaders {
    type Value = Vec<office_hour::Model>;
    async fn fetch(&self, keys: &[OfficeHoursOf]) -> ApiResult<HashMap<OfficeHoursOf, Self::Value>> {
        let rows = capped_children(
            &self.db,
            office_hour::Entity::find().filter(office_hour::Column::OrganisationId.is_in(ids(keys))),
            office_hour::Column::OrganisationId,
            &columns::<office_hour::Entity>(&[
                office_hour::Column::Weekday,
                office_hour::Column::StartsMinute,
                office_hour::Column::Id,
            ]),
            Keep::First,
            crate::weekly_hours::MAX_INTERVALS,
        )
        .await?;
        Ok(rekey(group(rows, |h| h.organisation_id), OfficeHoursOf))
    }
}

impl Fetch<UpcomingClosuresOf> for Loaders {
    type Value = Vec<office_hours_closure::Model>;
    async fn fetch(
        &self,
        keys: &[UpcomingClosuresOf],
    ) -> ApiResult<HashMap<UpcomingClosuresOf, Self::Value>> {
        let today = Utc::now().with_timezone(&Brussels).date_naive();
        let rows = capped_children(
            &self.db,
            office_hours_closure::Entity::find()
                .filter(office_hours_closure::Column::OrganisationId.is_in(ids(keys)))
                .filter(office_hours_closure::Column::EndsOn.gte(today))
                .filter(office_hours_closure::Column::LiftedAt.is_null()),
            office_hours_closure::Column::OrganisationId,
            &columns::<office_hours_closure::Entity>(&[
                office_hours_closure::Column::StartsOn,
                office_hours_closure::Column::Id,
            ]),
            Keep::First,
            UPCOMING_CLOSURES,
        )
        .await?;
        Ok(rekey(group(rows, |c| c.organisation_id), UpcomingClosuresOf))
    }
}

impl Fetch<CancelledBy> for Loaders {
    type Value = Vec<appointment::Model>;
    async fn fetch(&self, keys: &[CancelledBy]) -> ApiResult<HashMap<CancelledBy, Self::Value>> {
        // One query per distinct `after`: in a request, one per nested field.
        let mut by_after: HashMap<Option<DateTime<Utc>>, Vec<Uuid>> = HashMap::new();
        for key in keys {
            by_after.entry(key.after).or_default().push(key.closure);
        }
        let mut out = HashMap::new();
        for (after, closures) in by_after {
            for (closure, appointments) in self.cancelled_by(&closures, after).await? {
                out.insert(CancelledBy { closure, after }, appointments);
            }
        }
        Ok(out)
    }
}

impl Loaders {
    /// The first appointments after `after` that each of `closures` cancelled, in time order.
    async fn cancelled_by(
        &self,
        closures: &[Uuid],
        after: Option<DateTime<Utc>>,
    ) -> ApiResult<HashMap<Uuid, Vec<appointment::Model>>> {
        use office_hours_closure_appointment as link;
        let scope = policy::appointments(&self.caller);
        let mut links = link::Entity::find()
            .filter(link::Column::ClosureId.is_in(closures.iter().copied()))
            .join(
                sea_orm::JoinType::InnerJoin,
                link::Entity::belongs_to(appointment::Entity)
                    .from(link::Column::AppointmentId)
                    .to(appointment::Column::Id)
                    .into(),
            )
            .filter(scope.clone());
        if let Some(after) = after {
            links = links.filter(appointment::Column::StartsAt.gt(after));
        }
        // The links of the appointments the caller sees, capped per closure in time order; the
        // appointments follow in the same order.
        let links = capped_children(
            &self.db,
            links,
            link::Column::ClosureId,
            &columns::<appointment::Entity>(&[appointment::Column::StartsAt, appointment::Column::Id]),
            Keep::First,
            CANCELLED_PER_CLOSURE,
        )
        .await?;
        if links.is_empty() {
            return Ok(HashMap::new());
        }
        let appointments: HashMap<Uuid, appointment::Model> = appointment::Entity::find()
            .filter(appointment::Column::Id.is_in(links.iter().map(|l| l.appointment_id)))
            .filter(scope)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut map: HashMap<Uuid, Vec<appointment::Model>> = HashMap::new();
        for link in links {
            if let Some(appointment) = appointments.get(&link.appointment_id) {
                map.entry(link.closure_id).or_default().push(appointment.clone());
            }
        }
        Ok(map)
    }
}

impl Fetch<AppointmentId> for Loaders {
    type Value = appointment::Model;
    async fn fetch(&self, keys: &[AppointmentId]) -> ApiResult<HashMap<AppointmentId, Self::Value>> {
        let scope = policy::appointments(&self.caller);
        let rows =
            self.by_id::<appointment::Entity, _>(keys, appointment::Column::Id, scope, |a| a.id).await?;
        Ok(rekey(rows, AppointmentId))
    }
}

impl Fetch<LocationId> for Loaders {
    type Value = location::Model;
    async fn fetch(&self, keys: &[LocationId]) -> ApiResult<HashMap<LocationId, Self::Value>> {
        let rows =
            self.by_id::<location::Entity, _>(keys, location::Column::Id, Condition::all(), |l| l.id).await?;
        Ok(rekey(rows, LocationId))
    }
}

impl Fetch<ClosureOfAppointment> for Loaders {
    type Value = office_hours_closure::Model;
    async fn fetch(
        &self,
        keys: &[ClosureOfAppointment],
    ) -> ApiResult<HashMap<ClosureOfAppointment, Self::Value>> {
        use office_hours_closure_appointment as link;
        let links =
            link::Entity::find().filter(link::Column::AppointmentId.is_in(ids(keys))).all(&self.db).await?;
        if links.is_empty() {
            return Ok(HashMap::new());
        }
        let closures: HashMap<Uuid, office_hours_closure::Model> = office_hours_closure::Entity::find()
            .filter(office_hours_closure::Column::Id.is_in(links.iter().map(|l| l.closure_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        Ok(links
            .into_iter()
            .filter_map(|l| {
                Some((ClosureOfAppointment(l.appointment_id), closures.get(&l.closure_id)?.clone()))
            })
            .collect())
    }
}

//! Office hours: the partners' bookable slots at the welfare house.

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Duration, Utc};
use entities::{appointment, office_hour};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::office_hours::{MAX_SLOTS, slots_at_most};
use crate::policy;
use crate::types::appointment::OfficeHourSlot;
use crate::types::parse_id;

#[derive(Default)]
pub struct OfficeHoursQuery;

/// The longest window one `officeHours` call covers.
const MAX_WINDOW_DAYS: i64 = 62;

#[Object]
impl OfficeHoursQuery {
    /// The partners' office hours ("zitdagen") at the welfare house between `from` and `to`, cut
    /// into bookable slots, for one organisation or all. A window holds at most 62 days and 500
    /// slots: a window holding more is refused (QUERY_TOO_COMPLEX); ask for a shorter one, or for
    /// one organisation.
    #[graphql(complexity = "crate::connection::capped(crate::office_hours::MAX_SLOTS, child_complexity)")]
    async fn office_hours(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<ID>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ApiResult<Vec<OfficeHourSlot>> {
        if to <= from || to - from > Duration::days(MAX_WINDOW_DAYS) {
            return Err(ApiError::bad_input(
                "to",
                format!("must be after from, at most {MAX_WINDOW_DAYS} days"),
            ));
        }
        let organisation = organisation_id.as_ref().map(|id| parse_id(id, "organisationId")).transpose()?;
        let db = crate::db_of(ctx)?;
        let caller = crate::caller_of(ctx)?;
        let mut hours = office_hour::Entity::find();
        let mut booked = appointment::Entity::find()
            .filter(appointment::Column::ActiveSlot.is_not_null())
            .filter(appointment::Column::StartsAt.gte(from))
            .filter(appointment::Column::StartsAt.lt(to));
        if let Some(org) = organisation {
            hours = hours.filter(office_hour::Column::OrganisationId.eq(org));
            booked = booked.filter(appointment::Column::OrganisationId.eq(org));
        }
        let hours = hours.all(db).await?;
        let slots = slots_at_most(&hours, from, to, MAX_SLOTS).ok_or_else(|| {
            ApiError::QueryTooComplex(format!(
                "the window holds more than {MAX_SLOTS} slots: ask for a shorter one, or for one organisation"
            ))
        })?;
        // Whether a slot is free counts every booking; who booked it only the caller's own.
        let taken: HashSet<(Uuid, DateTime<Utc>)> = booked
            .clone()
            .select_only()
            .column(appointment::Column::OrganisationId)
            .column(appointment::Column::StartsAt)
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let visible: HashMap<(Uuid, DateTime<Utc>), appointment::Model> = if taken.is_empty() {
            HashMap::new()
        } else {
            booked
                .filter(policy::appointments(caller))
                .all(db)
                .await?
                .into_iter()
                .map(|a| ((a.organisation_id, a.starts_at), a))
                .collect()
        };
        Ok(slots
            .into_iter()
            .map(|slot| {
                let key = (slot.organisation_id, slot.starts_at);
                OfficeHourSlot { taken: taken.contains(&key), appointment: visible.get(&key).cloned(), slot }
            })
            .collect())
    }
}

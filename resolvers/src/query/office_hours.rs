//! Office hours: the partners' bookable slots at the welfare house.

use std::collections::{HashMap, HashSet};

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Europe::Brussels;
use entities::{appointment, office_hour, office_hours_closure};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::office_hours::{MAX_SLOTS, slots_at_most};
use crate::policy;
use crate::types::appointment::OfficeHourSlot;
use crate::types::office_hours::OfficeHoursClosure;
use crate::types::parse_id;

#[derive(Default)]
pub struct OfficeHoursQuery;

/// The longest window one `officeHours` call covers.
const MAX_WINDOW_DAYS: i64 = 62;

/// The longest window one `officeHoursClosures` call covers, and the most closures it answers.
const MAX_CLOSURE_WINDOW_DAYS: i64 = 366;
pub const MAX_CLOSURES: usize = 50;

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
        let first_day = from.with_timezone(&Brussels).date_naive();
        let last_day = to.with_timezone(&Brussels).date_naive();
        let mut closures =
            closures_meeting(first_day, last_day).filter(office_hours_closure::Column::LiftedAt.is_null());
        let mut booked = appointment::Entity::find()
            .filter(appointment::Column::ActiveSlot.is_not_null())
            .filter(appointment::Column::StartsAt.gte(from))
            .filter(appointment::Column::StartsAt.lt(to));
        if let Some(org) = organisation {
            hours = hours.filter(office_hour::Column::OrganisationId.eq(org));
            booked = booked.filter(appointment::Column::OrganisationId.eq(org));
            closures = closures.filter(office_hours_closure::Column::OrganisationId.eq(org));
        }
        let hours = hours.all(db).await?;
        let closures = if hours.is_empty() { Vec::new() } else { closures.all(db).await? };
        let slots = slots_at_most(&hours, &closures, from, to, MAX_SLOTS).ok_or_else(|| {
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

    /// Closures of partners' office hours (one organisation's or all) that close any day from
    /// `from` to `to` (Brussels dates, both included), by first day. A window holds at most
    /// 366 days and 50 closures (else QUERY_TOO_COMPLEX: ask for a shorter one). Lifted
    /// closures only with `includeLifted`.
    #[graphql(complexity = "crate::connection::capped(MAX_CLOSURES, child_complexity)")]
    async fn office_hours_closures(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<ID>,
        from: NaiveDate,
        to: NaiveDate,
        #[graphql(default = false)] include_lifted: bool,
    ) -> ApiResult<Vec<OfficeHoursClosure>> {
        if to < from || (to - from).num_days() >= MAX_CLOSURE_WINDOW_DAYS {
            return Err(ApiError::bad_input(
                "to",
                format!("must not be before from, at most {MAX_CLOSURE_WINDOW_DAYS} days"),
            ));
        }
        let organisation = organisation_id.as_ref().map(|id| parse_id(id, "organisationId")).transpose()?;
        let mut closures = closures_meeting(from, to);
        if let Some(org) = organisation {
            closures = closures.filter(office_hours_closure::Column::OrganisationId.eq(org));
        }
        if !include_lifted {
            closures = closures.filter(office_hours_closure::Column::LiftedAt.is_null());
        }
        let found = closures
            .order_by_asc(office_hours_closure::Column::StartsOn)
            .order_by_asc(office_hours_closure::Column::Id)
            .limit(MAX_CLOSURES as u64 + 1)
            .all(crate::db_of(ctx)?)
            .await?;
        if found.len() > MAX_CLOSURES {
            return Err(ApiError::QueryTooComplex(format!(
                "the window holds more than {MAX_CLOSURES} closures: ask for a shorter one, or for one organisation"
            )));
        }
        Ok(found.into_iter().map(OfficeHoursClosure).collect())
    }
}

/// The closures (lifted or not) that close some day from `first` to `last`.
fn closures_meeting(first: NaiveDate, last: NaiveDate) -> Select<office_hours_closure::Entity> {
    office_hours_closure::Entity::find()
        .filter(office_hours_closure::Column::StartsOn.lte(last))
        .filter(office_hours_closure::Column::EndsOn.gte(first))
}

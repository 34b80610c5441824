//! Partners keep their own office hours ("zitdagen") at the welfare house: the weekly intervals
//! (`setOfficeHours`), days closed (`closeOfficeHours`), and a closure lifted again
//! (`liftOfficeHoursClosure`).
//!
//! No change drops a booked appointment silently. New hours that would leave a future booking
//! outside them are refused (CONFLICT, naming each); the partner cancels or moves those first,
//! or keeps the old hours until after them (`validTo`). A closure is the explicit way to cancel:
//! it cancels the bookings on its days in its own transaction, keeps the reason, and tells the
//! sender of each booking's referral through `referralEvents`.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Duration, NaiveDate, SubsecRound, Utc};
use chrono_tz::Europe::Brussels;
use entities::{
    OrganisationKind, ReferralNoticeKind, appointment, location, office_hour, office_hours_closure,
    office_hours_closure_appointment, organisation, referral, referral_notice,
};
use sea_orm::sea_query::{Expr, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::text;
use crate::audit::{record_change, record_changes};
use crate::error::{ApiError, ApiResult};
use crate::events::EventBus;
use crate::guards::RoleIn;
use crate::office_hours::{slots, start_of_day};
use crate::policy::{self, OFFICE_HOURS_KEEPERS};
use crate::types::office_hours::{OfficeHours, OfficeHoursClosure};
use crate::types::parse_id;
use crate::weekly_hours::{Draft, WeeklyInterval, parse_week};

#[derive(Default)]
pub struct OfficeHoursMutation;

/// One weekly interval of office hours, in Europe/Brussels local time.
#[derive(InputObject)]
pub struct OfficeHoursInput {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// `HH:MM`, local time.
    pub opens: String,
    /// `HH:MM`, local time, after `opens` (`24:00` for midnight).
    pub closes: String,
    /// The length of a slot, 5 to 240 minutes; it must cut the interval into whole slots.
    pub slot_minutes: i32,
    /// The first day the interval holds; none: from now on.
    pub valid_from: Option<NaiveDate>,
    /// The last day it holds; none: until further notice.
    pub valid_to: Option<NaiveDate>,
    /// Where in the welfare house; by default its location, when it has one.
    pub location_id: Option<ID>,
}

/// The longest closure: a quarter. Longer breaks are new hours (`validFrom` / `validTo`).
const MAX_CLOSURE_DAYS: i64 = 92;
/// How far ahead a closure may start.
const MAX_CLOSURE_LEAD_DAYS: i64 = 3 * 366;
/// The most characters of a closure's reason.
const REASON_CHARS: usize = 500;
/// How many of the bookings in the way a CONFLICT names (it counts them all).
const NAMED_IN_CONFLICT: usize = 20;

#[Object]
impl OfficeHoursMutation {
    /// Replaces the organisation's weekly office hours at the welfare house with `hours` (an
    /// empty list ends them). A partner sets its own organisation's, ADMIN any. Refused with
    /// CONFLICT, naming them, when a booked future appointment would fall outside the new hours
    /// (its start and end must still be a slot): cancel or move those first.
    #[graphql(
        guard = "RoleIn(OFFICE_HOURS_KEEPERS)",
        visible = "crate::policy::visible::office_hours_keeping",
        complexity = "crate::connection::capped(crate::weekly_hours::MAX_INTERVALS, child_complexity)"
    )]
    async fn set_office_hours(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        hours: Vec<OfficeHoursInput>,
    ) -> ApiResult<Vec<OfficeHours>> {
        let caller = crate::caller_of(ctx)?;
        let organisation = parse_id(&organisation_id, "organisationId")?;
        if !policy::may_keep_office_hours_of(caller, organisation) {
            return Err(ApiError::Forbidden);
        }
        let week = parse_week(&drafts(&hours))?;
        let places = hours
            .iter()
            .enumerate()
            .map(|(n, h)| h.location_id.as_ref().map(|id| parse_id(id, &location_field(n))).transpose())
            .collect::<ApiResult<Vec<_>>>()?;

        let txn = crate::write_transaction(ctx).await?;
        hold_office_hours(&txn, organisation, Hold::Change).await?;
        let places = house_locations(&txn, &places).await?;
        let rows: Vec<office_hour::Model> =
            week.iter().zip(places).map(|(interval, place)| row(organisation, place, interval)).collect();
        refuse_stranding(&txn, organisation, &rows).await?;
        office_hour::Entity::delete_many()
            .filter(office_hour::Column::OrganisationId.eq(organisation))
            .exec(&txn)
            .await?;
        if !rows.is_empty() {
            office_hour::Entity::insert_many(rows.iter().cloned().map(IntoActiveModel::into_active_model))
                .exec_without_returning(&txn)
                .await?;
        }
        record_change(ctx, &txn, "UPDATE", "OfficeHours", organisation, None).await?;
        txn.commit().await?;
        let mut rows = rows;
        rows.sort_by_key(|h| (h.weekday, h.starts_minute, h.id));
        Ok(rows.into_iter().map(OfficeHours).collect())
    }

    /// Closes the organisation's office hours from `from` to `to` (Brussels dates, both
    /// included; at most 92 days, from today on) for `reason`: those days hold no slots, and
    /// every appointment booked on them is cancelled now, in the same transaction. The sender of
    /// each cancelled appointment's referral hears it on `referralEvents` (kind
    /// APPOINTMENT_CANCELLED). A partner closes its own organisation's hours, ADMIN any; a
    /// range that meets a closure in force is CONFLICT.
    #[graphql(
        guard = "RoleIn(OFFICE_HOURS_KEEPERS)",
        visible = "crate::policy::visible::office_hours_keeping"
    )]
    async fn close_office_hours(
        &self,
        ctx: &Context<'_>,
        organisation_id: ID,
        from: NaiveDate,
        to: NaiveDate,
        reason: String,
    ) -> ApiResult<OfficeHoursClosure> {
        let caller = crate::caller_of(ctx)?;
        let organisation = parse_id(&organisation_id, "organisationId")?;
        if !policy::may_keep_office_hours_of(caller, organisation) {
            return Err(ApiError::Forbidden);
        }
        let days = ClosedDays::parse(from, to, today())?;
        let reason = text("reason", &reason, REASON_CHARS)?;

        let txn = crate::write_transaction(ctx).await?;
        let partner = hold_office_hours(&txn, organisation, Hold::Change).await?;
        refuse_double_closure(&txn, organisation, &days).await?;
        let now = Utc::now().trunc_subsecs(6);
        let cancelled = cancel_bookings(&txn, organisation, &days, now).await?;
        let closure = office_hours_closure::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(organisation),
            starts_on: Set(days.from),
            ends_on: Set(days.to),
            reason: Set(reason),
            cancelled_appointments: Set(cancelled.len() as i32),
            created_by: Set(caller.user_id()),
            created_at: Set(now),
            lifted_at: Set(None),
            lifted_by: Set(None),
        }
        .insert(&txn)
        .await?;
        link_cancelled(&txn, closure.id, &cancelled).await?;
        let notices = tell_senders(&txn, caller, &partner, &closure, &cancelled).await?;
        record_change(ctx, &txn, "CREATE", "OfficeHoursClosure", closure.id, None).await?;
        let subjects: Vec<(Uuid, Option<Uuid>)> =
            cancelled.iter().map(|a| (a.id, Some(a.client_id))).collect();
        record_changes(ctx, &txn, "CANCEL", "Appointment", &subjects).await?;
        let cancelled_event = entities::WebhookEventType::AppointmentCancelled;
        crate::webhooks::appointment_events(&txn, &cancelled, cancelled_event, now).await?;
        announce_and_commit(ctx, txn, &notices).await?;
        Ok(OfficeHoursClosure(closure))
    }

    /// Lifts a closure that is not over: its days hold office hours again. The appointments it
    /// cancelled stay cancelled (their clients were told; book again). A partner lifts its own
    /// organisation's closures, ADMIN any; lifting twice, or a closure that is over, is CONFLICT.
    #[graphql(
        guard = "RoleIn(OFFICE_HOURS_KEEPERS)",
        visible = "crate::policy::visible::office_hours_keeping"
    )]
    async fn lift_office_hours_closure(&self, ctx: &Context<'_>, id: ID) -> ApiResult<OfficeHoursClosure> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        // Closures are public: "not found" hides nothing here.
        let closure = office_hours_closure::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound("office hours closure"))?;
        if !policy::may_keep_office_hours_of(caller, closure.organisation_id) {
            return Err(ApiError::Forbidden);
        }
        hold_office_hours(&txn, closure.organisation_id, Hold::Change).await?;
        if closure.lifted_at.is_some() {
            return Err(ApiError::Conflict("this closure is lifted already".into()));
        }
        if closure.ends_on < today() {
            return Err(ApiError::Conflict(format!("this closure is over: it ended on {}", closure.ends_on)));
        }
        let mut lifted = closure.into_active_model();
        lifted.lifted_at = Set(Some(Utc::now().trunc_subsecs(6)));
        lifted.lifted_by = Set(caller.user_id());
        let lifted = lifted.update(&txn).await?;
        record_change(ctx, &txn, "LIFT", "OfficeHoursClosure", lifted.id, None).await?;
        txn.commit().await?;
        Ok(OfficeHoursClosure(lifted))
    }
}

/// How a transaction holds an organisation's office hours until it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hold {
    /// A booking: no change to the hours meanwhile; other bookings may go on.
    Book,
    /// A change to the hours or closures: no booking nor other change meanwhile.
    Change,
}

/// Locks the organisation's row for the rest of the transaction and returns it (`NOT_FOUND`
/// when there is none). Without the lock, on PostgreSQL a booking that read the old hours could
/// commit after new hours or a closure that no longer hold its slot, and the check against
/// bookings would have missed it. (On SQLite every write transaction holds the one write lock
/// from its start, so the clause is left out.)
pub(crate) async fn hold_office_hours(
    txn: &DatabaseTransaction,
    organisation: Uuid,
    hold: Hold,
) -> ApiResult<organisation::Model> {
    let lock = match hold {
        Hold::Book => LockType::Share,
        // Not FOR UPDATE: inserts that only reference the organisation (an appointment) take a
        // key-share lock, which this one leaves them.
        Hold::Change => LockType::NoKeyUpdate,
    };
    organisation::Entity::find_by_id(organisation)
        .lock(lock)
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("organisation"))
}

/// The closure in force on `day` for `organisation`, if any.
pub(crate) async fn closure_on(
    txn: &DatabaseTransaction,
    organisation: Uuid,
    day: NaiveDate,
) -> ApiResult<Option<office_hours_closure::Model>> {
    Ok(office_hours_closure::Entity::find()
        .filter(office_hours_closure::Column::OrganisationId.eq(organisation))
        .filter(office_hours_closure::Column::StartsOn.lte(day))
        .filter(office_hours_closure::Column::EndsOn.gte(day))
        .filter(office_hours_closure::Column::LiftedAt.is_null())
        .one(txn)
        .await?)
}

/// Today in Brussels, where the office hours are held.
fn today() -> NaiveDate {
    Utc::now().with_timezone(&Brussels).date_naive()
}

fn drafts(hours: &[OfficeHoursInput]) -> Vec<Draft<'_>> {
    hours
        .iter()
        .map(|h| Draft {
            weekday: h.weekday,
            opens: &h.opens,
            closes: &h.closes,
            slot_minutes: h.slot_minutes,
            valid_from: h.valid_from,
            valid_to: h.valid_to,
        })
        .collect()
}

fn location_field(n: usize) -> String {
    format!("hours[{n}].locationId")
}

fn row(organisation: Uuid, location: Uuid, interval: &WeeklyInterval) -> office_hour::Model {
    office_hour::Model {
        id: Uuid::now_v7(),
        organisation_id: organisation,
        location_id: location,
        weekday: interval.weekday,
        starts_minute: interval.opens,
        ends_minute: interval.closes,
        slot_minutes: interval.slot_minutes,
        valid_from: interval.valid_from,
        valid_to: interval.valid_to,
    }
}

/// Where each interval is held: the location named, which must be the welfare house's, or the
/// house's only location.
async fn house_locations(txn: &DatabaseTransaction, named: &[Option<Uuid>]) -> ApiResult<Vec<Uuid>> {
    if named.is_empty() {
        return Ok(Vec::new());
    }
    let houses = Query::select()
        .column(organisation::Column::Id)
        .from(organisation::Entity)
        .and_where(organisation::Column::Kind.eq(OrganisationKind::WelfareHouse))
        .to_owned();
    let house: Vec<Uuid> = location::Entity::find()
        .select_only()
        .column(location::Column::Id)
        .filter(location::Column::OrganisationId.in_subquery(houses))
        .filter(location::Column::Confidential.eq(false))
        .into_tuple()
        .all(txn)
        .await?;
    named
        .iter()
        .enumerate()
        .map(|(n, place)| match (place, house.as_slice()) {
            (Some(place), _) if house.contains(place) => Ok(*place),
            (Some(_), _) => {
                Err(ApiError::bad_input(location_field(n), "not a location of the welfare house"))
            }
            (None, [only]) => Ok(*only),
            (None, places) => Err(ApiError::bad_input(
                location_field(n),
                format!("the welfare house has {} locations: name one", places.len()),
            )),
        })
        .collect()
}

/// Refuses new hours that would leave a booked future appointment outside them: its start and
/// end must be a slot of the new hours, or another booking could come to overlap it.
async fn refuse_stranding(
    txn: &DatabaseTransaction,
    organisation: Uuid,
    new_hours: &[office_hour::Model],
) -> ApiResult<()> {
    let booked = appointment::Entity::find()
        .filter(appointment::Column::OrganisationId.eq(organisation))
        .filter(appointment::Column::ActiveSlot.is_not_null())
        .filter(appointment::Column::StartsAt.gt(Utc::now()))
        .order_by_asc(appointment::Column::StartsAt)
        .all(txn)
        .await?;
    let stranded: Vec<&appointment::Model> = booked.iter().filter(|a| !still_a_slot(new_hours, a)).collect();
    if stranded.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = stranded
        .iter()
        .take(NAMED_IN_CONFLICT)
        .map(|a| format!("{} at {}", a.id, local(a.starts_at)))
        .collect();
    let more = stranded.len().saturating_sub(NAMED_IN_CONFLICT);
    Err(ApiError::Conflict(format!(
        "{} booked appointment(s) would fall outside the new office hours: {}{}; cancel or move them \
         first, or keep the current hours until after them (validTo)",
        stranded.len(),
        named.join(", "),
        if more > 0 { format!(" and {more} more") } else { String::new() }
    )))
}

fn still_a_slot(hours: &[office_hour::Model], booked: &appointment::Model) -> bool {
    slots(hours, booked.starts_at, booked.starts_at + Duration::minutes(1))
        .iter()
        .any(|slot| slot.starts_at == booked.starts_at && slot.ends_at == booked.ends_at)
}

/// A moment as Brussels local time with its offset, as partners read their agenda.
fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Brussels).format("%Y-%m-%dT%H:%M%:z").to_string()
}

/// The days a closure closes: checked, from today on, at most [`MAX_CLOSURE_DAYS`].
struct ClosedDays {
    from: NaiveDate,
    to: NaiveDate,
}

impl ClosedDays {
    fn parse(from: NaiveDate, to: NaiveDate, today: NaiveDate) -> ApiResult<Self> {
        if from < today {
            return Err(ApiError::bad_input("from", format!("must not lie before today ({today})")));
        }
        if (from - today).num_days() > MAX_CLOSURE_LEAD_DAYS {
            return Err(ApiError::bad_input("from", "at most three years ahead"));
        }
        if to < from {
            return Err(ApiError::bad_input("to", format!("must not lie before from ({from})")));
        }
        if (to - from).num_days() >= MAX_CLOSURE_DAYS {
            return Err(ApiError::bad_input(
                "to",
                format!(
                    "a closure holds at most {MAX_CLOSURE_DAYS} days: longer breaks are new hours (validTo)"
                ),
            ));
        }
        Ok(ClosedDays { from, to })
    }

    /// The moments the days span: local midnight of the first to local midnight after the last.
    fn span(&self) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
        let after_last = self.to.succ_opt().ok_or(ApiError::Internal)?;
        match (start_of_day(self.from), start_of_day(after_last)) {
            (Some(start), Some(end)) => Ok((start, end)),
            _ => Err(ApiError::internal("a Brussels midnight that does not exist")),
        }
    }
}

/// Two closures in force never share a day: lifting one would otherwise leave the other's
/// reason standing for a day the partner meant to reopen.
async fn refuse_double_closure(
    txn: &DatabaseTransaction,
    organisation: Uuid,
    days: &ClosedDays,
) -> ApiResult<()> {
    let met = office_hours_closure::Entity::find()
        .filter(office_hours_closure::Column::OrganisationId.eq(organisation))
        .filter(office_hours_closure::Column::StartsOn.lte(days.to))
        .filter(office_hours_closure::Column::EndsOn.gte(days.from))
        .filter(office_hours_closure::Column::LiftedAt.is_null())
        .one(txn)
        .await?;
    match met {
        Some(closure) => Err(ApiError::Conflict(format!(
            "the office hours are closed already from {} to {} (closure {}): lift it first",
            closure.starts_on, closure.ends_on, closure.id
        ))),
        None => Ok(()),
    }
}

/// Cancels every appointment booked on the closed days that has not begun; returns them by
/// time. One statement marks and returns exactly the rows it cancelled.
async fn cancel_bookings(
    txn: &DatabaseTransaction,
    organisation: Uuid,
    days: &ClosedDays,
    now: DateTime<Utc>,
) -> ApiResult<Vec<appointment::Model>> {
    let (start, end) = days.span()?;
    let mut cancelled = appointment::Entity::update_many()
        .col_expr(appointment::Column::CancelledAt, Expr::value(now))
        .col_expr(appointment::Column::ActiveSlot, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(appointment::Column::OrganisationId.eq(organisation))
        .filter(appointment::Column::ActiveSlot.is_not_null())
        .filter(appointment::Column::StartsAt.gte(start.max(now)))
        .filter(appointment::Column::StartsAt.lt(end))
        .exec_with_returning(txn)
        .await?;
    cancelled.sort_by_key(|a| (a.starts_at, a.id));
    Ok(cancelled)
}

/// Rows per `INSERT` of links and notices: far below either database's parameter limit.
const BATCH: usize = 500;

async fn link_cancelled(
    txn: &DatabaseTransaction,
    closure: Uuid,
    cancelled: &[appointment::Model],
) -> ApiResult<()> {
    for batch in cancelled.chunks(BATCH) {
        let links = batch.iter().map(|a| office_hours_closure_appointment::ActiveModel {
            closure_id: Set(closure),
            appointment_id: Set(a.id),
        });
        office_hours_closure_appointment::Entity::insert_many(links).exec_without_returning(txn).await?;
    }
    Ok(())
}

/// A notice on the referral of each cancelled appointment that follows one up; returns their
/// ids, to be announced on commit.
async fn tell_senders(
    txn: &DatabaseTransaction,
    caller: &crate::caller::Caller,
    partner: &organisation::Model,
    closure: &office_hours_closure::Model,
    cancelled: &[appointment::Model],
) -> ApiResult<Vec<Uuid>> {
    let followed: Vec<&appointment::Model> = cancelled.iter().filter(|a| a.referral_id.is_some()).collect();
    if followed.is_empty() {
        return Ok(Vec::new());
    }
    // The referrals' current status, to say the notice changed none. Read whole, not through
    // the caller's scope: the notice is the system telling the sender, not a read by the caller.
    let mut statuses = std::collections::HashMap::new();
    for batch in followed.chunks(BATCH) {
        let referrals = referral::Entity::find()
            .filter(referral::Column::Id.is_in(batch.iter().filter_map(|a| a.referral_id)))
            .all(txn)
            .await?;
        statuses.extend(referrals.into_iter().map(|r| (r.id, r.status)));
    }
    let note = closure_note(partner, closure);
    let notices: Vec<referral_notice::Model> = followed
        .iter()
        .filter_map(|a| {
            let referral = a.referral_id?;
            Some(referral_notice::Model {
                id: Uuid::now_v7(),
                referral_id: referral,
                kind: ReferralNoticeKind::AppointmentCancelled,
                referral_status: *statuses.get(&referral)?,
                appointment_id: Some(a.id),
                closure_id: Some(closure.id),
                note: note.clone(),
                actor_user_id: caller.user_id(),
                actor_organisation_id: caller.organisation_id(),
                at: closure.created_at,
            })
        })
        .collect();
    let ids = notices.iter().map(|n| n.id).collect();
    for batch in notices.chunks(BATCH) {
        referral_notice::Entity::insert_many(batch.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(txn)
            .await?;
    }
    Ok(ids)
}

/// What the sender reads: who closed which days and why. Not the appointment's time: a sender
/// may not see the recipient's appointments (the notice's `appointment` field says so).
fn closure_note(partner: &organisation::Model, closure: &office_hours_closure::Model) -> String {
    let days = if closure.starts_on == closure.ends_on {
        format!("on {}", closure.starts_on)
    } else {
        format!("from {} to {}", closure.starts_on, closure.ends_on)
    };
    format!(
        "{} closed its office hours {days} ({}): the appointment booked there for this referral is cancelled",
        partner.name, closure.reason
    )
}

/// Commits a change with its notices, announcing each to subscribers on every replica.
async fn announce_and_commit(ctx: &Context<'_>, txn: DatabaseTransaction, notices: &[Uuid]) -> ApiResult<()> {
    let bus = ctx.data::<EventBus>().map_err(|_| ApiError::internal("schema without event bus"))?;
    let backend = txn.get_database_backend();
    for notice in notices {
        bus.announce(&txn, *notice).await?;
    }
    txn.commit().await?;
    for notice in notices {
        bus.committed(backend, *notice);
    }
    Ok(())
}

//! Partners' office hours ("zitdagen") at the welfare house, cut into bookable slots.
//!
//! Office hours are kept as weekly local times (Europe/Brussels); slots are computed for a
//! window of real time, so they stay at 9:00 on the wall clock across a daylight-saving change.
//! A local time that does not exist (the spring-forward hour) yields no slot; one that exists
//! twice (the autumn hour) yields the first. A closure (a holiday, say) takes its days' slots
//! away; days are Brussels dates.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Brussels;
use entities::{office_hour, office_hours_closure};
use uuid::Uuid;

/// One bookable slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub organisation_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The most slots one `officeHours` call answers: two months of a busy partner, or a few weeks
/// of every partner. A window holding more is refused rather than cut, so a calendar never shows
/// a partial window as the whole. It is also what the field counts for in the complexity limit.
pub const MAX_SLOTS: usize = 500;

/// The slots of `hours` that start in `[from, to)`, in time order.
pub fn slots(hours: &[office_hour::Model], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Slot> {
    collect(hours, &[], from, to, usize::MAX).unwrap_or_default()
}

/// The slots of `hours` that start in `[from, to)` on days that `closures` (of the same
/// organisations, not lifted) do not close, in time order.
pub fn open_slots(
    hours: &[office_hour::Model],
    closures: &[office_hours_closure::Model],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Slot> {
    collect(hours, closures, from, to, usize::MAX).unwrap_or_default()
}

/// The same, or `None` as soon as there are more than `max` (without computing the rest).
pub fn slots_at_most(
    hours: &[office_hour::Model],
    closures: &[office_hours_closure::Model],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max: usize,
) -> Option<Vec<Slot>> {
    collect(hours, closures, from, to, max)
}

fn collect(
    hours: &[office_hour::Model],
    closures: &[office_hours_closure::Model],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max: usize,
) -> Option<Vec<Slot>> {
    let mut out = Vec::new();
    let first_day = from.with_timezone(&Brussels).date_naive();
    let last_day = to.with_timezone(&Brussels).date_naive();
    let mut day = first_day;
    while day <= last_day {
        for hour in hours.iter().filter(|h| holds_on(h, day) && !closed_on(closures, h.organisation_id, day))
        {
            let mut minute = hour.starts_minute;
            while minute + hour.slot_minutes <= hour.ends_minute {
                if let Some(starts_at) = local(day, minute) {
                    if starts_at >= from && starts_at < to {
                        if out.len() == max {
                            return None;
                        }
                        out.push(Slot {
                            organisation_id: hour.organisation_id,
                            starts_at,
                            ends_at: starts_at + Duration::minutes(hour.slot_minutes.into()),
                        });
                    }
                }
                minute += hour.slot_minutes;
            }
        }
        day = day.succ_opt().unwrap_or(day);
        if day == NaiveDate::MAX {
            break;
        }
    }
    out.sort_by_key(|s| (s.starts_at, s.organisation_id));
    Some(out)
}

fn holds_on(hour: &office_hour::Model, day: NaiveDate) -> bool {
    hour.weekday == day.weekday().number_from_monday() as i32
        && hour.valid_from.is_none_or(|from| from <= day)
        && hour.valid_to.is_none_or(|to| day <= to)
}

/// Whether a closure that has not been lifted closes `organisation`'s office hours on `day`.
pub fn closed_on(closures: &[office_hours_closure::Model], organisation: Uuid, day: NaiveDate) -> bool {
    closures.iter().any(|c| {
        c.organisation_id == organisation && c.lifted_at.is_none() && c.starts_on <= day && day <= c.ends_on
    })
}

/// Local midnight (Europe/Brussels) at the start of `day`, as UTC: where a closed day begins.
pub fn start_of_day(day: NaiveDate) -> Option<DateTime<Utc>> {
    local(day, 0)
}

/// `minute` after local midnight of `day` in Brussels, as UTC.
fn local(day: NaiveDate, minute: i32) -> Option<DateTime<Utc>> {
    let naive = day.and_hms_opt(0, 0, 0)? + Duration::minutes(minute.into());
    Brussels.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc))
}

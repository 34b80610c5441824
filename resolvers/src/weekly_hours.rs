//! What a partner's weekly office hours must be. `setOfficeHours` parses what it is given into
//! [`WeeklyInterval`]s, which can only hold hours that cut into whole slots and do not overlap;
//! every problem is `BAD_USER_INPUT` naming the field (`hours[2].closes`).

use chrono::NaiveDate;

use crate::error::{ApiError, ApiResult};

/// The most intervals an organisation keeps: four a day, every day of the week. It is also what
/// `Organisation.officeHours` counts for in the complexity limit.
pub const MAX_INTERVALS: usize = 28;
/// The shortest and longest slot, as the table's check allows.
pub const SLOT_MINUTES: std::ops::RangeInclusive<i32> = 5..=240;

/// One interval as given, before it is checked.
pub struct Draft<'a> {
    pub weekday: i32,
    pub opens: &'a str,
    pub closes: &'a str,
    pub slot_minutes: i32,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

/// A weekly interval that holds: a weekday, a local (Europe/Brussels) time span that is a whole
/// number of slots, and the dates it holds between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklyInterval {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// Minutes after local midnight.
    pub opens: i32,
    pub closes: i32,
    pub slot_minutes: i32,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

/// Parses a whole week of intervals: each on its own, then no two overlapping.
pub fn parse_week(drafts: &[Draft<'_>]) -> ApiResult<Vec<WeeklyInterval>> {
    if drafts.len() > MAX_INTERVALS {
        return Err(ApiError::bad_input("hours", format!("at most {MAX_INTERVALS} intervals")));
    }
    let intervals = drafts
        .iter()
        .enumerate()
        .map(|(n, draft)| WeeklyInterval::parse(draft, &format!("hours[{n}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    for (later, interval) in intervals.iter().enumerate() {
        if let Some(earlier) = intervals[..later].iter().position(|e| e.overlaps(interval)) {
            return Err(ApiError::bad_input(
                format!("hours[{later}]"),
                format!(
                    "overlaps hours[{earlier}]: both on {} for a time, {} and {}",
                    weekday_name(interval.weekday),
                    intervals[earlier].span(),
                    interval.span()
                ),
            ));
        }
    }
    Ok(intervals)
}

impl WeeklyInterval {
    /// Parses one interval; `field` names it in errors (`hours[2]`).
    pub fn parse(draft: &Draft<'_>, field: &str) -> ApiResult<Self> {
        let bad = |name: &str, message: String| ApiError::bad_input(format!("{field}.{name}"), message);
        if !(1..=7).contains(&draft.weekday) {
            return Err(bad("weekday", "must be 1 (Monday) to 7 (Sunday)".into()));
        }
        let opens = parse_hhmm(draft.opens)
            .filter(|m| *m < 24 * 60)
            .ok_or_else(|| bad("opens", "a local time \"HH:MM\", from 00:00 to 23:59".into()))?;
        let closes = parse_hhmm(draft.closes)
            .ok_or_else(|| bad("closes", "a local time \"HH:MM\", from 00:00 to 24:00".into()))?;
        if closes <= opens {
            return Err(bad("closes", format!("must be after opens ({})", hhmm(opens))));
        }
        if !SLOT_MINUTES.contains(&draft.slot_minutes) {
            return Err(bad(
                "slotMinutes",
                format!("from {} to {} minutes", SLOT_MINUTES.start(), SLOT_MINUTES.end()),
            ));
        }
        // A remainder would be time no one can book: say what was meant instead.
        let length = closes - opens;
        if length % draft.slot_minutes != 0 {
            return Err(bad(
                "slotMinutes",
                format!("must cut {}–{} ({length} minutes) into whole slots", hhmm(opens), hhmm(closes)),
            ));
        }
        if let (Some(from), Some(to)) = (draft.valid_from, draft.valid_to)
            && to < from
        {
            return Err(bad("validTo", format!("must not be before validFrom ({from})")));
        }
        Ok(WeeklyInterval {
            weekday: draft.weekday,
            opens,
            closes,
            slot_minutes: draft.slot_minutes,
            valid_from: draft.valid_from,
            valid_to: draft.valid_to,
        })
    }

    /// Whether both hold on some day at some time: the same weekday, times that overlap, and
    /// validity periods that share a date (hours that change on a date do not overlap).
    pub fn overlaps(&self, other: &WeeklyInterval) -> bool {
        // `None` is open-ended: as a start it is the earliest (and `Option`'s order agrees), as an
        // end the latest.
        let starts = self.valid_from.max(other.valid_from);
        let ends = match (self.valid_to, other.valid_to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let dates_meet = match (starts, ends) {
            (Some(starts), Some(ends)) => starts <= ends,
            _ => true,
        };
        self.weekday == other.weekday && self.opens < other.closes && other.opens < self.closes && dates_meet
    }

    fn span(&self) -> String {
        format!("{}–{}", hhmm(self.opens), hhmm(self.closes))
    }
}

/// `"HH:MM"` (two digits each) as minutes after midnight, `24:00` included; `None` otherwise.
pub fn parse_hhmm(text: &str) -> Option<i32> {
    let (hours, minutes) = text.split_once(':')?;
    let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hours) || !two_digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    match (hours, minutes) {
        (0..=23, 0..=59) | (24, 0) => Some(hours * 60 + minutes),
        _ => None,
    }
}

/// Minutes after midnight as `HH:MM`.
pub fn hhmm(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The English name of an ISO weekday, for messages.
pub fn weekday_name(weekday: i32) -> &'static str {
    match weekday {
        1 => "Monday",
        2 => "Tuesday",
        3 => "Wednesday",
        4 => "Thursday",
        5 => "Friday",
        6 => "Saturday",
        _ => "Sunday",
    }
}

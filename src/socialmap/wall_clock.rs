//! The social map's hours are Belgian wall-clock times. HSDS 3.0 wants a time with its offset
//! ("should include timezone information": `09:00+01:00`), but a weekly schedule has no single
//! offset (summer time moves it), so the export writes the offset that holds on the schedule's
//! first valid day, or else on the day of the export; the import turns a time with an offset (or
//! a schedule's `timezone`, hours from UTC) into Belgian wall-clock time on that same day. A time
//! with neither is read as Belgian wall-clock time, as this house's earlier files and most
//! Flemish publishers write it.

use chrono::{NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Europe::Brussels;

/// The day a schedule's times are placed on: its first valid day, or today (in Belgium).
pub fn reference_day(valid_from: Option<NaiveDate>) -> NaiveDate {
    valid_from.unwrap_or_else(|| Utc::now().with_timezone(&Brussels).date_naive())
}

/// Belgium's offset from UTC on `day`, in minutes (60 in winter, 120 in summer).
fn offset_on(day: NaiveDate) -> i32 {
    let noon = day.and_hms_opt(12, 0, 0).unwrap_or_default();
    Brussels.offset_from_utc_datetime(&noon).fix().local_minus_utc() / 60
}

/// Minutes after midnight, Belgian time, as HSDS writes them: `09:00+01:00`.
pub fn written(minutes: i32, day: NaiveDate) -> String {
    let offset = offset_on(day);
    let sign = if offset < 0 { '-' } else { '+' };
    let (h, m) = (offset.abs() / 60, offset.abs() % 60);
    format!("{:02}:{:02}{sign}{h:02}:{m:02}", minutes / 60, minutes % 60)
}

/// A time as a publisher writes it — `HH:MM` or `HH:MM:SS`, then optionally `Z` or an offset
/// `±HH:MM` (else `timezone`, hours from UTC, when the schedule gives one) — as minutes after
/// midnight, Belgian time on `day`; `None` when it is no such time or falls outside that day.
pub fn read(text: &str, timezone: Option<f64>, day: NaiveDate) -> Option<i32> {
    let text = text.trim();
    let (clock, offset) = match text.strip_suffix(['Z', 'z']) {
        Some(clock) => (clock, Some(0)),
        None => match text.char_indices().skip(5).find(|(_, c)| *c == '+' || *c == '-') {
            Some((at, _)) => (&text[..at], Some(offset_minutes(&text[at..])?)),
            None => (text, None),
        },
    };
    let local = hh_mm(clock)?;
    let offset = match (offset, timezone) {
        (Some(offset), _) => offset,
        (None, Some(hours)) if hours.is_finite() && hours.abs() <= 14.0 => (hours * 60.0).round() as i32,
        (None, Some(_)) => return None,
        (None, None) => return Some(local),
    };
    let belgian = local - offset + offset_on(day);
    (0..=1440).contains(&belgian).then_some(belgian)
}

/// `±HH:MM` or `±HH` as minutes.
fn offset_minutes(text: &str) -> Option<i32> {
    let sign = if text.starts_with('-') { -1 } else { 1 };
    let digits = &text[1..];
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None => (digits, "00"),
    };
    let two = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !two(h) || !two(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 60 + m))
}

/// `HH:MM` (or `HH:MM:SS`, the seconds ignored) as minutes after midnight; `24:00` is midnight
/// at the day's end.
fn hh_mm(text: &str) -> Option<i32> {
    let digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=3).contains(&parts.len()) || !parts.iter().all(|p| digits(p)) {
        return None;
    }
    let (h, m): (i32, i32) = (parts[0].parse().ok()?, parts[1].parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440).then_some(h * 60 + m)
}

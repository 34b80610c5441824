//! Belgian public holidays, for the demo's closures of office hours: the ten legal holidays,
//! three of which follow Easter.

use chrono::{Datelike, Duration, NaiveDate};

/// The legal public holidays of `year`, by date, with their Dutch names.
pub fn of_year(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let date = |month, day| NaiveDate::from_ymd_opt(year, month, day);
    let easter = easter_sunday(year);
    let mut holidays: Vec<(NaiveDate, &'static str)> = [
        (date(1, 1), "Nieuwjaar"),
        (easter.map(|e| e + Duration::days(1)), "Paasmaandag"),
        (date(5, 1), "Dag van de Arbeid"),
        (easter.map(|e| e + Duration::days(39)), "Onze-Lieve-Heer-Hemelvaart"),
        (easter.map(|e| e + Duration::days(50)), "Pinkstermaandag"),
        (date(7, 21), "Nationale feestdag"),
        (date(8, 15), "Onze-Lieve-Vrouw-Hemelvaart"),
        (date(11, 1), "Allerheiligen"),
        (date(11, 11), "Wapenstilstand"),
        (date(12, 25), "Kerstmis"),
    ]
    .into_iter()
    .filter_map(|(day, name)| Some((day?, name)))
    .collect();
    holidays.sort();
    holidays
}

/// The first public holiday on or after `from` that falls on one of `weekdays` (ISO numbers);
/// Ascension Day is always a Thursday, so a Thursday is found within the year.
pub fn next_on(from: NaiveDate, weekdays: &[u32]) -> Option<(NaiveDate, &'static str)> {
    (from.year()..=from.year() + 1)
        .flat_map(of_year)
        .find(|(day, _)| *day >= from && weekdays.contains(&day.weekday().number_from_monday()))
}

/// Easter Sunday of the Gregorian calendar (the anonymous Gregorian algorithm).
fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
}

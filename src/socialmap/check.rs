//! Checking one HSDS record before anything is written: every problem, by field, with the same
//! rules and limits as the service mutations (`resolvers::social_map_rules`).

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use chrono::NaiveDate;
use entities::{LifeDomain, ServiceStatus};
use resolvers::social_map_rules::{
    NAME_CHARS, ServiceDraft, ValidService, is_web_address, looks_like_email, text_problem,
};

use uuid::Uuid;

use super::ids::{self, derived};
use super::{DAYS, HsdsLocation, HsdsSchedule, HsdsService, LIFE_DOMAIN_VOCABULARY, LOCATION_VOCABULARY};

/// The most characters of an HSDS id (of a service, organization or location).
const ID_CHARS: usize = 100;
/// The most characters of a value quoted back in a problem.
const QUOTED_CHARS: usize = 40;
/// The most entries of a service's lists: as many as anyone keeps up to date, and a bound on
/// what one record can make the import write.
const MAX_SCHEDULES: usize = 50;
const MAX_LOCATIONS: usize = 40;
const MAX_ATTRIBUTES: usize = 50;
const MAX_PHONES: usize = 10;
/// The most weekly hours one service may have at all its levels together (a day each).
const MAX_HOURS: usize = 500;
/// The most services one file may hold: the duplicate check remembers each id (16 bytes).
pub const MAX_SERVICES: usize = 1_000_000;

/// A record that may be written.
pub struct Checked {
    pub service: HsdsService,
    pub status: ServiceStatus,
    pub assured: Option<NaiveDate>,
    pub domains: Vec<LifeDomain>,
    pub languages: Vec<String>,
    pub hours: Vec<Hours>,
    /// Where it is offered: each service_at_location's id (the file's when it is a UUID, else
    /// one made from the service's and the location's) and its location's HSDS id; one per
    /// location.
    pub places: Vec<(Uuid, String)>,
}

/// One weekday's opening hours of a service.
pub struct Hours {
    /// The HSDS id of the location they hold for (hours of a service_at_location, or of the
    /// location itself); `None` for the service wherever it is offered.
    pub location: Option<String>,
    pub weekday: i32,
    pub opens: i32,
    pub closes: i32,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub description: Option<String>,
}

/// The service (and service_at_location) ids met so far in a file, as 128-bit hashes: a repeat
/// is found in a file of any length without keeping its ids.
#[derive(Default)]
pub struct SeenIds(HashSet<u128>, HashSet<u128>);

impl SeenIds {
    /// Checks record `index`, whose id must not have been met before in the file.
    pub fn check(&mut self, index: usize, service: HsdsService) -> Result<Checked, Vec<String>> {
        let label = if usable_id(&service.id) { service.id.clone() } else { format!("#{index}") };
        let mut problems = Vec::new();
        if index >= MAX_SERVICES {
            problems.push(format!("more than {MAX_SERVICES} services in one file: split it"));
        } else if let Some(problem) = id_problem(&service.id) {
            problems.push(format!("id: {problem}"));
        } else if !self.0.insert(hash128(&service.id)) {
            problems.push("id: appears twice in the file".to_owned());
        }
        let checked = check(service, &mut problems);
        for (i, (place, _)) in checked.places.iter().enumerate() {
            if !self.1.insert(hash128(&place.to_string())) {
                problems.push(format!("service_at_locations[{i}].id: appears twice in the file"));
            }
        }
        if problems.is_empty() {
            Ok(checked)
        } else {
            Err(problems.into_iter().map(|p| format!("service {label}: {p}")).collect())
        }
    }
}

fn hash128(id: &str) -> u128 {
    let hash = |salt: u8| BuildHasherDefault::<DefaultHasher>::default().hash_one((salt, id));
    (u128::from(hash(1)) << 64) | u128::from(hash(2))
}

fn usable_id(id: &str) -> bool {
    id_problem(id).is_none()
}

fn id_problem(id: &str) -> Option<String> {
    if id.trim().is_empty() {
        return Some("must not be empty".to_owned());
    }
    if id.trim() != id {
        return Some("must not start or end with a space".to_owned());
    }
    text_problem(id, ID_CHARS)
}

/// A value as a problem may quote it: short, on one line.
fn quoted(value: &str) -> String {
    let mut short: String = value.chars().take(QUOTED_CHARS).filter(|c| !c.is_control()).collect();
    if value.chars().nth(QUOTED_CHARS).is_some() {
        short.push('…');
    }
    format!("'{short}'")
}

/// Checks one record, adding each problem as `field: message`.
fn check(mut service: HsdsService, problems: &mut Vec<String>) -> Checked {
    let phone = service.phones.first().map(|p| p.number.as_str());
    let codes: Vec<String> = service.languages.iter().map(|l| l.code.clone()).collect();
    let domains = life_domains(&service, problems);
    let draft = ServiceDraft {
        name: &service.name,
        description: service.description.as_deref(),
        url: service.url.as_deref(),
        email: service.email.as_deref(),
        phone,
        eligibility: service.eligibility_description.as_deref(),
        fees: service.fees_description.as_deref(),
        application_process: service.application_process.as_deref(),
        alert: service.alert.as_deref(),
        languages: &codes,
        life_domains: &domains,
    };
    let valid = draft.check().unwrap_or_else(|broken| {
        problems.extend(broken.into_iter().map(|(field, m)| format!("{}: {m}", field.hsds())));
        ValidService { name: String::new(), languages: Vec::new(), life_domains: Vec::new() }
    });
    let status = ServiceStatus::parse(&service.status).unwrap_or_else(|| {
        problems.push(format!(
            "status: {} is not active, inactive, defunct or temporarily closed",
            quoted(&service.status)
        ));
        ServiceStatus::Active
    });
    let assured = date("assured_date", &service.assured_date, problems);
    for (field, count, max) in [
        ("schedules", service.schedules.len(), MAX_SCHEDULES),
        ("service_at_locations", service.service_at_locations.len(), MAX_LOCATIONS),
        ("attributes", service.attributes.len(), MAX_ATTRIBUTES),
        ("phones", service.phones.len(), MAX_PHONES),
    ] {
        if count > max {
            problems.push(format!("{field}: at most {max}"));
        }
    }
    check_organisation(&mut service, problems);
    let mut hours = weekly_hours("schedules", &service.schedules, None, problems);
    let mut places: Vec<(Uuid, String)> = Vec::new();
    for (i, at) in service.service_at_locations.iter().enumerate() {
        let field = format!("service_at_locations[{i}]");
        check_location(&format!("{field}.location"), &at.location, problems);
        if places.iter().any(|(_, l)| *l == at.location.id) {
            continue;
        }
        // The service's own hours there, else the location's (the more specific wins).
        let (list, from) = if at.schedules.is_empty() {
            (&at.location.schedules, format!("{field}.location.schedules"))
        } else {
            (&at.schedules, format!("{field}.schedules"))
        };
        if list.len() > MAX_SCHEDULES {
            problems.push(format!("{from}: at most {MAX_SCHEDULES}"));
        }
        hours.extend(weekly_hours(&from, list, Some(at.location.id.as_str()), problems));
        let id = ids::as_uuid(&at.id)
            .unwrap_or_else(|| derived(&["service_at_location", &service.id, &at.location.id]));
        places.push((id, at.location.id.clone()));
    }
    if hours.len() > MAX_HOURS {
        problems.push(format!("schedules: at most {MAX_HOURS} weekly hours at all levels together"));
    }
    service.name = valid.name;
    service.organization.name = service.organization.name.trim().to_owned();
    Checked {
        status,
        assured,
        domains: valid.life_domains,
        languages: valid.languages,
        hours,
        places,
        service,
    }
}

fn check_text(field: &str, value: Option<&str>, max: usize, problems: &mut Vec<String>) {
    if let Some(problem) = value.and_then(|v| text_problem(v, max)) {
        problems.push(format!("{field}: {problem}"));
    }
}

fn check_organisation(service: &mut HsdsService, problems: &mut Vec<String>) {
    // Required by the standard, so often written empty: empty is none.
    if service.organization.description.as_deref().is_some_and(|d| d.trim().is_empty()) {
        service.organization.description = None;
    }
    let org = &service.organization;
    if let Some(problem) = id_problem(&org.id) {
        problems.push(format!("organization.id: {problem}"));
    }
    if org.name.trim().is_empty() {
        problems.push("organization.name: must not be empty".to_owned());
    }
    check_text("organization.name", Some(&org.name), NAME_CHARS, problems);
    check_text("organization.description", org.description.as_deref(), 10_000, problems);
    check_text("organization.website", org.website.as_deref(), 2_000, problems);
    check_text("organization.email", org.email.as_deref(), 254, problems);
    if org.website.as_deref().is_some_and(|u| !is_web_address(u)) {
        problems.push("organization.website: must start with http:// or https://".to_owned());
    }
    if org.email.as_deref().is_some_and(|e| !looks_like_email(e)) {
        problems.push("organization.email: not an e-mail address".to_owned());
    }
}

fn check_location(field: &str, location: &HsdsLocation, problems: &mut Vec<String>) {
    if let Some(problem) = id_problem(&location.id) {
        problems.push(format!("{field}.id: {problem}"));
    }
    check_text(&format!("{field}.name"), location.name.as_deref(), NAME_CHARS, problems);
    match location.addresses.first() {
        Some(a) if !a.city.trim().is_empty() && !a.postal_code.trim().is_empty() => {
            check_text(&format!("{field}.addresses[0].address_1"), Some(&a.address_1), NAME_CHARS, problems);
            check_text(&format!("{field}.addresses[0].city"), Some(&a.city), NAME_CHARS, problems);
            check_text(&format!("{field}.addresses[0].postal_code"), Some(&a.postal_code), 20, problems);
        }
        _ => problems.push(format!("{field}.addresses: needs a city and postal_code")),
    }
    if location.latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l))
        || location.longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l))
    {
        problems.push(format!("{field}: latitude or longitude out of range"));
    }
    if location.latitude.is_some() != location.longitude.is_some() {
        problems.push(format!("{field}: latitude and longitude come together"));
    }
    if location.addresses.len() > 5 || location.attributes.len() > MAX_ATTRIBUTES {
        problems.push(format!("{field}: at most 5 addresses and {MAX_ATTRIBUTES} attributes"));
    }
}

/// The life domains among the service's attributes: the terms of our taxonomy (by its name, by
/// a term id of ours, or a bare code of a file written before HSDS 3.0). Another taxonomy's
/// terms are left alone.
fn life_domains(service: &HsdsService, problems: &mut Vec<String>) -> Vec<LifeDomain> {
    let mut domains = Vec::new();
    for (i, attribute) in service.attributes.iter().enumerate() {
        let term = &attribute.taxonomy_term;
        let by_id = [Some(term.id.as_str()), attribute.taxonomy_term_id.as_deref()]
            .into_iter()
            .flatten()
            .find_map(ids::life_domain_of_term_id);
        let ours = term.taxonomy_name() == Some(LIFE_DOMAIN_VOCABULARY);
        match by_id.or_else(|| LifeDomain::parse(&term.code)) {
            Some(domain) if by_id.is_some() || ours || term.taxonomy_name().is_none() => domains.push(domain),
            None if ours => problems.push(format!(
                "attributes[{i}].taxonomy_term.code: {} is not a life domain",
                quoted(&term.code)
            )),
            _ => {}
        }
    }
    domains
}

/// Whether a location's attributes mark it confidential.
pub fn marked_confidential(location: &HsdsLocation) -> bool {
    let confidential = ids::confidential_term().id;
    location.attributes.iter().any(|a| {
        let term = &a.taxonomy_term;
        (term.taxonomy_name() == Some(LOCATION_VOCABULARY) && term.code == "CONFIDENTIAL")
            || term.id == confidential
            || a.taxonomy_term_id.as_deref() == Some(confidential.as_str())
    })
}

/// The weekly hours of a list of schedules (`field` names it in problems), for `location` or
/// for the service everywhere. A schedule with neither time says nothing the map can keep.
fn weekly_hours(
    field: &str,
    schedules: &[HsdsSchedule],
    location: Option<&str>,
    problems: &mut Vec<String>,
) -> Vec<Hours> {
    let mut hours = Vec::new();
    for (i, schedule) in schedules.iter().enumerate() {
        if schedule.opens_at.is_empty() && schedule.closes_at.is_empty() {
            continue;
        }
        if schedule.freq.as_deref().is_some_and(|f| !f.eq_ignore_ascii_case("WEEKLY")) {
            problems.push(format!("{field}[{i}].freq: only WEEKLY hours are kept"));
            continue;
        }
        if schedule.interval.as_ref().is_some_and(|n| n.as_u64() != Some(1)) {
            problems.push(format!("{field}[{i}].interval: only weekly hours (interval 1) are kept"));
            continue;
        }
        if schedule.byday.trim().is_empty() {
            problems.push(format!("{field}[{i}].byday: on which days (MO,TU,…)"));
            continue;
        }
        let from = date(&format!("{field}[{i}].valid_from"), &schedule.valid_from, problems);
        let day = super::wall_clock::reference_day(from);
        let time = |text: &str| super::wall_clock::read(text, schedule.timezone, day);
        let (Some(opens), Some(closes)) = (time(&schedule.opens_at), time(&schedule.closes_at)) else {
            problems.push(format!(
                "{field}[{i}]: opens_at and closes_at must be HH:MM (with Z or an offset such as +01:00, or the \
                 schedule's timezone), within one day in Belgian time"
            ));
            continue;
        };
        if opens >= closes {
            problems.push(format!("{field}[{i}]: closes_at must come after opens_at"));
        }
        let to = date(&format!("{field}[{i}].valid_to"), &schedule.valid_to, problems);
        if from.zip(to).is_some_and(|(from, to)| from > to) {
            problems.push(format!("{field}[{i}]: valid_to must not come before valid_from"));
        }
        check_text(&format!("{field}[{i}].description"), schedule.description.as_deref(), 1_000, problems);
        let mut days_seen = [false; 7];
        for day in schedule.byday.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match DAYS.iter().position(|d| d.eq_ignore_ascii_case(day)) {
                // A day named twice is one day's hours.
                Some(index) if std::mem::replace(&mut days_seen[index], true) => {}
                Some(index) => hours.push(Hours {
                    location: location.map(str::to_owned),
                    weekday: index as i32 + 1,
                    opens,
                    closes,
                    from,
                    to,
                    description: schedule.description.clone(),
                }),
                None => problems.push(format!("{field}[{i}].byday: {} is not MO…SU", quoted(day))),
            }
        }
    }
    hours
}

/// A date as `YYYY-MM-DD`, in the years 1 to 9999 (as the API's dates).
fn date(field: &str, text: &Option<String>, problems: &mut Vec<String>) -> Option<NaiveDate> {
    let text = text.as_deref()?;
    let shaped = text.len() == 10
        && text
            .bytes()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(date) if shaped && text[..4] != *"0000" => Some(date),
        _ => {
            problems.push(format!("{field}: expected YYYY-MM-DD, in the years 1 to 9999"));
            None
        }
    }
}

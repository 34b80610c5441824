//! The social map out, as HSDS 3.0 services in the nested form (`schema/compiled/service.json`)
//! that the import reads back.
//!
//! A page of services is described with a fixed number of statements whatever its size: the
//! services' organisations, places, locations, life domains, languages and schedules are each
//! read once for the whole page (`IN (…)`), never per service.

use std::collections::HashMap;

use anyhow::Context;
use entities::*;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::ids::{self, derived, shown};
use super::*;

/// Services described per round of statements in a whole export (a bound on each `IN (…)`).
const CHUNK: usize = 1000;

/// How much of a confidential location the reader may see: as the policy says for the caller
/// (`resolvers::policy::may_see_confidential_location`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reveal {
    pub confidential_addresses: bool,
}

impl Reveal {
    /// The house's own file (`welzijnshuis socialmap export`): everything, with the mark that
    /// keeps a confidential address hidden wherever it is imported.
    pub const EVERYTHING: Reveal = Reveal { confidential_addresses: true };

    /// What `caller` may see.
    pub fn for_caller(caller: &resolvers::Caller) -> Reveal {
        Reveal { confidential_addresses: resolvers::policy::may_see_confidential_location(caller) }
    }
}

/// The whole social map, as import reads it, by name.
pub async fn export(db: &impl ConnectionTrait, reveal: Reveal) -> anyhow::Result<Vec<HsdsService>> {
    let services = service::Entity::find()
        .order_by_asc(service::Column::Name)
        .order_by_asc(service::Column::Id)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(services.len());
    let mut services = services.into_iter().peekable();
    while services.peek().is_some() {
        let chunk: Vec<service::Model> = services.by_ref().take(CHUNK).collect();
        out.extend(export_services(db, chunk, reveal).await?);
    }
    Ok(out)
}

/// `services` described in full, in the order given: six statements whatever their number.
pub async fn export_services(
    db: &impl ConnectionTrait,
    services: Vec<service::Model>,
    reveal: Reveal,
) -> anyhow::Result<Vec<HsdsService>> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = services.iter().map(|s| s.id).collect();
    let mut org_ids: Vec<Uuid> = services.iter().map(|s| s.organisation_id).collect();
    org_ids.sort();
    org_ids.dedup();
    let organisations: HashMap<Uuid, organisation::Model> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let places = service_at_location::Entity::find()
        .filter(service_at_location::Column::ServiceId.is_in(ids.clone()))
        .all(db)
        .await?;
    let mut location_ids: Vec<Uuid> = places.iter().map(|p| p.location_id).collect();
    location_ids.sort();
    location_ids.dedup();
    let locations: HashMap<Uuid, location::Model> = if location_ids.is_empty() {
        HashMap::new()
    } else {
        location::Entity::find()
            .filter(location::Column::Id.is_in(location_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect()
    };
    let mut places_of: HashMap<Uuid, Vec<service_at_location::Model>> = HashMap::new();
    for place in places {
        places_of.entry(place.service_id).or_default().push(place);
    }
    let mut domains: HashMap<Uuid, Vec<LifeDomain>> = HashMap::new();
    for d in service_life_domain::Entity::find()
        .filter(service_life_domain::Column::ServiceId.is_in(ids.clone()))
        .order_by_asc(service_life_domain::Column::LifeDomain)
        .all(db)
        .await?
    {
        domains.entry(d.service_id).or_default().push(d.life_domain);
    }
    let mut languages: HashMap<Uuid, Vec<String>> = HashMap::new();
    for l in service_language::Entity::find()
        .filter(service_language::Column::ServiceId.is_in(ids.clone()))
        .order_by_asc(service_language::Column::Language)
        .all(db)
        .await?
    {
        languages.entry(l.service_id).or_default().push(l.language);
    }
    let mut schedules: HashMap<Uuid, Vec<schedule::Model>> = HashMap::new();
    for s in schedule::Entity::find()
        .filter(schedule::Column::ServiceId.is_in(ids))
        .order_by_asc(schedule::Column::Weekday)
        .order_by_asc(schedule::Column::OpensMinute)
        .order_by_asc(schedule::Column::ClosesMinute)
        .all(db)
        .await?
    {
        schedules.entry(s.service_id).or_default().push(s);
    }
    let map = Loaded { organisations, locations, places_of, domains, languages, schedules, reveal };
    services.into_iter().map(|s| map.service(s)).collect()
}

/// A page's rows, by owner.
struct Loaded {
    organisations: HashMap<Uuid, organisation::Model>,
    locations: HashMap<Uuid, location::Model>,
    places_of: HashMap<Uuid, Vec<service_at_location::Model>>,
    domains: HashMap<Uuid, Vec<LifeDomain>>,
    languages: HashMap<Uuid, Vec<String>>,
    schedules: HashMap<Uuid, Vec<schedule::Model>>,
    reveal: Reveal,
}

impl Loaded {
    fn service(&self, s: service::Model) -> anyhow::Result<HsdsService> {
        let org = self.organisations.get(&s.organisation_id).context("a service without organisation")?;
        let id = shown(s.hsds_id.as_deref(), s.id).to_string();
        let organization = organization(org);
        let mut at: Vec<(&service_at_location::Model, &location::Model)> = self
            .places_of
            .get(&s.id)
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p, self.locations.get(&p.location_id)?)))
            .collect();
        at.sort_by_key(|(_, l)| shown(l.hsds_id.as_deref(), l.id));
        let rows = self.schedules.get(&s.id).map(Vec::as_slice).unwrap_or_default();
        let location_ids: HashMap<Uuid, String> =
            at.iter().map(|(_, l)| (l.id, shown(l.hsds_id.as_deref(), l.id).to_string())).collect();
        // Hours for a place the service is not (or no longer) offered at stay the service's.
        let at_service_level =
            |h: &&schedule::Model| h.location_id.is_none_or(|l| !location_ids.contains_key(&l));
        Ok(HsdsService {
            organization_id: Some(organization.id.clone()),
            name: s.name,
            description: s.description,
            url: s.url,
            email: s.email,
            status: s.status.as_str().to_owned(),
            application_process: s.application_process,
            fees_description: s.fees,
            eligibility_description: s.eligibility,
            assured_date: s.assured_date.map(|d| d.to_string()),
            alert: s.alert,
            last_modified: None,
            organization,
            phones: s
                .phone
                .iter()
                .map(|n| HsdsPhone { id: derived(&["phone", &id, n]).to_string(), number: n.clone() })
                .collect(),
            languages: self
                .languages
                .get(&s.id)
                .into_iter()
                .flatten()
                .map(|c| HsdsLanguage { id: derived(&["language", &id, c]).to_string(), code: c.clone() })
                .collect(),
            attributes: self
                .domains
                .get(&s.id)
                .into_iter()
                .flatten()
                .map(|&d| attribute(&id, ids::life_domain_term(d)))
                .collect(),
            schedules: hsds_schedules(&id, "", rows.iter().filter(at_service_level)),
            service_at_locations: at
                .into_iter()
                .map(|(place, l)| {
                    let location = &location_ids[&l.id];
                    HsdsServiceAtLocation {
                        id: place.id.to_string(),
                        schedules: hsds_schedules(
                            &id,
                            location,
                            rows.iter().filter(|h| h.location_id == Some(l.id)),
                        ),
                        location: self.location(l, location),
                    }
                })
                .collect(),
            given: Given::default(),
            id,
        })
    }

    fn location(&self, l: &location::Model, id: &str) -> HsdsLocation {
        let shown = !l.confidential || self.reveal.confidential_addresses;
        HsdsLocation {
            id: id.to_owned(),
            location_type: "physical".to_owned(),
            name: l.name.clone(),
            latitude: l.latitude.filter(|_| shown),
            longitude: l.longitude.filter(|_| shown),
            addresses: vec![HsdsAddress {
                id: derived(&["address", id]).to_string(),
                address_1: l.street.clone().filter(|_| shown).unwrap_or_default(),
                city: l.municipality.clone(),
                state_province: ids::province(&l.postcode).to_owned(),
                postal_code: l.postcode.clone(),
                country: "BE".to_owned(),
                address_type: "physical".to_owned(),
            }],
            schedules: Vec::new(),
            attributes: l.confidential.then(|| attribute(id, ids::confidential_term())).into_iter().collect(),
        }
    }
}

/// An organisation as HSDS shows it.
pub fn organization(org: &organisation::Model) -> HsdsOrganization {
    HsdsOrganization {
        id: shown(org.hsds_id.as_deref(), org.id).to_string(),
        name: org.name.clone(),
        description: org.description.clone(),
        website: org.url.clone(),
        email: org.email.clone(),
    }
}

/// An attribute of the record `owner` that links it to `term`.
fn attribute(owner: &str, term: HsdsTaxonomyTerm) -> HsdsAttribute {
    HsdsAttribute {
        id: derived(&["attribute", owner, &term.id]).to_string(),
        taxonomy_term_id: Some(term.id.clone()),
        taxonomy_term: term,
    }
}

/// Weekly hours as HSDS schedules, one a day, each with an id made from what it holds (and, for
/// two identical rows, which one it is).
fn hsds_schedules<'a>(
    service: &str,
    location: &str,
    rows: impl Iterator<Item = &'a schedule::Model>,
) -> Vec<HsdsSchedule> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    rows.map(|h| {
        let byday = DAYS[(h.weekday - 1).clamp(0, 6) as usize].to_owned();
        let day = super::wall_clock::reference_day(h.valid_from);
        let hhmm = |m: i32| super::wall_clock::written(m, day);
        let (opens_at, closes_at) = (hhmm(h.opens_minute), hhmm(h.closes_minute));
        let valid_from = h.valid_from.map(|d| d.to_string());
        let valid_to = h.valid_to.map(|d| d.to_string());
        let key = [
            byday.as_str(),
            &opens_at,
            &closes_at,
            valid_from.as_deref().unwrap_or(""),
            valid_to.as_deref().unwrap_or(""),
            h.description.as_deref().unwrap_or(""),
        ]
        .join("\u{1f}");
        let count = seen.entry(key.clone()).or_default();
        *count += 1;
        HsdsSchedule {
            id: derived(&["schedule", service, location, &key, &count.to_string()]).to_string(),
            freq: Some("WEEKLY".to_owned()),
            interval: None,
            timezone: None,
            byday,
            opens_at,
            closes_at,
            valid_from,
            valid_to,
            description: h.description.clone(),
        }
    })
    .collect()
}

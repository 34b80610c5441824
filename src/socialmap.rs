//! The social map in and out as Open Referral HSDS 3.0 JSON (the nested service form: each
//! service with its organization, locations, schedules, languages and attributes).
//!
//! Import validates every record before writing anything, reports each bad one by its id and
//! field, writes all or nothing in one transaction, and is idempotent by HSDS id (a service,
//! organization or location seen before is updated, not duplicated). Life domains travel as
//! attributes whose taxonomy term code is a `LifeDomain` value. Export writes what import reads.

use std::collections::HashMap;

use anyhow::{Context, bail};
use chrono::{NaiveDate, SubsecRound, Utc};
use entities::*;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The vocabulary of the life-domain attributes.
pub const LIFE_DOMAIN_VOCABULARY: &str = "welzijnshuis-life-domain";
/// The vocabulary of the attribute that marks a confidential location.
pub const LOCATION_VOCABULARY: &str = "welzijnshuis-location";
const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsService {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_process: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligibility_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assured_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    pub organization: HsdsOrganization,
    pub phones: Vec<HsdsPhone>,
    pub languages: Vec<HsdsLanguage>,
    pub attributes: Vec<HsdsAttribute>,
    pub schedules: Vec<HsdsSchedule>,
    pub service_at_locations: Vec<HsdsServiceAtLocation>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsOrganization {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsPhone {
    pub number: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsLanguage {
    pub code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsAttribute {
    pub taxonomy_term: HsdsTaxonomyTerm,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsTaxonomyTerm {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vocabulary: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsSchedule {
    /// Days as iCal codes, comma-separated: `MO,TU`.
    pub byday: String,
    pub opens_at: String,
    pub closes_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsServiceAtLocation {
    pub location: HsdsLocation,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsLocation {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    pub addresses: Vec<HsdsAddress>,
    pub attributes: Vec<HsdsAttribute>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_1: Option<String>,
    pub city: String,
    pub postal_code: String,
    pub country: String,
}

/// A file is an array of services or `{"services": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum HsdsFile {
    List(Vec<HsdsService>),
    Wrapped { services: Vec<HsdsService> },
}

/// Parses a file's text.
pub fn parse(text: &str) -> anyhow::Result<Vec<HsdsService>> {
    match serde_json::from_str::<HsdsFile>(text)
        .context("not HSDS JSON: expected an array of services or {\"services\": [...]}")?
    {
        HsdsFile::List(services) | HsdsFile::Wrapped { services } => Ok(services),
    }
}

/// What one record becomes, checked.
struct Checked {
    service: HsdsService,
    status: ServiceStatus,
    assured: Option<NaiveDate>,
    domains: Vec<LifeDomain>,
    schedules: Vec<(i32, i32, i32, Option<NaiveDate>, Option<NaiveDate>, Option<String>)>,
}

fn minutes(text: &str) -> Option<i32> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.get(..2)?.parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440).then_some(h * 60 + m)
}

fn date(text: &Option<String>) -> Result<Option<NaiveDate>, ()> {
    text.as_deref().map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| ())).transpose()
}

/// Checks one record; every problem as `field: message`.
fn check(service: &HsdsService) -> Result<Checked, Vec<String>> {
    let mut problems = Vec::new();
    if service.name.trim().is_empty() {
        problems.push("name: must not be empty".to_owned());
    }
    if service.organization.id.trim().is_empty() || service.organization.name.trim().is_empty() {
        problems.push("organization: needs an id and a name".to_owned());
    }
    let status = ServiceStatus::parse(service.status.as_str()).unwrap_or_else(|| {
        problems.push(format!(
            "status: '{}' is not active, inactive, defunct or temporarily closed",
            service.status
        ));
        ServiceStatus::Active
    });
    let assured = date(&service.assured_date).unwrap_or_else(|_| {
        problems.push("assured_date: expected YYYY-MM-DD".to_owned());
        None
    });
    let mut domains = Vec::new();
    for (i, attribute) in service.attributes.iter().enumerate() {
        let term = &attribute.taxonomy_term;
        if term.vocabulary.as_deref() == Some(LIFE_DOMAIN_VOCABULARY) || term.vocabulary.is_none() {
            match LifeDomain::parse(&term.code) {
                Some(domain) if !domains.contains(&domain) => domains.push(domain),
                Some(_) => {}
                None if term.vocabulary.is_some() => problems.push(format!(
                    "attributes[{i}].taxonomy_term.code: '{}' is not a life domain",
                    term.code
                )),
                None => {}
            }
        }
    }
    let mut schedules = Vec::new();
    for (i, schedule) in service.schedules.iter().enumerate() {
        let (opens, closes) = (minutes(&schedule.opens_at), minutes(&schedule.closes_at));
        let (Some(opens), Some(closes)) = (opens, closes) else {
            problems.push(format!("schedules[{i}]: opens_at and closes_at must be HH:MM"));
            continue;
        };
        if opens >= closes {
            problems.push(format!("schedules[{i}]: closes_at must come after opens_at"));
        }
        let (Ok(from), Ok(to)) = (date(&schedule.valid_from), date(&schedule.valid_to)) else {
            problems.push(format!("schedules[{i}]: valid_from and valid_to must be YYYY-MM-DD"));
            continue;
        };
        for day in schedule.byday.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match DAYS.iter().position(|d| d.eq_ignore_ascii_case(day)) {
                Some(index) => {
                    schedules.push((index as i32 + 1, opens, closes, from, to, schedule.description.clone()))
                }
                None => problems.push(format!("schedules[{i}].byday: '{day}' is not MO…SU")),
            }
        }
    }
    for (i, at) in service.service_at_locations.iter().enumerate() {
        let location = &at.location;
        if location.id.trim().is_empty() {
            problems.push(format!("service_at_locations[{i}].location.id: must not be empty"));
        }
        match location.addresses.first() {
            Some(a) if !a.city.trim().is_empty() && !a.postal_code.trim().is_empty() => {}
            _ => problems
                .push(format!("service_at_locations[{i}].location.addresses: needs a city and postal_code")),
        }
        if location.latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l))
            || location.longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l))
        {
            problems.push(format!("service_at_locations[{i}].location: latitude or longitude out of range"));
        }
    }
    if problems.is_empty() {
        Ok(Checked { service: service.clone(), status, assured, domains, schedules })
    } else {
        Err(problems)
    }
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
}

/// Imports services: all checked first, then all written in one transaction.
pub async fn import(db: &DatabaseConnection, services: Vec<HsdsService>) -> anyhow::Result<ImportSummary> {
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, service) in services.iter().enumerate() {
        let label = if service.id.trim().is_empty() { format!("#{index}") } else { service.id.clone() };
        if service.id.trim().is_empty() {
            problems.push(format!("service {label}: id: must not be empty"));
        } else if !seen.insert(service.id.clone()) {
            problems.push(format!("service {label}: id: appears twice in the file"));
        }
        match check(service) {
            Ok(ok) => checked.push(ok),
            Err(found) => problems.extend(found.into_iter().map(|p| format!("service {label}: {p}"))),
        }
    }
    if !problems.is_empty() {
        bail!("nothing imported, {} problem(s):\n  {}", problems.len(), problems.join("\n  "));
    }
    let txn = db.begin().await?;
    let mut summary = ImportSummary::default();
    for record in checked {
        if write(&txn, record).await? {
            summary.created += 1;
        } else {
            summary.updated += 1;
        }
    }
    txn.commit().await?;
    Ok(summary)
}

/// Writes one checked record; `true` when the service is new.
async fn write(txn: &impl ConnectionTrait, record: Checked) -> anyhow::Result<bool> {
    let now = Utc::now().trunc_subsecs(0);
    let s = &record.service;
    let org = upsert_organisation(txn, &s.organization, now).await?;
    let existing = service::Entity::find().filter(service::Column::HsdsId.eq(&s.id)).one(txn).await?;
    let created = existing.is_none();
    let id = existing.as_ref().map(|e| e.id).unwrap_or_else(Uuid::now_v7);
    let model = service::ActiveModel {
        id: Set(id),
        organisation_id: Set(org),
        name: Set(s.name.trim().to_owned()),
        description: Set(s.description.clone()),
        url: Set(s.url.clone()),
        email: Set(s.email.clone()),
        phone: Set(s.phones.first().map(|p| p.number.clone())),
        status: Set(record.status),
        eligibility: Set(s.eligibility_description.clone()),
        fees: Set(s.fees_description.clone()),
        application_process: Set(s.application_process.clone()),
        assured_date: Set(record.assured),
        alert: Set(s.alert.clone()),
        hsds_id: Set(Some(s.id.clone())),
        created_at: Set(existing.as_ref().map(|e| e.created_at).unwrap_or(now)),
        updated_at: Set(now),
    };
    if created {
        model.insert(txn).await?;
    } else {
        model.update(txn).await?;
    }
    // The service's lists are replaced by the file's.
    let mut languages: Vec<String> =
        s.languages.iter().map(|l| l.code.trim().to_lowercase()).filter(|c| !c.is_empty()).collect();
    languages.sort();
    languages.dedup();
    resolvers::mutation::replace_service_lists(txn, id, &record.domains, &languages).await?;
    schedule::Entity::delete_many().filter(schedule::Column::ServiceId.eq(id)).exec(txn).await?;
    service_at_location::Entity::delete_many()
        .filter(service_at_location::Column::ServiceId.eq(id))
        .exec(txn)
        .await?;
    for (weekday, opens, closes, from, to, description) in record.schedules {
        schedule::ActiveModel {
            id: Set(Uuid::now_v7()),
            service_id: Set(id),
            location_id: Set(None),
            weekday: Set(weekday),
            opens_minute: Set(opens),
            closes_minute: Set(closes),
            valid_from: Set(from),
            valid_to: Set(to),
            description: Set(description),
        }
        .insert(txn)
        .await?;
    }
    for at in &s.service_at_locations {
        let location = upsert_location(txn, &at.location, org).await?;
        service_at_location::ActiveModel {
            id: Set(Uuid::now_v7()),
            service_id: Set(id),
            location_id: Set(location),
        }
        .insert(txn)
        .await?;
    }
    Ok(created)
}

async fn upsert_organisation(
    txn: &impl ConnectionTrait,
    org: &HsdsOrganization,
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    match organisation::Entity::find().filter(organisation::Column::HsdsId.eq(&org.id)).one(txn).await? {
        // A known organisation keeps its kind and network role; the map only refreshes its text.
        Some(existing) => {
            let id = existing.id;
            let mut row: organisation::ActiveModel = existing.into();
            row.name = Set(org.name.trim().to_owned());
            row.description = Set(org.description.clone());
            row.url = Set(org.website.clone());
            row.email = Set(org.email.clone());
            row.update(txn).await?;
            Ok(id)
        }
        None => {
            let id = Uuid::now_v7();
            organisation::ActiveModel {
                id: Set(id),
                name: Set(org.name.trim().to_owned()),
                kind: Set(OrganisationKind::Other),
                is_network_partner: Set(false),
                description: Set(org.description.clone()),
                url: Set(org.website.clone()),
                email: Set(org.email.clone()),
                phone: Set(None),
                hsds_id: Set(Some(org.id.clone())),
                created_at: Set(now),
            }
            .insert(txn)
            .await?;
            Ok(id)
        }
    }
}

async fn upsert_location(
    txn: &impl ConnectionTrait,
    location: &HsdsLocation,
    org: Uuid,
) -> anyhow::Result<Uuid> {
    let address = location.addresses.first().cloned().unwrap_or_default();
    let confidential = location.attributes.iter().any(|a| {
        a.taxonomy_term.vocabulary.as_deref() == Some(LOCATION_VOCABULARY)
            && a.taxonomy_term.code == "CONFIDENTIAL"
    });
    let existing =
        location::Entity::find().filter(location::Column::HsdsId.eq(&location.id)).one(txn).await?;
    let id = existing.as_ref().map(|l| l.id).unwrap_or_else(Uuid::now_v7);
    let row = location::ActiveModel {
        id: Set(id),
        organisation_id: Set(existing.as_ref().and_then(|l| l.organisation_id).or(Some(org))),
        name: Set(location.name.clone()),
        street: Set(address.address_1.clone()),
        postcode: Set(address.postal_code.trim().to_owned()),
        municipality: Set(address.city.trim().to_owned()),
        latitude: Set(location.latitude),
        longitude: Set(location.longitude),
        confidential: Set(confidential),
        hsds_id: Set(Some(location.id.clone())),
    };
    if existing.is_some() {
        row.update(txn).await?;
    } else {
        row.insert(txn).await?;
    }
    Ok(id)
}

/// The whole social map, as import reads it.
pub async fn export(db: &DatabaseConnection) -> anyhow::Result<Vec<HsdsService>> {
    let organisations: HashMap<Uuid, organisation::Model> =
        organisation::Entity::find().all(db).await?.into_iter().map(|o| (o.id, o)).collect();
    let locations: HashMap<Uuid, location::Model> =
        location::Entity::find().all(db).await?.into_iter().map(|l| (l.id, l)).collect();
    let mut domains: HashMap<Uuid, Vec<LifeDomain>> = HashMap::new();
    for d in service_life_domain::Entity::find()
        .order_by_asc(service_life_domain::Column::LifeDomain)
        .all(db)
        .await?
    {
        domains.entry(d.service_id).or_default().push(d.life_domain);
    }
    let mut languages: HashMap<Uuid, Vec<String>> = HashMap::new();
    for l in service_language::Entity::find().order_by_asc(service_language::Column::Language).all(db).await?
    {
        languages.entry(l.service_id).or_default().push(l.language);
    }
    let mut schedules: HashMap<Uuid, Vec<schedule::Model>> = HashMap::new();
    for s in schedule::Entity::find()
        .order_by_asc(schedule::Column::Weekday)
        .order_by_asc(schedule::Column::OpensMinute)
        .all(db)
        .await?
    {
        schedules.entry(s.service_id).or_default().push(s);
    }
    let mut places: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for at in service_at_location::Entity::find().all(db).await? {
        places.entry(at.service_id).or_default().push(at.location_id);
    }
    let hhmm = |m: i32| format!("{:02}:{:02}", m / 60, m % 60);
    let mut out = Vec::new();
    for s in service::Entity::find()
        .order_by_asc(service::Column::Name)
        .order_by_asc(service::Column::Id)
        .all(db)
        .await?
    {
        let org = organisations.get(&s.organisation_id).context("a service without organisation")?;
        let mut at: Vec<&location::Model> =
            places.get(&s.id).into_iter().flatten().filter_map(|l| locations.get(l)).collect();
        at.sort_by_key(|l| l.hsds_id.clone().unwrap_or_else(|| l.id.to_string()));
        out.push(HsdsService {
            id: s.hsds_id.clone().unwrap_or_else(|| s.id.to_string()),
            name: s.name.clone(),
            description: s.description.clone(),
            url: s.url.clone(),
            email: s.email.clone(),
            status: s.status.as_str().to_owned(),
            application_process: s.application_process.clone(),
            fees_description: s.fees.clone(),
            eligibility_description: s.eligibility.clone(),
            assured_date: s.assured_date.map(|d| d.to_string()),
            alert: s.alert.clone(),
            organization: HsdsOrganization {
                id: org.hsds_id.clone().unwrap_or_else(|| org.id.to_string()),
                name: org.name.clone(),
                description: org.description.clone(),
                website: org.url.clone(),
                email: org.email.clone(),
            },
            phones: s.phone.iter().map(|n| HsdsPhone { number: n.clone() }).collect(),
            languages: languages
                .get(&s.id)
                .into_iter()
                .flatten()
                .map(|c| HsdsLanguage { code: c.clone() })
                .collect(),
            attributes: domains
                .get(&s.id)
                .into_iter()
                .flatten()
                .map(|d| HsdsAttribute {
                    taxonomy_term: HsdsTaxonomyTerm {
                        code: d.as_str().to_owned(),
                        vocabulary: Some(LIFE_DOMAIN_VOCABULARY.to_owned()),
                    },
                })
                .collect(),
            schedules: schedules
                .get(&s.id)
                .into_iter()
                .flatten()
                .map(|h| HsdsSchedule {
                    byday: DAYS[(h.weekday - 1).clamp(0, 6) as usize].to_owned(),
                    opens_at: hhmm(h.opens_minute),
                    closes_at: hhmm(h.closes_minute),
                    valid_from: h.valid_from.map(|d| d.to_string()),
                    valid_to: h.valid_to.map(|d| d.to_string()),
                    description: h.description.clone(),
                })
                .collect(),
            service_at_locations: at
                .into_iter()
                .map(|l| HsdsServiceAtLocation {
                    location: HsdsLocation {
                        id: l.hsds_id.clone().unwrap_or_else(|| l.id.to_string()),
                        name: l.name.clone(),
                        latitude: l.latitude,
                        longitude: l.longitude,
                        addresses: vec![HsdsAddress {
                            address_1: l.street.clone(),
                            city: l.municipality.clone(),
                            postal_code: l.postcode.clone(),
                            country: "BE".into(),
                        }],
                        attributes: l
                            .confidential
                            .then(|| HsdsAttribute {
                                taxonomy_term: HsdsTaxonomyTerm {
                                    code: "CONFIDENTIAL".into(),
                                    vocabulary: Some(LOCATION_VOCABULARY.into()),
                                },
                            })
                            .into_iter()
                            .collect(),
                    },
                })
                .collect(),
        });
    }
    Ok(out)
}

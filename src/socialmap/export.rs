//! The social map out, as the import reads it back.

use std::collections::HashMap;

use anyhow::Context;
use entities::*;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use uuid::Uuid;

use super::*;

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

//! Writing a batch of checked records with a handful of statements, whatever its size: the
//! batch's organizations, locations and services each looked up once by HSDS id and upserted
//! together, their lists replaced together.

use std::collections::{BTreeMap, HashMap};

use chrono::{SubsecRound, Utc};
use entities::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::{Checked, HsdsLocation, ImportSummary, LOCATION_VOCABULARY};

/// Rows per INSERT: 1,000 rows of at most 16 columns stay under both databases' bind limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// Writes `batch`, counting new and updated services into `summary`.
pub async fn batch(
    txn: &impl ConnectionTrait,
    batch: Vec<Checked>,
    summary: &mut ImportSummary,
) -> anyhow::Result<()> {
    let now = Utc::now().trunc_subsecs(0);
    let organisations = organisations(txn, &batch, now).await?;
    let locations = locations(txn, &batch, &organisations).await?;
    let known = ids_of::<service::Entity>(
        txn,
        service::Column::Id,
        service::Column::HsdsId,
        batch.iter().map(|c| c.service.id.clone()).collect(),
    )
    .await?;
    let mut services = Vec::with_capacity(batch.len());
    let mut domains = Vec::new();
    let mut languages = Vec::new();
    let mut hours = Vec::new();
    let mut places = Vec::new();
    for record in batch {
        let s = &record.service;
        let id = match known.get(&s.id) {
            Some(&id) => {
                summary.updated += 1;
                id
            }
            None => {
                summary.created += 1;
                Uuid::now_v7()
            }
        };
        domains.extend(
            record
                .domains
                .iter()
                .map(|&d| service_life_domain::ActiveModel { service_id: Set(id), life_domain: Set(d) }),
        );
        languages.extend(
            record
                .languages
                .iter()
                .map(|l| service_language::ActiveModel { service_id: Set(id), language: Set(l.clone()) }),
        );
        hours.extend(record.hours.iter().map(|h| schedule::ActiveModel {
            id: Set(Uuid::now_v7()),
            service_id: Set(id),
            location_id: Set(None),
            weekday: Set(h.weekday),
            opens_minute: Set(h.opens),
            closes_minute: Set(h.closes),
            valid_from: Set(h.from),
            valid_to: Set(h.to),
            description: Set(h.description.clone()),
        }));
        let mut at: Vec<Uuid> = s.service_at_locations.iter().map(|a| locations[&a.location.id]).collect();
        at.sort();
        at.dedup();
        places.extend(at.into_iter().map(|location| service_at_location::ActiveModel {
            id: Set(Uuid::now_v7()),
            service_id: Set(id),
            location_id: Set(location),
        }));
        services.push(service::ActiveModel {
            id: Set(id),
            organisation_id: Set(organisations[&s.organization.id]),
            name: Set(s.name.clone()),
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
            created_at: Set(now),
            updated_at: Set(now),
        });
    }
    use service::Column as C;
    let refreshed = [
        C::OrganisationId,
        C::Name,
        C::Description,
        C::Url,
        C::Email,
        C::Phone,
        C::Status,
        C::Eligibility,
        C::Fees,
        C::ApplicationProcess,
        C::AssuredDate,
        C::Alert,
        C::UpdatedAt,
    ];
    upsert(txn, services, Some(OnConflict::column(C::HsdsId).update_columns(refreshed).to_owned())).await?;
    // A known service's lists are replaced by the file's.
    let replaced: Vec<Uuid> = known.into_values().collect();
    if !replaced.is_empty() {
        service_life_domain::Entity::delete_many()
            .filter(service_life_domain::Column::ServiceId.is_in(replaced.clone()))
            .exec(txn)
            .await?;
        service_language::Entity::delete_many()
            .filter(service_language::Column::ServiceId.is_in(replaced.clone()))
            .exec(txn)
            .await?;
        schedule::Entity::delete_many()
            .filter(schedule::Column::ServiceId.is_in(replaced.clone()))
            .exec(txn)
            .await?;
        service_at_location::Entity::delete_many()
            .filter(service_at_location::Column::ServiceId.is_in(replaced))
            .exec(txn)
            .await?;
    }
    upsert(txn, domains, None).await?;
    upsert(txn, languages, None).await?;
    upsert(txn, hours, None).await?;
    upsert(txn, places, None).await?;
    Ok(())
}

/// The batch's organizations, new ones added and known ones' text refreshed (a known
/// organisation keeps its kind and network role: the map only describes it); by HSDS id.
async fn organisations(
    txn: &impl ConnectionTrait,
    batch: &[Checked],
    now: chrono::DateTime<Utc>,
) -> anyhow::Result<HashMap<String, Uuid>> {
    // The last record naming an organization says what it is now.
    let named: BTreeMap<&str, &super::HsdsOrganization> =
        batch.iter().map(|c| (c.service.organization.id.as_str(), &c.service.organization)).collect();
    let mut ids = ids_of::<organisation::Entity>(
        txn,
        organisation::Column::Id,
        organisation::Column::HsdsId,
        named.keys().map(|id| id.to_string()).collect(),
    )
    .await?;
    let rows: Vec<organisation::ActiveModel> = named
        .into_iter()
        .map(|(hsds_id, org)| organisation::ActiveModel {
            id: Set(*ids.entry(hsds_id.to_owned()).or_insert_with(Uuid::now_v7)),
            name: Set(org.name.clone()),
            kind: Set(OrganisationKind::Other),
            is_network_partner: Set(false),
            description: Set(org.description.clone()),
            url: Set(org.website.clone()),
            email: Set(org.email.clone()),
            phone: Set(None),
            hsds_id: Set(Some(hsds_id.to_owned())),
            created_at: Set(now),
            kind_label: Set(None),
            active: Set(true),
            deactivated_at: Set(None),
        })
        .collect();
    use organisation::Column as C;
    let refreshed =
        OnConflict::column(C::HsdsId).update_columns([C::Name, C::Description, C::Url, C::Email]).to_owned();
    upsert(txn, rows, Some(refreshed)).await?;
    Ok(ids)
}

/// The batch's locations, by HSDS id; a new one belongs to the organization of the first
/// service that names it, a known one keeps its organisation.
async fn locations(
    txn: &impl ConnectionTrait,
    batch: &[Checked],
    organisations: &HashMap<String, Uuid>,
) -> anyhow::Result<HashMap<String, Uuid>> {
    let mut named: BTreeMap<&str, (&HsdsLocation, Uuid)> = BTreeMap::new();
    for record in batch {
        let org = organisations[&record.service.organization.id];
        for at in &record.service.service_at_locations {
            let owner = named.get(at.location.id.as_str()).map_or(org, |(_, owner)| *owner);
            named.insert(&at.location.id, (&at.location, owner));
        }
    }
    let mut ids = ids_of::<location::Entity>(
        txn,
        location::Column::Id,
        location::Column::HsdsId,
        named.keys().map(|id| id.to_string()).collect(),
    )
    .await?;
    let rows: Vec<location::ActiveModel> = named
        .into_iter()
        .map(|(hsds_id, (location, owner))| {
            let address = location.addresses.first().cloned().unwrap_or_default();
            let confidential = location.attributes.iter().any(|a| {
                a.taxonomy_term.vocabulary.as_deref() == Some(LOCATION_VOCABULARY)
                    && a.taxonomy_term.code == "CONFIDENTIAL"
            });
            location::ActiveModel {
                id: Set(*ids.entry(hsds_id.to_owned()).or_insert_with(Uuid::now_v7)),
                organisation_id: Set(Some(owner)),
                name: Set(location.name.clone()),
                street: Set(address.address_1.clone()),
                postcode: Set(address.postal_code.trim().to_owned()),
                municipality: Set(address.city.trim().to_owned()),
                latitude: Set(location.latitude),
                longitude: Set(location.longitude),
                confidential: Set(confidential),
                hsds_id: Set(Some(hsds_id.to_owned())),
            }
        })
        .collect();
    use location::Column as C;
    let refreshed = OnConflict::column(C::HsdsId)
        .update_columns([
            C::Name,
            C::Street,
            C::Postcode,
            C::Municipality,
            C::Latitude,
            C::Longitude,
            C::Confidential,
        ])
        .to_owned();
    upsert(txn, rows, Some(refreshed)).await?;
    Ok(ids)
}

/// The ids of the rows of `E` whose HSDS id is among `hsds_ids`, by HSDS id.
async fn ids_of<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    id: E::Column,
    hsds_id: E::Column,
    hsds_ids: Vec<String>,
) -> anyhow::Result<HashMap<String, Uuid>> {
    let mut found = HashMap::with_capacity(hsds_ids.len());
    for chunk in hsds_ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(Uuid, Option<String>)> = E::find()
            .select_only()
            .column(id)
            .column(hsds_id)
            .filter(hsds_id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(txn)
            .await?;
        found.extend(rows.into_iter().filter_map(|(id, hsds)| Some((hsds?, id))));
    }
    Ok(found)
}

/// Inserts `rows`, [`ROWS_PER_STATEMENT`] at a time; with `on_conflict`, as upserts.
async fn upsert<A>(
    txn: &impl ConnectionTrait,
    rows: Vec<A>,
    on_conflict: Option<OnConflict>,
) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Clone + Send,
{
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = A::Entity::insert_many(chunk.to_vec());
        if let Some(on_conflict) = &on_conflict {
            insert = insert.on_conflict(on_conflict.clone());
        }
        insert.exec_without_returning(txn).await?;
    }
    Ok(())
}

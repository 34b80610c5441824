//! Writing a batch of checked records with a handful of statements, whatever its size: the
//! batch's organizations, locations and services each looked up once by HSDS id and upserted
//! together, their lists replaced together.

use std::collections::{BTreeMap, HashMap};

use chrono::{SubsecRound, Utc};
use entities::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::{Checked, HsdsLocation, ImportSummary};

/// Rows per INSERT: 1,000 rows of at most 16 columns stay under both databases' bind limits.
const ROWS_PER_STATEMENT: usize = 1000;

/// Writes `batch`, counting new and updated services into `summary`. Answers the problems
/// only the database can tell (a known service that the file puts under another organisation):
/// then nothing of the batch is written and the import is refused.
///
/// From a federation feed (`origin`: the API it was read from), a record that would change an
/// entry this house keeps itself, or one another feed brought, is passed over (counted as
/// skipped): a neighbour's feed lists this house's own services when two houses federate both
/// ways, and a hostile one could name them by id.
pub async fn batch(
    txn: &impl ConnectionTrait,
    batch: Vec<Checked>,
    summary: &mut ImportSummary,
    origin: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    // The batch's services as stored, read once for every rule below.
    let stored = stored_services(txn, batch.iter().map(|c| c.service.id.clone()).collect()).await?;
    let batch = match origin {
        Some(origin) => from_this_feed(txn, batch, &stored, origin, summary).await?,
        None => batch,
    };
    let batch = changed_only(batch, &stored, summary);
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now().trunc_subsecs(0);
    let organisations = organisations(txn, &batch, now, origin).await?;
    let known: HashMap<String, (Uuid, Uuid)> = batch
        .iter()
        .filter_map(|c| {
            stored.get(&c.service.id).map(|row| (c.service.id.clone(), (row.id, row.organisation_id)))
        })
        .collect();
    let known_rows: HashMap<Uuid, (Option<String>, Option<String>)> =
        stored.values().map(|row| (row.id, (row.hsds_id.clone(), row.phone.clone()))).collect();
    // An import describes services; it does not hand one organisation's entry to another.
    let moved: Vec<String> = batch
        .iter()
        .filter(|c| {
            known.get(&c.service.id).is_some_and(|(_, org)| *org != organisations[&c.service.organization.id])
        })
        .map(|c| {
            format!(
                "service {}: organization: this service belongs to another organisation here",
                c.service.id
            )
        })
        .collect();
    if !moved.is_empty() {
        return Ok(moved);
    }
    let known: HashMap<String, Uuid> = known.into_iter().map(|(hsds, (id, _))| (hsds, id)).collect();
    // A service_at_location id is the row's: one another service holds here is not taken over.
    let taken = places_taken(txn, &batch, &known).await?;
    if !taken.is_empty() {
        return Ok(taken);
    }
    let locations = locations(txn, &batch, &organisations, origin).await?;
    let mut services = Vec::with_capacity(batch.len());
    let mut domains = Vec::new();
    let mut languages = Vec::new();
    let mut hours = Vec::new();
    let mut places = Vec::new();
    // A known service's lists are replaced by the file's, each list the record gives.
    let mut replaced: [Vec<Uuid>; 4] = Default::default();
    for record in batch {
        let s = &record.service;
        let id = match known.get(&s.id) {
            Some(&id) => {
                summary.updated += 1;
                let given = [s.given.attributes, s.given.languages, s.given.hours, s.given.places];
                for (list, given) in replaced.iter_mut().zip(given) {
                    if given {
                        list.push(id);
                    }
                }
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
            location_id: Set(h.location.as_ref().map(|l| locations[l])),
            weekday: Set(h.weekday),
            opens_minute: Set(h.opens),
            closes_minute: Set(h.closes),
            valid_from: Set(h.from),
            valid_to: Set(h.to),
            description: Set(h.description.clone()),
        }));
        let mut at: Vec<(Uuid, Uuid)> = Vec::with_capacity(record.places.len());
        for (place, location) in &record.places {
            let location = locations[location];
            // Two HSDS locations may be one place here (an id and its row's UUID).
            if !at.iter().any(|(_, l)| *l == location) {
                at.push((*place, location));
            }
        }
        places.extend(at.into_iter().map(|(place, location)| service_at_location::ActiveModel {
            id: Set(place),
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
            // Phones not given: the stored number stays.
            phone: Set(match (s.given.phones, known_rows.get(&id)) {
                (false, Some((_, phone))) => phone.clone(),
                _ => s.phones.first().map(|p| p.number.clone()),
            }),
            status: Set(record.status),
            eligibility: Set(s.eligibility_description.clone()),
            fees: Set(s.fees_description.clone()),
            application_process: Set(s.application_process.clone()),
            assured_date: Set(record.assured),
            alert: Set(s.alert.clone()),
            hsds_id: Set(known_rows.get(&id).map_or_else(|| Some(s.id.clone()), |(hsds, _)| hsds.clone())),
            // Set when new; an update leaves it as it was.
            imported_from: Set(origin.map(str::to_owned)),
            import_digest: Set(Some(digest(s))),
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
        C::ImportDigest,
        C::UpdatedAt,
    ];
    let written: Vec<Uuid> = services.iter().filter_map(|s| s.id.try_as_ref().copied()).collect();
    upsert(txn, services, Some(OnConflict::column(C::Id).update_columns(refreshed).to_owned())).await?;
    // Every change lands in the audit log, an import's too (one row per service, one statement).
    resolvers::audit::record_commands(txn, super::COMMAND, "IMPORT", "Service", &written).await?;
    let [domains_of, languages_of, hours_of, places_of] = replaced;
    if !domains_of.is_empty() {
        service_life_domain::Entity::delete_many()
            .filter(service_life_domain::Column::ServiceId.is_in(domains_of))
            .exec(txn)
            .await?;
    }
    if !languages_of.is_empty() {
        service_language::Entity::delete_many()
            .filter(service_language::Column::ServiceId.is_in(languages_of))
            .exec(txn)
            .await?;
    }
    if !hours_of.is_empty() {
        schedule::Entity::delete_many().filter(schedule::Column::ServiceId.is_in(hours_of)).exec(txn).await?;
    }
    if !places_of.is_empty() {
        service_at_location::Entity::delete_many()
            .filter(service_at_location::Column::ServiceId.is_in(places_of))
            .exec(txn)
            .await?;
    }
    upsert(txn, domains, None).await?;
    upsert(txn, languages, None).await?;
    upsert(txn, hours, None).await?;
    upsert(txn, places, None).await?;
    Ok(Vec::new())
}

/// A known service as stored: what the import's rules read of it.
struct StoredService {
    id: Uuid,
    organisation_id: Uuid,
    /// Kept by an import (the id it was first imported under).
    hsds_id: Option<String>,
    /// Kept when a record gives no phones.
    phone: Option<String>,
    imported_from: Option<String>,
    import_digest: Option<String>,
}

/// The known services among `hsds_ids` (by HSDS id, or by the row's own id, which is what an
/// export shows for a service whose HSDS id is not a UUID), by the file's id.
async fn stored_services(
    txn: &impl ConnectionTrait,
    hsds_ids: Vec<String>,
) -> anyhow::Result<HashMap<String, StoredService>> {
    use service::Column as S;
    type Row = (Uuid, Option<String>, Uuid, Option<String>, Option<String>, Option<String>);
    let mut found = HashMap::with_capacity(hsds_ids.len());
    for chunk in hsds_ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<Row> = service::Entity::find()
            .select_only()
            .columns([S::Id, S::HsdsId, S::OrganisationId, S::Phone, S::ImportedFrom, S::ImportDigest])
            .filter(matching(S::Id, S::HsdsId, chunk))
            .into_tuple()
            .all(txn)
            .await?;
        for key in chunk {
            if let Some((_, _, row)) = pick(&rows, key, |r| (r.0, r.1.as_deref())) {
                let (id, hsds_id, organisation_id, phone, imported_from, import_digest) = row.clone();
                let stored =
                    StoredService { id, organisation_id, hsds_id, phone, imported_from, import_digest };
                found.insert(key.clone(), stored);
            }
        }
    }
    Ok(found)
}

/// Rows whose HSDS id is among `keys`, or whose own id is one of the keys that are UUIDs.
fn matching<C: ColumnTrait>(id: C, hsds_id: C, keys: &[String]) -> sea_orm::Condition {
    let uuids: Vec<Uuid> = keys.iter().filter_map(|k| super::ids::as_uuid(k)).collect();
    let mut condition = sea_orm::Condition::any().add(hsds_id.is_in(keys.to_vec()));
    if !uuids.is_empty() {
        condition = condition.add(id.is_in(uuids));
    }
    condition
}

/// The row `key` names: the one imported under it, else the one whose own id it is.
fn pick<'r, R>(
    rows: &'r [R],
    key: &str,
    parts: impl Fn(&'r R) -> (Uuid, Option<&'r str>),
) -> Option<(Uuid, Option<&'r str>, &'r R)> {
    let by_hsds = rows.iter().find(|&r| parts(r).1 == Some(key));
    let by_id = || {
        let uuid = super::ids::as_uuid(key)?;
        rows.iter().find(|&r| parts(r).0 == uuid)
    };
    by_hsds.or_else(by_id).map(|r| (parts(r).0, parts(r).1, r))
}

/// The problems of service_at_location ids that rows of other services hold already.
async fn places_taken(
    txn: &impl ConnectionTrait,
    batch: &[Checked],
    known: &HashMap<String, Uuid>,
) -> anyhow::Result<Vec<String>> {
    let ids: Vec<Uuid> = batch.iter().flat_map(|c| c.places.iter().map(|(id, _)| *id)).collect();
    let mut holders: HashMap<Uuid, Uuid> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(Uuid, Uuid)> = service_at_location::Entity::find()
            .select_only()
            .columns([service_at_location::Column::Id, service_at_location::Column::ServiceId])
            .filter(service_at_location::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(txn)
            .await?;
        holders.extend(rows);
    }
    let mut problems = Vec::new();
    for record in batch {
        let own = known.get(&record.service.id);
        for (i, (place, _)) in record.places.iter().enumerate() {
            if holders.get(place).is_some_and(|holder| Some(holder) != own) {
                problems.push(format!(
                    "service {}: service_at_locations[{i}].id: another service's here",
                    record.service.id
                ));
            }
        }
    }
    Ok(problems)
}

/// The batch's organizations, new ones added and known ones' text refreshed (a known
/// organisation keeps its kind and network role: the map only describes it); by HSDS id.
async fn organisations(
    txn: &impl ConnectionTrait,
    batch: &[Checked],
    now: chrono::DateTime<Utc>,
    origin: Option<&str>,
) -> anyhow::Result<HashMap<String, Uuid>> {
    // The last record naming an organization says what it is now.
    let named: BTreeMap<&str, &super::HsdsOrganization> =
        batch.iter().map(|c| (c.service.organization.id.as_str(), &c.service.organization)).collect();
    let known = ids_of::<organisation::Entity>(
        txn,
        organisation::Column::Id,
        organisation::Column::HsdsId,
        named.keys().map(|id| id.to_string()).collect(),
    )
    .await?;
    let mut ids: HashMap<String, Uuid> = HashMap::with_capacity(named.len());
    let rows: Vec<organisation::ActiveModel> = named
        .into_iter()
        .map(|(hsds_id, org)| organisation::ActiveModel {
            id: Set(*ids
                .entry(hsds_id.to_owned())
                .or_insert_with(|| known.get(hsds_id).map_or_else(Uuid::now_v7, |(id, _)| *id))),
            name: Set(org.name.clone()),
            kind: Set(OrganisationKind::Other),
            is_network_partner: Set(false),
            description: Set(org.description.clone()),
            url: Set(org.website.clone()),
            email: Set(org.email.clone()),
            phone: Set(None),
            hsds_id: Set(known.get(hsds_id).map_or_else(|| Some(hsds_id.to_owned()), |(_, h)| h.clone())),
            imported_from: Set(origin.map(str::to_owned)),
            created_at: Set(now),
            kind_label: Set(None),
            active: Set(true),
            deactivated_at: Set(None),
        })
        .collect();
    use organisation::Column as C;
    let refreshed =
        OnConflict::column(C::Id).update_columns([C::Name, C::Description, C::Url, C::Email]).to_owned();
    upsert(txn, rows, Some(refreshed)).await?;
    Ok(ids)
}

/// The batch's locations, by HSDS id. A new one belongs to the organization of the first
/// service that names it. A known one is described only by its own organisation's services
/// (others may hold services there, but do not rewrite its address), and an import never lifts
/// its confidentiality: a shelter's address stays hidden whatever a file says.
async fn locations(
    txn: &impl ConnectionTrait,
    batch: &[Checked],
    organisations: &HashMap<String, Uuid>,
    origin: Option<&str>,
) -> anyhow::Result<HashMap<String, Uuid>> {
    let mut mentions: BTreeMap<&str, Vec<(&HsdsLocation, Uuid)>> = BTreeMap::new();
    for record in batch {
        let org = organisations[&record.service.organization.id];
        for at in &record.service.service_at_locations {
            mentions.entry(&at.location.id).or_default().push((&at.location, org));
        }
    }
    let mut known: HashMap<String, location::Model> = HashMap::new();
    let hsds_ids: Vec<String> = mentions.keys().map(|id| id.to_string()).collect();
    for chunk in hsds_ids.chunks(ROWS_PER_STATEMENT) {
        let rows = location::Entity::find()
            .filter(matching(location::Column::Id, location::Column::HsdsId, chunk))
            .all(txn)
            .await?;
        for key in chunk {
            if let Some((_, _, row)) = pick(&rows, key, |r| (r.id, r.hsds_id.as_deref())) {
                known.insert(key.clone(), row.clone());
            }
        }
    }
    let mut ids = HashMap::with_capacity(mentions.len());
    let mut rows = Vec::new();
    for (hsds_id, mentioned) in mentions {
        let existing = known.get(hsds_id);
        let owner = existing.map_or(Some(mentioned[0].1), |l| l.organisation_id);
        let id = existing.map_or_else(Uuid::now_v7, |l| l.id);
        ids.insert(hsds_id.to_owned(), id);
        let own = mentioned.iter().rev().find(|(_, org)| owner.is_none_or(|o| o == *org));
        let Some((location, _)) = own else { continue };
        let address = location.addresses.first().cloned().unwrap_or_default();
        let marked = super::check::marked_confidential(location);
        let street = Some(address.address_1.trim().to_owned()).filter(|s| !s.is_empty());
        // A confidential location's street and coordinates are never blanked by an import: what
        // the public view leaves out (a shelter's address) is not news that it is gone.
        let hidden = existing.filter(|l| l.confidential);
        let (street, latitude, longitude) = match hidden {
            Some(stored) if street.is_none() && location.latitude.is_none() => {
                (stored.street.clone(), stored.latitude, stored.longitude)
            }
            _ => (street, location.latitude, location.longitude),
        };
        rows.push(location::ActiveModel {
            id: Set(id),
            organisation_id: Set(owner),
            name: Set(location.name.clone()),
            street: Set(street),
            postcode: Set(address.postal_code.trim().to_owned()),
            municipality: Set(address.city.trim().to_owned()),
            latitude: Set(latitude),
            longitude: Set(longitude),
            confidential: Set(marked || existing.is_some_and(|l| l.confidential)),
            hsds_id: Set(existing.map_or_else(|| Some(hsds_id.to_owned()), |l| l.hsds_id.clone())),
            imported_from: Set(origin.map(str::to_owned)),
        });
    }
    use location::Column as C;
    let refreshed = OnConflict::column(C::Id)
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

/// A digest of a service's record as the import read it.
fn digest(service: &super::HsdsService) -> String {
    use sha2::Digest;
    let bytes = serde_json::to_vec(service).unwrap_or_default();
    sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The records that say something new: one whose service was last imported from the very same
/// record (and not edited here since) changes nothing and is counted as updated, unchanged.
fn changed_only(
    batch: Vec<Checked>,
    stored: &HashMap<String, StoredService>,
    summary: &mut ImportSummary,
) -> Vec<Checked> {
    let (same, changed): (Vec<Checked>, Vec<Checked>) = batch.into_iter().partition(|c| {
        stored
            .get(&c.service.id)
            .is_some_and(|row| row.import_digest.as_deref() == Some(digest(&c.service).as_str()))
    });
    summary.updated += same.len();
    summary.unchanged += same.len();
    changed
}

/// The records of a feed from `origin` that change only what it brought (see [`batch`]); the
/// others are counted as skipped.
async fn from_this_feed(
    txn: &impl ConnectionTrait,
    batch: Vec<Checked>,
    stored: &HashMap<String, StoredService>,
    origin: &str,
    summary: &mut ImportSummary,
) -> anyhow::Result<Vec<Checked>> {
    use {location::Column as L, organisation::Column as O};
    let services: HashMap<String, Option<String>> =
        stored.iter().map(|(key, row)| (key.clone(), row.imported_from.clone())).collect();
    let organisations = provenance::<organisation::Entity>(txn, [O::Id, O::HsdsId, O::ImportedFrom], {
        batch.iter().map(|c| c.service.organization.id.clone()).collect()
    })
    .await?;
    let locations = provenance::<location::Entity>(txn, [L::Id, L::HsdsId, L::ImportedFrom], {
        batch
            .iter()
            .flat_map(|c| c.service.service_at_locations.iter().map(|a| a.location.id.clone()))
            .collect()
    })
    .await?;
    let foreign = |known: &HashMap<String, Option<String>>, key: &str| {
        known.get(key).is_some_and(|from| from.as_deref() != Some(origin))
    };
    let (kept, skipped): (Vec<Checked>, Vec<Checked>) = batch.into_iter().partition(|c| {
        !foreign(&services, &c.service.id)
            && !foreign(&organisations, &c.service.organization.id)
            && !c.service.service_at_locations.iter().any(|a| foreign(&locations, &a.location.id))
    });
    summary.skipped += skipped.len();
    Ok(kept)
}

/// Where the rows of `E` that `keys` name (by HSDS id, or by their own id) came from, by key:
/// `columns` are the id, the HSDS id and `imported_from`.
async fn provenance<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    [id, hsds_id, from]: [E::Column; 3],
    mut keys: Vec<String>,
) -> anyhow::Result<HashMap<String, Option<String>>> {
    keys.sort();
    keys.dedup();
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(Uuid, Option<String>, Option<String>)> = E::find()
            .select_only()
            .columns([id, hsds_id, from])
            .filter(matching(id, hsds_id, chunk))
            .into_tuple()
            .all(txn)
            .await?;
        for key in chunk {
            if let Some((_, _, row)) = pick(&rows, key, |r| (r.0, r.1.as_deref())) {
                found.insert(key.clone(), row.2.clone());
            }
        }
    }
    Ok(found)
}

/// The rows of `E` that `hsds_ids` name (by HSDS id, or by their own id): each one's id and
/// stored HSDS id, by the file's id.
async fn ids_of<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    id: E::Column,
    hsds_id: E::Column,
    hsds_ids: Vec<String>,
) -> anyhow::Result<HashMap<String, (Uuid, Option<String>)>> {
    let mut found = HashMap::with_capacity(hsds_ids.len());
    for chunk in hsds_ids.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(Uuid, Option<String>)> = E::find()
            .select_only()
            .column(id)
            .column(hsds_id)
            .filter(matching(id, hsds_id, chunk))
            .into_tuple()
            .all(txn)
            .await?;
        for key in chunk {
            if let Some((row, stored, _)) = pick(&rows, key, |r| (r.0, r.1.as_deref())) {
                found.insert(key.clone(), (row, stored.map(str::to_owned)));
            }
        }
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

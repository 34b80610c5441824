//! The HSDS 3.0 API's answers (`schema/openapi.json`), read-only: what `GET /hsds/…` serves.
//!
//! Each answer costs a fixed number of statements whatever `per_page`: a count, the page, and
//! the page's related rows read together ([`export_services`]), never one service at a time.
//! And each statement's work is bounded: a count reads the matches once through indexes (each
//! filter's list built once per statement, never looked up pair by pair with another list), and
//! a page reads at most about as much as its count did ([`walk_in_order`]). No filter has an
//! index of its own for `modified_after` (the column is read row by row).
//! Confidential locations are shown as [`Reveal`] says for the caller (the public: no street,
//! no coordinates), exactly as the GraphQL `Location` type does.

use chrono::{DateTime, NaiveDate, Utc};
use entities::*;
use resolvers::ApiError;
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, IdenStatic, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use resolvers::query::Near;

use super::HsdsService;
use super::export::{Reveal, export_services, organization};
use super::ids::{self, shown};

/// Rows a page holds when `per_page` is not given, and at most.
pub const PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;
/// The services an organization nests, at most, wherever it is shown (its own answer, a page,
/// a stream): its first by name; the rest through `/services?organization_id=…`.
pub const MAX_SERVICES_OF_ORGANIZATION: u64 = 500;
/// Rows a page of `minimal` services holds when `per_page` is not given, and at most: the
/// standard asks such a list to come whole in one answer (an id and a time are ~90 bytes).
pub const MINIMAL_PER_PAGE: u64 = 10_000;
/// Rows a streamed list (`format=ndjson`) reads at a time: each chunk is a bounded piece of
/// work in the gate, so a list of any length streams without holding a connection throughout.
pub const CHUNK: u64 = 100;
/// Organizations a page holds when they nest their services, by default and at most (each
/// nests up to [`MAX_SERVICES_OF_ORGANIZATION`]: a page then holds at most 5,000 services).
pub const NESTING_PER_PAGE: u64 = 10;
/// The widest `proximity` (metres).
pub const MAX_PROXIMITY_M: f64 = resolvers::query::MAX_RADIUS_KM * 1000.0;

/// A page asked for: `page` from 1, `per_page` from 1 to [`MAX_PER_PAGE`].
#[derive(Clone, Copy, Debug)]
pub struct PageAsked {
    pub page: u64,
    pub per_page: u64,
}

impl Default for PageAsked {
    fn default() -> Self {
        PageAsked { page: 1, per_page: PER_PAGE }
    }
}

impl PageAsked {
    fn offset(self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// The page as the API's `Page` object around `contents`.
    fn answer(self, total: u64, contents: Vec<Value>) -> Value {
        let pages = Ord::max(total.div_ceil(self.per_page), 1);
        json!({
            "total_items": total,
            "total_pages": pages,
            "page_number": self.page,
            "size": contents.len(),
            "first_page": self.page == 1,
            "last_page": self.page >= pages,
            "empty": contents.is_empty(),
            "contents": contents,
        })
    }
}

/// What `/services` (and `/service_at_locations`) may be narrowed by.
#[derive(Default, Debug)]
pub struct ServiceQuery {
    pub search: Option<String>,
    pub taxonomy_term_id: Option<String>,
    pub taxonomy_id: Option<String>,
    pub organization_id: Option<String>,
    pub modified_after: Option<DateTime<Utc>>,
    pub postcode: Option<String>,
    /// Metres from the centre of `postcode`: places within them, instead of in the postcode.
    pub proximity_m: Option<f64>,
}

/// The circle `proximity` asks for: around the centre of the postcode as the social map knows
/// it (the mean of the coordinates of its public locations: a confidential one never moves the
/// centre, so the centre cannot point at it), never matching a confidential location. One
/// statement; none without `proximity`.
async fn near_of(db: &impl ConnectionTrait, query: &ServiceQuery) -> Result<Option<Near>, ApiError> {
    let Some(metres) = query.proximity_m else { return Ok(None) };
    let postcode = query
        .postcode
        .as_deref()
        .ok_or_else(|| ApiError::bad_input("postcode", "proximity is measured from a postcode: give one"))?;
    let centre: Option<(Option<f64>, Option<f64>)> = location::Entity::find()
        .select_only()
        .expr(Func::avg(Expr::col(location::Column::Latitude)))
        .expr(Func::avg(Expr::col(location::Column::Longitude)))
        .filter(location::Column::Postcode.eq(postcode.trim().to_owned()))
        .filter(location::Column::Confidential.eq(false))
        .filter(location::Column::Latitude.is_not_null())
        .filter(location::Column::Longitude.is_not_null())
        .into_tuple()
        .one(db)
        .await?;
    let Some((Some(latitude), Some(longitude))) = centre else {
        return Err(ApiError::bad_input(
            "postcode",
            "the social map knows no place in this postcode to measure from",
        ));
    };
    Near::new(latitude, longitude, metres / 1000.0, false)
        .map(Some)
        .map_err(|_| ApiError::bad_input("proximity", "metres, more than 0 and at most 200000"))
}

/// `modified_after`: an RFC 3339 moment, or a date (its midnight, UTC).
pub fn parse_moment(text: &str) -> Option<DateTime<Utc>> {
    // A date is `YYYY-MM-DD` exactly (chrono alone would take a sign and a fifth digit).
    let date_shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().filter(|_| date_shaped)?;
        Some(date.and_time(Default::default()).and_utc())
    })
}

/// The API's own description (`GET /`): HSDS 3.0 itself, no profile of it, and the standard's
/// own API description (this API adds nothing to it).
pub fn info() -> Value {
    json!({
        "version": "3.0",
        "profile": "https://docs.openreferral.org/en/latest/hsds/",
        "openapi_url": "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json",
    })
}

/// Rows whose HSDS id is `id`, or whose own id it is.
fn named<C: ColumnTrait>(id_column: C, hsds_column: C, id: &str) -> Condition {
    let mut condition = Condition::any().add(hsds_column.eq(id.to_owned()));
    if let Some(uuid) = ids::as_uuid(id) {
        condition = condition.add(id_column.eq(uuid));
    }
    condition
}

/// How a statement looks for the rows a filter keeps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lookup {
    /// Lists: each filter's matching ids read once per statement from its index (`id IN (…)`),
    /// and the rows read from them or checked against them: what a count needs.
    Lists,
    /// Each row read checked on its own, through the primary keys (`EXISTS (… = services.id)`):
    /// for the walk of [`walk_in_order`], which stops at the page. (The search stays a list: the
    /// full-text index is read by word.)
    PerRow,
}

/// The services the query keeps, as one condition: [`service_filters`] and, with a postcode,
/// a place there (or, with `near`, a place within its circle).
fn service_condition(
    db: &impl ConnectionTrait,
    query: &ServiceQuery,
    near: Option<&Near>,
    lookup: Lookup,
) -> Result<Condition, ApiError> {
    let mut condition = service_filters(db, query, lookup)?;
    if let Some(near) = near {
        return Ok(condition.add(near.within()));
    }
    if let Some(postcode) = &query.postcode {
        condition = condition.add(match lookup {
            Lookup::Lists => service::Column::Id.in_subquery(
                Query::select()
                    .column(service_at_location::Column::ServiceId)
                    .from(service_at_location::Entity)
                    .and_where(service_at_location::Column::LocationId.in_subquery(locations_in(postcode)))
                    .to_owned(),
            ),
            // The service's places, each location by its key: never the postcode's list per row.
            Lookup::PerRow => Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(service_at_location::Entity)
                    .inner_join(
                        location::Entity,
                        Expr::col((location::Entity, location::Column::Id))
                            .equals((service_at_location::Entity, service_at_location::Column::LocationId)),
                    )
                    .and_where(
                        Expr::col((service_at_location::Entity, service_at_location::Column::ServiceId))
                            .equals((service::Entity, service::Column::Id)),
                    )
                    .and_where(
                        Expr::col((location::Entity, location::Column::Postcode))
                            .eq(postcode.trim().to_owned()),
                    )
                    .to_owned(),
            ),
        });
    }
    Ok(condition)
}

/// The ids of the locations in `postcode` (`locations_postcode`).
fn locations_in(postcode: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(location::Column::Id)
        .from(location::Entity)
        .and_where(location::Column::Postcode.eq(postcode.trim().to_owned()))
        .to_owned()
}

/// What the query asks of a service itself, apart from where it is offered (the postcode).
/// Empty when nothing narrows.
fn service_filters(
    db: &impl ConnectionTrait,
    query: &ServiceQuery,
    lookup: Lookup,
) -> Result<Condition, ApiError> {
    let mut condition = Condition::all();
    if let Some(text) = &query.search {
        let search = resolvers::query::search_condition(text, db.get_database_backend()).map_err(|_| {
            ApiError::bad_input("search", "at least one and at most 10 words of at most 60 letters")
        })?;
        condition = condition.add(search);
    }
    let with_domains = |domains: Vec<LifeDomain>| match lookup {
        Lookup::Lists => service::Column::Id.in_subquery(
            Query::select()
                .column(service_life_domain::Column::ServiceId)
                .from(service_life_domain::Entity)
                .and_where(service_life_domain::Column::LifeDomain.is_in(domains))
                .to_owned(),
        ),
        Lookup::PerRow => Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(service_life_domain::Entity)
                .and_where(
                    Expr::col((service_life_domain::Entity, service_life_domain::Column::ServiceId))
                        .equals((service::Entity, service::Column::Id)),
                )
                .and_where(service_life_domain::Column::LifeDomain.is_in(domains))
                .to_owned(),
        ),
    };
    if let Some(term) = &query.taxonomy_term_id {
        // A term of ours, or none: a term we do not know marks no service.
        condition = match ids::life_domain_of_term_id(term) {
            Some(domain) => condition.add(with_domains(vec![domain])),
            None => condition.add(Expr::val(1).eq(0)),
        };
    }
    if let Some(taxonomy) = &query.taxonomy_id {
        condition = if *taxonomy == ids::life_domain_taxonomy().id {
            condition.add(with_domains(LifeDomain::ALL.to_vec()))
        } else {
            condition.add(Expr::val(1).eq(0))
        };
    }
    if let Some(org) = &query.organization_id {
        condition = condition.add(
            service::Column::OrganisationId.in_subquery(
                Query::select()
                    .column(organisation::Column::Id)
                    .from(organisation::Entity)
                    .cond_where(named(organisation::Column::Id, organisation::Column::HsdsId, org))
                    .to_owned(),
            ),
        );
    }
    if let Some(moment) = query.modified_after {
        condition = condition.add(service::Column::UpdatedAt.gte(moment));
    }
    Ok(condition)
}

/// How SQLite reads a page. PostgreSQL's planner knows its tables (statistics) and chooses for
/// itself between reading the matches and sorting them, and walking an index in the page's
/// order; SQLite has no statistics (nothing runs `ANALYZE`) and drives from an `IN (…)` list
/// whenever one is there, so one page of a filter that keeps most of the map sorted all of it.
/// Here the count decides: walk the index in the page's order, each row checked against the
/// filters' lists (each built once), when the page is expected within `total` rows of the walk
/// (the matches spread over the `size` rows of the table); otherwise read the matches and sort
/// them. Either way the page costs at most about what its count did.
fn walk_in_order(db: &impl ConnectionTrait, page: PageAsked, total: u64, size: u64) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
        && total > 0
        && (page.offset().saturating_add(page.per_page)).saturating_mul(size) <= total.saturating_mul(total)
}

/// The rows `select` keeps, and on SQLite the rows of its whole table (for [`walk_in_order`];
/// SQLite counts a table from its smallest index's pages): one statement.
async fn count_of<E: EntityTrait>(
    db: &impl ConnectionTrait,
    select: Select<E>,
) -> Result<(u64, u64), ApiError> {
    let counting = select.select_only().expr(Expr::cust("COUNT(*)"));
    if db.get_database_backend() != DbBackend::Sqlite {
        let total: Option<i64> = counting.into_tuple().one(db).await?;
        return Ok((u64::try_from(total.unwrap_or_default()).unwrap_or_default(), 0));
    }
    let size = Expr::cust(format!("(SELECT COUNT(*) FROM \"{}\")", E::default().table_name()));
    let counts: Option<(i64, i64)> = counting.expr(size).into_tuple().one(db).await?;
    let (total, size) = counts.unwrap_or_default();
    Ok((u64::try_from(total).unwrap_or_default(), u64::try_from(size).unwrap_or_default()))
}

/// `statement` read through `index` of `table` (SQLite's `INDEXED BY`): the walk of
/// [`walk_in_order`]. Left as it is if its text does not read `FROM "table"`.
fn indexed_by(mut statement: Statement, table: &str, index: &str) -> Statement {
    let from = format!("FROM \"{table}\"");
    statement.sql = statement.sql.replacen(&from, &format!("{from} INDEXED BY \"{index}\""), 1);
    statement
}

/// A service with its one-to-one fields and its organization (`service_list.json`).
fn flat(service: service::Model, org: &organisation::Model) -> Value {
    let mut value = serde_json::to_value(HsdsService {
        id: shown(service.hsds_id.as_deref(), service.id).to_string(),
        organization_id: Some(organization(org).id),
        name: service.name,
        description: service.description,
        url: service.url,
        email: service.email,
        status: service.status.as_str().to_owned(),
        application_process: service.application_process,
        fees_description: service.fees,
        eligibility_description: service.eligibility,
        assured_date: service.assured_date.map(|d| d.to_string()),
        alert: service.alert,
        last_modified: Some(last_modified(service.updated_at)),
        organization: organization(org),
        ..Default::default()
    })
    .unwrap_or_default();
    strip_lists(&mut value, &["service_at_locations"]);
    value
}

/// Leaves out the lists, and the keys named.
fn strip_lists(value: &mut Value, also: &[&str]) {
    if let Value::Object(map) = value {
        map.retain(|key, v| !v.is_array() && !also.contains(&key.as_str()));
    }
}

fn last_modified(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Full services (`service.json`), with `last_modified`.
async fn full(
    db: &impl ConnectionTrait,
    services: Vec<service::Model>,
    reveal: Reveal,
) -> Result<Vec<HsdsService>, ApiError> {
    let modified: Vec<DateTime<Utc>> = services.iter().map(|s| s.updated_at).collect();
    let mut full = export_services(db, services, reveal).await.map_err(ApiError::internal)?;
    for (service, at) in full.iter_mut().zip(modified) {
        service.last_modified = Some(last_modified(at));
    }
    Ok(full)
}

/// The organisations of `services`, by id: one statement.
async fn organisations_of(
    db: &impl ConnectionTrait,
    services: &[service::Model],
) -> Result<std::collections::HashMap<Uuid, organisation::Model>, ApiError> {
    let ids: Vec<Uuid> = services.iter().map(|s| s.organisation_id).collect();
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

/// How a service in a list is shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ServiceShape {
    /// Its one-to-one fields and its organization (`service_list.json`).
    Flat,
    /// Nested, with everything related (`service.json`): `full` or `full_service`.
    Full,
    /// Its id and `last_modified` only (`minimal`): what a harvester compares with its copy.
    Minimal,
}

/// `rows` as `shape` shows them, in their order: a bounded number of statements.
async fn services_shown(
    db: &impl ConnectionTrait,
    rows: Vec<service::Model>,
    shape: ServiceShape,
    reveal: Reveal,
) -> Result<Vec<Value>, ApiError> {
    Ok(match shape {
        ServiceShape::Full => full(db, rows, reveal)
            .await?
            .iter()
            .map(|s| serde_json::to_value(s).unwrap_or_default())
            .collect(),
        ServiceShape::Minimal => rows
            .iter()
            .map(|s| {
                let id = shown(s.hsds_id.as_deref(), s.id).to_string();
                json!({ "id": id, "last_modified": last_modified(s.updated_at) })
            })
            .collect(),
        ServiceShape::Flat => {
            let orgs = organisations_of(db, &rows).await?;
            rows.into_iter()
                .filter_map(|s| {
                    let org = orgs.get(&s.organisation_id)?.clone();
                    Some(flat(s, &org))
                })
                .collect()
        }
    })
}

/// `GET /services`: a page of services, by name.
pub async fn services(
    db: &impl ConnectionTrait,
    query: &ServiceQuery,
    page: PageAsked,
    shape: ServiceShape,
    reveal: Reveal,
) -> Result<Value, ApiError> {
    let near = near_of(db, query).await?;
    let select = |lookup| -> Result<_, ApiError> {
        Ok(service::Entity::find().filter(service_condition(db, query, near.as_ref(), lookup)?))
    };
    let (total, size) = count_of(db, select(Lookup::Lists)?).await?;
    let ordered = |select: Select<service::Entity>| {
        select
            .order_by_asc(service::Column::Name)
            .order_by_asc(service::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
    };
    // An organisation's services come in order from `services_organisation` as they are.
    let rows = if query.organization_id.is_none() && walk_in_order(db, page, total, size) {
        let statement = ordered(select(Lookup::PerRow)?).build(DbBackend::Sqlite);
        let statement = indexed_by(statement, "services", "services_name");
        service::Entity::find().from_raw_sql(statement).all(db).await?
    } else {
        ordered(select(Lookup::Lists)?).all(db).await?
    };
    Ok(page.answer(total, services_shown(db, rows, shape, reveal).await?))
}

/// `GET /services/{id}`: one service, nested.
pub async fn service(db: &impl ConnectionTrait, id: &str, reveal: Reveal) -> Result<Value, ApiError> {
    let found = service::Entity::find()
        .filter(named(service::Column::Id, service::Column::HsdsId, id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("service"))?;
    let full = full(db, vec![found], reveal).await?;
    Ok(serde_json::to_value(&full[0]).unwrap_or_default())
}

/// An organisation's one-to-one fields (`organization_list.json`).
fn organisation_fields(org: &organisation::Model) -> Value {
    serde_json::to_value(organization(org)).unwrap_or_default()
}

/// What an organization in an answer nests of its services.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Nest {
    /// Nothing: its one-to-one fields (`organization_list.json`).
    Nothing,
    /// Its services, flat (`full`, and `/organizations/{id}`).
    Services,
    /// Its services, nested (`full_service`).
    FullServices,
}

/// The organisations `search` keeps (their name holds it, case aside).
fn organisations_found(search: Option<&str>) -> Select<organisation::Entity> {
    let mut select = organisation::Entity::find();
    if let Some(text) = search {
        let pattern = format!("%{}%", text.trim().to_lowercase().replace(['%', '_', '\\'], ""));
        select = select.filter(Expr::expr(Func::lower(Expr::col(organisation::Column::Name))).like(pattern));
    }
    select
}

/// `GET /organizations`: a page of organisations, by name, each nesting what `nest` asks.
pub async fn organizations(
    db: &impl ConnectionTrait,
    search: Option<&str>,
    page: PageAsked,
    nest: Nest,
    reveal: Reveal,
) -> Result<Value, ApiError> {
    let select = organisations_found(search);
    let total = select.clone().count(db).await?;
    let rows = select
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    Ok(page.answer(total, organisations_shown(db, rows, nest, reveal).await?))
}

/// `orgs` with what `nest` asks of their services: one statement for all their services
/// (each organisation's first [`MAX_SERVICES_OF_ORGANIZATION`] by name), then those services
/// shown together.
async fn organisations_shown(
    db: &impl ConnectionTrait,
    orgs: Vec<organisation::Model>,
    nest: Nest,
    reveal: Reveal,
) -> Result<Vec<Value>, ApiError> {
    if nest == Nest::Nothing || orgs.is_empty() {
        return Ok(orgs.iter().map(organisation_fields).collect());
    }
    let rows =
        first_services_of(db, orgs.iter().map(|o| o.id).collect(), MAX_SERVICES_OF_ORGANIZATION).await?;
    let of: Vec<Uuid> = rows.iter().map(|s| s.organisation_id).collect();
    let shape = if nest == Nest::FullServices { ServiceShape::Full } else { ServiceShape::Flat };
    let mut services: std::collections::HashMap<Uuid, Vec<Value>> = std::collections::HashMap::new();
    for (org, service) in of.into_iter().zip(services_shown(db, rows, shape, reveal).await?) {
        services.entry(org).or_default().push(service);
    }
    Ok(orgs
        .iter()
        .map(|org| {
            let mut value = organisation_fields(org);
            value["services"] = Value::Array(services.remove(&org.id).unwrap_or_default());
            value
        })
        .collect())
}

/// The first `share` services by name of each of `orgs`, in that order: one statement (a
/// window over `services_organisation`).
async fn first_services_of(
    db: &impl ConnectionTrait,
    orgs: Vec<Uuid>,
    share: u64,
) -> Result<Vec<service::Model>, ApiError> {
    use sea_orm::sea_query::{Alias, Asterisk};
    let ranked = Query::select()
        .column(Asterisk)
        .expr_as(
            Expr::cust("ROW_NUMBER() OVER (PARTITION BY \"organisation_id\" ORDER BY \"name\", \"id\")"),
            Alias::new("nth"),
        )
        .from(service::Entity)
        .and_where(service::Column::OrganisationId.is_in(orgs))
        .to_owned();
    let statement = Query::select()
        .column(Asterisk)
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("nth")).lte(share))
        .order_by(Alias::new("organisation_id"), sea_orm::sea_query::Order::Asc)
        .order_by(Alias::new("nth"), sea_orm::sea_query::Order::Asc)
        .to_owned();
    let backend = db.get_database_backend();
    Ok(service::Entity::find().from_raw_sql(backend.build(&statement)).all(db).await?)
}

/// `GET /organizations/{id}`: an organisation with its services (flat, or `full_service`), at
/// most [`MAX_SERVICES_OF_ORGANIZATION`].
pub async fn organization_by_id(
    db: &impl ConnectionTrait,
    id: &str,
    full_service: bool,
    reveal: Reveal,
) -> Result<Value, ApiError> {
    let org = organisation::Entity::find()
        .filter(named(organisation::Column::Id, organisation::Column::HsdsId, id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("organization"))?;
    let nest = if full_service { Nest::FullServices } else { Nest::Services };
    let mut shown = organisations_shown(db, vec![org], nest, reveal).await?;
    shown.pop().ok_or(ApiError::NotFound("organization"))
}

/// A service_at_location of a nested service: the service's part of it (`service`, flat or
/// without its places), the location (its one-to-one fields in a list), the hours there.
fn place_of(service: &HsdsService, index: usize, in_list: bool) -> Value {
    let at = &service.service_at_locations[index];
    let mut location = serde_json::to_value(&at.location).unwrap_or_default();
    let mut service_part = serde_json::to_value(service).unwrap_or_default();
    if in_list {
        strip_lists(&mut location, &[]);
        strip_lists(&mut service_part, &[]);
    } else if let Value::Object(map) = &mut service_part {
        map.remove("service_at_locations");
    }
    let mut value = json!({
        "id": at.id,
        "service_id": service.id,
        "location_id": at.location.id,
        "location": location,
        "service": service_part,
    });
    if !in_list {
        value["schedules"] = serde_json::to_value(&at.schedules).unwrap_or_default();
    }
    value
}

/// The places the query keeps. The postcode narrows the places themselves (their location's),
/// or with `near` the circle does; the other filters narrow their services. `walk`: the rows are
/// read in id order and each checked ([`walk_in_order`]). On SQLite the services' list is never
/// an index key next to the locations' (each pair of the two lists would be looked up: places in
/// the postcode times services kept); the places in the postcode are read by
/// `service_at_locations_location` and checked against it.
fn places_kept(
    db: &impl ConnectionTrait,
    query: &ServiceQuery,
    near: Option<&Near>,
    walk: bool,
) -> Result<Select<service_at_location::Entity>, ApiError> {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    let narrowed = !service_filters(db, query, Lookup::Lists)?.is_empty();
    // The services kept: their ids as a list, or (the walk) the place's own service checked.
    let services = |lookup: Lookup| -> Result<_, ApiError> {
        let filters = service_filters(db, query, lookup)?;
        let mut select = Query::select();
        match lookup {
            Lookup::Lists => select.column(service::Column::Id).from(service::Entity),
            Lookup::PerRow => select.expr(Expr::val(1)).from(service::Entity).and_where(
                Expr::col((service::Entity, service::Column::Id))
                    .equals((service_at_location::Entity, service_at_location::Column::ServiceId)),
            ),
        };
        Ok(select.cond_where(filters).to_owned())
    };
    let located = match near {
        Some(near) => Some(
            Query::select()
                .column(location::Column::Id)
                .from(location::Entity)
                .cond_where(near.locations())
                .to_owned(),
        ),
        None => query.postcode.as_deref().map(locations_in),
    };
    // `+column` (SQLite) keeps a condition off the indexes: checked on each row read, never a key.
    let place_column = |column: service_at_location::Column, unindexed: bool| {
        if unindexed && sqlite {
            Expr::cust(format!("+\"service_at_locations\".\"{}\"", column.as_str()))
        } else {
            Expr::col((service_at_location::Entity, column))
        }
    };
    let mut select = service_at_location::Entity::find();
    if let Some(locations) = &located {
        let column = place_column(service_at_location::Column::LocationId, walk);
        select = select.filter(column.in_subquery(locations.clone()));
    }
    if narrowed && walk {
        select = select.filter(Expr::exists(services(Lookup::PerRow)?));
    } else if narrowed {
        let column = place_column(service_at_location::Column::ServiceId, located.is_some());
        select = select.filter(column.in_subquery(services(Lookup::Lists)?));
    }
    Ok(select)
}

/// `GET /service_at_locations`: a page of the places where services are offered, by place id
/// (with `proximity`, nearest first).
pub async fn service_at_locations(
    db: &impl ConnectionTrait,
    query: &ServiceQuery,
    page: PageAsked,
    full_places: bool,
    reveal: Reveal,
) -> Result<Value, ApiError> {
    let near = near_of(db, query).await?;
    let (total, size) = count_of(db, places_kept(db, query, near.as_ref(), false)?).await?;
    let walk = near.is_none() && walk_in_order(db, page, total, size);
    let mut select = places_kept(db, query, near.as_ref(), walk)?;
    if let Some(near) = &near {
        // The place's own distance, its location read by key.
        let distance = Query::select()
            .expr(near.distance2())
            .from(location::Entity)
            .and_where(
                Expr::col((location::Entity, location::Column::Id))
                    .equals((service_at_location::Entity, service_at_location::Column::LocationId)),
            )
            .to_owned();
        select = select.order_by_asc(Expr::expr(sea_orm::sea_query::SimpleExpr::SubQuery(
            None,
            Box::new(sea_orm::sea_query::QueryStatementBuilder::into_sub_query_statement(distance)),
        )));
    }
    let places = select
        .order_by_asc(service_at_location::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    let contents = places_described(db, places, !full_places, reveal).await?;
    Ok(page.answer(total, contents))
}

/// `GET /service_at_locations/{id}`.
pub async fn service_at_location(
    db: &impl ConnectionTrait,
    id: &str,
    reveal: Reveal,
) -> Result<Value, ApiError> {
    let id = ids::as_uuid(id).ok_or(ApiError::NotFound("service_at_location"))?;
    let place = service_at_location::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("service_at_location"))?;
    let mut described = places_described(db, vec![place], false, reveal).await?;
    described.pop().ok_or(ApiError::NotFound("service_at_location"))
}

/// Places, each with its service and location: the services read together, in one round.
async fn places_described(
    db: &impl ConnectionTrait,
    places: Vec<service_at_location::Model>,
    in_list: bool,
    reveal: Reveal,
) -> Result<Vec<Value>, ApiError> {
    let mut ids: Vec<Uuid> = places.iter().map(|p| p.service_id).collect();
    ids.sort();
    ids.dedup();
    let rows = service::Entity::find().filter(service::Column::Id.is_in(ids)).all(db).await?;
    let row_ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
    let nested = full(db, rows, reveal).await?;
    let by_row: std::collections::HashMap<Uuid, &HsdsService> =
        row_ids.into_iter().zip(nested.iter()).collect();
    Ok(places
        .iter()
        .filter_map(|p| {
            let service = by_row.get(&p.service_id)?;
            let index = service.service_at_locations.iter().position(|at| at.id == p.id.to_string())?;
            Some(place_of(service, index, in_list))
        })
        .collect())
}

/// Our taxonomies: the life domains, and the marks of a location.
fn taxonomies_all() -> Vec<super::HsdsTaxonomy> {
    vec![ids::life_domain_taxonomy(), ids::location_taxonomy()]
}

/// Every term of our taxonomies.
fn terms_all() -> Vec<super::HsdsTaxonomyTerm> {
    let mut terms: Vec<super::HsdsTaxonomyTerm> =
        LifeDomain::ALL.iter().map(|&d| ids::life_domain_term(d)).collect();
    terms.push(ids::confidential_term());
    terms
}

/// A page of a list held in memory.
fn page_of<T: serde::Serialize>(items: Vec<T>, page: PageAsked) -> Value {
    let total = items.len() as u64;
    let contents = items
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.per_page as usize)
        .map(|t| serde_json::to_value(t).unwrap_or_default())
        .collect();
    page.answer(total, contents)
}

/// Whether every word of `search` starts a word of `text` (case aside), as the services'
/// search reads words: the search of the taxonomies and their terms, few and held in memory.
fn holds_words(search: Option<&str>, text: &[&str]) -> bool {
    // The search was checked with the request's parameters: it has words.
    let Some(Ok(words)) = search.map(resolvers::query::search_words) else { return true };
    let held: Vec<String> =
        text.iter().flat_map(|t| t.split(|c: char| !c.is_alphanumeric())).map(str::to_lowercase).collect();
    words.iter().all(|word| held.iter().any(|h| h.starts_with(word.as_str())))
}

/// `GET /taxonomies` (with `search`: in the name and description).
pub fn taxonomies(search: Option<&str>, page: PageAsked) -> Value {
    page_of(taxonomies_kept(search), page)
}

fn taxonomies_kept(search: Option<&str>) -> Vec<super::HsdsTaxonomy> {
    taxonomies_all().into_iter().filter(|t| holds_words(search, &[&t.name, &t.description])).collect()
}

/// `GET /taxonomies/{id}`.
pub fn taxonomy(id: &str) -> Result<Value, ApiError> {
    let found = taxonomies_all().into_iter().find(|t| t.id == id || t.name == id);
    Ok(serde_json::to_value(found.ok_or(ApiError::NotFound("taxonomy"))?).unwrap_or_default())
}

/// What `/taxonomy_terms` may be narrowed by.
#[derive(Default, Debug)]
pub struct TermQuery {
    pub search: Option<String>,
    pub taxonomy_id: Option<String>,
    /// Only terms without child terms: ours have none, so every term.
    pub top_only: bool,
    /// Only the children of this term: ours have none.
    pub parent_id: Option<String>,
}

fn terms_kept(query: &TermQuery) -> Vec<super::HsdsTaxonomyTerm> {
    terms_all()
        .into_iter()
        .filter(|t| query.taxonomy_id.as_deref().is_none_or(|id| t.taxonomy_id.as_deref() == Some(id)))
        .filter(|t| holds_words(query.search.as_deref(), &[&t.code, &t.name, &t.description]))
        // No term of ours has a parent (the vocabularies are flat).
        .filter(|_| query.parent_id.is_none())
        .collect()
}

/// `GET /taxonomy_terms`.
pub fn taxonomy_terms(query: &TermQuery, page: PageAsked) -> Value {
    page_of(terms_kept(query), page)
}

/// `GET /taxonomy_terms/{id}`.
pub fn taxonomy_term(id: &str) -> Result<Value, ApiError> {
    let found = terms_all().into_iter().find(|t| t.id == id);
    Ok(serde_json::to_value(found.ok_or(ApiError::NotFound("taxonomy_term"))?).unwrap_or_default())
}

/// A list streamed whole (`format=ndjson`: one item a line, no pages), in [`CHUNK`]s by id
/// (an organisation a chunk when they nest their services):
/// each chunk's statements bounded as a page's are, and each chunk its own piece of work.
#[derive(Debug)]
pub enum Listing {
    Services(ServiceQuery, ServiceShape),
    Places(ServiceQuery, bool),
    Organizations(Option<String>, Nest),
    Taxonomies(Option<String>),
    Terms(TermQuery),
}

impl Listing {
    /// A page of the list.
    pub async fn page(
        &self,
        db: &impl ConnectionTrait,
        page: PageAsked,
        reveal: Reveal,
    ) -> Result<Value, ApiError> {
        match self {
            Listing::Services(query, shape) => services(db, query, page, *shape, reveal).await,
            Listing::Places(query, full_places) => {
                service_at_locations(db, query, page, *full_places, reveal).await
            }
            Listing::Organizations(search, nest) => {
                organizations(db, search.as_deref(), page, *nest, reveal).await
            }
            Listing::Taxonomies(search) => Ok(taxonomies(search.as_deref(), page)),
            Listing::Terms(query) => Ok(taxonomy_terms(query, page)),
        }
    }

    /// A page's rows when `per_page` is not given, and at most.
    pub fn per_page(&self) -> (u64, u64) {
        match self {
            Listing::Services(_, ServiceShape::Minimal) => (MINIMAL_PER_PAGE, MINIMAL_PER_PAGE),
            Listing::Organizations(_, nest) if *nest != Nest::Nothing => (NESTING_PER_PAGE, NESTING_PER_PAGE),
            _ => (PER_PAGE, MAX_PER_PAGE),
        }
    }

    /// The items after `after` (by id; from the start with `None`) and the id to go on from,
    /// `None` once the list is done.
    pub async fn chunk(
        &self,
        db: &impl ConnectionTrait,
        after: Option<Uuid>,
        reveal: Reveal,
    ) -> Result<(Vec<Value>, Option<Uuid>), ApiError> {
        match self {
            Listing::Services(query, shape) => {
                let near = near_of(db, query).await?;
                let mut select = service::Entity::find().filter(service_condition(
                    db,
                    query,
                    near.as_ref(),
                    Lookup::PerRow,
                )?);
                if let Some(after) = after {
                    select = select.filter(service::Column::Id.gt(after));
                }
                let rows = select.order_by_asc(service::Column::Id).limit(CHUNK).all(db).await?;
                let next = rows.last().map(|s| s.id).filter(|_| rows.len() as u64 == CHUNK);
                Ok((services_shown(db, rows, *shape, reveal).await?, next))
            }
            Listing::Places(query, full_places) => {
                let near = near_of(db, query).await?;
                let mut select = places_kept(db, query, near.as_ref(), true)?;
                if let Some(after) = after {
                    select = select.filter(service_at_location::Column::Id.gt(after));
                }
                let rows = select.order_by_asc(service_at_location::Column::Id).limit(CHUNK).all(db).await?;
                let next = rows.last().map(|p| p.id).filter(|_| rows.len() as u64 == CHUNK);
                Ok((places_described(db, rows, !full_places, reveal).await?, next))
            }
            Listing::Organizations(search, nest) => {
                // Nesting, an organisation a chunk: at most what its own answer holds.
                let size = if *nest == Nest::Nothing { CHUNK } else { 1 };
                let mut select = organisations_found(search.as_deref());
                if let Some(after) = after {
                    select = select.filter(organisation::Column::Id.gt(after));
                }
                let rows = select.order_by_asc(organisation::Column::Id).limit(size).all(db).await?;
                let next = rows.last().map(|o| o.id).filter(|_| rows.len() as u64 == size);
                Ok((organisations_shown(db, rows, *nest, reveal).await?, next))
            }
            // Held in memory: one chunk.
            Listing::Taxonomies(search) => Ok((values(taxonomies_kept(search.as_deref())), None)),
            Listing::Terms(query) => Ok((values(terms_kept(query)), None)),
        }
    }
}

fn values<T: serde::Serialize>(items: Vec<T>) -> Vec<Value> {
    items.iter().map(|t| serde_json::to_value(t).unwrap_or_default()).collect()
}

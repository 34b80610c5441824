//! The social map ("sociale kaart"): organisations and their services, readable by everyone.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Datelike, Timelike, Utc};
use entities::{
    location, organisation, schedule, service, service_at_location, service_language, service_life_domain,
};
use sea_orm::sea_query::{Alias, Expr, Func, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, QueryFilter, QuerySelect,
    QueryTrait,
};

use crate::connection::{Page, PageArgs, page};
use crate::error::{ApiError, ApiResult};
use crate::types::organisation::Organisation;
use crate::types::service::Service;
use crate::types::{LifeDomain, OrganisationKind, parse_id};

#[derive(Default)]
pub struct SocialMapQuery;

/// Narrows the social map; all given criteria must hold.
#[derive(InputObject, Default)]
pub struct ServiceFilter {
    /// Services answering to at least one of these life domains.
    pub life_domains: Option<Vec<LifeDomain>>,
    /// Services with a location in this postcode.
    pub postcode: Option<String>,
    /// Services with a location in this municipality (case-insensitive).
    pub municipality: Option<String>,
    /// Services offered in this language (ISO 639-1 code, such as `nl` or `fr`).
    pub language: Option<String>,
    /// Words (or the start of words) to find in the name or description, accents and case aside;
    /// all must occur. Results come most relevant first (name hits before description hits).
    pub search: Option<String>,
    /// Services with a location within a radius, nearest first (each with its `distanceKm`).
    pub near: Option<NearInput>,
    /// Services open at this moment by their weekly hours (Europe/Brussels time); a service that
    /// is not active (closed for now, inactive, defunct) is never open.
    pub open_at: Option<DateTime<Utc>>,
}

/// A point and a radius.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct NearInput {
    pub latitude: f64,
    pub longitude: f64,
    /// At most 200 km.
    pub radius_km: f64,
}

#[Object]
impl SocialMapQuery {
    /// The organisations of the network, by name.
    #[graphql(complexity = "crate::connection::complexity(first, child_complexity)")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        kind: Option<OrganisationKind>,
        network_partners_only: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Organisation>> {
        let mut select = organisation::Entity::find();
        if let Some(kind) = kind {
            select = select.filter(organisation::Column::Kind.eq(entities::OrganisationKind::from(kind)));
        }
        if network_partners_only == Some(true) {
            // The partners one can refer to: a deactivated organisation has left the network.
            select = select
                .filter(organisation::Column::IsNetworkPartner.eq(true))
                .filter(organisation::Column::Active.eq(true));
        }
        page(ctx, select, &PageArgs::new(first, after), Organisation).await
    }

    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Organisation>> {
        let id = parse_id(&id, "id")?;
        let found = organisation::Entity::find_by_id(id).one(crate::db_of(ctx)?).await?;
        found.map(Organisation).map(Some).ok_or(ApiError::NotFound("organisation"))
    }

    /// The social map: who offers what, where and when, by name.
    #[graphql(complexity = "crate::connection::complexity(first, child_complexity)")]
    async fn services(
        &self,
        ctx: &Context<'_>,
        filter: Option<ServiceFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Service>> {
        let filter = filter.unwrap_or_default();
        let args = PageArgs::new(first, after);
        let db = crate::db_of(ctx)?;
        let search = filter
            .search
            .as_deref()
            .map(|text| Search::parse(text, db.get_database_backend()))
            .transpose()?;
        let near = filter.near.map(|near| Near::check(near, crate::caller_of(ctx)?)).transpose()?;
        let mut select = service::Entity::find().filter(service_condition(filter));
        if let Some(search) = &search {
            select = select.filter(search.matches());
        }
        if let Some(near) = &near {
            select = select.filter(near.within());
        }
        match (near, search) {
            (Some(near), _) => {
                ranked_page(ctx, select, near.nearest(), "service-near", &args, |m, d2| {
                    Service(m, Some(d2.sqrt()))
                })
                .await
            }
            (None, Some(search)) => {
                ranked_page(ctx, select, search.rank(), "service-search", &args, |m, _| Service::of(m)).await
            }
            (None, None) => page(ctx, select, &args, Service::of).await,
        }
    }

    async fn service(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Service>> {
        let id = parse_id(&id, "id")?;
        let found = service::Entity::find_by_id(id).one(crate::db_of(ctx)?).await?;
        found.map(Service::of).map(Some).ok_or(ApiError::NotFound("service"))
    }
}

/// The filter as one SQL condition on `services`.
fn service_condition(filter: ServiceFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(domains) = filter.life_domains {
        let domains: Vec<entities::LifeDomain> = domains.into_iter().map(Into::into).collect();
        condition = condition.add(
            service::Column::Id.in_subquery(
                Query::select()
                    .column(service_life_domain::Column::ServiceId)
                    .from(service_life_domain::Entity)
                    .and_where(service_life_domain::Column::LifeDomain.is_in(domains))
                    .to_owned(),
            ),
        );
    }
    if let Some(postcode) = filter.postcode {
        let at = location::Column::Postcode.eq(postcode.trim().to_owned());
        condition = condition.add(service::Column::Id.in_subquery(services_at(at)));
    }
    if let Some(municipality) = filter.municipality {
        let at = Expr::expr(Func::lower(Expr::col((location::Entity, location::Column::Municipality))))
            .eq(municipality.trim().to_lowercase());
        condition = condition.add(service::Column::Id.in_subquery(services_at(at)));
    }
    if let Some(language) = filter.language {
        condition = condition.add(
            service::Column::Id.in_subquery(
                Query::select()
                    .column(service_language::Column::ServiceId)
                    .from(service_language::Entity)
                    .and_where(service_language::Column::Language.eq(language.trim().to_lowercase()))
                    .to_owned(),
            ),
        );
    }
    if let Some(moment) = filter.open_at {
        condition = condition
            .add(service::Column::Status.eq(entities::ServiceStatus::Active))
            .add(service::Column::Id.in_subquery(open_at(moment)));
    }
    condition
}

/// Ids of the services whose weekly hours include `moment`, read on the Brussels wall clock.
fn open_at(moment: DateTime<Utc>) -> SelectStatement {
    let local = moment.with_timezone(&chrono_tz::Europe::Brussels);
    let weekday = local.weekday().number_from_monday() as i32;
    let minute = (local.hour() * 60 + local.minute()) as i32;
    let day = local.date_naive();
    Query::select()
        .column(schedule::Column::ServiceId)
        .from(schedule::Entity)
        .and_where(schedule::Column::Weekday.eq(weekday))
        .and_where(schedule::Column::OpensMinute.lte(minute))
        .and_where(schedule::Column::ClosesMinute.gt(minute))
        .cond_where(
            Condition::any()
                .add(schedule::Column::ValidFrom.is_null())
                .add(schedule::Column::ValidFrom.lte(day)),
        )
        .cond_where(
            Condition::any().add(schedule::Column::ValidTo.is_null()).add(schedule::Column::ValidTo.gte(day)),
        )
        .to_owned()
}

/// Ids of the services offered at a location meeting `location_condition`.
fn services_at(location_condition: impl Into<Condition>) -> SelectStatement {
    Query::select()
        .column(service_at_location::Column::ServiceId)
        .from(service_at_location::Entity)
        .and_where(
            service_at_location::Column::LocationId.in_subquery(
                Query::select()
                    .column(location::Column::Id)
                    .from(location::Entity)
                    .cond_where(location_condition.into())
                    .to_owned(),
            ),
        )
        .to_owned()
}

/// The widest radius a search may ask for.
pub const MAX_RADIUS_KM: f64 = 200.0;

/// A checked `near` filter, and the distance arithmetic it needs.
///
/// Distances use the equirectangular approximation — plain arithmetic that SQLite and
/// PostgreSQL compute alike, within a fraction of a percent over the tens of kilometres of a
/// region. The public never matches a confidential location (a shelter): a radius search would
/// otherwise point at it.
#[derive(Clone, Copy, Debug)]
pub struct Near {
    input: NearInput,
    /// Kilometres per degree of longitude at this latitude, and of latitude.
    km_per_lon: f64,
    km_per_lat: f64,
    include_confidential: bool,
}

impl Near {
    /// The `near` filter of GraphQL, checked (its errors name the filter's fields).
    fn check(input: NearInput, caller: &crate::caller::Caller) -> ApiResult<Near> {
        let include_confidential = crate::policy::may_see_confidential_location(caller);
        Near::new(input.latitude, input.longitude, input.radius_km, include_confidential)
            .map_err(|(part, rule)| ApiError::bad_input(format!("filter.near.{part}"), rule))
    }

    /// A point and a radius, for a caller who may (`include_confidential`) or may not match a
    /// confidential location; on bad input, which part is wrong (`latitude`, `longitude`,
    /// `radiusKm`) and what it must be. Every door onto the map searches by radius through here.
    pub fn new(
        latitude: f64,
        longitude: f64,
        radius_km: f64,
        include_confidential: bool,
    ) -> Result<Near, (&'static str, &'static str)> {
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(("latitude", "between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(("longitude", "between -180 and 180"));
        }
        if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
            return Err(("radiusKm", "more than 0 and at most 200"));
        }
        Ok(Near {
            input: NearInput { latitude, longitude, radius_km },
            km_per_lon: 111.320 * latitude.to_radians().cos(),
            km_per_lat: 110.574,
            include_confidential,
        })
    }

    /// The squared distance (km²) from the point to a location, in SQL.
    pub fn distance2(&self) -> sea_orm::sea_query::SimpleExpr {
        let dx = Expr::col((location::Entity, location::Column::Longitude))
            .sub(self.input.longitude)
            .mul(self.km_per_lon);
        let dy = Expr::col((location::Entity, location::Column::Latitude))
            .sub(self.input.latitude)
            .mul(self.km_per_lat);
        dx.clone().mul(dx).add(dy.clone().mul(dy))
    }

    /// Locations within the radius that the caller may match.
    pub fn locations(&self) -> Condition {
        let mut condition = Condition::all()
            .add(location::Column::Latitude.is_not_null())
            .add(location::Column::Longitude.is_not_null())
            .add(self.distance2().lte(self.input.radius_km * self.input.radius_km));
        if !self.include_confidential {
            condition = condition.add(location::Column::Confidential.eq(false));
        }
        condition
    }

    /// Services with such a location.
    pub fn within(&self) -> Condition {
        Condition::all().add(service::Column::Id.in_subquery(services_at(self.locations())))
    }

    /// Per service (correlated), the squared distance of its nearest such location.
    fn nearest(&self) -> sea_orm::sea_query::SimpleExpr {
        let min = Query::select()
            .expr(Func::min(self.distance2()))
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
            .cond_where(self.locations())
            .to_owned();
        use sea_orm::sea_query::QueryStatementBuilder;
        sea_orm::sea_query::SimpleExpr::SubQuery(None, Box::new(min.into_sub_query_statement()))
    }
}

/// A page of services by a computed rank, lowest first (distance, or negated relevance): an
/// `(rank, id)` keyset over the filtered services, then the page's rows by id — two statements
/// whatever the page size.
async fn ranked_page(
    ctx: &Context<'_>,
    select: sea_orm::Select<service::Entity>,
    rank: sea_orm::sea_query::SimpleExpr,
    kind: &'static str,
    args: &PageArgs,
    node: impl Fn(service::Model, f64) -> Service,
) -> ApiResult<crate::connection::Page<Service>> {
    use crate::connection::TotalCount;
    use crate::cursor::KeyPart;
    use async_graphql::connection::{Connection, Edge};
    let size = args.size()?;
    let db = crate::db_of(ctx)?;
    let cursors = crate::connection::Cursors::of(ctx)?;
    let total = TotalCount::of_query(db.clone(), select.clone().into_query());
    let ranked = select.select_only().column(service::Column::Id).expr_as(rank, "distance2").into_query();
    let mut paged = Query::select()
        .column(Alias::new("id"))
        .column(Alias::new("distance2"))
        .from_subquery(ranked, Alias::new("ranked"))
        .order_by(Alias::new("distance2"), Order::Asc)
        .order_by(Alias::new("id"), Order::Asc)
        .limit(size + 1)
        .to_owned();
    if let Some(after) = &args.after {
        let key = cursors.open(kind, after)?;
        let [KeyPart::Float(bits), KeyPart::Id(id)] = key.as_slice() else {
            return Err(ApiError::bad_input("after", "not a cursor of this list"));
        };
        let (d, id) = (f64::from_bits(*bits), *id);
        paged.cond_where(
            Condition::any()
                .add(Expr::col(Alias::new("distance2")).gt(d))
                .add(Expr::col(Alias::new("distance2")).eq(d).and(Expr::col(Alias::new("id")).gt(id))),
        );
    }
    let mut ranks: Vec<(uuid::Uuid, f64)> = Vec::new();
    for row in db.query_all(&paged).await? {
        ranks.push((row.try_get("", "id")?, row.try_get("", "distance2")?));
    }
    let has_next = ranks.len() as u64 > size;
    ranks.truncate(size as usize);
    let ids: Vec<uuid::Uuid> = ranks.iter().map(|(id, _)| *id).collect();
    let mut rows: std::collections::HashMap<uuid::Uuid, service::Model> = service::Entity::find()
        .filter(service::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut connection = Connection::with_additional_fields(args.after.is_some(), has_next, total);
    for (id, d2) in ranks {
        if let Some(model) = rows.remove(&id) {
            let parts = vec![KeyPart::Float(d2.to_bits()), KeyPart::Id(id)];
            connection.edges.push(Edge::new(cursors.cursor(kind, parts), node(model, d2)));
        }
    }
    Ok(connection)
}

/// The words of a search, lowercased (letters and digits; anything else separates them), or the
/// rule they break: at least one, at most 10 of at most 60 letters. Every door's search reads
/// its words here.
pub fn search_words(text: &str) -> Result<Vec<String>, &'static str> {
    let words: Vec<String> =
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err("give at least one word");
    }
    if words.len() > 10 || words.iter().any(|w| w.chars().count() > 60) {
        return Err("at most 10 words of at most 60 letters");
    }
    Ok(words)
}

/// The social map's text search (the `search` filter: words or word starts, accents and case
/// aside) as a condition on `services`, for the other doors onto the map (the HSDS API).
pub fn search_condition(text: &str, backend: DbBackend) -> ApiResult<Condition> {
    Ok(Search::parse(text, backend)?.matches())
}

/// A checked `search`: the words to find, as each database's full-text engine reads them.
struct Search {
    backend: DbBackend,
    /// PostgreSQL `to_tsquery` text, or SQLite FTS5 `MATCH` text: every word as a prefix.
    query: String,
}

impl Search {
    fn parse(text: &str, backend: DbBackend) -> ApiResult<Search> {
        let words = search_words(text).map_err(|rule| ApiError::bad_input("filter.search", rule))?;
        // Only letters and digits remain, so neither syntax can be broken out of.
        let query = match backend {
            DbBackend::Postgres => words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
            _ => words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        };
        Ok(Search { backend, query })
    }

    /// Services whose name or description holds every word.
    ///
    /// On PostgreSQL the query is built in a subquery: the server's statements are prepared, and
    /// in a prepared statement's plan `to_tsquery` of a parameter is not folded to a constant
    /// but parsed again, dictionary and all, for every row it is matched against; a subquery
    /// is an InitPlan, run once per execution (bench/RESULTS.md, session 14).
    fn matches(&self) -> Condition {
        let expr = match self.backend {
            DbBackend::Postgres => Expr::cust_with_values(
                "\"services\".\"search\" @@ (SELECT to_tsquery('wzh_dutch', $1))",
                [self.query.clone()],
            ),
            _ => Expr::cust_with_values(
                "\"services\".\"id\" IN (SELECT service_id FROM services_fts WHERE services_fts MATCH ?)",
                [self.query.clone()],
            ),
        };
        Condition::all().add(expr)
    }

    /// Lower is more relevant; a word in the name weighs more than one in the description.
    fn rank(&self) -> sea_orm::sea_query::SimpleExpr {
        match self.backend {
            DbBackend::Postgres => Expr::cust_with_values(
                "-CAST(ts_rank('{0.1, 0.2, 0.4, 1.0}', \"services\".\"search\", (SELECT to_tsquery('wzh_dutch', $1))) AS DOUBLE PRECISION)",
                [self.query.clone()],
            ),
            _ => Expr::cust_with_values(
                "(SELECT bm25(services_fts, 0.0, 10.0, 1.0) FROM services_fts
                  WHERE services_fts MATCH ? AND services_fts.service_id = \"services\".\"id\")",
                [self.query.clone()],
            ),
        }
    }
}

//! The social map ("sociale kaart"): organisations and their services, readable by everyone.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Datelike, Timelike, Utc};
use entities::{
    location, organisation, schedule, service, service_at_location, service_language, service_life_domain,
};
use sea_orm::sea_query::{Expr, Func, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, ExprTrait, QueryFilter};

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
    /// Services open at this moment by their weekly hours (Europe/Brussels time); a service that
    /// is not active (closed for now, inactive, defunct) is never open.
    pub open_at: Option<DateTime<Utc>>,
}

#[Object]
impl SocialMapQuery {
    /// The organisations of the network, by name.
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
            select = select.filter(organisation::Column::IsNetworkPartner.eq(true));
        }
        page(ctx, select, &PageArgs::new(first, after), Organisation).await
    }

    async fn organisation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Organisation>> {
        let id = parse_id(&id, "id")?;
        let found = organisation::Entity::find_by_id(id).one(crate::db_of(ctx)?).await?;
        found.map(Organisation).map(Some).ok_or(ApiError::NotFound("organisation"))
    }

    /// The social map: who offers what, where and when, by name.
    async fn services(
        &self,
        ctx: &Context<'_>,
        filter: Option<ServiceFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Service>> {
        let select = service::Entity::find().filter(service_condition(filter.unwrap_or_default()));
        page(ctx, select, &PageArgs::new(first, after), Service).await
    }

    async fn service(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Service>> {
        let id = parse_id(&id, "id")?;
        let found = service::Entity::find_by_id(id).one(crate::db_of(ctx)?).await?;
        found.map(Service).map(Some).ok_or(ApiError::NotFound("service"))
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

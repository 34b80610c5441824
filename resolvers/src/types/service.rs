use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::NaiveDate;
use entities::{location, schedule, service};

use super::organisation::Organisation;
use super::{Address, LifeDomain, ServiceStatus, id};
use crate::connection::{Keyset, capped, caps};
use crate::cursor::KeyPart;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{
    LanguagesOf, LocationsOf, OrganisationId, SchedulesOf, ServiceLifeDomainsOf, request_loader,
};

/// A service on the social map: who offers what, where and when.
pub struct Service(pub service::Model, pub Option<f64>);

impl Service {
    /// A service as a list or lookup returns it (no distance asked for).
    pub fn of(model: service::Model) -> Self {
        Service(model, None)
    }
}

#[Object]
impl Service {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// With a `near` filter: how far (km, as the crow flies) its nearest location is.
    async fn distance_km(&self) -> Option<f64> {
        self.1.map(|d| (d * 100.0).round() / 100.0)
    }
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        request_loader(ctx)?
            .load_one(OrganisationId(self.0.organisation_id))
            .await?
            .map(Organisation)
            .ok_or_else(|| ApiError::internal("service without organisation"))
    }
    /// The life domains the service answers to.
    async fn life_domains(&self, ctx: &Context<'_>) -> ApiResult<Vec<LifeDomain>> {
        let domains = request_loader(ctx)?.load_one(ServiceLifeDomainsOf(self.0.id)).await?;
        Ok(domains.unwrap_or_default().into_iter().map(Into::into).collect())
    }
    /// Languages the service is offered in (ISO 639-1 codes such as `nl`, `fr`, `en`).
    async fn languages(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        Ok(request_loader(ctx)?.load_one(LanguagesOf(self.0.id)).await?.unwrap_or_default())
    }
    async fn url(&self) -> Option<&str> {
        self.0.url.as_deref()
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn status(&self) -> ServiceStatus {
        self.0.status.into()
    }
    /// Who the service is for.
    async fn eligibility(&self) -> Option<&str> {
        self.0.eligibility.as_deref()
    }
    async fn fees(&self) -> Option<&str> {
        self.0.fees.as_deref()
    }
    /// How to apply.
    async fn application_process(&self) -> Option<&str> {
        self.0.application_process.as_deref()
    }
    /// When this entry was last checked.
    async fn assured_date(&self) -> Option<NaiveDate> {
        self.0.assured_date
    }
    /// A temporary notice, such as a closure.
    async fn alert(&self) -> Option<&str> {
        self.0.alert.as_deref()
    }
    /// Where the service is offered: at most 10 locations, by municipality.
    #[graphql(complexity = "capped(caps::LOCATIONS_PER_SERVICE, child_complexity)")]
    async fn locations(&self, ctx: &Context<'_>) -> ApiResult<Vec<Location>> {
        let locations = request_loader(ctx)?.load_one(LocationsOf(self.0.id)).await?;
        Ok(locations.unwrap_or_default().into_iter().map(Location).collect())
    }
    /// Weekly opening hours, in Europe/Brussels local time: at most 28, by weekday and time.
    #[graphql(complexity = "capped(caps::OPENING_HOURS_PER_SERVICE, child_complexity)")]
    async fn opening_hours(&self, ctx: &Context<'_>) -> ApiResult<Vec<OpeningHours>> {
        let schedules = request_loader(ctx)?.load_one(SchedulesOf(self.0.id)).await?;
        Ok(schedules.unwrap_or_default().iter().map(OpeningHours::from).collect())
    }
}

impl Keyset for service::Entity {
    const KIND: &'static str = "service";
    const DESCENDING: bool = false;
    fn columns() -> Vec<service::Column> {
        vec![service::Column::Name, service::Column::Id]
    }
    fn key(model: &service::Model) -> Vec<KeyPart> {
        vec![KeyPart::Text(model.name.clone()), KeyPart::Id(model.id)]
    }
}

/// A place where services are delivered.
pub struct Location(pub location::Model);

#[Object]
impl Location {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// The address; of a confidential location (a shelter) only the postcode and municipality,
    /// unless you sign in.
    async fn address(&self, ctx: &Context<'_>) -> ApiResult<Address> {
        let street = if self.shown(ctx)? { self.0.street.clone() } else { None };
        Ok(Address { street, postcode: self.0.postcode.clone(), municipality: self.0.municipality.clone() })
    }
    /// Hidden for a confidential location unless you sign in.
    async fn latitude(&self, ctx: &Context<'_>) -> ApiResult<Option<f64>> {
        Ok(self.0.latitude.filter(|_| self.shown(ctx).unwrap_or(false)))
    }
    /// Hidden for a confidential location unless you sign in.
    async fn longitude(&self, ctx: &Context<'_>) -> ApiResult<Option<f64>> {
        Ok(self.0.longitude.filter(|_| self.shown(ctx).unwrap_or(false)))
    }
    /// Whether the address is kept from the public (a shelter, say).
    async fn confidential(&self) -> bool {
        self.0.confidential
    }
}

impl Location {
    /// Whether the caller may see exactly where this location is.
    fn shown(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        Ok(!self.0.confidential || crate::policy::may_see_confidential_location(crate::caller_of(ctx)?))
    }
}

/// One weekly opening interval, in Europe/Brussels local time.
#[derive(SimpleObject)]
pub struct OpeningHours {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: i32,
    /// Opening time, `HH:MM`.
    pub opens: String,
    /// Closing time, `HH:MM` (`24:00` for midnight).
    pub closes: String,
    /// The location the hours hold for; none when they hold for every location.
    pub location_id: Option<ID>,
}

impl From<&schedule::Model> for OpeningHours {
    fn from(s: &schedule::Model) -> Self {
        OpeningHours {
            weekday: s.weekday,
            opens: hhmm(s.opens_minute),
            closes: hhmm(s.closes_minute),
            location_id: s.location_id.map(id),
        }
    }
}

/// Minutes after midnight as `HH:MM`.
pub fn hhmm(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

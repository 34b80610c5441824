//! Per-request DataLoaders: every nested relation is fetched for all parents of a page in one
//! `IN (…)` query, so a request's statement count does not grow with its page size.
//!
//! The loaders are built per request because they carry the caller: each query adds the policy
//! scope of its entity, so a nested path cannot reach a row a root query would not return.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use entities::{
    ConsentScope, LifeDomain, case_note, client, consent, help_request, help_request_life_domain,
    location, organisation, referral, referral_event, schedule, service, service_at_location,
    service_language, service_life_domain,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::policy;

/// The loaders of one request, for one caller.
pub struct Loaders {
    db: DatabaseConnection,
    caller: Arc<Caller>,
}

/// Builds the request's loader (with a per-request cache: a row asked for twice is fetched once).
pub fn for_request(db: DatabaseConnection, caller: Arc<Caller>) -> DataLoader<Loaders, HashMapCache> {
    DataLoader::with_cache(Loaders { db, caller }, tokio::spawn, HashMapCache::default())
}

/// The request's loader, from the GraphQL context.
pub fn request_loader<'a>(ctx: &Context<'a>) -> ApiResult<&'a DataLoader<Loaders, HashMapCache>> {
    ctx.data::<DataLoader<Loaders, HashMapCache>>()
        .map_err(|_| ApiError::internal("no DataLoader in the request"))
}

macro_rules! key {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub Uuid);
    )+};
}

key!(
    /// An organisation by id (public data).
    OrganisationId,
    /// A service by id (public data).
    ServiceId,
    /// A client by id, within the caller's client scope.
    ClientId,
    /// A referral by id, within the caller's referral scope.
    ReferralId,
    /// A help request by id, within the caller's scope.
    HelpRequestId,
    /// The events of a referral, oldest first.
    EventsOf,
    /// The life domains of a service.
    ServiceLifeDomainsOf,
    /// The languages of a service.
    LanguagesOf,
    /// The locations of a service.
    LocationsOf,
    /// The weekly opening hours of a service.
    SchedulesOf,
    /// The help requests of a client, oldest first.
    HelpRequestsOf,
    /// The life domains of a help request.
    HelpRequestLifeDomainsOf,
    /// The consents of a client, oldest first.
    ConsentsOf,
    /// The scopes of the client's active consents to the caller's organisation.
    ConsentScopesOf,
    /// The case notes of a help request, oldest first.
    CaseNotesOf,
);

fn ids<K: Copy + Into<Uuid>>(keys: &[K]) -> Vec<Uuid> {
    keys.iter().map(|k| (*k).into()).collect()
}

/// Re-keys a map by id into the loader's key type.
fn rekey<K: Eq + Hash, V>(map: HashMap<Uuid, V>, key: impl Fn(Uuid) -> K) -> HashMap<K, V> {
    map.into_iter().map(|(id, value)| (key(id), value)).collect()
}

/// Groups rows under the id `group` picks from each, keeping their order.
fn group<V>(rows: Vec<V>, group: impl Fn(&V) -> Uuid) -> HashMap<Uuid, Vec<V>> {
    let mut map: HashMap<Uuid, Vec<V>> = HashMap::new();
    for row in rows {
        map.entry(group(&row)).or_default().push(row);
    }
    map
}

macro_rules! uuid_from {
    ($($name:ident),+) => {$(
        impl From<$name> for Uuid {
            fn from(key: $name) -> Uuid { key.0 }
        }
    )+};
}
uuid_from!(
    OrganisationId, ServiceId, ClientId, ReferralId, HelpRequestId, EventsOf,
    ServiceLifeDomainsOf, LanguagesOf, LocationsOf, SchedulesOf, HelpRequestsOf,
    HelpRequestLifeDomainsOf, ConsentsOf, ConsentScopesOf, CaseNotesOf
);

impl Loaders {
    /// Rows of `E` whose `id_column` is one of `keys`, inside `scope`, by that id.
    async fn by_id<E, K>(
        &self,
        keys: &[K],
        id_column: E::Column,
        scope: Condition,
        id_of: impl Fn(&E::Model) -> Uuid,
    ) -> ApiResult<HashMap<Uuid, E::Model>>
    where
        E: EntityTrait,
        K: Copy + Into<Uuid>,
    {
        let rows = E::find()
            .filter(id_column.is_in(ids(keys)))
            .filter(scope)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(|row| (id_of(&row), row)).collect())
    }
}

impl Loader<OrganisationId> for Loaders {
    type Value = organisation::Model;
    type Error = ApiError;
    async fn load(&self, keys: &[OrganisationId]) -> ApiResult<HashMap<OrganisationId, Self::Value>> {
        let rows = self
            .by_id::<organisation::Entity, _>(keys, organisation::Column::Id, Condition::all(), |o| o.id)
            .await?;
        Ok(rekey(rows, OrganisationId))
    }
}

impl Loader<ServiceId> for Loaders {
    type Value = service::Model;
    type Error = ApiError;
    async fn load(&self, keys: &[ServiceId]) -> ApiResult<HashMap<ServiceId, Self::Value>> {
        let rows = self
            .by_id::<service::Entity, _>(keys, service::Column::Id, Condition::all(), |s| s.id)
            .await?;
        Ok(rekey(rows, ServiceId))
    }
}

impl Loader<ClientId> for Loaders {
    type Value = client::Model;
    type Error = ApiError;
    async fn load(&self, keys: &[ClientId]) -> ApiResult<HashMap<ClientId, Self::Value>> {
        let scope = policy::clients(&self.caller);
        let rows = self.by_id::<client::Entity, _>(keys, client::Column::Id, scope, |c| c.id).await?;
        Ok(rekey(rows, ClientId))
    }
}

impl Loader<ReferralId> for Loaders {
    type Value = referral::Model;
    type Error = ApiError;
    async fn load(&self, keys: &[ReferralId]) -> ApiResult<HashMap<ReferralId, Self::Value>> {
        let scope = policy::referrals(&self.caller);
        let rows = self.by_id::<referral::Entity, _>(keys, referral::Column::Id, scope, |r| r.id).await?;
        Ok(rekey(rows, ReferralId))
    }
}

impl Loader<HelpRequestId> for Loaders {
    type Value = help_request::Model;
    type Error = ApiError;
    async fn load(&self, keys: &[HelpRequestId]) -> ApiResult<HashMap<HelpRequestId, Self::Value>> {
        let scope = policy::help_requests(&self.caller);
        let rows = self
            .by_id::<help_request::Entity, _>(keys, help_request::Column::Id, scope, |h| h.id)
            .await?;
        Ok(rekey(rows, HelpRequestId))
    }
}

impl Loader<EventsOf> for Loaders {
    type Value = Vec<referral_event::Model>;
    type Error = ApiError;
    async fn load(&self, keys: &[EventsOf]) -> ApiResult<HashMap<EventsOf, Self::Value>> {
        let rows = referral_event::Entity::find()
            .filter(referral_event::Column::ReferralId.is_in(ids(keys)))
            .filter(policy::referral_events(&self.caller))
            .order_by_asc(referral_event::Column::At)
            .order_by_asc(referral_event::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rekey(group(rows, |e| e.referral_id), EventsOf))
    }
}

impl Loader<ServiceLifeDomainsOf> for Loaders {
    type Value = Vec<LifeDomain>;
    type Error = ApiError;
    async fn load(&self, keys: &[ServiceLifeDomainsOf]) -> ApiResult<HashMap<ServiceLifeDomainsOf, Self::Value>> {
        let rows = service_life_domain::Entity::find()
            .filter(service_life_domain::Column::ServiceId.is_in(ids(keys)))
            .order_by_asc(service_life_domain::Column::LifeDomain)
            .all(&self.db)
            .await?;
        let grouped = group(rows, |r| r.service_id);
        Ok(grouped
            .into_iter()
            .map(|(id, rows)| (ServiceLifeDomainsOf(id), rows.into_iter().map(|r| r.life_domain).collect()))
            .collect())
    }
}

impl Loader<LanguagesOf> for Loaders {
    type Value = Vec<String>;
    type Error = ApiError;
    async fn load(&self, keys: &[LanguagesOf]) -> ApiResult<HashMap<LanguagesOf, Self::Value>> {
        let rows = service_language::Entity::find()
            .filter(service_language::Column::ServiceId.is_in(ids(keys)))
            .order_by_asc(service_language::Column::Language)
            .all(&self.db)
            .await?;
        let grouped = group(rows, |r| r.service_id);
        Ok(grouped
            .into_iter()
            .map(|(id, rows)| (LanguagesOf(id), rows.into_iter().map(|r| r.language).collect()))
            .collect())
    }
}

impl Loader<LocationsOf> for Loaders {
    type Value = Vec<location::Model>;
    type Error = ApiError;
    async fn load(&self, keys: &[LocationsOf]) -> ApiResult<HashMap<LocationsOf, Self::Value>> {
        let links = service_at_location::Entity::find()
            .filter(service_at_location::Column::ServiceId.is_in(ids(keys)))
            .all(&self.db)
            .await?;
        let locations: HashMap<Uuid, location::Model> = location::Entity::find()
            .filter(
                location::Column::Id.in_subquery(
                    Query::select()
                        .column(service_at_location::Column::LocationId)
                        .from(service_at_location::Entity)
                        .and_where(service_at_location::Column::ServiceId.is_in(ids(keys)))
                        .to_owned(),
                ),
            )
            .order_by_asc(location::Column::Municipality)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|l| (l.id, l))
            .collect();
        let mut map: HashMap<LocationsOf, Vec<location::Model>> = HashMap::new();
        for link in links {
            if let Some(location) = locations.get(&link.location_id) {
                map.entry(LocationsOf(link.service_id)).or_default().push(location.clone());
            }
        }
        Ok(map)
    }
}

impl Loader<SchedulesOf> for Loaders {
    type Value = Vec<schedule::Model>;
    type Error = ApiError;
    async fn load(&self, keys: &[SchedulesOf]) -> ApiResult<HashMap<SchedulesOf, Self::Value>> {
        let rows = schedule::Entity::find()
            .filter(schedule::Column::ServiceId.is_in(ids(keys)))
            .order_by_asc(schedule::Column::Weekday)
            .order_by_asc(schedule::Column::OpensMinute)
            .all(&self.db)
            .await?;
        Ok(rekey(group(rows, |s| s.service_id), SchedulesOf))
    }
}

impl Loader<HelpRequestsOf> for Loaders {
    type Value = Vec<help_request::Model>;
    type Error = ApiError;
    async fn load(&self, keys: &[HelpRequestsOf]) -> ApiResult<HashMap<HelpRequestsOf, Self::Value>> {
        let rows = help_request::Entity::find()
            .filter(help_request::Column::ClientId.is_in(ids(keys)))
            .filter(policy::help_requests(&self.caller))
            .order_by_asc(help_request::Column::OpenedAt)
            .order_by_asc(help_request::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rekey(group(rows, |h| h.client_id), HelpRequestsOf))
    }
}

impl Loader<HelpRequestLifeDomainsOf> for Loaders {
    type Value = Vec<LifeDomain>;
    type Error = ApiError;
    async fn load(&self, keys: &[HelpRequestLifeDomainsOf]) -> ApiResult<HashMap<HelpRequestLifeDomainsOf, Self::Value>> {
        let rows = help_request_life_domain::Entity::find()
            .filter(help_request_life_domain::Column::HelpRequestId.is_in(ids(keys)))
            .filter(help_request_life_domain::Column::HelpRequestId.in_subquery(
                Query::select()
                    .column(help_request::Column::Id)
                    .from(help_request::Entity)
                    .cond_where(policy::help_requests(&self.caller))
                    .to_owned(),
            ))
            .order_by_asc(help_request_life_domain::Column::LifeDomain)
            .all(&self.db)
            .await?;
        let grouped = group(rows, |r| r.help_request_id);
        Ok(grouped
            .into_iter()
            .map(|(id, rows)| (HelpRequestLifeDomainsOf(id), rows.into_iter().map(|r| r.life_domain).collect()))
            .collect())
    }
}

impl Loader<ConsentsOf> for Loaders {
    type Value = Vec<consent::Model>;
    type Error = ApiError;
    async fn load(&self, keys: &[ConsentsOf]) -> ApiResult<HashMap<ConsentsOf, Self::Value>> {
        let rows = consent::Entity::find()
            .filter(consent::Column::ClientId.is_in(ids(keys)))
            .filter(policy::consents(&self.caller))
            .order_by_asc(consent::Column::GivenAt)
            .order_by_asc(consent::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rekey(group(rows, |c| c.client_id), ConsentsOf))
    }
}

impl Loader<ConsentScopesOf> for Loaders {
    type Value = Vec<ConsentScope>;
    type Error = ApiError;
    async fn load(&self, keys: &[ConsentScopesOf]) -> ApiResult<HashMap<ConsentScopesOf, Self::Value>> {
        let Some(org) = self.caller.organisation_id() else {
            return Ok(HashMap::new());
        };
        let rows = consent::Entity::find()
            .filter(consent::Column::ClientId.is_in(ids(keys)))
            .filter(consent::Column::RecipientId.eq(org))
            .filter(consent::Column::RevokedAt.is_null())
            .all(&self.db)
            .await?;
        let mut map: HashMap<ConsentScopesOf, Vec<ConsentScope>> = HashMap::new();
        for row in rows {
            let scopes = map.entry(ConsentScopesOf(row.client_id)).or_default();
            for scope in crate::types::consent::scopes_of(&row) {
                if !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            }
        }
        Ok(map)
    }
}

impl Loader<CaseNotesOf> for Loaders {
    type Value = Vec<case_note::Model>;
    type Error = ApiError;
    async fn load(&self, keys: &[CaseNotesOf]) -> ApiResult<HashMap<CaseNotesOf, Self::Value>> {
        let rows = case_note::Entity::find()
            .filter(case_note::Column::HelpRequestId.is_in(ids(keys)))
            .filter(policy::case_notes(&self.caller))
            .order_by_asc(case_note::Column::CreatedAt)
            .order_by_asc(case_note::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rekey(group(rows, |n| n.help_request_id), CaseNotesOf))
    }
}


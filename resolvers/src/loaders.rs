//! Per-request DataLoaders: every nested relation is fetched for all parents of a page in one
//! `IN (…)` query, so a request's statement count does not grow with its page size.
//!
//! The loaders are built per request because they carry the caller: each query adds the policy
//! scope of its entity, so a nested path cannot reach a row a root query would not return.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use entities::{
    ConsentScope, LifeDomain, appointment, client, consent, help_request, help_request_life_domain, location,
    organisation, referral, referral_event, schedule, service, service_at_location, service_language,
    service_life_domain,
};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::batch::BatchQueue;
use crate::caller::Caller;
use crate::connection::{Keep, Keyset, capped_children, caps, child_counts, child_pages};
use crate::cursor::KeyPart;
use crate::error::{ApiError, ApiResult};
use crate::policy;

/// The loaders of one operation, for one caller.
#[derive(Clone)]
pub struct Loaders {
    db: DatabaseConnection,
    caller: Arc<Caller>,
    memo: Arc<Mutex<HashMap<TypeId, Box<dyn Any + Send>>>>,
}

/// Builds the request's loader. Its batches go to `batches`, which runs them when the request
/// waits (see [`crate::batch`]).
pub fn for_request(db: DatabaseConnection, caller: Arc<Caller>, batches: &BatchQueue) -> DataLoader<Loaders> {
    let loaders = Loaders { db, caller, memo: Arc::default() };
    DataLoader::new(loaders, batches.spawner()).delay(Duration::ZERO)
}

/// The request's loader, from the GraphQL context.
pub fn request_loader<'a>(ctx: &Context<'a>) -> ApiResult<&'a DataLoader<Loaders>> {
    ctx.data::<DataLoader<Loaders>>().map_err(|_| ApiError::internal("no DataLoader in the request"))
}

/// One kind of batch query: the rows for a set of keys, within the caller's scope.
pub trait Fetch<K> {
    type Value;
    fn fetch(&self, keys: &[K]) -> impl Future<Output = ApiResult<HashMap<K, Self::Value>>> + Send;
}

/// Every `Fetch` is a DataLoader `Loader`, remembering what it fetched for the rest of the
/// request. The memo sits here, at batch time, rather than in the DataLoader's own cache (which
/// is consulted when a field asks): a key asked for while its first batch is still running is
/// then answered from the memo when its own batch starts, without a second query.
impl<K> Loader<K> for Loaders
where
    Loaders: Fetch<K>,
    K: Clone + Eq + Hash + Send + Sync + 'static,
    <Loaders as Fetch<K>>::Value: Clone + Send + Sync + 'static,
{
    type Value = <Loaders as Fetch<K>>::Value;
    type Error = ApiError;

    async fn load(&self, keys: &[K]) -> ApiResult<HashMap<K, Self::Value>> {
        let (mut found, missing) = self.recall::<K, Self::Value>(keys);
        if !missing.is_empty() {
            let fetched = self.fetch(&missing).await?;
            self.remember(&missing, &fetched);
            found.extend(fetched);
        }
        Ok(found)
    }
}

type Memo<K, V> = HashMap<K, Option<V>>;

impl Loaders {
    /// The memoised values of `keys`, and the keys never fetched yet.
    fn recall<K, V>(&self, keys: &[K]) -> (HashMap<K, V>, Vec<K>)
    where
        K: Clone + Eq + Hash + Send + 'static,
        V: Clone + Send + 'static,
    {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        let memo = self.memo.lock().ok();
        let memo =
            memo.as_ref().and_then(|m| m.get(&TypeId::of::<Memo<K, V>>())?.downcast_ref::<Memo<K, V>>());
        for key in keys {
            match memo.and_then(|m| m.get(key)) {
                Some(Some(value)) => {
                    found.insert(key.clone(), value.clone());
                }
                Some(None) => {}
                None => missing.push(key.clone()),
            }
        }
        (found, missing)
    }

    /// Remembers what a batch returned for `keys`, including the keys it found nothing for.
    /// Remembers a referral the request already read within the caller's scope (a list's row),
    /// so that its events, asking for it by id, cost no statement.
    pub fn know_referral(&self, referral: &referral::Model) {
        let key = ReferralId(referral.id);
        self.remember(&[key], &HashMap::from([(key, referral.clone())]));
    }

    fn remember<K, V>(&self, keys: &[K], fetched: &HashMap<K, V>)
    where
        K: Clone + Eq + Hash + Send + 'static,
        V: Clone + Send + 'static,
    {
        let Ok(mut memo) = self.memo.lock() else {
            return;
        };
        let entry = memo.entry(TypeId::of::<Memo<K, V>>()).or_insert_with(|| Box::new(Memo::<K, V>::new()));
        if let Some(memo) = entry.downcast_mut::<Memo<K, V>>() {
            for key in keys {
                memo.insert(key.clone(), fetched.get(key).cloned());
            }
        }
    }
}

macro_rules! key {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $name(pub Uuid);

        impl From<$name> for Uuid {
            fn from(key: $name) -> Uuid { key.0 }
        }
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
    /// The case notes of a help request (current versions), oldest first.
    CaseNotesOf,
    /// The appointments of a client, the soonest first.
    AppointmentsOf,
);

mod case_notes;
pub use case_notes::{CaseNoteVersionsOf, CaseNotesOfClient};

fn ids<K: Copy + Into<Uuid>>(keys: &[K]) -> Vec<Uuid> {
    keys.iter().map(|k| (*k).into()).collect()
}

/// Re-keys a map by id into the loader's key type.
fn rekey<K: Eq + Hash, V>(map: HashMap<Uuid, V>, key: impl Fn(Uuid) -> K) -> HashMap<K, V> {
    map.into_iter().map(|(id, value)| (key(id), value)).collect()
}

/// Columns of `E` as expressions (for the order of [`capped_children`]).
fn columns<E: EntityTrait>(columns: &[E::Column]) -> Vec<Expr> {
    columns.iter().map(|c| Expr::col((E::default(), *c))).collect()
}

/// Groups rows under the id `group` picks from each, keeping their order.
fn group<V>(rows: Vec<V>, group: impl Fn(&V) -> Uuid) -> HashMap<Uuid, Vec<V>> {
    let mut map: HashMap<Uuid, Vec<V>> = HashMap::new();
    for row in rows {
        map.entry(group(&row)).or_default().push(row);
    }
    map
}

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
        let rows = E::find().filter(id_column.is_in(ids(keys))).filter(scope).all(&self.db).await?;
        Ok(rows.into_iter().map(|row| (id_of(&row), row)).collect())
    }
}

impl Fetch<OrganisationId> for Loaders {
    type Value = organisation::Model;
    async fn fetch(&self, keys: &[OrganisationId]) -> ApiResult<HashMap<OrganisationId, Self::Value>> {
        let rows = self
            .by_id::<organisation::Entity, _>(keys, organisation::Column::Id, Condition::all(), |o| o.id)
            .await?;
        Ok(rekey(rows, OrganisationId))
    }
}

impl Fetch<ServiceId> for Loaders {
    type Value = service::Model;
    async fn fetch(&self, keys: &[ServiceId]) -> ApiResult<HashMap<ServiceId, Self::Value>> {
        let rows =
            self.by_id::<service::Entity, _>(keys, service::Column::Id, Condition::all(), |s| s.id).await?;
        Ok(rekey(rows, ServiceId))
    }
}

impl Fetch<ClientId> for Loaders {
    type Value = client::Model;
    async fn fetch(&self, keys: &[ClientId]) -> ApiResult<HashMap<ClientId, Self::Value>> {
        let scope = policy::clients(&self.caller);
        let rows = self.by_id::<client::Entity, _>(keys, client::Column::Id, scope, |c| c.id).await?;
        Ok(rekey(rows, ClientId))
    }
}

impl Fetch<ReferralId> for Loaders {
    type Value = referral::Model;
    async fn fetch(&self, keys: &[ReferralId]) -> ApiResult<HashMap<ReferralId, Self::Value>> {
        let scope = policy::referrals(&self.caller);
        let rows = self.by_id::<referral::Entity, _>(keys, referral::Column::Id, scope, |r| r.id).await?;
        Ok(rekey(rows, ReferralId))
    }
}

impl Fetch<HelpRequestId> for Loaders {
    type Value = help_request::Model;
    async fn fetch(&self, keys: &[HelpRequestId]) -> ApiResult<HashMap<HelpRequestId, Self::Value>> {
        let scope = policy::help_requests(&self.caller);
        let rows =
            self.by_id::<help_request::Entity, _>(keys, help_request::Column::Id, scope, |h| h.id).await?;
        Ok(rekey(rows, HelpRequestId))
    }
}

impl Fetch<EventsOf> for Loaders {
    type Value = Vec<referral_event::Model>;
    async fn fetch(&self, keys: &[EventsOf]) -> ApiResult<HashMap<EventsOf, Self::Value>> {
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

impl Fetch<ServiceLifeDomainsOf> for Loaders {
    type Value = Vec<LifeDomain>;
    async fn fetch(
        &self,
        keys: &[ServiceLifeDomainsOf],
    ) -> ApiResult<HashMap<ServiceLifeDomainsOf, Self::Value>> {
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

impl Fetch<LanguagesOf> for Loaders {
    type Value = Vec<String>;
    async fn fetch(&self, keys: &[LanguagesOf]) -> ApiResult<HashMap<LanguagesOf, Self::Value>> {
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

impl Fetch<LocationsOf> for Loaders {
    type Value = Vec<location::Model>;
    async fn fetch(&self, keys: &[LocationsOf]) -> ApiResult<HashMap<LocationsOf, Self::Value>> {
        // The links, capped per service; the locations follow in the same order.
        let links = capped_children(
            &self.db,
            service_at_location::Entity::find()
                .filter(service_at_location::Column::ServiceId.is_in(ids(keys)))
                .join(
                    sea_orm::JoinType::InnerJoin,
                    service_at_location::Entity::belongs_to(location::Entity)
                        .from(service_at_location::Column::LocationId)
                        .to(location::Column::Id)
                        .into(),
                ),
            service_at_location::Column::ServiceId,
            &columns::<location::Entity>(&[location::Column::Municipality, location::Column::Id]),
            Keep::First,
            caps::LOCATIONS_PER_SERVICE,
        )
        .await?;
        let locations: HashMap<Uuid, location::Model> = location::Entity::find()
            .filter(location::Column::Id.is_in(links.iter().map(|l| l.location_id)))
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

impl Fetch<SchedulesOf> for Loaders {
    type Value = Vec<schedule::Model>;
    async fn fetch(&self, keys: &[SchedulesOf]) -> ApiResult<HashMap<SchedulesOf, Self::Value>> {
        let rows = capped_children(
            &self.db,
            schedule::Entity::find().filter(schedule::Column::ServiceId.is_in(ids(keys))),
            schedule::Column::ServiceId,
            &columns::<schedule::Entity>(&[
                schedule::Column::Weekday,
                schedule::Column::OpensMinute,
                schedule::Column::Id,
            ]),
            Keep::First,
            caps::OPENING_HOURS_PER_SERVICE,
        )
        .await?;
        Ok(rekey(group(rows, |s| s.service_id), SchedulesOf))
    }
}

impl Fetch<HelpRequestsOf> for Loaders {
    type Value = Vec<help_request::Model>;
    async fn fetch(&self, keys: &[HelpRequestsOf]) -> ApiResult<HashMap<HelpRequestsOf, Self::Value>> {
        let rows = capped_children(
            &self.db,
            help_request::Entity::find()
                .filter(help_request::Column::ClientId.is_in(ids(keys)))
                .filter(policy::help_requests(&self.caller)),
            help_request::Column::ClientId,
            &columns::<help_request::Entity>(&[help_request::Column::OpenedAt, help_request::Column::Id]),
            Keep::Last,
            caps::HELP_REQUESTS_PER_CLIENT,
        )
        .await?;
        Ok(rekey(group(rows, |h| h.client_id), HelpRequestsOf))
    }
}

impl Fetch<HelpRequestLifeDomainsOf> for Loaders {
    type Value = Vec<LifeDomain>;
    async fn fetch(
        &self,
        keys: &[HelpRequestLifeDomainsOf],
    ) -> ApiResult<HashMap<HelpRequestLifeDomainsOf, Self::Value>> {
        let rows = help_request_life_domain::Entity::find()
            .filter(help_request_life_domain::Column::HelpRequestId.is_in(ids(keys)))
            .filter(
                help_request_life_domain::Column::HelpRequestId.in_subquery(
                    Query::select()
                        .column(help_request::Column::Id)
                        .from(help_request::Entity)
                        .cond_where(policy::help_requests(&self.caller))
                        .to_owned(),
                ),
            )
            .order_by_asc(help_request_life_domain::Column::LifeDomain)
            .all(&self.db)
            .await?;
        let grouped = group(rows, |r| r.help_request_id);
        Ok(grouped
            .into_iter()
            .map(|(id, rows)| {
                (HelpRequestLifeDomainsOf(id), rows.into_iter().map(|r| r.life_domain).collect())
            })
            .collect())
    }
}

impl Fetch<ConsentsOf> for Loaders {
    type Value = Vec<consent::Model>;
    async fn fetch(&self, keys: &[ConsentsOf]) -> ApiResult<HashMap<ConsentsOf, Self::Value>> {
        let rows = capped_children(
            &self.db,
            consent::Entity::find()
                .filter(consent::Column::ClientId.is_in(ids(keys)))
                .filter(policy::consents(&self.caller)),
            consent::Column::ClientId,
            &columns::<consent::Entity>(&[consent::Column::GivenAt, consent::Column::Id]),
            Keep::Last,
            caps::CONSENTS_PER_CLIENT,
        )
        .await?;
        Ok(rekey(group(rows, |c| c.client_id), ConsentsOf))
    }
}

impl Fetch<AppointmentsOf> for Loaders {
    type Value = Vec<appointment::Model>;
    async fn fetch(&self, keys: &[AppointmentsOf]) -> ApiResult<HashMap<AppointmentsOf, Self::Value>> {
        let rows = capped_children(
            &self.db,
            appointment::Entity::find()
                .filter(appointment::Column::ClientId.is_in(ids(keys)))
                .filter(policy::appointments(&self.caller)),
            appointment::Column::ClientId,
            &columns::<appointment::Entity>(&[appointment::Column::StartsAt, appointment::Column::Id]),
            Keep::Last,
            caps::APPOINTMENTS_PER_CLIENT,
        )
        .await?;
        Ok(rekey(group(rows, |a| a.client_id), AppointmentsOf))
    }
}

impl Fetch<ConsentScopesOf> for Loaders {
    type Value = Vec<ConsentScope>;
    async fn fetch(&self, keys: &[ConsentScopesOf]) -> ApiResult<HashMap<ConsentScopesOf, Self::Value>> {
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

/// A nested list's total, for one parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildCount {
    /// The services of an organisation.
    ServicesOf(Uuid),
    /// The referrals of a client that the caller sees.
    ReferralsOfClient(Uuid),
}

/// A page of an organisation's services.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServicesPage {
    pub organisation: Uuid,
    pub size: u64,
    pub after: Option<Vec<KeyPart>>,
}

/// A page of a client's referrals, within the caller's referral scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientReferralsPage {
    pub client: Uuid,
    pub size: u64,
    pub after: Option<Vec<KeyPart>>,
}

type PageOf<M> = (Vec<M>, bool);

impl Loaders {
    /// Pages of children for page keys `(parent, size, after)`: one windowed query per distinct
    /// `(size, after)`, which in a request is one per nested field.
    async fn child_pages_for<E, K>(
        &self,
        keys: &[K],
        split: impl Fn(&K) -> (Uuid, u64, Option<Vec<KeyPart>>),
        select: impl Fn(Vec<Uuid>) -> sea_orm::Select<E>,
        parent: E::Column,
        parent_of: impl Fn(&E::Model) -> Uuid + Copy,
    ) -> ApiResult<HashMap<K, PageOf<E::Model>>>
    where
        E: Keyset,
        K: Clone + Eq + Hash,
    {
        let mut groups: HashMap<(u64, Option<Vec<KeyPart>>), Vec<(Uuid, K)>> = HashMap::new();
        for key in keys {
            let (parent, size, after) = split(key);
            groups.entry((size, after)).or_default().push((parent, key.clone()));
        }
        let mut out = HashMap::new();
        for ((size, after), members) in groups {
            let parents: Vec<Uuid> = members.iter().map(|(p, _)| *p).collect();
            let mut pages = child_pages(&self.db, select(parents), parent, parent_of, size, after).await?;
            for (parent, key) in members {
                out.insert(key, pages.remove(&parent).unwrap_or_default());
            }
        }
        Ok(out)
    }
}

impl Fetch<ServicesPage> for Loaders {
    type Value = PageOf<service::Model>;
    async fn fetch(&self, keys: &[ServicesPage]) -> ApiResult<HashMap<ServicesPage, Self::Value>> {
        self.child_pages_for(
            keys,
            |k| (k.organisation, k.size, k.after.clone()),
            |orgs| service::Entity::find().filter(service::Column::OrganisationId.is_in(orgs)),
            service::Column::OrganisationId,
            |s| s.organisation_id,
        )
        .await
    }
}

impl Fetch<ClientReferralsPage> for Loaders {
    type Value = PageOf<referral::Model>;
    async fn fetch(
        &self,
        keys: &[ClientReferralsPage],
    ) -> ApiResult<HashMap<ClientReferralsPage, Self::Value>> {
        let scope = policy::referrals(&self.caller);
        self.child_pages_for(
            keys,
            |k| (k.client, k.size, k.after.clone()),
            |clients| {
                referral::Entity::find()
                    .filter(referral::Column::ClientId.is_in(clients))
                    .filter(scope.clone())
            },
            referral::Column::ClientId,
            |r| r.client_id,
        )
        .await
    }
}

impl Fetch<ChildCount> for Loaders {
    type Value = i64;
    async fn fetch(&self, keys: &[ChildCount]) -> ApiResult<HashMap<ChildCount, i64>> {
        let (mut orgs, mut clients) = (Vec::new(), Vec::new());
        for key in keys {
            match *key {
                ChildCount::ServicesOf(org) => orgs.push(org),
                ChildCount::ReferralsOfClient(client) => clients.push(client),
            }
        }
        let mut out = HashMap::new();
        if !orgs.is_empty() {
            let select = service::Entity::find().filter(service::Column::OrganisationId.is_in(orgs.clone()));
            let counts = child_counts(&self.db, select, service::Column::OrganisationId).await?;
            out.extend(
                orgs.into_iter().map(|o| (ChildCount::ServicesOf(o), counts.get(&o).copied().unwrap_or(0))),
            );
        }
        if !clients.is_empty() {
            let select = referral::Entity::find()
                .filter(referral::Column::ClientId.is_in(clients.clone()))
                .filter(policy::referrals(&self.caller));
            let counts = child_counts(&self.db, select, referral::Column::ClientId).await?;
            out.extend(
                clients
                    .into_iter()
                    .map(|c| (ChildCount::ReferralsOfClient(c), counts.get(&c).copied().unwrap_or(0))),
            );
        }
        Ok(out)
    }
}

mod webhooks;
pub use webhooks::{AttemptsOf, WebhookId};

mod office_hours;
pub use office_hours::{
    AppointmentId, CANCELLED_PER_CLOSURE, CancelledBy, ClosureOfAppointment, LocationId, OfficeHoursOf,
    UPCOMING_CLOSURES, UpcomingClosuresOf,
};

//! What `/metrics` shows, in the Prometheus text format: requests by operation and outcome,
//! their latency, SQL statements per request, the connection pool and open subscriptions.
//! Never personal data: labels are operation names and error codes only.
//!
//! Operation names come from callers, so a label is only ever a name the server recognises: a
//! GraphQL name (`/^[_A-Za-z][_0-9A-Za-z]*$/`, nothing to escape in the exposition) of an
//! operation that ran, or a trusted document's. See [`OperationNames`] for who may add how many.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use resolvers::subscription::OpenSubscriptions;
use uuid::Uuid;

use crate::auth::Tokens;
use crate::db::Database;

/// Longest operation name given a series of its own.
const MAX_NAME_LENGTH: usize = 64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histogram,
    statements: Histogram,
    pool: Family<PoolLabels, Gauge<i64, AtomicI64>>,
    subscriptions: Gauge<i64, AtomicI64>,
    webhooks: crate::webhooks::WebhookMetrics,
    operations: Mutex<OperationNames>,
    /// Names the caller of a new operation name (see [`Origin`]).
    tokens: Tokens,
    db: Database,
    open: OpenSubscriptions,
}

/// Who ran an operation, as the door saw it: the `Authorization` it came with and its address.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    pub authorization: Option<&'a str>,
    pub address: IpAddr,
}

impl Metrics {
    /// `trusted`: the operation names of the trusted documents, which always get their series.
    pub fn new(db: Database, open: OpenSubscriptions, tokens: Tokens, trusted: HashSet<String>) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "welzijnshuis_graphql_requests",
            "GraphQL requests, by operation name and outcome (ok or the first error code)",
            requests.clone(),
        );
        // 0.5 ms … 8 s
        let latency = Histogram::new(exponential_buckets(0.0005, 2.0, 15));
        registry.register(
            "welzijnshuis_graphql_request_duration_seconds",
            "Time from a request's arrival to its answer",
            latency.clone(),
        );
        let statements = Histogram::new([1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0, 64.0]);
        registry.register(
            "welzijnshuis_graphql_request_sql_statements",
            "SQL statements one GraphQL request ran",
            statements.clone(),
        );
        registry.register("welzijnshuis_sql_statements", "SQL statements run", db.statement_counter());
        let pool = Family::<PoolLabels, Gauge<i64, AtomicI64>>::default();
        registry.register(
            "welzijnshuis_db_pool_connections",
            "Database connections, in use or idle",
            pool.clone(),
        );
        let subscriptions = Gauge::<i64, AtomicI64>::default();
        registry.register("welzijnshuis_open_subscriptions", "Subscriptions open now", subscriptions.clone());
        let webhooks = crate::webhooks::WebhookMetrics::register(&mut registry);
        let inner = Inner {
            registry,
            requests,
            latency,
            statements,
            pool,
            subscriptions,
            webhooks,
            operations: Mutex::new(OperationNames::new(trusted)),
            tokens,
            db,
            open,
        };
        Metrics { inner: Arc::new(inner) }
    }

    /// The webhook deliveries' counters and gauge.
    pub fn webhooks(&self) -> crate::webhooks::WebhookMetrics {
        self.inner.webhooks.clone()
    }

    /// Counts one finished request. `operation`: the name of the operation that ran, `None` when
    /// the request did not get to run (refused, or a request error): a name no document ran is
    /// the caller's word only.
    pub fn record(
        &self,
        operation: Option<&str>,
        origin: Origin<'_>,
        outcome: &str,
        elapsed: Duration,
        statements: u64,
    ) {
        let outcome = if is_graphql_name(outcome) { outcome } else { "other" };
        let labels =
            RequestLabels { operation: self.operation_label(operation, origin), outcome: outcome.into() };
        self.inner.requests.get_or_create(&labels).inc();
        self.inner.latency.observe(elapsed.as_secs_f64());
        self.inner.statements.observe(statements as f64);
    }

    fn operation_label(&self, operation: Option<&str>, origin: Origin<'_>) -> String {
        let Some(name) = operation else {
            return "anonymous".into();
        };
        if !is_graphql_name(name) || name.len() > MAX_NAME_LENGTH {
            return "other".into();
        }
        let mut names = self.inner.operations.lock().unwrap_or_else(|p| p.into_inner());
        if names.known(name) {
            return name.to_owned();
        }
        // Only a name not seen before costs a token check (a signature, no database).
        let spender = self.spender(origin);
        if names.admit(name, spender) { name.to_owned() } else { "other".into() }
    }

    /// Whose budget a new name is taken from: the user of a valid token, else the address.
    fn spender(&self, origin: Origin<'_>) -> Spender {
        let token =
            origin.authorization.and_then(|a| a.strip_prefix("Bearer ").or(a.strip_prefix("bearer ")));
        match token.map(|t| self.inner.tokens.verify(t.trim())) {
            Some(Ok((crate::auth::Subject::User(id) | crate::auth::Subject::Client(id), _))) => {
                Spender::User(id)
            }
            _ => Spender::Public(crate::http::connections::network_of(origin.address)),
        }
    }

    /// The text exposition, with the gauges read now.
    pub fn render(&self) -> String {
        let inner = &self.inner;
        let (in_use, idle) = inner.db.pool_connections();
        inner.pool.get_or_create(&PoolLabels { state: "in_use" }).set(in_use as i64);
        inner.pool.get_or_create(&PoolLabels { state: "idle" }).set(idle as i64);
        inner.subscriptions.set(inner.open.total() as i64);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &inner.registry)
            .expect("writing to a String does not fail");
        text
    }
}

/// Whether `text` is a GraphQL name: `/^[_A-Za-z][_0-9A-Za-z]*$/`. Such a label value needs no
/// escaping, so nothing a caller sends can end a line or a label in the exposition.
fn is_graphql_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The operation names of trusted documents (which parse: they were checked at start).
pub fn operation_names<'a>(documents: impl IntoIterator<Item = &'a String>) -> HashSet<String> {
    let parsed = documents.into_iter().filter_map(|d| async_graphql::parser::parse_query(d).ok());
    parsed
        .flat_map(|document| {
            document.operations.iter().filter_map(|(name, _)| name.map(|n| n.to_string())).collect::<Vec<_>>()
        })
        .collect()
}

/// Who spends a place for a new operation name.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
enum Spender {
    User(Uuid),
    /// The public, by address (an IPv6 address by its /64, which one host usually holds whole).
    Public(IpAddr),
}

/// The names that have a series of their own, and who may add how many.
///
/// Every series is kept once made (a counter that vanished would break `rate()`), so the names
/// are capped; the question is who may fill the cap. Only names of operations that ran count,
/// but running costs nothing: `query Flood1 { me { role } }` runs for anyone. So:
/// - the trusted documents' names are the operator's, always labelled and outside the cap;
/// - users (a valid token) share [`USER_NAMES`] places, at most [`NAMES_PER_USER`] each: a
///   staff or partner application has a few dozen operations, and filling the pool takes
///   several accounts, each one known by name;
/// - the public shares [`PUBLIC_NAMES`] places, at most [`NAMES_PER_ADDRESS`] per address:
///   anyone can hold many addresses, so the public can at worst fill its own pool and never
///   takes a place from staff and partners, whose operations are what the dashboards watch.
///
/// Names past a budget are counted as `other`. An automatic persisted query's name is no
/// different: anyone may register a document.
struct OperationNames {
    trusted: HashSet<String>,
    admitted: HashSet<String>,
    users: Pool,
    public: Pool,
}

const USER_NAMES: usize = 160;
const NAMES_PER_USER: usize = 32;
const PUBLIC_NAMES: usize = 40;
const NAMES_PER_ADDRESS: usize = 8;

impl OperationNames {
    fn new(trusted: HashSet<String>) -> Self {
        OperationNames {
            trusted,
            admitted: HashSet::new(),
            users: Pool::new(USER_NAMES, NAMES_PER_USER),
            public: Pool::new(PUBLIC_NAMES, NAMES_PER_ADDRESS),
        }
    }

    fn known(&self, name: &str) -> bool {
        self.trusted.contains(name) || self.admitted.contains(name)
    }

    /// Gives `name` a series if `spender` and its pool still have a place.
    fn admit(&mut self, name: &str, spender: Spender) -> bool {
        let pool = match spender {
            Spender::User(_) => &mut self.users,
            Spender::Public(_) => &mut self.public,
        };
        let admitted = pool.take(spender);
        if admitted {
            self.admitted.insert(name.to_owned());
        }
        admitted
    }
}

/// Places for names, shared by spenders with a budget each. Spenders are remembered only when
/// they take a place, so the map is no larger than the pool.
struct Pool {
    left: usize,
    per_spender: usize,
    spent: HashMap<Spender, usize>,
}

impl Pool {
    fn new(capacity: usize, per_spender: usize) -> Self {
        Pool { left: capacity, per_spender, spent: HashMap::new() }
    }

    fn take(&mut self, spender: Spender) -> bool {
        let spent = self.spent.get(&spender).copied().unwrap_or(0);
        if self.left == 0 || spent >= self.per_spender {
            return false;
        }
        self.left -= 1;
        self.spent.insert(spender, spent + 1);
        true
    }
}

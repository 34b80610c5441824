//! What `/metrics` shows, in the Prometheus text format: requests by operation and outcome,
//! their latency, SQL statements per request, the connection pool and open subscriptions.
//! Never personal data: labels are operation names and error codes only.

use std::collections::HashSet;
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

use crate::db::Database;

/// Operation names are chosen by callers; past this many distinct ones, the rest are counted as
/// `other` so that a client cannot grow the metrics without end.
const MAX_OPERATION_LABELS: usize = 200;

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
    operations: Mutex<HashSet<String>>,
    db: Database,
    open: OpenSubscriptions,
}

impl Metrics {
    pub fn new(db: Database, open: OpenSubscriptions) -> Self {
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
        let inner = Inner {
            registry,
            requests,
            latency,
            statements,
            pool,
            subscriptions,
            operations: Mutex::default(),
            db,
            open,
        };
        Metrics { inner: Arc::new(inner) }
    }

    /// Counts one finished request.
    pub fn record(&self, operation: Option<&str>, outcome: &str, elapsed: Duration, statements: u64) {
        let labels =
            RequestLabels { operation: self.operation_label(operation), outcome: outcome.to_owned() };
        self.inner.requests.get_or_create(&labels).inc();
        self.inner.latency.observe(elapsed.as_secs_f64());
        self.inner.statements.observe(statements as f64);
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation.filter(|n| n.len() <= 64) else {
            return "anonymous".into();
        };
        let mut seen = self.inner.operations.lock().unwrap_or_else(|p| p.into_inner());
        if seen.contains(name) {
            return name.to_owned();
        }
        if seen.len() < MAX_OPERATION_LABELS {
            seen.insert(name.to_owned());
            return name.to_owned();
        }
        "other".into()
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

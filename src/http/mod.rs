//! The HTTP surface: GraphQL over HTTP (`graphql`), subscriptions over WebSocket (`websocket`),
//! GraphiQL, the social map as the HSDS 3.0 API (`hsds`), health, readiness and metrics, and the
//! layers every route shares.

pub mod connections;
mod export;
mod graphql;
mod hsds;
mod websocket;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_graphql::http::GraphiQLSource;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use resolvers::ApiError;
use resolvers::events::EventBus;
use tokio::sync::{Notify, watch};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::config::LimitsConfig;
use crate::db::Database;
use crate::gate::Gate;
use crate::metrics::Metrics;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// What every operation passes, whatever its door.
    pub gate: Gate,
    pub db: Database,
    /// Committed referral events, for the subscriptions of this replica.
    pub events: EventBus,
    pub metrics: Metrics,
    pub limits: LimitsConfig,
    /// Becomes `true` when the server starts shutting down: WebSockets close.
    pub closing: watch::Receiver<bool>,
    /// Open WebSocket connections, which the server waits for on shutdown.
    pub sockets: Tracker,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<ipnet::IpNet>>,
    /// The last database check of `/readyz`.
    pub readiness: Readiness,
}

impl AppState {
    /// The caller's address: the peer's, or, when the peer is a trusted proxy, the last address
    /// of `X-Forwarded-For` that is not a trusted proxy (the one the first proxy saw; whatever
    /// stands left of it the caller may have written itself). A hop that does not read as an
    /// address ends the walk at the last proxy: what stands left of it is not believed either.
    pub(crate) fn client_address(
        &self,
        peer: std::net::IpAddr,
        headers: &axum::http::HeaderMap,
    ) -> std::net::IpAddr {
        let trusted = |ip: &std::net::IpAddr| self.trusted_proxies.iter().any(|net| net.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).map(str::trim).collect();
        let mut nearest_proxy = peer;
        for hop in hops.into_iter().rev() {
            match parse_hop(hop) {
                Some(ip) if trusted(&ip) => nearest_proxy = ip,
                Some(ip) => return ip,
                None => return nearest_proxy,
            }
        }
        nearest_proxy
    }
}

/// An `X-Forwarded-For` hop: an address, with or without a port (`1.2.3.4:80`, `[2001:db8::1]:80`).
fn parse_hop(hop: &str) -> Option<std::net::IpAddr> {
    hop.parse().ok().or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The service's routes; `/metrics` among them unless it is served on an address of its own
/// ([`metrics_router`]).
pub fn router(state: AppState, cors_origins: &[String], with_metrics: bool) -> Router {
    let routes = Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphql::graphql).post(graphql::graphql))
        .route("/graphql/ws", get(websocket::graphql_ws))
        .route("/me/export", get(export::me_export).head(export::no_head))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    let routes = if with_metrics { routes.route("/metrics", get(metrics)) } else { routes };
    // The configured origins govern these routes; `/hsds` has its own CORS (any origin may read
    // it) and must not pass this layer as well: the outer layer would answer its preflights.
    routes
        .layer(cors(cors_origins))
        .merge(hsds::routes())
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(panicked))
        .layer(TraceLayer::new_for_http())
}

/// `/metrics` alone, for `WELZIJNSHUIS_METRICS_ADDR`: an address only the scraper can reach.
pub fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state).layer(CatchPanicLayer::custom(panicked))
}

/// Browser dashboards on the configured origins may call the API; no one else's pages may. The
/// origins were checked when the configuration was (`config::cors_origins`).
fn cors(origins: &[String]) -> CorsLayer {
    let origins = crate::config::cors_origins(origins).unwrap_or_default();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            REQUEST_ID,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}

/// A panic anywhere in a request is answered as an `INTERNAL` error, never a dropped connection.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The request's own id is out of reach here: a fresh one ties the log line to the answer.
    let request_id = uuid::Uuid::now_v7().to_string();
    tracing::error!(request_id = %request_id, "a request panicked");
    graphql::refusal(&ApiError::Internal, Some(&request_id))
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("welzijnshuis")
            .finish(),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if *state.closing.borrow() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else if state.readiness.database_reachable(&state.db).await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], state.metrics.render())
}

/// The database check of `/readyz`, kept for a second: however often probes (or anyone else) ask,
/// the database answers one `SELECT 1` a second. Concurrent asks wait for the one check running.
#[derive(Clone, Default)]
pub struct Readiness {
    last: Arc<tokio::sync::Mutex<Option<(Instant, bool)>>>,
}

impl Readiness {
    const FRESH_FOR: Duration = Duration::from_secs(1);

    pub async fn database_reachable(&self, db: &Database) -> bool {
        let mut last = self.last.lock().await;
        if let Some((checked_at, reachable)) = *last
            && checked_at.elapsed() < Self::FRESH_FOR
        {
            return reachable;
        }
        let reachable = db.ping().await;
        *last = Some((Instant::now(), reachable));
        reachable
    }
}

/// Counts what is open, and wakes whoever waits for it all to close.
#[derive(Clone, Default)]
pub struct Tracker {
    open: Arc<AtomicUsize>,
    closed: Arc<Notify>,
}

/// One open thing; closes when dropped.
pub struct Open(Tracker);

impl Tracker {
    pub fn open(&self) -> Open {
        self.open.fetch_add(1, Ordering::SeqCst);
        Open(self.clone())
    }

    /// Waits until nothing is open.
    pub async fn all_closed(&self) {
        loop {
            let closed = self.closed.notified();
            if self.open.load(Ordering::SeqCst) == 0 {
                return;
            }
            closed.await;
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.closed.notify_waiters();
    }
}

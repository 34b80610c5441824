//! Building the application: database ready, schema built, listener bound. Tests build it the
//! same way on port 0 and read the port it got.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use resolvers::CursorKey;
use resolvers::events::EventBus;
use resolvers::subscription::OpenSubscriptions;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Tokens;
use crate::config::Config;
use crate::db::Database;
use crate::demo;
use crate::gate::Gate;
use crate::http::{AppState, connections, metrics_router, router};
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;

/// When to load the demo network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoData {
    /// Never.
    No,
    /// When the database is empty (the default for SQLite).
    IfEmpty,
}

pub struct Application {
    listener: TcpListener,
    /// Where `/metrics` is served when it has an address of its own.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    closing: watch::Sender<bool>,
    cors_origins: Vec<String>,
    grace: Duration,
    /// `WELZIJNSHUIS_RETENTION_YEARS`: the daily retention run's rule.
    retention_years: u32,
    /// Delivers webhooks while the server runs.
    webhooks: crate::webhooks::Worker,
}

impl Application {
    /// Connects, migrates, loads the demo if asked, and binds the listener.
    pub async fn build(config: &Config, demo_data: DemoData) -> anyhow::Result<Self> {
        let statement_timeout = Duration::from_millis(config.limits.statement_timeout_ms);
        let operations = config.limits.max_concurrent_requests;
        let db = Database::connect_with(&config.database_url, statement_timeout, operations).await?;
        db.migrate().await?;
        if demo_data == DemoData::IfEmpty {
            match demo::load_if_empty(&db.conn).await.context("loading the demo network")? {
                Some(summary) => tracing::info!(?summary, "demo network loaded"),
                None => tracing::info!("database not empty: demo network not loaded"),
            }
        }
        Self::with_database(config, db).await
    }

    /// Binds the listener over an already prepared database.
    pub async fn with_database(config: &Config, db: Database) -> anyhow::Result<Self> {
        config.check()?;
        let (settings, trusted_names) = settings(config)?;
        let secret = config.secret();
        let events = EventBus::default();
        if !config.is_sqlite() {
            crate::notify::listen(&config.database_url, events.clone()).await?;
        }
        let subscriptions = OpenSubscriptions::new(config.limits.max_subscriptions);
        let cursor_key = CursorKey::derive(secret.expose());
        let api = schema::Api::build(db.conn.clone(), cursor_key, events.clone(), settings).await;
        let rate_limiter = RateLimiter::new(config.limits.rate_limit, config.limits.rate_burst);
        rate_limiter.spawn_cleanup();
        let (closing, closing_rx) = watch::channel(false);
        let tokens = Tokens::from_config(config).await?;
        let gate = Gate {
            api,
            db: db.clone(),
            tokens: tokens.clone(),
            rate_limiter,
            executing: Arc::new(tokio::sync::Semaphore::new(config.limits.max_concurrent_requests.max(1))),
            request_timeout: Duration::from_millis(config.limits.request_timeout_ms),
            subscriptions: subscriptions.clone(),
        };
        let metrics = Metrics::new(db.clone(), subscriptions, tokens, trusted_names);
        let webhooks =
            crate::webhooks::Worker::connect(&config.database_url, &config.webhooks, metrics.webhooks())
                .await
                .context("starting the webhook worker")?;
        let state = AppState {
            gate,
            metrics,
            db,
            events,
            limits: config.limits,
            closing: closing_rx,
            sockets: Default::default(),
            trusted_proxies: Arc::new(config.trusted_proxies.clone()),
            readiness: Default::default(),
        };
        let listener =
            TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
        check_open_files_limit(config.limits.max_connections);
        let metrics_listener = match config.metrics_addr {
            Some(addr) => {
                let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
                tracing::info!(addr = %listener.local_addr()?, "/metrics is served on its own address");
                Some(listener)
            }
            None => None,
        };
        Ok(Application {
            listener,
            metrics_listener,
            state,
            closing,
            cors_origins: config.cors_origins.clone(),
            grace: Duration::from_secs(config.shutdown_grace_secs),
            retention_years: config.retention_years,
            webhooks,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The address `/metrics` is served on when it has one of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn database(&self) -> &Database {
        &self.state.db
    }

    /// The gate every operation passes (tests run operations through it in-process).
    pub fn gate(&self) -> Gate {
        self.state.gate.clone()
    }

    /// Serves until `shutdown` resolves; then stops accepting, closes WebSockets and connections
    /// with no request in flight, and lets in-flight requests finish for at most the grace period.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Application {
            listener,
            metrics_listener,
            state,
            closing,
            cors_origins,
            grace,
            retention_years,
            webhooks,
        } = self;
        // The retention rule, once a day while serving; it stops when the server closes.
        let retention = crate::retention::spawn_daily(
            state.db.conn.clone(),
            state.gate.api.write_queue(),
            retention_years,
            closing.subscribe(),
        );
        let _retention = AbortOnDrop(retention);
        // The webhook worker stops taking deliveries when the server starts closing.
        let delivering = webhooks.run(closing.subscribe());
        let (sockets, limits) = (state.sockets.clone(), state.limits);
        let (mut closed, main_closing, metrics_closing) =
            (closing.subscribe(), closing.subscribe(), closing.subscribe());
        let metrics = metrics_listener.map(|listener| (listener, metrics_router(state.clone())));
        let app = router(state, &cors_origins, metrics.is_none());
        let serving = async {
            let main = connections::serve(listener, app, &limits, main_closing);
            let metrics = async {
                if let Some((listener, metrics)) = metrics {
                    connections::serve(listener, metrics, &limits, metrics_closing).await;
                }
            };
            tokio::join!(main, metrics);
            sockets.all_closed().await;
        };
        let signalled = async move {
            shutdown.await;
            closing.send_replace(true);
        };
        let deadline = async {
            let _ = closed.wait_for(|closing| *closing).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            _ = async { tokio::join!(signalled, serving, delivering) } => Ok(()),
            () = deadline => {
                tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period: exiting");
                Ok(())
            }
        }
    }
}

/// A task that ends with its owner (the server's daily retention run with `run_until`).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The schema's settings from the configuration, and the operation names of the trusted
/// documents (for the metrics); a trusted documents file that cannot be read or holds a wrong
/// hash stops the start.
fn settings(config: &Config) -> anyhow::Result<(schema::Settings, HashSet<String>)> {
    let trusted = match &config.trusted_documents {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let documents = schema::Documents::parse_trusted(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            tracing::info!(documents = documents.len(), "partner tokens may run only the trusted documents");
            Some(documents)
        }
        None => None,
    };
    let trusted_names =
        trusted.as_ref().map(|t| crate::metrics::operation_names(t.values())).unwrap_or_default();
    let settings = schema::Settings {
        limits: config.limits.schema_limits(),
        documents: schema::Documents::new(trusted),
        webhook_urls: config.webhooks.url_rules(),
        introspection: match config.introspection {
            crate::config::Introspection::All => schema::Introspection::All,
            crate::config::Introspection::Staff => schema::Introspection::Staff,
            crate::config::Introspection::Off => schema::Introspection::Off,
        },
    };
    Ok((settings, trusted_names))
}

/// Warns when the connection cap does not keep the process within its open files limit
/// (`ulimit -n`, systemd's `LimitNOFILE=`, often 1024): it could then still run out of file
/// descriptors, and stop answering even `/healthz`.
fn check_open_files_limit(max_connections: usize) {
    // Room for the database pool, the listeners, the log and the files the service reads.
    const SPARE: u64 = 64;
    let Some(limit) = open_files_limit() else { return };
    if max_connections as u64 + SPARE > limit {
        tracing::warn!(
            max_connections,
            open_files_limit = limit,
            "WELZIJNSHUIS_MAX_CONNECTIONS is within {SPARE} of the open files limit: raise the limit or lower the cap"
        );
    }
}

/// The soft limit on open files, where Linux tells it.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find_map(|line| line.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

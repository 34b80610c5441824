//! Building the application: database ready, schema built, listener bound. Tests build it the
//! same way on port 0 and read the port it got.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use resolvers::CursorKey;
use resolvers::events::EventBus;
use tokio::net::TcpListener;

use crate::auth::Tokens;
use crate::config::Config;
use crate::db::Database;
use crate::demo;
use crate::http::{AppState, router};

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
    state: AppState,
}

impl Application {
    /// Connects, migrates, loads the demo if asked, and binds the listener.
    pub async fn build(config: &Config, demo_data: DemoData) -> anyhow::Result<Self> {
        let db = Database::connect(&config.database_url).await?;
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
        let secret = config.secret();
        let events = EventBus::default();
        if !config.is_sqlite() {
            crate::notify::listen(&config.database_url, events.clone()).await?;
        }
        let schema = schema::build(db.conn.clone(), CursorKey::derive(secret.expose()), events);
        let state = AppState {
            schema,
            db,
            tokens: Tokens::from_config(config)?,
            requests: Arc::new(Default::default()),
        };
        let listener =
            TcpListener::bind(config.addr).await.with_context(|| format!("binding {}", config.addr))?;
        Ok(Application { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn database(&self) -> &Database {
        &self.state.db
    }

    /// The schema the server runs (tests execute requests on it in-process).
    pub fn schema(&self) -> schema::AppSchema {
        self.state.schema.clone()
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")
    }
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

//! On PostgreSQL, every replica listens for the referral events announced on commit (see
//! `resolvers::events`) and hands them to its own subscribers.

use std::time::Duration;

use anyhow::Context;
use resolvers::events::{CHANNEL, EventBus};
use sea_orm::sqlx::postgres::PgListener;

/// Starts listening; returns once the `LISTEN` is in place, so that no event committed after the
/// server is up can be missed.
pub async fn listen(url: &str, bus: EventBus) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let mut listener = PgListener::connect(url).await.context("connecting the event listener")?;
    listener.listen(CHANNEL).await.context("listening for referral events")?;
    Ok(tokio::spawn(async move {
        loop {
            // recv reconnects by itself after a lost connection.
            match listener.recv().await {
                Ok(notification) => match notification.payload().parse() {
                    Ok(event) => bus.deliver(event),
                    Err(_) => tracing::warn!(payload = notification.payload(), "not an event id"),
                },
                Err(err) => {
                    tracing::warn!(%err, "event listener lost its connection; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}

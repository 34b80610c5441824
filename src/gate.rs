//! The one gate every operation passes, whatever door it came through: an HTTP POST or GET, a
//! query, mutation or subscription on the WebSocket, and each event a subscription delivers.
//!
//! For every operation, in this order:
//! 1. **who**: the token is checked and the user's row read again, so a user deactivated,
//!    demoted or whose token expired a moment ago is refused (`UNAUTHENTICATED`) at once; a bad
//!    token counts against the caller's address in the rate limiter;
//! 2. **how often**: the caller's rate (users by id, the public by address);
//! 3. **how much at once**: a place among the operations executing at once, and the request
//!    timeout over the wait and the run together;
//! 4. **what**: [`schema::Api::execute`] — the document's limits, the caller's role-shaped
//!    schema, fresh loaders and consent look-ups, the audit rows written when it ends.
//!
//! A door only translates: its transport's framing in, the gate's answer out.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use resolvers::subscription::{EventToDeliver, OpenSubscriptions, Slot};
use resolvers::{ApiError, Caller, Executed, Provenance};
use tokio::sync::Semaphore;

use crate::auth::Tokens;
use crate::db::Database;
use crate::rate_limit::RateLimiter;

/// What an operation came with: the `Authorization` value and the caller's address.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub authorization: Option<String>,
    pub address: IpAddr,
    /// On a socket, the role its user had when it was opened: an operation under another role
    /// (the user was demoted or promoted meanwhile) is refused, and the socket closes. HTTP
    /// requests carry none: each is its own session.
    pub role: Option<entities::Role>,
}

/// Who passed the gate, and until when their token is good.
pub struct Admitted {
    pub caller: Caller,
    /// Seconds since the epoch; `None` for the public.
    pub expires_at: Option<i64>,
}

#[derive(Clone)]
pub struct Gate {
    pub api: schema::Api,
    pub db: Database,
    pub tokens: Tokens,
    pub rate_limiter: RateLimiter,
    /// Places for operations executing at once.
    pub executing: Arc<Semaphore>,
    pub request_timeout: Duration,
    /// Subscriptions open per user.
    pub subscriptions: OpenSubscriptions,
}

impl Gate {
    /// Step 1: who is asking, from the user's row as it is now.
    pub async fn admit(&self, credentials: &Credentials) -> Result<Admitted, ApiError> {
        match self.tokens.caller(&self.db.conn, credentials.authorization.as_deref()).await {
            Ok((caller, _)) if credentials.role.is_some_and(|role| role != caller.role) => Err(
                ApiError::Unauthenticated("your role changed since this connection opened: sign in again"),
            ),
            Ok((caller, expires_at)) => Ok(Admitted { caller, expires_at }),
            Err(refused @ ApiError::Unauthenticated(_)) => {
                // Guessing tokens costs the guesser's address its rate like any request.
                self.rate_limiter.check(&Caller::public(), credentials.address)?;
                Err(refused)
            }
            Err(other) => Err(other),
        }
    }

    /// Runs one query or mutation through every step.
    pub async fn run(
        &self,
        credentials: &Credentials,
        request: async_graphql::Request,
        provenance: &Provenance,
    ) -> Result<Executed, ApiError> {
        let Admitted { caller, .. } = self.admit(credentials).await?;
        self.rate_limiter.check(&caller, credentials.address)?;
        let executed = self.execute(caller, request, provenance, None).await?;
        executed.ok_or_else(|| ApiError::internal("a query answered nothing"))
    }

    /// Steps 1 to 3 for a door that runs no GraphQL (`GET /me/export`): who is asking, how
    /// often, and `work` for that caller in a place among the operations executing at once,
    /// within the request timeout.
    pub async fn run_plain<T, F>(
        &self,
        credentials: &Credentials,
        work: impl FnOnce(Caller) -> F,
    ) -> Result<T, ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        let Admitted { caller, .. } = self.admit(credentials).await?;
        self.rate_limiter.check(&caller, credentials.address)?;
        self.run_part(work(caller)).await
    }

    /// Step 3 for a piece of the work of a request admitted and counted before (each chunk of a
    /// streamed list after the first, `GET /hsds/…?format=ndjson`): a place among the
    /// operations executing at once and the request timeout, for this piece alone. A long
    /// answer is then many bounded pieces, none holding a place while the client reads.
    pub async fn run_part<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        let run = async {
            let _place = self.executing.acquire().await;
            work.await
        };
        tokio::time::timeout(self.request_timeout, run)
            .await
            .map_err(|_| ApiError::TimedOut { limit_ms: self.request_timeout.as_millis() as u64 })?
    }

    /// Runs one event of a subscription as a fresh operation of its subscriber: `None` when the
    /// subscriber may not see it. Events are the server's doing, so they do not count against the
    /// subscriber's rate; they do take a place and keep to the timeout.
    pub async fn deliver(
        &self,
        credentials: &Credentials,
        request: async_graphql::Request,
        provenance: &Provenance,
        event: EventToDeliver,
    ) -> Result<Option<Executed>, ApiError> {
        let Admitted { caller, .. } = self.admit(credentials).await?;
        self.execute(caller, request, provenance, Some(event)).await
    }

    /// A place among `user`'s open subscriptions, taken in the order the subscriptions were
    /// asked for (before any of them is checked), given back when the [`Slot`] is dropped.
    pub fn reserve_subscription(&self, user: Option<uuid::Uuid>) -> Result<Slot, ApiError> {
        self.subscriptions.take(user)
    }

    /// Opens a subscription: the caller admitted and counted as for any operation, and the
    /// document checked by a dry run (an event that does not exist). A refusal of the document
    /// comes back as its response's errors.
    pub async fn subscribe(
        &self,
        credentials: &Credentials,
        request: async_graphql::Request,
        provenance: &Provenance,
    ) -> Result<Option<Executed>, ApiError> {
        let Admitted { caller, .. } = self.admit(credentials).await?;
        self.rate_limiter.check(&caller, credentials.address)?;
        let dry_run = EventToDeliver(uuid::Uuid::nil());
        self.execute(caller, request, provenance, Some(dry_run)).await
    }

    /// Steps 3 and 4.
    async fn execute(
        &self,
        caller: Caller,
        request: async_graphql::Request,
        provenance: &Provenance,
        event: Option<EventToDeliver>,
    ) -> Result<Option<Executed>, ApiError> {
        let execution = async {
            let _place = self.executing.acquire().await;
            self.api.execute(request, &self.db.conn, caller, provenance, event).await
        };
        tokio::time::timeout(self.request_timeout, execution).await.map_err(|_| {
            tracing::warn!(request_id = %provenance.request_id, "an operation ran into the request timeout");
            ApiError::TimedOut { limit_ms: self.request_timeout.as_millis() as u64 }
        })
    }
}

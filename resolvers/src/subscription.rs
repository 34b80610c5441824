//! The root `Subscription`: referral events as they happen, for the referrals the caller may
//! see.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, Subscription as SubscriptionObject};
use entities::referral_event;
use futures_util::Stream;
use sea_orm::{EntityTrait, QueryFilter};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::audit::AuditTrail;
use crate::caller::Caller;
use crate::error::ApiError;
use crate::events::EventBus;
use crate::policy::{self, REFERRAL_READERS, RoleIn};
use crate::types::referral::ReferralEvent;

#[derive(Default)]
pub struct Subscription;

#[SubscriptionObject]
impl Subscription {
    /// Every new event (creation or status change) of the referrals you may see. Each event is
    /// read with your rights at the moment it happens: a consent revoked meanwhile applies.
    #[graphql(guard = "RoleIn(REFERRAL_READERS)", visible = "crate::policy::visible::client_data")]
    async fn referral_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = ReferralEvent>, ApiError> {
        let caller: Arc<Caller> =
            ctx.data::<Arc<Caller>>().map_err(|_| ApiError::internal("subscription without caller"))?.clone();
        let open =
            ctx.data::<OpenSubscriptions>().map_err(|_| ApiError::internal("no subscription count"))?;
        // Held by the stream: the slot is given back when the subscription ends, however it ends.
        let slot = open.take(caller.user_id())?;
        let db = crate::db_of(ctx)?.clone();
        let bus = ctx.data::<EventBus>().map_err(|_| ApiError::internal("schema without event bus"))?;
        let loader = crate::loaders::request_loader(ctx)?.loader().clone();
        let trail = ctx.data::<Arc<AuditTrail>>().map_err(|_| ApiError::internal("no audit trail"))?.clone();
        let receiver = bus.subscribe();
        Ok(futures_util::stream::unfold((receiver, slot), move |(mut receiver, slot)| {
            let (caller, db, loader, trail) = (caller.clone(), db.clone(), loader.clone(), trail.clone());
            async move {
                loop {
                    // What the previous event's fields read is logged before the next one.
                    if let Err(err) = trail.flush(&db, &caller, "subscription").await {
                        tracing::error!(?err, "could not write the audit trail of a subscription");
                        return None;
                    }
                    let id = match receiver.recv().await {
                        Ok(id) => id,
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(missed, "a subscriber fell behind and skipped events");
                            continue;
                        }
                        Err(RecvError::Closed) => return None,
                    };
                    let visible = referral_event::Entity::find_by_id(id)
                        .filter(policy::referral_events(&caller))
                        .one(&db)
                        .await;
                    match visible {
                        Ok(Some(event)) => {
                            // Fresh rights for every event: forget what earlier events loaded.
                            loader.forget();
                            return Some((ReferralEvent(event), (receiver, slot)));
                        }
                        Ok(None) => continue,
                        Err(err) => {
                            tracing::error!(%err, "could not read a referral event");
                            continue;
                        }
                    }
                }
            }
        }))
    }
}

/// The subscriptions open on this replica, per user, capped. Shared by every connection.
#[derive(Clone, Default)]
pub struct OpenSubscriptions {
    cap: usize,
    per_user: Arc<Mutex<HashMap<Option<Uuid>, usize>>>,
    total: Arc<AtomicUsize>,
}

impl OpenSubscriptions {
    pub fn new(cap: usize) -> Self {
        OpenSubscriptions { cap, ..Default::default() }
    }

    /// Subscriptions open now, all users together (for `/metrics`).
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn take(&self, user: Option<Uuid>) -> Result<Slot, ApiError> {
        let mut per_user = self.per_user.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = per_user.entry(user).or_default();
        if *count >= self.cap {
            return Err(ApiError::TooManySubscriptions(self.cap));
        }
        *count += 1;
        self.total.fetch_add(1, Ordering::Relaxed);
        Ok(Slot { owner: self.clone(), user })
    }
}

/// One open subscription; dropping it gives the place back.
struct Slot {
    owner: OpenSubscriptions,
    user: Option<Uuid>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_user = self.owner.per_user.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = per_user.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                per_user.remove(&self.user);
            }
        }
        self.owner.total.fetch_sub(1, Ordering::Relaxed);
    }
}

//! The root `Subscription`: referral events as they happen, for the referrals the caller may
//! see.
//!
//! A subscription is not one long operation here. The server's gate listens to the event bus
//! for the subscriber and, for every event, runs the subscription document as a fresh operation
//! of its subscriber ([`EventToDeliver`] in that operation's data): the user's row read again,
//! new loaders and consent look-ups, its own audit rows. The resolver below therefore yields at
//! most one event: the one it was asked to deliver, if the caller may see it now.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::{Context, Subscription as SubscriptionObject};
use entities::{referral_event, referral_notice};
use futures_util::{Stream, StreamExt};
use sea_orm::{EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::ApiError;
use crate::guards::RoleIn;
use crate::policy::{self, REFERRAL_READERS};
use crate::types::referral::ReferralEvent;

#[derive(Default)]
pub struct Subscription;

/// The event one operation of a subscription delivers.
#[derive(Clone, Copy, Debug)]
pub struct EventToDeliver(pub Uuid);

#[SubscriptionObject(visible = "crate::policy::visible::client_data")]
impl Subscription {
    /// Every new event (creation or status change) of the referrals you may see, and every
    /// notice about them (`kind` APPOINTMENT_CANCELLED: an appointment cancelled by a closure of
    /// office hours). Each is read with your rights at the moment it happens: a consent revoked
    /// meanwhile applies.
    #[graphql(guard = "RoleIn(REFERRAL_READERS)", visible = "crate::policy::visible::client_data")]
    async fn referral_events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = ReferralEvent>, ApiError> {
        let caller = crate::caller_of(ctx)?.clone();
        let EventToDeliver(id) = *ctx
            .data::<EventToDeliver>()
            .map_err(|_| ApiError::internal("a subscription event without its event"))?;
        let db = crate::db_of(ctx)?.clone();
        let visible = async move {
            match visible_event(&db, &caller, id).await {
                Ok(event) => event,
                Err(err) => {
                    tracing::error!(%err, "could not read a referral event");
                    None
                }
            }
        };
        Ok(futures_util::stream::once(visible).filter_map(std::future::ready))
    }
}

/// The announced event `id` if the caller may see it now: a status change, or else a notice
/// (an appointment cancelled by a closure), each through its row scope.
async fn visible_event(
    db: &sea_orm::DatabaseConnection,
    caller: &crate::caller::Caller,
    id: Uuid,
) -> Result<Option<ReferralEvent>, sea_orm::DbErr> {
    let change =
        referral_event::Entity::find_by_id(id).filter(policy::referral_events(caller)).one(db).await?;
    if let Some(change) = change {
        return Ok(Some(ReferralEvent::Change(change)));
    }
    let notice =
        referral_notice::Entity::find_by_id(id).filter(policy::referral_notices(caller)).one(db).await?;
    Ok(notice.map(ReferralEvent::Notice))
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

    /// A place for one more subscription of `user`, given back when the [`Slot`] is dropped.
    pub fn take(&self, user: Option<Uuid>) -> Result<Slot, ApiError> {
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
pub struct Slot {
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

//! The root `Subscription`: referral events as they happen, for the referrals the caller may
//! see.

use std::sync::Arc;

use async_graphql::{Context, Subscription as SubscriptionObject};
use entities::referral_event;
use futures_util::Stream;
use sea_orm::{EntityTrait, QueryFilter};
use tokio::sync::broadcast::error::RecvError;

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
        let db = crate::db_of(ctx)?.clone();
        let bus = ctx.data::<EventBus>().map_err(|_| ApiError::internal("schema without event bus"))?;
        let loader = crate::loaders::request_loader(ctx)?.loader().clone();
        let trail = ctx.data::<Arc<AuditTrail>>().map_err(|_| ApiError::internal("no audit trail"))?.clone();
        let receiver = bus.subscribe();
        Ok(futures_util::stream::unfold(receiver, move |mut receiver| {
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
                            return Some((ReferralEvent(event), receiver));
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

//! Managing webhooks: a partner its own organisation's, ADMIN every organisation's. The secret
//! is answered once, when made or rotated.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{Duration, SubsecRound, Utc};
use entities::{DeliveryStatus, organisation, webhook, webhook_delivery};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, ModelTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::audit::record_change;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, WEBHOOK_MANAGERS};
use crate::types::parse_id;
use crate::types::webhook::{Webhook, WebhookDelivery, WebhookEventType, WebhookWithSecret};
use crate::webhooks::{UrlRules, WEBHOOKS_PER_ORGANISATION, events_text, new_secret};

/// How long the secret before a rotation keeps signing beside the new one.
pub const ROTATION_GRACE: Duration = Duration::hours(24);

#[derive(Default)]
pub struct WebhookMutation;

/// An endpoint: where, and which events.
#[derive(InputObject)]
pub struct WebhookInput {
    /// The organisation whose events it receives: a partner's own.
    pub organisation_id: ID,
    /// `https://…` (`http://127.0.0.1…` only when the server allows loopback). Not a private,
    /// loopback or link-local address.
    pub url: String,
    /// At least one.
    pub events: Vec<WebhookEventType>,
}

struct Endpoint {
    organisation: Uuid,
    url: String,
    events: String,
}

fn parse_input(ctx: &Context<'_>, input: &WebhookInput) -> ApiResult<Endpoint> {
    let organisation = parse_id(&input.organisation_id, "input.organisationId")?;
    let rules = ctx.data_opt::<UrlRules>().cloned().unwrap_or_default();
    let url = rules.check(&input.url).map_err(|why| ApiError::bad_input("input.url", why))?;
    if input.events.is_empty() {
        return Err(ApiError::bad_input("input.events", "name at least one event type"));
    }
    let events: Vec<entities::WebhookEventType> = input.events.iter().map(|&e| e.into()).collect();
    Ok(Endpoint { organisation, url: url.to_string(), events: events_text(&events) })
}

/// The webhook `id`, if the caller manages it.
async fn managed(
    txn: &impl sea_orm::ConnectionTrait,
    ctx: &Context<'_>,
    id: &ID,
) -> ApiResult<webhook::Model> {
    let caller = crate::caller_of(ctx)?;
    webhook::Entity::find_by_id(parse_id(id, "id")?)
        .filter(policy::webhooks(caller))
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("webhook"))
}

#[Object]
impl WebhookMutation {
    /// Registers an endpoint for an organisation's events. The answer holds the signing secret:
    /// it is shown this once. An organisation has at most 10 endpoints (CONFLICT beyond).
    #[graphql(guard = "RoleIn(WEBHOOK_MANAGERS)", visible = "crate::policy::visible::webhooks")]
    async fn create_webhook(&self, ctx: &Context<'_>, input: WebhookInput) -> ApiResult<WebhookWithSecret> {
        let caller = crate::caller_of(ctx)?;
        let endpoint = parse_input(ctx, &input)?;
        if !policy::may_manage_webhooks_of(caller, endpoint.organisation) {
            return Err(ApiError::Forbidden);
        }
        let txn = crate::write_transaction(ctx).await?;
        // Locked, so that two registrations at once cannot both pass the count below.
        organisation::Entity::find_by_id(endpoint.organisation)
            .lock_exclusive()
            .one(&txn)
            .await?
            .filter(|o| o.active)
            .ok_or_else(|| ApiError::bad_input("input.organisationId", "no such active organisation"))?;
        let registered = webhook::Entity::find()
            .filter(webhook::Column::OrganisationId.eq(endpoint.organisation))
            .count(&txn)
            .await?;
        if registered >= WEBHOOKS_PER_ORGANISATION {
            return Err(ApiError::Conflict(format!(
                "the organisation has {registered} webhooks, the most allowed: delete one first"
            )));
        }
        let secret = new_secret()?;
        let now = Utc::now().trunc_subsecs(6);
        let row = webhook::ActiveModel {
            id: Set(Uuid::now_v7()),
            organisation_id: Set(endpoint.organisation),
            url: Set(endpoint.url),
            events: Set(endpoint.events),
            secret: Set(secret.clone()),
            previous_secret: Set(None),
            previous_secret_expires_at: Set(None),
            active: Set(true),
            consecutive_failures: Set(0),
            disabled_reason: Set(None),
            created_by: Set(caller.user_id()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        record_change(ctx, &txn, "CREATE", "Webhook", row.id, None).await?;
        txn.commit().await?;
        Ok(WebhookWithSecret { webhook: row, secret })
    }

    /// Changes where an endpoint is and which events it takes; enables it again when it was
    /// disabled (its pending deliveries then go out). It stays with its organisation.
    #[graphql(guard = "RoleIn(WEBHOOK_MANAGERS)", visible = "crate::policy::visible::webhooks")]
    async fn update_webhook(&self, ctx: &Context<'_>, id: ID, input: WebhookInput) -> ApiResult<Webhook> {
        let endpoint = parse_input(ctx, &input)?;
        let txn = crate::write_transaction(ctx).await?;
        let found = managed(&txn, ctx, &id).await?;
        if found.organisation_id != endpoint.organisation {
            return Err(ApiError::bad_input("input.organisationId", "a webhook stays with its organisation"));
        }
        let organisation = organisation::Entity::find_by_id(found.organisation_id).one(&txn).await?;
        if !organisation.is_some_and(|o| o.active) {
            return Err(ApiError::Conflict("the organisation is deactivated: its webhooks stay off".into()));
        }
        let mut row = found.into_active_model();
        row.url = Set(endpoint.url);
        row.events = Set(endpoint.events);
        row.active = Set(true);
        row.consecutive_failures = Set(0);
        row.disabled_reason = Set(None);
        row.updated_at = Set(Utc::now().trunc_subsecs(6));
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "UPDATE", "Webhook", row.id, None).await?;
        txn.commit().await?;
        Ok(Webhook(row))
    }

    /// Removes an endpoint, with its deliveries and their history.
    #[graphql(guard = "RoleIn(WEBHOOK_MANAGERS)", visible = "crate::policy::visible::webhooks")]
    async fn delete_webhook(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Webhook> {
        let txn = crate::write_transaction(ctx).await?;
        let found = managed(&txn, ctx, &id).await?;
        found.clone().delete(&txn).await?;
        record_change(ctx, &txn, "DELETE", "Webhook", found.id, None).await?;
        txn.commit().await?;
        Ok(Webhook(found))
    }

    /// A new signing secret, shown this once. For 24 hours the old one signs too (both
    /// signatures are sent), so the receiver can switch without losing an event. Rotating again
    /// within those hours replaces the new secret; the old one still signs until its time ends.
    #[graphql(guard = "RoleIn(WEBHOOK_MANAGERS)", visible = "crate::policy::visible::webhooks")]
    async fn rotate_webhook_secret(&self, ctx: &Context<'_>, id: ID) -> ApiResult<WebhookWithSecret> {
        let txn = crate::write_transaction(ctx).await?;
        let found = managed(&txn, ctx, &id).await?;
        let secret = new_secret()?;
        let now = Utc::now().trunc_subsecs(6);
        let mut row = found.clone().into_active_model();
        // A rotation during the grace of an earlier one replaces the new secret and keeps the
        // old one until its own expiry: a rotation repeated because its answer was lost does
        // not cut off the receiver still on the secret it had.
        let in_grace =
            found.previous_secret.is_some() && found.previous_secret_expires_at.is_some_and(|t| t > now);
        if !in_grace {
            row.previous_secret = Set(Some(found.secret));
            row.previous_secret_expires_at = Set(Some(now + ROTATION_GRACE));
        }
        row.secret = Set(secret.clone());
        row.updated_at = Set(now);
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "ROTATE_SECRET", "Webhook", row.id, None).await?;
        txn.commit().await?;
        Ok(WebhookWithSecret { webhook: row, secret })
    }

    /// Sends a delivery again, with the same `webhook-id`, as soon as the worker gets to it:
    /// its attempts count from zero and it follows the retry schedule anew.
    #[graphql(guard = "RoleIn(WEBHOOK_MANAGERS)", visible = "crate::policy::visible::webhooks")]
    async fn redeliver_webhook(&self, ctx: &Context<'_>, delivery_id: ID) -> ApiResult<WebhookDelivery> {
        let delivery_id = parse_id(&delivery_id, "deliveryId")?;
        let txn = crate::write_transaction(ctx).await?;
        let delivery = webhook_delivery::Entity::find_by_id(delivery_id)
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound("webhook delivery"))?;
        let hook = managed(&txn, ctx, &ID(delivery.webhook_id.to_string()))
            .await
            .map_err(|_| ApiError::NotFound("webhook delivery"))?;
        if !hook.active {
            return Err(ApiError::Conflict(
                "the webhook is disabled: enable it with updateWebhook first".into(),
            ));
        }
        if delivery.status == DeliveryStatus::Pending {
            return Err(ApiError::Conflict("this delivery is still being delivered".into()));
        }
        let mut row = delivery.into_active_model();
        row.status = Set(DeliveryStatus::Pending);
        row.attempts = Set(0);
        row.next_attempt_at = Set(Utc::now().trunc_subsecs(6));
        row.claimed_until = Set(None);
        row.delivered_at = Set(None);
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "REDELIVER", "WebhookDelivery", row.id, None).await?;
        txn.commit().await?;
        Ok(WebhookDelivery(row))
    }
}

//! Webhooks as the API shows them: endpoints, deliveries and their attempts. Never the secret,
//! except once in `WebhookWithSecret`.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::{webhook, webhook_attempt, webhook_delivery};

use super::id;
use super::organisation::Organisation;
use crate::connection::Keyset;
use crate::cursor::KeyPart;
use crate::error::{ApiError, ApiResult};
use crate::loaders::{AttemptsOf, OrganisationId, WebhookId, request_loader};

/// What a webhook delivery tells about.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::WebhookEventType")]
pub enum WebhookEventType {
    /// A referral was made (body `type`: `referral.created`).
    ReferralCreated,
    /// A referral's status changed (`referral.status_changed`).
    ReferralStatusChanged,
    /// An appointment was booked in the organisation's office hours (`appointment.booked`).
    AppointmentBooked,
    /// An appointment in the organisation's office hours was cancelled, by hand or by a closure
    /// (`appointment.cancelled`).
    AppointmentCancelled,
}

/// An organisation's endpoint: every event of the chosen types that the organisation may see
/// is POSTed to it, signed per Standard Webhooks.
pub struct Webhook(pub webhook::Model);

#[Object]
impl Webhook {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Organisation> {
        request_loader(ctx)?
            .load_one(OrganisationId(self.0.organisation_id))
            .await?
            .map(Organisation)
            .ok_or_else(|| ApiError::internal("webhook without organisation"))
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn events(&self) -> Vec<WebhookEventType> {
        self.0.event_types().into_iter().map(Into::into).collect()
    }
    /// False once disabled: after a 410 Gone, or after too many deliveries failed one after the
    /// other (see `disabledReason`). `updateWebhook` enables it again.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Why it was disabled, while it is.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Deliveries that failed for good one after the other since the last one delivered.
    async fn consecutive_failures(&self) -> i32 {
        self.0.consecutive_failures
    }
    /// Until when the secret before the last rotation still signs too.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_expires_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A webhook with its signing secret, shown only when it is made or rotated: keep it then.
pub struct WebhookWithSecret {
    pub webhook: webhook::Model,
    pub secret: String,
}

#[Object]
impl WebhookWithSecret {
    async fn webhook(&self) -> Webhook {
        Webhook(self.webhook.clone())
    }
    /// `whsec_` and the base64 of the key: verify `webhook-signature` with it.
    async fn secret(&self) -> &str {
        &self.secret
    }
}

/// One event for one webhook, with every attempt to deliver it. Its id is the `webhook-id`
/// header, the same on every attempt: deduplicate by it.
pub struct WebhookDelivery(pub webhook_delivery::Model);

/// The most attempts `WebhookDelivery.history` lists (the latest).
pub const ATTEMPTS_SHOWN: usize = crate::connection::caps::ATTEMPTS_PER_DELIVERY;

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn webhook(&self, ctx: &Context<'_>) -> ApiResult<Webhook> {
        request_loader(ctx)?
            .load_one(WebhookId(self.0.webhook_id))
            .await?
            .map(Webhook)
            .ok_or(ApiError::NotFound("webhook"))
    }
    async fn event_type(&self) -> WebhookEventType {
        self.0.event_type.into()
    }
    /// Attempts made (since the last `redeliverWebhook`).
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// PENDING, DELIVERED or FAILED.
    async fn status(&self) -> &str {
        self.0.status.as_str()
    }
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When the next attempt is due, while PENDING.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == entities::DeliveryStatus::Pending).then_some(self.0.next_attempt_at)
    }
    /// The body sent: ids, statuses and times only.
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    /// Every attempt, oldest first (the latest 20).
    #[graphql(complexity = "crate::connection::capped(ATTEMPTS_SHOWN, child_complexity)")]
    async fn history(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookAttempt>> {
        let rows = request_loader(ctx)?.load_one(AttemptsOf(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(WebhookAttempt).collect())
    }
}

/// One try at delivering: when, the receiver's status code, how long it took, what went wrong.
pub struct WebhookAttempt(pub webhook_attempt::Model);

#[Object]
impl WebhookAttempt {
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

impl Keyset for webhook_delivery::Entity {
    const KIND: &'static str = "webhook_deliveries";
    const DESCENDING: bool = true;
    fn columns() -> Vec<webhook_delivery::Column> {
        vec![webhook_delivery::Column::CreatedAt, webhook_delivery::Column::Id]
    }
    fn key(model: &webhook_delivery::Model) -> Vec<KeyPart> {
        vec![KeyPart::Time(model.created_at), KeyPart::Id(model.id)]
    }
}

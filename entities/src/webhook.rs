//! An organisation's endpoint for webhooks: where its events are POSTed, signed.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub url: String,
    /// The event types it receives, comma-separated (`REFERRAL_CREATED,…`).
    pub events: String,
    /// The signing key (`whsec_…`). Kept as given, not hashed: an HMAC signature is computed
    /// with the key itself, so the worker must be able to read it back (as every Standard
    /// Webhooks sender does). Never shown after `createWebhook`/`rotateWebhookSecret`, never
    /// logged; whoever reads the database could sign as us, like whoever holds the JWT key.
    pub secret: String,
    /// The secret before the last rotation, still signing (beside the new one) until
    /// `previous_secret_expires_at`: receivers switch keys without losing an event.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<DateTimeUtc>,
    pub active: bool,
    /// Deliveries that failed for good one after the other; reset by a delivered one.
    pub consecutive_failures: i32,
    /// Why the endpoint was disabled (410 Gone, too many failures), while it is.
    pub disabled_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl Model {
    /// The event types it receives.
    pub fn event_types(&self) -> Vec<WebhookEventType> {
        self.events.split(',').filter_map(|e| WebhookEventType::parse(e.trim())).collect()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

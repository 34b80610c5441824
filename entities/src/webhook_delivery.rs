//! One event for one webhook: the outbox row, written in the transaction of the change it tells
//! about. Its id is the `webhook-id` header, the same on every attempt.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: WebhookEventType,
    /// The body sent, as JSON text: ids, statuses and times only.
    pub payload: String,
    /// The key its deliveries to one webhook go out in order by: the referral it is about, or,
    /// for an appointment that follows no referral, the appointment itself (so that its
    /// cancellation never overtakes its booking).
    pub referral_id: Option<Uuid>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Until when a worker holds it; past that, another may take it.
    pub claimed_until: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    pub delivered_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

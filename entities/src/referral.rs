//! A client referred by one organisation to another, followed until the outcome.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub help_request_id: Option<Uuid>,
    pub sender_id: Uuid,
    pub recipient_id: Uuid,
    pub service_id: Option<Uuid>,
    pub life_domain: LifeDomain,
    pub reason: String,
    pub status: ReferralStatus,
    /// Optimistic-concurrency version: every status change bumps it.
    pub version: i32,
    pub outcome_note: Option<String>,
    pub rejection_reason: Option<RejectionReason>,
    pub created_by: Option<Uuid>,
    /// Makes a retried creation return the first result.
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

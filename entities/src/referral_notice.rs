//! Something that happened to a referral without changing its status (an appointment cancelled
//! by a closure of office hours), told to whoever follows the referral. Delivered by the
//! `referralEvents` subscription like a status change, but not part of the status history.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub referral_id: Uuid,
    pub kind: ReferralNoticeKind,
    /// The referral's status when it happened (unchanged by it).
    pub referral_status: ReferralStatus,
    pub appointment_id: Option<Uuid>,
    pub closure_id: Option<Uuid>,
    pub note: String,
    pub actor_user_id: Option<Uuid>,
    pub actor_organisation_id: Option<Uuid>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! How many referrals an organisation received (`in`) or sent (`out`) in one status: kept by the
//! database's triggers in the transaction that changes a referral (migration
//! `m20261201_000001_referral_counts`), read for `totalCount`.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    /// `in` for the recipient's count, `out` for the sender's.
    #[sea_orm(primary_key, auto_increment = false)]
    pub direction: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub status: ReferralStatus,
    /// One of the slots a count is spread over (on PostgreSQL, so that concurrent referrals do
    /// not queue for one row); the count is the sum over them.
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i16,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

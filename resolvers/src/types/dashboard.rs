use async_graphql::{Context, SimpleObject};
use chrono::{DateTime, Utc};

use super::organisation::Organisation;
use super::{LifeDomain, ReferralStatus};

/// The figures that show where referrals stall and which needs go unanswered, over one window.
#[derive(SimpleObject)]
pub struct Dashboard {
    /// Where the window the figures cover starts (inclusive); null when it is open. For an
    /// analyst always the first moment of a calendar quarter (UTC).
    pub from: Option<DateTime<Utc>>,
    /// Where the window ends (exclusive); null when it is open. For an analyst always the first
    /// moment of the next quarter.
    pub to: Option<DateTime<Utc>>,
    pub referrals_by_status: Vec<StatusCount>,
    pub referrals_by_life_domain: Vec<LifeDomainCount>,
    pub help_requests_by_life_domain: Vec<LifeDomainCount>,
    /// Referrals created per calendar month (UTC), oldest first.
    pub referrals_per_month: Vec<MonthCount>,
    /// Per network partner (for a partner: its own organisation only).
    pub partners: Vec<PartnerFigures>,
    /// Why referrals were turned down, per life domain: the unmet needs to signal.
    pub rejections: Vec<RejectionCount>,
    pub total_referrals: Option<i64>,
}

/// How many referrals are in a status; `count` is null when withheld as too small.
#[derive(SimpleObject)]
pub struct StatusCount {
    pub status: ReferralStatus,
    pub count: Option<i64>,
    pub suppressed: bool,
}

#[derive(SimpleObject)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    pub count: Option<i64>,
    pub suppressed: bool,
}

#[derive(SimpleObject)]
pub struct LifeDomainCount {
    pub life_domain: LifeDomain,
    pub count: Option<i64>,
    pub suppressed: bool,
}

/// Referrals rejected in a life domain for a reason.
#[derive(SimpleObject)]
pub struct RejectionCount {
    pub life_domain: LifeDomain,
    pub reason: super::RejectionReason,
    pub count: Option<i64>,
    pub suppressed: bool,
}

/// One partner's answer to the referrals it received.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct PartnerFigures {
    #[graphql(skip)]
    pub organisation_id: uuid::Uuid,
    pub received: Option<i64>,
    /// Accepted at some point (ACCEPTED, IN_PROGRESS or COMPLETED now).
    pub accepted: Option<i64>,
    pub rejected: Option<i64>,
    pub completed: Option<i64>,
    /// Open (REQUESTED, RECEIVED, ACCEPTED, IN_PROGRESS) with no change for 14 days.
    pub stalled: Option<i64>,
    /// The median time from request to acceptance.
    pub median_hours_to_accept: Option<f64>,
    /// Whether any of these figures is withheld.
    pub suppressed: bool,
}

#[async_graphql::ComplexObject]
impl PartnerFigures {
    async fn organisation(&self, ctx: &Context<'_>) -> crate::error::ApiResult<Organisation> {
        crate::loaders::request_loader(ctx)?
            .load_one(crate::loaders::OrganisationId(self.organisation_id))
            .await?
            .map(Organisation)
            .ok_or_else(|| crate::error::ApiError::internal("figures of a missing organisation"))
    }
}

//! The root `Query`, merged from one object per domain.

mod administration;
mod audit;
mod clients;
mod dashboard;
mod me;
mod office_hours;
mod referrals;
mod social_map;
mod webhooks;

use async_graphql::MergedObject;

pub use clients::ClientFilter;
pub use referrals::{Direction, ReferralFilter};
pub use social_map::{MAX_RADIUS_KM, Near, ServiceFilter, search_condition, search_words};

#[derive(MergedObject, Default)]
pub struct Query(
    me::MeQuery,
    social_map::SocialMapQuery,
    clients::ClientQuery,
    referrals::ReferralQuery,
    audit::AuditQuery,
    office_hours::OfficeHoursQuery,
    dashboard::DashboardQuery,
    administration::AdministrationQuery,
    webhooks::WebhookQuery,
);

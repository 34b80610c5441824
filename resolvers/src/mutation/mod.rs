//! The root `Mutation`, merged from one object per domain. Every mutation runs in one
//! transaction, together with its audit entry: it happens entirely or not at all.

mod administration;
mod appointments;
mod case_notes;
mod client_fields;
mod clients;
mod consents;
mod erasure;
mod help_requests;
mod intake;
mod office_hours;
mod referrals;
mod services;
mod webhooks;

use async_graphql::MergedObject;

use crate::error::{ApiError, ApiResult};

pub use administration::{AddUserInput, OrganisationInput, add_user, create_organisation};
pub use appointments::BookAppointmentInput;
pub use case_notes::AddCaseNoteInput;
pub use clients::UpdateClientInput;
pub use consents::RecordConsentInput;
pub use help_requests::UpdateHelpRequestInput;
pub use intake::{AddressInput, CHANNELS, OpenHelpRequestInput, RegisterClientInput};
pub use office_hours::OfficeHoursInput;
pub use referrals::{CreateReferralInput, IdempotencyKey};
pub use services::{ServiceInput, replace_lists as replace_service_lists};
pub use webhooks::WebhookInput;

#[derive(MergedObject, Default)]
#[graphql(visible = "crate::policy::visible::any_mutation")]
pub struct Mutation(
    consents::ConsentMutation,
    intake::IntakeMutation,
    referrals::ReferralMutation,
    appointments::AppointmentMutation,
    services::ServiceMutation,
    administration::AdministrationMutation,
    case_notes::CaseNoteMutation,
    help_requests::HelpRequestMutation,
    clients::ClientMutation,
    office_hours::OfficeHoursMutation,
    erasure::ErasureMutation,
    webhooks::WebhookMutation,
);

/// A required text field: trimmed, not empty, at most `max` characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_input(field, "must not be empty"));
    }
    match crate::social_map_rules::text_problem(value, max) {
        Some(problem) => Err(ApiError::bad_input(field, problem)),
        None => Ok(value.to_owned()),
    }
}

/// A unique-constraint violation as CONFLICT; any other database error as INTERNAL.
pub(crate) fn conflict_on_unique(err: sea_orm::DbErr, message: &str) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::Conflict(message.to_owned()),
        _ => ApiError::from(err),
    }
}

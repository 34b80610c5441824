//! The GraphQL types, one module per domain object, and the enums they share.

pub mod appointment;
pub mod audit;
pub mod case_note;
pub mod client;
pub mod consent;
pub mod dashboard;
pub mod help_request;
pub mod me;
pub mod office_hours;
pub mod organisation;
pub mod referral;
pub mod service;
pub mod webhook;

use async_graphql::{Enum, ID};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// Formats a UUID as a GraphQL ID.
pub fn id(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

/// Parses an ID argument; a malformed one is `BAD_USER_INPUT` naming the argument.
pub fn parse_id(id: &ID, field: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| ApiError::bad_input(field, "not a valid ID"))
}

/// What a caller is allowed to do.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::Role")]
pub enum Role {
    Public,
    Partner,
    Intake,
    CaseWorker,
    Analyst,
    Admin,
    /// A citizen signed in as themself: sees only their own file.
    Client,
}

/// The kind of organisation in the network.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::OrganisationKind")]
pub enum OrganisationKind {
    WelfareHouse,
    Caw,
    PensionService,
    Dyzo,
    Housing,
    Health,
    Other,
}

/// The life domains a welfare question can touch.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::LifeDomain")]
pub enum LifeDomain {
    Housing,
    Finances,
    FamilyAndFriends,
    Children,
    Work,
    Mobility,
    PhysicalHealth,
    MentalHealth,
    AdministrationAndRights,
    Participation,
}

/// A category of client data a consent opens to its recipient.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::ConsentScope")]
pub enum ConsentScope {
    /// Name and date of birth.
    Identity,
    /// Address, phone, e-mail and preferred language.
    Contact,
    /// The national register number.
    NationalNumber,
    /// The help request's summary and life domains.
    Situation,
}

/// Where a referral stands in the closed loop.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::ReferralStatus")]
pub enum ReferralStatus {
    Requested,
    Received,
    Accepted,
    Rejected,
    InProgress,
    Completed,
    Cancelled,
}

/// Why a recipient turned a referral down.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::RejectionReason")]
pub enum RejectionReason {
    NoCapacity,
    NotEligible,
    ClientUnreachable,
    ClientDeclined,
    Other,
}

/// Whether a service is running (HSDS service status).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entities::ServiceStatus")]
pub enum ServiceStatus {
    Active,
    Inactive,
    Defunct,
    TemporarilyClosed,
}

/// A postal address.
#[derive(async_graphql::SimpleObject, Clone, Debug)]
pub struct Address {
    pub street: Option<String>,
    pub postcode: String,
    pub municipality: String,
}

impl Address {
    /// An address when both postcode and municipality are known.
    pub fn from_parts(
        street: Option<String>,
        postcode: Option<String>,
        municipality: Option<String>,
    ) -> Option<Self> {
        Some(Address { street, postcode: postcode?, municipality: municipality? })
    }
}

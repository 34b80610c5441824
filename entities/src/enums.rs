//! The closed vocabularies of the domain. Stored as their SCREAMING_CASE names, which are also
//! the GraphQL enum values, so a row reads the same in SQL, in logs and in the API.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(#[sea_orm(string_value = $text)] #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// The stored (and GraphQL) name of this value.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses a stored name; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }

            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a caller is allowed to do; read from the user's row on every request (CLIENT: a
    /// citizen signed in as themself, never a user row).
    Role {
        Public = "PUBLIC",
        Partner = "PARTNER",
        Intake = "INTAKE",
        CaseWorker = "CASE_WORKER",
        Analyst = "ANALYST",
        Admin = "ADMIN",
        Client = "CLIENT",
    }
);

text_enum!(
    /// The kind of organisation in the network.
    OrganisationKind {
        WelfareHouse = "WELFARE_HOUSE",
        Caw = "CAW",
        PensionService = "PENSION_SERVICE",
        Dyzo = "DYZO",
        Housing = "HOUSING",
        Health = "HEALTH",
        Other = "OTHER",
    }
);

text_enum!(
    /// The life domains a welfare question can touch.
    LifeDomain {
        Housing = "HOUSING",
        Finances = "FINANCES",
        FamilyAndFriends = "FAMILY_AND_FRIENDS",
        Children = "CHILDREN",
        Work = "WORK",
        Mobility = "MOBILITY",
        PhysicalHealth = "PHYSICAL_HEALTH",
        MentalHealth = "MENTAL_HEALTH",
        AdministrationAndRights = "ADMINISTRATION_AND_RIGHTS",
        Participation = "PARTICIPATION",
    }
);

text_enum!(
    /// A category of client data that a consent lets a recipient organisation see.
    ConsentScope {
        Identity = "IDENTITY",
        Contact = "CONTACT",
        NationalNumber = "NATIONAL_NUMBER",
        Situation = "SITUATION",
    }
);

text_enum!(
    /// Where a referral stands in the closed loop.
    ReferralStatus {
        Requested = "REQUESTED",
        Received = "RECEIVED",
        Accepted = "ACCEPTED",
        Rejected = "REJECTED",
        InProgress = "IN_PROGRESS",
        Completed = "COMPLETED",
        Cancelled = "CANCELLED",
    }
);

text_enum!(
    /// Why a recipient turned a referral down: the unmet needs the welfare house signals.
    RejectionReason {
        NoCapacity = "NO_CAPACITY",
        NotEligible = "NOT_ELIGIBLE",
        ClientUnreachable = "CLIENT_UNREACHABLE",
        ClientDeclined = "CLIENT_DECLINED",
        Other = "OTHER",
    }
);

text_enum!(
    /// What a referral notice tells: something that happened to a referral without changing its
    /// status.
    ReferralNoticeKind {
        AppointmentCancelled = "APPOINTMENT_CANCELLED",
    }
);

text_enum!(
    /// Whether a help request is still being worked on.
    HelpRequestStatus {
        Open = "OPEN",
        Closed = "CLOSED",
    }
);

text_enum!(
    /// HSDS service status.
    ServiceStatus {
        Active = "active",
        Inactive = "inactive",
        Defunct = "defunct",
        TemporarilyClosed = "temporarily closed",
    }
);

impl ReferralStatus {
    /// Final statuses: no change leaves them.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Rejected | Self::Completed | Self::Cancelled)
    }

    /// Statuses in which the referral is still waiting for, or getting, an answer.
    pub const OPEN: &'static [Self] = &[Self::Requested, Self::Received, Self::Accepted, Self::InProgress];
}

text_enum!(
    /// What a webhook delivery tells about.
    WebhookEventType {
        ReferralCreated = "REFERRAL_CREATED",
        ReferralStatusChanged = "REFERRAL_STATUS_CHANGED",
        AppointmentBooked = "APPOINTMENT_BOOKED",
        AppointmentCancelled = "APPOINTMENT_CANCELLED",
    }
);

impl WebhookEventType {
    /// The `type` in a delivery's body (Standard Webhooks' dotted names).
    pub fn dotted(self) -> &'static str {
        match self {
            Self::ReferralCreated => "referral.created",
            Self::ReferralStatusChanged => "referral.status_changed",
            Self::AppointmentBooked => "appointment.booked",
            Self::AppointmentCancelled => "appointment.cancelled",
        }
    }
}

text_enum!(
    /// Where a webhook delivery stands.
    DeliveryStatus {
        Pending = "PENDING",
        Delivered = "DELIVERED",
        Failed = "FAILED",
    }
);

//! Who may do which change, and read which category of a client's data: the rules the
//! mutations and the client data guard ask, as plain functions of the caller and the row.

use entities::{ConsentScope, OrganisationKind, Role, referral};
use uuid::Uuid;

use super::roles::{HOUSE_ROLES, INTAKE_STAFF, works_with_clients};
use crate::caller::Caller;
use crate::lifecycle::Side;

/// A category of client data, as the contract's consent scopes divide it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Name and date of birth.
    Identity,
    /// Address, phone, e-mail, preferred language.
    Contact,
    /// The national register number.
    NationalNumber,
    /// Help request summary and life domains.
    Situation,
}

impl Category {
    /// The consent scope that opens this category to a partner.
    pub fn consent_scope(self) -> ConsentScope {
        match self {
            Category::Identity => ConsentScope::Identity,
            Category::Contact => ConsentScope::Contact,
            Category::NationalNumber => ConsentScope::NationalNumber,
            Category::Situation => ConsentScope::Situation,
        }
    }
}

/// What the caller may read of a client's data: everything (staff), what the client's active
/// consents to the caller's organisation open (a partner), one client's own (the client), or
/// nothing.
pub enum ClientDataAccess {
    All,
    PerConsent,
    Own(Uuid),
    Nothing,
}

/// The rule for reading client data, before any consent is looked up.
pub fn client_data_access(caller: &Caller) -> ClientDataAccess {
    match (caller.role, caller.client_id()) {
        (role, _) if works_with_clients(role) => ClientDataAccess::All,
        (Role::Partner, _) => ClientDataAccess::PerConsent,
        (Role::Client, Some(me)) => ClientDataAccess::Own(me),
        _ => ClientDataAccess::Nothing,
    }
}

/// May a partner with these active consent scopes read `category`?
pub fn consent_opens(scopes: &[ConsentScope], category: Category) -> bool {
    scopes.contains(&category.consent_scope())
}

/// The welfare house's staff book for any partner; a partner only in its own office hours; a
/// client in any partner's office hours, for themself only.
pub fn may_book_for(caller: &Caller, organisation: Uuid, client: Uuid) -> bool {
    match caller.role {
        Role::Partner => caller.organisation_id() == Some(organisation),
        Role::Client => caller.client_id() == Some(client),
        role => INTAKE_STAFF.contains(&role),
    }
}

/// Whether the caller may make a change on `side` of this referral: the recipient's partner
/// staff answer it, the sender's intake staff cancel it, ADMIN does either.
pub fn may_change_referral(caller: &Caller, referral: &referral::Model, side: Side) -> bool {
    let org = caller.organisation_id();
    match (caller.role, side) {
        (Role::Admin, _) => true,
        (Role::Partner, Side::Recipient) => org == Some(referral.recipient_id),
        (Role::Intake | Role::CaseWorker, Side::Sender) => org == Some(referral.sender_id),
        _ => false,
    }
}

/// ADMIN edits any organisation's services, a partner only its own.
pub fn may_edit_services_of(caller: &Caller, organisation: Uuid) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Partner => caller.organisation_id() == Some(organisation),
        _ => false,
    }
}

/// ADMIN keeps every organisation's office hours, a partner only its own.
pub fn may_keep_office_hours_of(caller: &Caller, organisation: Uuid) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Partner => caller.organisation_id() == Some(organisation),
        _ => false,
    }
}

/// ADMIN manages every organisation's webhooks, a partner only its own.
pub fn may_manage_webhooks_of(caller: &Caller, organisation: Uuid) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Partner => caller.organisation_id() == Some(organisation),
        _ => false,
    }
}

/// May the caller see where a confidential location (a shelter, say) is? The people who work in
/// the network; the public sees only the municipality, and so does a citizen signed in as
/// themself (anyone can be a client: also whoever looks for someone who fled).
pub fn may_see_confidential_location(caller: &Caller) -> bool {
    super::roles::CONFIDENTIAL_LOCATION_READERS.contains(&caller.role)
}

/// The most appointments ahead a citizen may hold when booking themself: enough for a few
/// partners' office hours, too few to block them for others. Staff book without this bound.
pub const UPCOMING_APPOINTMENTS_PER_CLIENT: u64 = 3;

/// Whether this booking must keep to [`UPCOMING_APPOINTMENTS_PER_CLIENT`].
pub fn booking_is_bounded(caller: &Caller) -> bool {
    caller.role == Role::Client
}

/// May the caller filter clients by personal data? Only staff who read all of it: a filter on a
/// field the caller cannot read would confirm its value.
pub fn may_search_clients(caller: &Caller) -> bool {
    works_with_clients(caller.role)
}

/// Analysts see network figures with counts from 1 to 4 withheld; ADMIN sees every count, and a
/// partner its own organisation's.
pub fn suppresses_small_counts(caller: &Caller) -> bool {
    super::roles::SMALL_COUNTS_WITHHELD.contains(&caller.role)
}

/// May the caller grant a consent on behalf of `client`? Only the client themself.
pub fn may_give_consent_for(caller: &Caller, client: Uuid) -> bool {
    caller.role == Role::Client && caller.client_id() == Some(client)
}

/// Whether a person of `role` may belong to an organisation of `kind`: the welfare house's staff
/// belong to the welfare house, a partner's people to a partner. PUBLIC is no one's role, and a
/// CLIENT signs in as a client, never as a user.
pub fn role_fits_organisation(role: Role, kind: OrganisationKind) -> Result<(), &'static str> {
    match (role, kind) {
        (Role::Public, _) => Err("PUBLIC is the role of callers without a token, not of a person"),
        (Role::Client, _) => Err("CLIENT is how a citizen signs in as themself, not a role of staff"),
        (role, OrganisationKind::WelfareHouse) if HOUSE_ROLES.contains(&role) => Ok(()),
        (_, OrganisationKind::WelfareHouse) => {
            Err("the welfare house's people are INTAKE, CASE_WORKER, ANALYST or ADMIN")
        }
        (Role::Partner, _) => Ok(()),
        _ => {
            Err("a partner organisation's people are PARTNER; the house's staff belong to the welfare house")
        }
    }
}

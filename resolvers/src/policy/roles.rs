//! Who may do what at all, as role sets: one table from which both the guards (a field or
//! mutation refused with `FORBIDDEN`) and the schema each role sees (`visible`: introspection and
//! validation) are derived, so the two cannot disagree.

use entities::Role;

use Role::*;

/// The welfare house's own staff who work with clients: they read every client's data.
pub const CLIENT_STAFF: &[Role] = &[Intake, CaseWorker, Admin];

/// The welfare house's staff who take clients in: register clients, open help requests, create
/// and cancel referrals.
pub const INTAKE_STAFF: &[Role] = CLIENT_STAFF;

/// Roles that record a client's consent given at the desk.
pub const CONSENT_RECORDERS: &[Role] = CLIENT_STAFF;

/// The client, who gives their consent themself (for their own data only).
pub const CONSENT_GIVERS: &[Role] = &[Client];

/// Roles that revoke a consent: the staff who record them, and the client their own.
pub const CONSENT_REVOKERS: &[Role] = &[Intake, CaseWorker, Admin, Client];

/// Roles that read case notes: the house's staff all, the client those shared with them.
pub const CASE_NOTE_READERS: &[Role] = &[Intake, CaseWorker, Admin, Client];

/// Roles that read how a help request ended (its outcome, the case worker's words).
pub const OUTCOME_READERS: &[Role] = CLIENT_STAFF;

/// Roles that read the notes organisations write each other on a referral (the sender's
/// feedback); the client reads the notes written for them instead.
pub const REFERRAL_NOTE_READERS: &[Role] = &[Partner, Intake, CaseWorker, Admin];

/// Roles that write case notes and correct them (a correction is a new version).
pub const CASE_NOTE_WRITERS: &[Role] = CLIENT_STAFF;

/// Roles that change a client's data (contact, address, national register number).
pub const CLIENT_EDITORS: &[Role] = CLIENT_STAFF;

/// Roles that change and close help requests: the case workers ("read, write"); the desk
/// opens them but does not change them.
pub const HELP_REQUEST_WRITERS: &[Role] = &[CaseWorker, Admin];

/// Roles that merge a duplicate client into another.
pub const CLIENT_MERGERS: &[Role] = &[Admin];

/// Roles that may ask for clients at all (a partner then sees only its own, a client only
/// themself).
pub const CLIENT_READERS: &[Role] = &[Partner, Intake, CaseWorker, Admin, Client];

/// Roles that may ask for referrals at all (a partner then sees only its own, a client those
/// made for them).
pub const REFERRAL_READERS: &[Role] = CLIENT_READERS;

/// Roles that move referrals along (the partner its incoming, the desk cancels its outgoing).
pub const REFERRAL_CHANGERS: &[Role] = &[Partner, Intake, CaseWorker, Admin];

/// Roles that book and cancel appointments (a partner only in its own office hours, a client
/// only their own).
pub const BOOKERS: &[Role] = &[Partner, Intake, CaseWorker, Admin, Client];

/// The client reading who read and changed their data.
pub const ACCESS_LOG_READERS: &[Role] = &[Client];

/// Roles that erase a client's personal data, and set or lift a legal hold.
pub const ERASERS: &[Role] = &[Admin];

/// Roles that read whether and when a client's data was erased: the house's staff who work
/// with clients. Not a partner: that a citizen had their data erased is not a category they
/// consented to share (a partner with IDENTITY consent reads the placeholder names), and not
/// the client, who can no longer sign in.
pub const ERASURE_READERS: &[Role] = CLIENT_STAFF;

/// Roles that edit services on the social map (a partner only its own organisation's).
pub const SERVICE_EDITORS: &[Role] = &[Partner, Admin];

/// Roles that run the network itself: its organisations and the people who sign in.
pub const ADMINISTRATORS: &[Role] = &[Admin];

/// Roles of the welfare house's own staff, who belong to the welfare house; every other
/// organisation's people are PARTNER.
pub const HOUSE_ROLES: &[Role] = &[Intake, CaseWorker, Analyst, Admin];

/// Roles that keep office hours at the welfare house: set the weekly hours, close days (a
/// partner only its own organisation's).
pub const OFFICE_HOURS_KEEPERS: &[Role] = &[Partner, Admin];

/// Roles that see where a confidential location (a shelter) is: the people who work in the
/// network. Not the public, not a citizen signed in as themself.
pub const CONFIDENTIAL_LOCATION_READERS: &[Role] = &[Partner, Intake, CaseWorker, Analyst, Admin];

/// Roles that register and manage webhooks (a partner only its own organisation's).
pub const WEBHOOK_MANAGERS: &[Role] = &[Partner, Admin];

/// Roles that read the audit log.
pub const AUDIT_READERS: &[Role] = &[Admin];

/// Roles with dashboards: the network's (ANALYST, ADMIN) or their own organisation's (PARTNER).
pub const DASHBOARD_READERS: &[Role] = &[Admin, Analyst, Partner];

/// Roles whose dashboards count the whole network.
pub const DASHBOARD_NETWORK: &[Role] = &[Admin, Analyst];

/// Roles that see the network's figures only with counts from 1 to 4 withheld.
pub const SMALL_COUNTS_WITHHELD: &[Role] = &[Analyst];

/// The welfare house's own staff: who may still introspect when introspection is kept to staff
/// (`WELZIJNSHUIS_INTROSPECTION=staff`).
pub const STAFF: &[Role] = &[Admin, Intake, CaseWorker, Analyst];

/// Roles bound by the trusted documents when they are configured: partners' tools run only the
/// listed operations; the house's staff and the public are not bound.
pub const TRUSTED_DOCUMENTS_ONLY: &[Role] = &[Partner];

/// Roles of the welfare house's own staff that work with clients.
pub fn works_with_clients(role: Role) -> bool {
    CLIENT_STAFF.contains(&role)
}

/// The schema each role sees, from the sets above: `visible` functions of the schema. Types only
/// reachable through hidden fields disappear with them; a document naming one is refused as
/// naming something that does not exist.
pub mod visible {
    use async_graphql::Context;
    use entities::Role;

    fn role(ctx: &Context<'_>) -> Role {
        crate::caller_of(ctx).map(|caller| caller.role).unwrap_or(Role::Public)
    }

    /// Clients, their help requests and consents, referrals; the referral events subscription.
    pub fn client_data(ctx: &Context<'_>) -> bool {
        super::CLIENT_READERS.contains(&role(ctx))
    }

    /// Case notes.
    pub fn case_notes(ctx: &Context<'_>) -> bool {
        super::CASE_NOTE_READERS.contains(&role(ctx))
    }

    /// The `Mutation` type: shown to roles that have at least one mutation.
    pub fn any_mutation(ctx: &Context<'_>) -> bool {
        let role = role(ctx);
        [
            super::REFERRAL_READERS,
            super::BOOKERS,
            super::SERVICE_EDITORS,
            super::INTAKE_STAFF,
            super::ADMINISTRATORS,
            super::OFFICE_HOURS_KEEPERS,
            super::CONSENT_REVOKERS,
            super::WEBHOOK_MANAGERS,
        ]
        .iter()
        .any(|set| set.contains(&role))
    }

    /// Editing services on the social map.
    pub fn service_editing(ctx: &Context<'_>) -> bool {
        super::SERVICE_EDITORS.contains(&role(ctx))
    }

    /// Booking and cancelling appointments.
    pub fn booking(ctx: &Context<'_>) -> bool {
        super::BOOKERS.contains(&role(ctx))
    }

    /// Webhooks: the endpoints, their deliveries, managing them.
    pub fn webhooks(ctx: &Context<'_>) -> bool {
        super::WEBHOOK_MANAGERS.contains(&role(ctx))
    }

    /// Setting and closing office hours.
    pub fn office_hours_keeping(ctx: &Context<'_>) -> bool {
        super::OFFICE_HOURS_KEEPERS.contains(&role(ctx))
    }

    /// Registering clients, opening help requests, creating referrals.
    pub fn intake(ctx: &Context<'_>) -> bool {
        super::INTAKE_STAFF.contains(&role(ctx))
    }

    /// Writing and correcting case notes.
    pub fn case_note_writing(ctx: &Context<'_>) -> bool {
        super::CASE_NOTE_WRITERS.contains(&role(ctx))
    }

    /// Changing a client's data.
    pub fn client_editing(ctx: &Context<'_>) -> bool {
        super::CLIENT_EDITORS.contains(&role(ctx))
    }

    /// Changing and closing help requests.
    pub fn help_request_writing(ctx: &Context<'_>) -> bool {
        super::HELP_REQUEST_WRITERS.contains(&role(ctx))
    }

    /// Merging duplicate clients.
    pub fn client_merging(ctx: &Context<'_>) -> bool {
        super::CLIENT_MERGERS.contains(&role(ctx))
    }

    /// Recording consent given at the desk.
    pub fn consent_recording(ctx: &Context<'_>) -> bool {
        super::CONSENT_RECORDERS.contains(&role(ctx))
    }

    /// Giving consent as the client.
    pub fn consent_giving(ctx: &Context<'_>) -> bool {
        super::CONSENT_GIVERS.contains(&role(ctx))
    }

    /// Revoking consent.
    pub fn consent_revoking(ctx: &Context<'_>) -> bool {
        super::CONSENT_REVOKERS.contains(&role(ctx))
    }

    /// Moving referrals along.
    pub fn referral_changing(ctx: &Context<'_>) -> bool {
        super::REFERRAL_CHANGERS.contains(&role(ctx))
    }

    /// The notes organisations write each other on a referral.
    pub fn referral_notes(ctx: &Context<'_>) -> bool {
        super::REFERRAL_NOTE_READERS.contains(&role(ctx))
    }

    /// How a help request ended.
    pub fn outcomes(ctx: &Context<'_>) -> bool {
        super::OUTCOME_READERS.contains(&role(ctx))
    }

    /// A citizen's own file (`me.client`): only the CLIENT role has one.
    pub fn own_file(ctx: &Context<'_>) -> bool {
        role(ctx) == Role::Client
    }

    /// The client's own access log.
    pub fn access_log(ctx: &Context<'_>) -> bool {
        super::ACCESS_LOG_READERS.contains(&role(ctx))
    }

    /// Erasing clients and legal holds.
    pub fn erasure(ctx: &Context<'_>) -> bool {
        super::ERASERS.contains(&role(ctx))
    }

    /// Whether a client's data was erased.
    pub fn erasure_state(ctx: &Context<'_>) -> bool {
        super::ERASURE_READERS.contains(&role(ctx))
    }

    /// What the house's staff read of a client's file that the client does not: who recorded
    /// what.
    pub fn client_staff(ctx: &Context<'_>) -> bool {
        super::CLIENT_STAFF.contains(&role(ctx))
    }

    /// Dashboards.
    pub fn dashboard(ctx: &Context<'_>) -> bool {
        super::DASHBOARD_READERS.contains(&role(ctx))
    }

    /// Organisations and people: adding, changing, deactivating; the list of users.
    pub fn administration(ctx: &Context<'_>) -> bool {
        super::ADMINISTRATORS.contains(&role(ctx))
    }

    /// The audit log, and the parts of an audit entry only its readers see (which person, which
    /// request).
    pub fn audit_log(ctx: &Context<'_>) -> bool {
        super::AUDIT_READERS.contains(&role(ctx))
    }

    /// Audit entries at all: the whole log (ADMIN) or one's own access log (CLIENT).
    pub fn audit_entries(ctx: &Context<'_>) -> bool {
        super::AUDIT_READERS.contains(&role(ctx)) || super::ACCESS_LOG_READERS.contains(&role(ctx))
    }
}

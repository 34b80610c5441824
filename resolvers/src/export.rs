//! Right of access and portability (GDPR art. 15 and 20): one JSON document with everything the
//! network holds about a client, as the client may read it.
//!
//! Both doors — `GET /me/export` for the citizen signed in as themself, and `welzijnshuis client
//! export <id>` for staff answering a written request — call [`document`] and [`record`]: the
//! rows are read with the row scopes of `Caller::client(id)` (`crate::policy`, never a copy), in
//! full (no page caps) and in a stable order, with a fixed number of statements whatever the
//! client's size (children by subquery on their parent's scope, names by one `IN` list). Keys
//! are named as the GraphQL fields of the client's role-shaped schema (`schema.CLIENT.graphql`)
//! and hold only what a CLIENT may read there; a test holds every key to that schema.
//!
//! [`COVERED`] and [`NO_CLIENT_DATA`] classify every table of the database: a test reads the
//! tables and their foreign keys from the database and fails when a table holding client data
//! is not covered here, or a table is classified nowhere.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use entities::{
    ConsentScope, LifeDomain, ReferralStatus, RejectionReason, Role, appointment, audit_entry, case_note,
    client, consent, help_request, help_request_life_domain, office_hours_closure,
    office_hours_closure_appointment, organisation, referral, referral_event, referral_notice, service,
};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::policy;

/// A table holding client data and where its rows are in the document: the value of `column`
/// of each row the client may read is found at `found_at` (a section, then field names; `[]`
/// steps into every element of a list).
pub struct Covered {
    pub table: &'static str,
    pub column: &'static str,
    pub found_at: &'static str,
}

/// Every table holding client data, and where the export carries it.
pub const COVERED: &[Covered] = &[
    Covered { table: "clients", column: "id", found_at: "client.id" },
    Covered { table: "help_requests", column: "id", found_at: "helpRequests[].id" },
    Covered { table: "help_request_life_domains", column: "help_request_id", found_at: "helpRequests[].id" },
    Covered { table: "consents", column: "id", found_at: "consents[].id" },
    Covered { table: "referrals", column: "id", found_at: "referrals[].id" },
    Covered { table: "referral_events", column: "id", found_at: "referrals[].events[].id" },
    Covered { table: "referral_notices", column: "id", found_at: "referralNotices[].id" },
    Covered { table: "appointments", column: "id", found_at: "appointments[].id" },
    // Which closure cancelled the appointment: its `cancelledBy`.
    Covered {
        table: "office_hours_closure_appointments",
        column: "appointment_id",
        found_at: "appointments[].id",
    },
    // Only the notes shared with the client (`policy::case_notes`).
    Covered { table: "case_notes", column: "id", found_at: "caseNotes[].id" },
    // A merge is told by the access log's MERGE entry, whose subject is the duplicate's id.
    Covered { table: "client_merges", column: "merged_client_id", found_at: "accessLog[].subjectId" },
    Covered { table: "audit_log", column: "id", found_at: "accessLog[].id" },
];

/// Every table that holds no client data, with the reason.
pub const NO_CLIENT_DATA: &[(&str, &str)] = &[
    ("organisations", "the network's organisations: public, named in the export where referred to"),
    ("users", "staff accounts; the client's export names organisations and roles, never the person"),
    ("services", "the social map, public"),
    ("service_languages", "the social map, public"),
    ("service_life_domains", "the social map, public"),
    ("service_at_locations", "the social map, public"),
    ("locations", "the social map, public"),
    ("schedules", "opening hours on the social map, public"),
    ("services_fts", "SQLite's search index over service names and descriptions"),
    ("office_hours", "partners' weekly office hours, public"),
    ("office_hours_closures", "closures of office hours, public; named where one cancelled an appointment"),
    ("webhooks", "an organisation's endpoints for its own systems: no client data"),
    (
        "webhook_deliveries",
        "thin event payloads (ids, statuses, times) sent to an organisation; never personal data",
    ),
    ("webhook_attempts", "when a delivery was tried and what the endpoint answered: no client data"),
    ("referral_counts", "how many referrals each organisation received and sent per status: numbers only"),
];

/// The document's sections, each a list of (or one) objects of the named GraphQL type of the
/// client's schema; `exportedAt` is the document's own.
pub const SECTIONS: &[(&str, &str)] = &[
    ("client", "Client"),
    ("helpRequests", "HelpRequest"),
    ("consents", "Consent"),
    ("referrals", "Referral"),
    ("referralNotices", "ReferralEvent"),
    ("appointments", "Appointment"),
    ("caseNotes", "CaseNote"),
    ("accessLog", "AuditEntry"),
];

/// Keys of the document itself, beside the [`SECTIONS`].
pub const ENVELOPE: &[&str] = &["exportedAt"];

/// What the audit row of an export names as its categories: all of them.
pub const ALL_CATEGORIES: &str = "CASE_NOTES,CONTACT,IDENTITY,NATIONAL_NUMBER,SITUATION";

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub exported_at: DateTime<Utc>,
    pub client: Profile,
    pub help_requests: Vec<HelpRequest>,
    pub consents: Vec<Consent>,
    pub referrals: Vec<Referral>,
    /// Notices about the client's referrals that changed no status (an appointment cancelled
    /// by a closure of office hours): `ReferralEvent`s of kind APPOINTMENT_CANCELLED.
    pub referral_notices: Vec<ReferralEvent>,
    pub appointments: Vec<Appointment>,
    pub case_notes: Vec<CaseNote>,
    pub access_log: Vec<AuditEntry>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub national_register_number: Option<String>,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub preferred_language: Option<String>,
}

#[derive(Serialize, Debug)]
pub struct Address {
    pub street: Option<String>,
    pub postcode: String,
    pub municipality: String,
}

/// An object named by id (and name, where it has one).
#[derive(Serialize, Debug)]
pub struct Named {
    pub id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Named {
    fn id(id: Uuid) -> Named {
        Named { id, name: None }
    }
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct HelpRequest {
    pub id: Uuid,
    pub summary: String,
    pub life_domains: Vec<LifeDomain>,
    pub channel: String,
    pub status: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    pub id: Uuid,
    pub recipient: Named,
    pub scopes: Vec<ConsentScope>,
    pub purpose: String,
    pub given_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// CLIENT or STAFF.
    pub given_by: &'static str,
    pub revoked_by: Option<&'static str>,
    pub active: bool,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Referral {
    pub id: Uuid,
    pub status: ReferralStatus,
    pub version: i32,
    pub life_domain: LifeDomain,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub help_request: Option<Named>,
    pub sender: Named,
    pub recipient: Named,
    pub service: Option<Named>,
    pub rejection_reason: Option<RejectionReason>,
    pub events: Vec<ReferralEvent>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct ReferralEvent {
    pub id: Uuid,
    /// For a notice: the referral it is about (an event sits inside its referral).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referral: Option<Named>,
    /// CREATED, STATUS_CHANGE or APPOINTMENT_CANCELLED.
    pub kind: &'static str,
    pub from_status: Option<ReferralStatus>,
    pub to_status: ReferralStatus,
    pub note_for_client: Option<String>,
    pub rejection_reason: Option<RejectionReason>,
    pub organisation: Option<Named>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment: Option<Named>,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Appointment {
    pub id: Uuid,
    pub organisation: Named,
    pub referral_id: Option<Uuid>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub cancelled_by: Option<Closure>,
}

/// The closure of office hours that cancelled an appointment.
#[derive(Serialize, Debug)]
pub struct Closure {
    pub id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub reason: String,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CaseNote {
    pub id: Uuid,
    pub note_id: Uuid,
    pub version: i32,
    pub body: String,
    pub shared_with_client: bool,
    pub noted_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub help_request: Option<Named>,
}

#[derive(Serialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    pub organisation: Option<Named>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub categories: Vec<String>,
}

/// Everything held about `client_id`, as the client may read it; `NOT_FOUND` for an unknown,
/// merged-away or erased client.
pub async fn document(db: &impl ConnectionTrait, client_id: Uuid) -> ApiResult<Export> {
    let me = Caller::client(client_id);
    let profile = client::Entity::find()
        .filter(policy::clients(&me))
        .filter(policy::clients_who_may_sign_in())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("client"))?;
    let rows = Rows::read(db, &me).await?;
    let names = Names::read(db, &rows).await?;
    Ok(rows.into_document(profile, &names))
}

/// The rows of one client, each table read once with the client's scope.
struct Rows {
    help_requests: Vec<help_request::Model>,
    life_domains: Vec<help_request_life_domain::Model>,
    consents: Vec<consent::Model>,
    referrals: Vec<referral::Model>,
    events: Vec<referral_event::Model>,
    notices: Vec<referral_notice::Model>,
    appointments: Vec<appointment::Model>,
    cancellations: Vec<office_hours_closure_appointment::Model>,
    closures: Vec<office_hours_closure::Model>,
    case_notes: Vec<case_note::Model>,
    access_log: Vec<audit_entry::Model>,
}

impl Rows {
    async fn read(db: &impl ConnectionTrait, me: &Caller) -> ApiResult<Rows> {
        let help_requests_in_scope = Query::select()
            .column(help_request::Column::Id)
            .from(help_request::Entity)
            .cond_where(policy::help_requests(me))
            .to_owned();
        let appointments_in_scope = Query::select()
            .column(appointment::Column::Id)
            .from(appointment::Entity)
            .cond_where(policy::appointments(me))
            .to_owned();
        let cancellations_in_scope = Query::select()
            .column(office_hours_closure_appointment::Column::ClosureId)
            .from(office_hours_closure_appointment::Entity)
            .and_where(
                office_hours_closure_appointment::Column::AppointmentId
                    .in_subquery(appointments_in_scope.clone()),
            )
            .to_owned();
        Ok(Rows {
            help_requests: help_request::Entity::find()
                .filter(policy::help_requests(me))
                .order_by_asc(help_request::Column::OpenedAt)
                .order_by_asc(help_request::Column::Id)
                .all(db)
                .await?,
            life_domains: help_request_life_domain::Entity::find()
                .filter(help_request_life_domain::Column::HelpRequestId.in_subquery(help_requests_in_scope))
                .order_by_asc(help_request_life_domain::Column::HelpRequestId)
                .order_by_asc(help_request_life_domain::Column::LifeDomain)
                .all(db)
                .await?,
            consents: consent::Entity::find()
                .filter(policy::consents(me))
                .order_by_asc(consent::Column::GivenAt)
                .order_by_asc(consent::Column::Id)
                .all(db)
                .await?,
            referrals: referral::Entity::find()
                .filter(policy::referrals(me))
                .order_by_asc(referral::Column::CreatedAt)
                .order_by_asc(referral::Column::Id)
                .all(db)
                .await?,
            events: referral_event::Entity::find()
                .filter(policy::referral_events(me))
                .order_by_asc(referral_event::Column::At)
                .order_by_asc(referral_event::Column::Id)
                .all(db)
                .await?,
            notices: referral_notice::Entity::find()
                .filter(policy::referral_notices(me))
                .order_by_asc(referral_notice::Column::At)
                .order_by_asc(referral_notice::Column::Id)
                .all(db)
                .await?,
            appointments: appointment::Entity::find()
                .filter(policy::appointments(me))
                .order_by_asc(appointment::Column::StartsAt)
                .order_by_asc(appointment::Column::Id)
                .all(db)
                .await?,
            cancellations: office_hours_closure_appointment::Entity::find()
                .filter(
                    office_hours_closure_appointment::Column::AppointmentId
                        .in_subquery(appointments_in_scope),
                )
                .all(db)
                .await?,
            closures: office_hours_closure::Entity::find()
                .filter(office_hours_closure::Column::Id.in_subquery(cancellations_in_scope))
                .all(db)
                .await?,
            case_notes: case_note::Entity::find()
                .filter(policy::case_notes(me))
                .order_by_asc(case_note::Column::NotedAt)
                .order_by_asc(case_note::Column::ThreadId)
                .order_by_asc(case_note::Column::Version)
                .all(db)
                .await?,
            access_log: audit_entry::Entity::find()
                .filter(policy::access_log(me))
                .order_by_asc(audit_entry::Column::At)
                .order_by_asc(audit_entry::Column::Id)
                .all(db)
                .await?,
        })
    }

    fn into_document(self, profile: client::Model, names: &Names) -> Export {
        let mut domains: BTreeMap<Uuid, Vec<LifeDomain>> = BTreeMap::new();
        for row in self.life_domains {
            domains.entry(row.help_request_id).or_default().push(row.life_domain);
        }
        let mut events: BTreeMap<Uuid, Vec<ReferralEvent>> = BTreeMap::new();
        for event in self.events {
            events.entry(event.referral_id).or_default().push(ReferralEvent::of_change(event, names));
        }
        let closures: BTreeMap<Uuid, office_hours_closure::Model> =
            self.closures.into_iter().map(|c| (c.id, c)).collect();
        let cancelled_by: BTreeMap<Uuid, &office_hours_closure::Model> = self
            .cancellations
            .iter()
            .filter_map(|link| Some((link.appointment_id, closures.get(&link.closure_id)?)))
            .collect();
        Export {
            exported_at: Utc::now().trunc_subsecs(6),
            client: Profile {
                id: profile.id,
                address: profile.postcode.clone().zip(profile.municipality.clone()).map(
                    |(postcode, municipality)| Address {
                        street: profile.street.clone(),
                        postcode,
                        municipality,
                    },
                ),
                given_name: profile.given_name,
                family_name: profile.family_name,
                date_of_birth: profile.date_of_birth,
                national_register_number: profile.national_register_number,
                phone: profile.phone,
                email: profile.email,
                preferred_language: profile.preferred_language,
            },
            help_requests: self
                .help_requests
                .into_iter()
                .map(|h| HelpRequest {
                    life_domains: domains.remove(&h.id).unwrap_or_default(),
                    id: h.id,
                    summary: h.summary,
                    channel: h.channel,
                    status: h.status.as_str().to_owned(),
                    opened_at: h.opened_at,
                    closed_at: h.closed_at,
                })
                .collect(),
            consents: self
                .consents
                .into_iter()
                .map(|c| Consent {
                    id: c.id,
                    recipient: names.organisation(c.recipient_id),
                    scopes: crate::types::consent::scopes_of(&c),
                    purpose: c.purpose,
                    given_at: c.given_at,
                    revoked_at: c.revoked_at,
                    given_by: actor(c.given_by_client),
                    revoked_by: c.revoked_at.map(|_| actor(c.revoked_by_client)),
                    active: c.revoked_at.is_none(),
                })
                .collect(),
            referrals: self
                .referrals
                .into_iter()
                .map(|r| Referral {
                    events: events.remove(&r.id).unwrap_or_default(),
                    id: r.id,
                    status: r.status,
                    version: r.version,
                    life_domain: r.life_domain,
                    reason: r.reason,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    help_request: r.help_request_id.map(Named::id),
                    sender: names.organisation(r.sender_id),
                    recipient: names.organisation(r.recipient_id),
                    service: r.service_id.map(|s| names.service(s)),
                    rejection_reason: r.rejection_reason,
                })
                .collect(),
            referral_notices: self.notices.into_iter().map(|n| ReferralEvent::of_notice(n, names)).collect(),
            appointments: self
                .appointments
                .into_iter()
                .map(|a| Appointment {
                    cancelled_by: cancelled_by.get(&a.id).map(|c| Closure {
                        id: c.id,
                        from: c.starts_on,
                        to: c.ends_on,
                        reason: c.reason.clone(),
                    }),
                    id: a.id,
                    organisation: names.organisation(a.organisation_id),
                    referral_id: a.referral_id,
                    starts_at: a.starts_at,
                    ends_at: a.ends_at,
                    cancelled_at: a.cancelled_at,
                })
                .collect(),
            case_notes: self
                .case_notes
                .into_iter()
                .map(|n| CaseNote {
                    id: n.id,
                    note_id: n.thread_id,
                    version: n.version,
                    body: n.body,
                    shared_with_client: n.shared_with_client,
                    noted_at: n.noted_at,
                    created_at: n.created_at,
                    superseded_at: n.superseded_at,
                    help_request: n.help_request_id.map(Named::id),
                })
                .collect(),
            access_log: self
                .access_log
                .into_iter()
                .map(|e| AuditEntry {
                    id: e.id,
                    at: e.at,
                    role: e.role,
                    organisation_id: e.organisation_id,
                    organisation: e.organisation_id.map(|o| names.organisation(o)),
                    action: e.action,
                    subject_type: e.subject_type,
                    subject_id: e.subject_id,
                    client_id: e.client_id,
                    categories: e
                        .categories
                        .as_deref()
                        .map(|c| c.split(',').map(str::to_owned).collect())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

fn actor(by_client: bool) -> &'static str {
    if by_client { "CLIENT" } else { "STAFF" }
}

impl ReferralEvent {
    fn of_change(e: referral_event::Model, names: &Names) -> ReferralEvent {
        ReferralEvent {
            id: e.id,
            referral: None,
            kind: if e.from_status.is_none() { "CREATED" } else { "STATUS_CHANGE" },
            from_status: e.from_status,
            to_status: e.to_status,
            note_for_client: e.note_for_client,
            rejection_reason: e.rejection_reason,
            organisation: e.actor_organisation_id.map(|o| names.organisation(o)),
            appointment: None,
            at: e.at,
        }
    }

    fn of_notice(n: referral_notice::Model, names: &Names) -> ReferralEvent {
        ReferralEvent {
            id: n.id,
            referral: Some(Named::id(n.referral_id)),
            kind: n.kind.as_str(),
            from_status: Some(n.referral_status),
            to_status: n.referral_status,
            note_for_client: Some(n.note),
            rejection_reason: None,
            organisation: n.actor_organisation_id.map(|o| names.organisation(o)),
            appointment: n.appointment_id.map(Named::id),
            at: n.at,
        }
    }
}

/// The names of the organisations and services the rows refer to: one statement each.
struct Names {
    organisations: BTreeMap<Uuid, String>,
    services: BTreeMap<Uuid, String>,
}

impl Names {
    async fn read(db: &impl ConnectionTrait, rows: &Rows) -> ApiResult<Names> {
        let mut organisations = BTreeSet::new();
        organisations.extend(rows.consents.iter().map(|c| c.recipient_id));
        organisations.extend(rows.referrals.iter().flat_map(|r| [r.sender_id, r.recipient_id]));
        organisations.extend(rows.events.iter().filter_map(|e| e.actor_organisation_id));
        organisations.extend(rows.notices.iter().filter_map(|n| n.actor_organisation_id));
        organisations.extend(rows.appointments.iter().map(|a| a.organisation_id));
        organisations.extend(rows.access_log.iter().filter_map(|e| e.organisation_id));
        let services: BTreeSet<Uuid> = rows.referrals.iter().filter_map(|r| r.service_id).collect();
        // The network's organisations and the services referred to: a few dozen ids at most.
        let organisations = organisation::Entity::find()
            .filter(organisation::Column::Id.is_in(organisations))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        // Asked even when empty: the statements an export costs do not depend on the client.
        let services = service::Entity::find()
            .filter(service::Column::Id.is_in(services))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        Ok(Names { organisations, services })
    }

    fn organisation(&self, id: Uuid) -> Named {
        Named { id, name: self.organisations.get(&id).cloned() }
    }

    fn service(&self, id: Uuid) -> Named {
        Named { id, name: self.services.get(&id).cloned() }
    }
}

/// Who asked for an export, for its audit row.
pub enum ExportedBy<'a> {
    /// The citizen through `GET /me/export`.
    Operation { caller: &'a Caller, provenance: &'a crate::Provenance, operation: &'a str },
    /// Staff through a command on the server, named after it.
    Command(&'a str),
}

/// The audit row of an export: a read of all the client's data (action EXPORT, every
/// category), in the client's access log.
pub async fn record(db: &impl ConnectionTrait, client_id: Uuid, by: ExportedBy<'_>) -> ApiResult<()> {
    let (user_id, role, organisation_id, operation, request_id, caller_request_id) = match by {
        ExportedBy::Operation { caller, provenance, operation } => (
            caller.user_id(),
            caller.role,
            caller.organisation_id(),
            operation,
            Some(provenance.request_id.clone()),
            provenance.caller_request_id.clone(),
        ),
        // As `audit::record_commands`: no one signed in, written as ADMIN's.
        ExportedBy::Command(command) => (None, Role::Admin, None, command, None, None),
    };
    audit_entry::Entity::insert(audit_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now().trunc_subsecs(6)),
        user_id: Set(user_id),
        role: Set(role),
        organisation_id: Set(organisation_id),
        action: Set("EXPORT".into()),
        subject_type: Set("Client".into()),
        subject_id: Set(Some(client_id)),
        client_id: Set(Some(client_id)),
        categories: Set(Some(ALL_CATEGORIES.into())),
        operation_name: Set(Some(operation.to_owned())),
        request_id: Set(request_id),
        caller_request_id: Set(caller_request_id),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The document and its audit row: the document is handed out only once its read is on record.
pub async fn export(db: &impl ConnectionTrait, client_id: Uuid, by: ExportedBy<'_>) -> ApiResult<Export> {
    let document = document(db, client_id).await?;
    record(db, client_id, by).await?;
    Ok(document)
}

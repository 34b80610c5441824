//! Erasing a client: their personal data and every free text about them erased, the shape of
//! their trajectory kept. One place, used by `eraseClient` and by the retention rule alike.
//!
//! What goes: the client's names (a fixed placeholder: the columns are `NOT NULL`), date of
//! birth, national register number, address, phone, e-mail and language; their help requests'
//! summaries and outcomes; every version of every case note about them; their referrals'
//! reasons and outcome notes; the notes on those referrals' events (for the organisations and
//! for the client) and on their notices; their consents' purposes.
//!
//! What stays, so that the figures do not change: every row and its ids, statuses, versions,
//! dates, life domains, channels, organisations, services, scopes and the people of the house
//! who acted (staff, not the client). `client_merges` (ids and counts), appointments (times and
//! organisations) and the audit log (ids, roles, actions) hold no free text about the client.
//! Nothing's `updated_at` but the client's own moves: a referral's "no change for 14 days" on
//! the dashboards stays what it was.
//!
//! Who may erase, and that it is one transaction, is the caller's business: the mutation and the
//! retention run each open one per client and write the audit row (`ERASE`, `Client`, the id:
//! no personal data) in it.

use chrono::{DateTime, Utc};
use entities::{
    HelpRequestStatus, ReferralStatus, appointment, case_note, client, consent, help_request, referral,
    referral_event, referral_notice,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// What an erased text reads: names, and the texts the database requires (a referral's reason,
/// a case note's body, a consent's purpose, a help request's summary, a notice's note). Texts
/// that may be empty become `NULL`.
pub const PLACEHOLDER: &str = "[gewist]";

/// The audit action of an erasure.
pub const ERASE: &str = "ERASE";

/// What [`erase`] found and did.
#[derive(Debug)]
pub enum Erasure {
    /// The client's data was erased now: the client as it reads afterwards.
    Erased(client::Model),
    /// The client was erased before: nothing was changed (erasing is idempotent).
    AlreadyErased(client::Model),
}

impl Erasure {
    pub fn client(self) -> client::Model {
        match self {
            Erasure::Erased(client) | Erasure::AlreadyErased(client) => client,
        }
    }
}

/// A write that names a client stops here when the client was erased: what was erased stays
/// erased (no one puts personal data back into an emptied file); a citizen who comes back is
/// registered anew.
pub fn not_erased(client: client::Model) -> ApiResult<client::Model> {
    match client.erased_at {
        Some(_) => Err(ApiError::Conflict(
            "this client's data was erased: register them anew if they come back".into(),
        )),
        None => Ok(client),
    }
}

/// Whether the client `id` was erased: a write on a row of theirs (a referral's next step, a
/// help request's outcome) would put free text about them back.
pub async fn refuse_if_erased(txn: &impl ConnectionTrait, id: Uuid) -> ApiResult<()> {
    match client::Entity::find_by_id(id).one(txn).await? {
        Some(client) => not_erased(client).map(drop),
        None => Ok(()),
    }
}

/// A merge moves everything of one client to another: not while a legal hold is on either, or
/// the hold would stay behind on an emptied record while the data moved out from under it.
pub fn not_held(client: client::Model) -> ApiResult<client::Model> {
    match client.legal_hold_at {
        Some(_) => Err(ApiError::Conflict(
            "a legal hold is on this client: an administrator releases it before a merge".into(),
        )),
        None => Ok(client),
    }
}

/// The client `id`, locked until the end of `txn` (on PostgreSQL; SQLite's writer holds the
/// whole database): two erasures, or an erasure and a hold, of one client wait for each other.
pub async fn lock_client(txn: &impl ConnectionTrait, id: Uuid) -> ApiResult<client::Model> {
    client::Entity::find_by_id(id).lock_exclusive().one(txn).await?.ok_or(ApiError::NotFound("client"))
}

/// Erases the client `id` inside `txn`: NOT_FOUND when there is no such client, CONFLICT while a
/// legal hold is on them, nothing at all when they were erased already.
pub async fn erase(txn: &impl ConnectionTrait, id: Uuid, at: DateTime<Utc>) -> ApiResult<Erasure> {
    erase_locked(txn, lock_client(txn, id).await?, at).await
}

/// [`erase`], for a client already read with [`lock_client`] in `txn`.
pub async fn erase_locked(
    txn: &impl ConnectionTrait,
    current: client::Model,
    at: DateTime<Utc>,
) -> ApiResult<Erasure> {
    let id = current.id;
    if current.erased_at.is_some() {
        return Ok(Erasure::AlreadyErased(current));
    }
    if current.legal_hold_at.is_some() {
        return Err(ApiError::Conflict(
            "a legal hold is on this client: release it before erasing their data".into(),
        ));
    }
    erase_free_text(txn, id).await?;
    cancel_appointments_ahead(txn, id, at).await?;
    let erased = anonymised(current, at).update(txn).await?;
    Ok(Erasure::Erased(erased))
}

/// The client's row with nothing personal left on it.
fn anonymised(current: client::Model, at: DateTime<Utc>) -> client::ActiveModel {
    let mut row = current.into_active_model();
    row.given_name = Set(PLACEHOLDER.into());
    row.family_name = Set(PLACEHOLDER.into());
    row.date_of_birth = Set(None);
    row.national_register_number = Set(None);
    row.street = Set(None);
    row.postcode = Set(None);
    row.municipality = Set(None);
    row.phone = Set(None);
    row.email = Set(None);
    row.preferred_language = Set(None);
    row.erased_at = Set(Some(at));
    row.updated_at = Set(at);
    row
}

/// The texts about the client in the rows hanging off them, each table in one `UPDATE`.
async fn erase_free_text(txn: &impl ConnectionTrait, id: Uuid) -> ApiResult<()> {
    let none = || Expr::value(Option::<String>::None);
    let placeholder = || Expr::value(PLACEHOLDER);
    help_request::Entity::update_many()
        .col_expr(help_request::Column::Summary, placeholder())
        .col_expr(help_request::Column::Outcome, none())
        .filter(help_request::Column::ClientId.eq(id))
        .exec(txn)
        .await?;
    // Every version; and, should one ever name another client, a note on one of the client's
    // help requests. Two statements, each on its own index: as one `OR` PostgreSQL scanned the
    // whole table (measured: 8,336 notes read for one client's none).
    case_note::Entity::update_many()
        .col_expr(case_note::Column::Body, placeholder())
        .filter(case_note::Column::ClientId.eq(id))
        .exec(txn)
        .await?;
    case_note::Entity::update_many()
        .col_expr(case_note::Column::Body, placeholder())
        .filter(case_note::Column::HelpRequestId.in_subquery(help_requests_of(id)))
        .filter(case_note::Column::Body.ne(PLACEHOLDER))
        .exec(txn)
        .await?;
    consent::Entity::update_many()
        .col_expr(consent::Column::Purpose, placeholder())
        .filter(consent::Column::ClientId.eq(id))
        .exec(txn)
        .await?;
    referral::Entity::update_many()
        .col_expr(referral::Column::Reason, placeholder())
        .col_expr(referral::Column::OutcomeNote, none())
        .filter(referral::Column::ClientId.eq(id))
        .exec(txn)
        .await?;
    referral_event::Entity::update_many()
        .col_expr(referral_event::Column::Note, none())
        .col_expr(referral_event::Column::NoteForClient, none())
        .filter(referral_event::Column::ReferralId.in_subquery(referrals_of(id)))
        .exec(txn)
        .await?;
    referral_notice::Entity::update_many()
        .col_expr(referral_notice::Column::Note, placeholder())
        .filter(referral_notice::Column::ReferralId.in_subquery(referrals_of(id)))
        .exec(txn)
        .await?;
    Ok(())
}

/// The appointments still ahead are cancelled: their slots free for others, since the client can
/// no longer sign in to cancel them and no one could reach them under an erased name. The
/// organisations holding the office hours hear of it through their webhooks, as of any other
/// cancellation (ids and times only).
async fn cancel_appointments_ahead(txn: &impl ConnectionTrait, id: Uuid, at: DateTime<Utc>) -> ApiResult<()> {
    let mut cancelled = appointment::Entity::update_many()
        .col_expr(appointment::Column::CancelledAt, Expr::value(at))
        .col_expr(appointment::Column::ActiveSlot, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(appointment::Column::ClientId.eq(id))
        .filter(appointment::Column::ActiveSlot.is_not_null())
        .filter(appointment::Column::StartsAt.gt(at))
        .exec_with_returning(txn)
        .await?;
    cancelled.sort_by_key(|a| (a.starts_at, a.id));
    crate::webhooks::appointment_events(txn, &cancelled, entities::WebhookEventType::AppointmentCancelled, at)
        .await
}

fn referrals_of(id: Uuid) -> SelectStatement {
    Query::select()
        .column(referral::Column::Id)
        .from(referral::Entity)
        .and_where(referral::Column::ClientId.eq(id))
        .to_owned()
}

fn help_requests_of(id: Uuid) -> SelectStatement {
    Query::select()
        .column(help_request::Column::Id)
        .from(help_request::Entity)
        .and_where(help_request::Column::ClientId.eq(id))
        .to_owned()
}

/// The referral statuses of a trajectory still under way.
pub const OPEN_REFERRAL: [ReferralStatus; 4] = [
    ReferralStatus::Requested,
    ReferralStatus::Received,
    ReferralStatus::Accepted,
    ReferralStatus::InProgress,
];

/// The clients the retention rule erases: not erased, not held, their trajectory closed (no open
/// help request, no open referral, no appointment still to come) and nothing happened in it
/// since `cutoff` (the client's record changed, a help request opened or closed, a referral
/// created or moved, an appointment made, held or cancelled, a case note written, a consent
/// given or revoked).
///
/// One condition on `clients`, so that the candidates are one query: "the latest activity lies
/// before the cutoff" is written as "no activity at or after it", a correlated `NOT EXISTS` per
/// kind that each table's `(client_id, …)` index answers, rather than computing every client's
/// latest date. The same condition, narrowed to one locked client, decides again inside the
/// erasure's transaction: a trajectory that came back to life between the two is left alone.
pub fn due_for_erasure(cutoff: DateTime<Utc>, now: DateTime<Utc>) -> Condition {
    let of_the_client = |column: Expr| column.equals((client::Entity, client::Column::Id));
    let none = |query: SelectStatement| Expr::exists(query).not();
    let help_requests = Query::select()
        .expr(Expr::val(1))
        .from(help_request::Entity)
        .and_where(of_the_client(Expr::col((help_request::Entity, help_request::Column::ClientId))))
        .cond_where(
            Condition::any()
                .add(help_request::Column::Status.eq(HelpRequestStatus::Open))
                .add(help_request::Column::OpenedAt.gte(cutoff))
                .add(help_request::Column::ClosedAt.gte(cutoff)),
        )
        .to_owned();
    let referrals = Query::select()
        .expr(Expr::val(1))
        .from(referral::Entity)
        .and_where(of_the_client(Expr::col((referral::Entity, referral::Column::ClientId))))
        .cond_where(
            Condition::any()
                .add(referral::Column::Status.is_in(OPEN_REFERRAL))
                .add(referral::Column::CreatedAt.gte(cutoff))
                .add(referral::Column::UpdatedAt.gte(cutoff)),
        )
        .to_owned();
    let referral_events = Query::select()
        .expr(Expr::val(1))
        .from(referral_event::Entity)
        .inner_join(
            referral::Entity,
            Expr::col((referral::Entity, referral::Column::Id))
                .equals((referral_event::Entity, referral_event::Column::ReferralId)),
        )
        .and_where(of_the_client(Expr::col((referral::Entity, referral::Column::ClientId))))
        .and_where(Expr::col((referral_event::Entity, referral_event::Column::At)).gte(cutoff))
        .to_owned();
    let appointments = Query::select()
        .expr(Expr::val(1))
        .from(appointment::Entity)
        .and_where(of_the_client(Expr::col((appointment::Entity, appointment::Column::ClientId))))
        .cond_where(
            Condition::any()
                // Still to come (and not cancelled): the trajectory is not closed.
                .add(
                    Condition::all()
                        .add(appointment::Column::StartsAt.gte(now))
                        .add(appointment::Column::CancelledAt.is_null()),
                )
                .add(appointment::Column::StartsAt.gte(cutoff))
                .add(appointment::Column::CreatedAt.gte(cutoff))
                .add(appointment::Column::CancelledAt.gte(cutoff)),
        )
        .to_owned();
    let case_notes = Query::select()
        .expr(Expr::val(1))
        .from(case_note::Entity)
        .and_where(of_the_client(Expr::col((case_note::Entity, case_note::Column::ClientId))))
        .cond_where(
            Condition::any()
                .add(case_note::Column::CreatedAt.gte(cutoff))
                .add(case_note::Column::NotedAt.gte(cutoff)),
        )
        .to_owned();
    let consents = Query::select()
        .expr(Expr::val(1))
        .from(consent::Entity)
        .and_where(of_the_client(Expr::col((consent::Entity, consent::Column::ClientId))))
        .cond_where(
            Condition::any()
                .add(consent::Column::GivenAt.gte(cutoff))
                .add(consent::Column::RevokedAt.gte(cutoff)),
        )
        .to_owned();
    Condition::all()
        .add(client::Column::ErasedAt.is_null())
        .add(client::Column::LegalHoldAt.is_null())
        .add(client::Column::CreatedAt.lt(cutoff))
        .add(client::Column::UpdatedAt.lt(cutoff))
        .add(none(help_requests))
        .add(none(referrals))
        .add(none(referral_events))
        .add(none(appointments))
        .add(none(case_notes))
        .add(none(consents))
}

/// The ids of the clients the retention rule erases now, in one query, in the order of their ids.
pub async fn retention_candidates(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Uuid>> {
    Ok(client::Entity::find()
        .select_only()
        .column(client::Column::Id)
        .filter(due_for_erasure(cutoff, now))
        .order_by_asc(client::Column::Id)
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// Whether the client `id` is (still) due for erasure, read inside the erasure's transaction.
pub async fn still_due(
    txn: &impl ConnectionTrait,
    id: Uuid,
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    Ok(client::Entity::find_by_id(id)
        .select_only()
        .column(client::Column::Id)
        .filter(due_for_erasure(cutoff, now))
        .into_tuple::<Uuid>()
        .one(txn)
        .await?
        .is_some())
}

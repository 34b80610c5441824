//! Referrals: created by the welfare house's staff, answered by the recipient, cancelled by the
//! sender; every change is an event, written with the change and its audit entry.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{SubsecRound, Utc};
use entities::{
    HelpRequestStatus, ReferralStatus as Status, client, consent, help_request, organisation, referral,
    referral_event, service, service_life_domain,
};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{conflict_on_unique, text};
use crate::audit::record_change;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::events::EventBus;
use crate::guards::RoleIn;
use crate::lifecycle::{needs_note, needs_reason, side_for};
use crate::policy::{self, INTAKE_STAFF, REFERRAL_CHANGERS};
use crate::types::referral::Referral;
use crate::types::{LifeDomain, ReferralStatus, RejectionReason, parse_id};

#[derive(Default)]
pub struct ReferralMutation;

/// The key that makes a retried `createReferral` return the first result (the HTTP
/// `Idempotency-Key` header).
#[derive(Clone, Debug)]
pub struct IdempotencyKey(pub String);

/// A referral of a client to a partner.
#[derive(InputObject)]
pub struct CreateReferralInput {
    pub client_id: ID,
    /// The help request the referral answers; it must be the client's.
    pub help_request_id: Option<ID>,
    /// The network partner the client is referred to.
    pub recipient_id: ID,
    /// One of the recipient's services.
    pub service_id: Option<ID>,
    /// A life domain the recipient's services answer to.
    pub life_domain: LifeDomain,
    pub reason: String,
    /// Makes a retry return the first result, like the `Idempotency-Key` header.
    pub client_mutation_id: Option<String>,
}

#[Object]
impl ReferralMutation {
    /// Refers a client to a network partner. The client must have an active consent for that
    /// partner; the referral starts as REQUESTED.
    #[graphql(guard = "RoleIn(INTAKE_STAFF)", visible = "crate::policy::visible::intake")]
    async fn create_referral(&self, ctx: &Context<'_>, input: CreateReferralInput) -> ApiResult<Referral> {
        let caller = crate::caller_of(ctx)?;
        let sender = caller.organisation_id().ok_or(ApiError::Forbidden)?;
        let key = idempotency_key(ctx, input.client_mutation_id.as_deref())?;
        let db = crate::db_of(ctx)?;
        if let Some(key) = &key {
            if let Some(first) = earlier_result(db, caller, key).await? {
                return Ok(Referral(first));
            }
        }
        let client_id = parse_id(&input.client_id, "input.clientId")?;
        let recipient_id = parse_id(&input.recipient_id, "input.recipientId")?;
        let help_request_id =
            input.help_request_id.as_ref().map(|id| parse_id(id, "input.helpRequestId")).transpose()?;
        let service_id = input.service_id.as_ref().map(|id| parse_id(id, "input.serviceId")).transpose()?;
        let domain: entities::LifeDomain = input.life_domain.into();
        let reason = text("input.reason", &input.reason, 2000)?;

        let txn = crate::write_transaction(ctx).await?;
        check_referral(&txn, caller, sender, client_id, recipient_id, help_request_id, service_id, domain)
            .await?;
        let now = Utc::now().trunc_subsecs(6);
        let inserted = referral::ActiveModel {
            id: Set(Uuid::now_v7()),
            client_id: Set(client_id),
            help_request_id: Set(help_request_id),
            sender_id: Set(sender),
            recipient_id: Set(recipient_id),
            service_id: Set(service_id),
            life_domain: Set(domain),
            reason: Set(reason),
            status: Set(Status::Requested),
            version: Set(1),
            outcome_note: Set(None),
            rejection_reason: Set(None),
            created_by: Set(caller.user_id()),
            idempotency_key: Set(key.clone()),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await;
        let row = match inserted {
            Ok(row) => row,
            // A concurrent retry with the same key won the race: answer with its result.
            Err(err) => {
                let err = conflict_on_unique(err, "duplicate idempotency key");
                drop(txn);
                if let (ApiError::Conflict(_), Some(key)) = (&err, &key) {
                    if let Some(first) = earlier_result(db, caller, key).await? {
                        return Ok(Referral(first));
                    }
                }
                return Err(err);
            }
        };
        let event_id =
            event(&txn, caller, row.id, None, Status::Requested, Notes::default(), None, now).await?;
        record_change(ctx, &txn, "CREATE", "Referral", row.id, Some(client_id)).await?;
        crate::webhooks::referral_event(&txn, &row, entities::WebhookEventType::ReferralCreated, now).await?;
        announce_and_commit(ctx, txn, event_id).await?;
        Ok(Referral(row))
    }

    /// Moves a referral along its closed loop. `expectedVersion` must be the version you read:
    /// when someone changed the referral since, the change is refused with CONFLICT. REJECTED and
    /// COMPLETED need a `note` for the sender, REJECTED a `reason` too. `noteForClient` is what
    /// the client reads of this step in their own view (the `note` is for the sender only).
    #[graphql(guard = "RoleIn(REFERRAL_CHANGERS)", visible = "crate::policy::visible::referral_changing")]
    async fn change_referral_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ReferralStatus,
        expected_version: i32,
        note: Option<String>,
        reason: Option<RejectionReason>,
        note_for_client: Option<String>,
    ) -> ApiResult<Referral> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let to: Status = status.into();
        let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if needs_note(to) && note.is_none() {
            return Err(ApiError::bad_input("note", format!("a {to} referral needs a note for the sender")));
        }
        if let Some(note) = &note {
            text("note", note, 4000)?;
        }
        let note_for_client = note_for_client.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if let Some(note) = &note_for_client {
            text("noteForClient", note, 4000)?;
        }
        let notes = Notes { for_sender: note, for_client: note_for_client };
        let reason: Option<entities::RejectionReason> = reason.map(Into::into);
        match (needs_reason(to), reason) {
            (true, None) => return Err(ApiError::bad_input("reason", "a rejection needs a reason")),
            (false, Some(_)) => return Err(ApiError::bad_input("reason", "only a rejection takes a reason")),
            _ => {}
        }

        let txn = crate::write_transaction(ctx).await?;
        let current = referral::Entity::find_by_id(id)
            .filter(policy::referrals(caller))
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound("referral"))?;
        let from = current.status;
        let side = side_for(from, to)
            .ok_or_else(|| ApiError::Conflict(format!("a {from} referral cannot become {to}")))?;
        if !policy::may_change_referral(caller, &current, side) {
            return Err(ApiError::Forbidden);
        }
        crate::erasure::refuse_if_erased(&txn, current.client_id).await?;
        let now = Utc::now().trunc_subsecs(6);
        // Compare-and-set on the version: of two changes made on one version, exactly one wins.
        let outcome = if needs_note(to) { notes.for_sender.clone() } else { current.outcome_note.clone() };
        let updated = referral::Entity::update_many()
            .col_expr(referral::Column::Status, Expr::value(to))
            .col_expr(referral::Column::Version, Expr::col(referral::Column::Version).add(1))
            .col_expr(referral::Column::OutcomeNote, Expr::value(outcome))
            .col_expr(referral::Column::RejectionReason, Expr::value(reason))
            .col_expr(referral::Column::UpdatedAt, Expr::value(now))
            .filter(referral::Column::Id.eq(id))
            .filter(referral::Column::Version.eq(expected_version))
            .exec(&txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(ApiError::Conflict(format!(
                "the referral changed since version {expected_version}: it is at version {}; read it again",
                current.version
            )));
        }
        let event_id = event(&txn, caller, id, Some(from), to, notes, reason, now).await?;
        record_change(ctx, &txn, "STATUS_CHANGE", "Referral", id, Some(current.client_id)).await?;
        if to.is_final() {
            close_finished_help_request(&txn, current.help_request_id, now).await?;
        }
        let row = referral::Entity::find_by_id(id).one(&txn).await?.ok_or(ApiError::Internal)?;
        crate::webhooks::referral_event(&txn, &row, entities::WebhookEventType::ReferralStatusChanged, now)
            .await?;
        announce_and_commit(ctx, txn, event_id).await?;
        Ok(Referral(row))
    }
}

/// The key of this creation, from the header or the input.
fn idempotency_key(ctx: &Context<'_>, from_input: Option<&str>) -> ApiResult<Option<String>> {
    let key = from_input
        .map(str::to_owned)
        .or_else(|| ctx.data_opt::<IdempotencyKey>().map(|k| k.0.clone()))
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty());
    if key.as_ref().is_some_and(|k| k.len() > 200) {
        return Err(ApiError::bad_input("clientMutationId", "at most 200 characters"));
    }
    Ok(key)
}

/// The referral this caller created earlier with the same key.
async fn earlier_result(
    db: &impl ConnectionTrait,
    caller: &Caller,
    key: &str,
) -> ApiResult<Option<referral::Model>> {
    let Some(user) = caller.user_id() else { return Ok(None) };
    Ok(referral::Entity::find()
        .filter(referral::Column::CreatedBy.eq(user))
        .filter(referral::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// Everything a new referral must satisfy, checked inside its transaction.
#[allow(clippy::too_many_arguments)]
async fn check_referral(
    txn: &DatabaseTransaction,
    caller: &Caller,
    sender: Uuid,
    client_id: Uuid,
    recipient_id: Uuid,
    help_request_id: Option<Uuid>,
    service_id: Option<Uuid>,
    domain: entities::LifeDomain,
) -> ApiResult<()> {
    client::Entity::find_by_id(client_id)
        .filter(policy::clients(caller))
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::bad_input("input.clientId", "no such client"))
        .and_then(crate::erasure::not_erased)?;
    let recipient = organisation::Entity::find_by_id(recipient_id)
        .one(txn)
        .await?
        .filter(|o| o.is_network_partner && o.active && o.id != sender)
        .ok_or_else(|| ApiError::bad_input("input.recipientId", "not a network partner you can refer to"))?;
    if let Some(help_request) = help_request_id {
        // Locked, so that closing it (which checks its open referrals) waits for this one.
        let found = help_request::Entity::find_by_id(help_request)
            .filter(help_request::Column::ClientId.eq(client_id))
            .lock_exclusive()
            .one(txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.helpRequestId", "not a help request of this client"))?;
        if found.status == HelpRequestStatus::Closed {
            return Err(ApiError::Conflict(format!(
                "help request {help_request} is closed: refer on a new one"
            )));
        }
    }
    let covered = service_life_domain::Entity::find()
        .filter(service_life_domain::Column::LifeDomain.eq(domain))
        .filter(
            service_life_domain::Column::ServiceId.in_subquery(
                Query::select()
                    .column(service::Column::Id)
                    .from(service::Entity)
                    .and_where(service::Column::OrganisationId.eq(recipient_id))
                    .and_where(service_id.map_or(Expr::cust("1 = 1"), |s| service::Column::Id.eq(s)))
                    .to_owned(),
            ),
        )
        .count(txn)
        .await?;
    if covered == 0 {
        return Err(match service_id {
            Some(_) => ApiError::bad_input(
                "input.serviceId",
                format!("not a service of {} answering {domain}", recipient.name),
            ),
            None => ApiError::bad_input(
                "input.lifeDomain",
                format!("{} offers no service for {domain}", recipient.name),
            ),
        });
    }
    let consented = consent::Entity::find()
        .filter(consent::Column::ClientId.eq(client_id))
        .filter(consent::Column::RecipientId.eq(recipient_id))
        .filter(consent::Column::RevokedAt.is_null())
        .count(txn)
        .await?;
    if consented == 0 {
        return Err(ApiError::ConsentMissing(recipient.name));
    }
    Ok(())
}

/// Commits a change with its event, announcing the event to subscribers on every replica.
async fn announce_and_commit(ctx: &Context<'_>, txn: DatabaseTransaction, event: Uuid) -> ApiResult<()> {
    let bus = ctx.data::<EventBus>().map_err(|_| ApiError::internal("schema without event bus"))?;
    let backend = txn.get_database_backend();
    bus.announce(&txn, event).await?;
    txn.commit().await?;
    bus.committed(backend, event);
    Ok(())
}

/// What a step says: to the sender (`note`), and to the client.
#[derive(Default)]
struct Notes {
    for_sender: Option<String>,
    for_client: Option<String>,
}

/// Appends an event to a referral's history; returns its id.
#[allow(clippy::too_many_arguments)]
async fn event(
    txn: &DatabaseTransaction,
    caller: &Caller,
    referral_id: Uuid,
    from: Option<Status>,
    to: Status,
    notes: Notes,
    reason: Option<entities::RejectionReason>,
    at: chrono::DateTime<Utc>,
) -> ApiResult<Uuid> {
    let id = Uuid::now_v7();
    referral_event::ActiveModel {
        id: Set(id),
        referral_id: Set(referral_id),
        from_status: Set(from),
        to_status: Set(to),
        note: Set(notes.for_sender),
        note_for_client: Set(notes.for_client),
        rejection_reason: Set(reason),
        actor_user_id: Set(caller.user_id()),
        actor_organisation_id: Set(caller.organisation_id()),
        at: Set(at),
    }
    .insert(txn)
    .await?;
    Ok(id)
}

/// A help request all of whose referrals reached a final status is closed.
async fn close_finished_help_request(
    txn: &DatabaseTransaction,
    help_request_id: Option<Uuid>,
    now: chrono::DateTime<Utc>,
) -> ApiResult<()> {
    let Some(help_request_id) = help_request_id else { return Ok(()) };
    let open = referral::Entity::find()
        .filter(referral::Column::HelpRequestId.eq(help_request_id))
        .filter(referral::Column::Status.is_in(Status::OPEN.to_vec()))
        .count(txn)
        .await?;
    if open == 0 {
        help_request::Entity::update_many()
            .col_expr(help_request::Column::Status, Expr::value(HelpRequestStatus::Closed))
            .col_expr(help_request::Column::ClosedAt, Expr::value(now))
            .filter(help_request::Column::Id.eq(help_request_id))
            .filter(help_request::Column::Status.eq(HelpRequestStatus::Open))
            .exec(txn)
            .await?;
    }
    Ok(())
}

//! A help request after intake: its summary and life domains corrected, and closed with an
//! outcome once no referral of it is still open.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{SubsecRound, Utc};
use entities::{HelpRequestStatus, ReferralStatus, help_request, help_request_life_domain, referral};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use super::text;
use crate::audit::record_change;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, HELP_REQUEST_WRITERS};
use crate::types::help_request::HelpRequest;
use crate::types::{LifeDomain, parse_id};

#[derive(Default)]
pub struct HelpRequestMutation;

/// What changes in a help request: what is given (a field left out or `null` stays as it is).
#[derive(InputObject)]
pub struct UpdateHelpRequestInput {
    pub summary: Option<String>,
    /// Replaces the life domains; at least one.
    pub life_domains: Option<Vec<LifeDomain>>,
}

/// A help request's changes, checked.
struct Changes {
    summary: Option<String>,
    life_domains: Option<Vec<entities::LifeDomain>>,
}

impl Changes {
    fn parse(input: UpdateHelpRequestInput) -> ApiResult<Self> {
        let summary = input.summary.map(|s| text("input.summary", &s, 4000)).transpose()?;
        let life_domains = match input.life_domains {
            Some(domains) => {
                let mut domains: Vec<entities::LifeDomain> = domains.into_iter().map(Into::into).collect();
                domains.sort();
                domains.dedup();
                if domains.is_empty() {
                    return Err(ApiError::bad_input("input.lifeDomains", "name at least one life domain"));
                }
                Some(domains)
            }
            None => None,
        };
        if summary.is_none() && life_domains.is_none() {
            return Err(ApiError::bad_input("input", "give a summary or life domains to change"));
        }
        Ok(Changes { summary, life_domains })
    }
}

#[Object]
impl HelpRequestMutation {
    /// Changes a help request's summary and/or life domains. A closed help request is CONFLICT.
    #[graphql(
        guard = "RoleIn(HELP_REQUEST_WRITERS)",
        visible = "crate::policy::visible::help_request_writing"
    )]
    async fn update_help_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateHelpRequestInput,
    ) -> ApiResult<HelpRequest> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let changes = Changes::parse(input)?;

        let txn = crate::write_transaction(ctx).await?;
        let current = locked_help_request(&txn, caller, id).await?;
        if current.status == HelpRequestStatus::Closed {
            return Err(ApiError::Conflict(format!("help request {id} is closed: it no longer changes")));
        }
        if let Some(summary) = changes.summary {
            help_request::Entity::update_many()
                .col_expr(help_request::Column::Summary, Expr::value(summary))
                .filter(help_request::Column::Id.eq(id))
                .exec(&txn)
                .await?;
        }
        if let Some(domains) = changes.life_domains {
            replace_life_domains(&txn, id, domains).await?;
        }
        record_change(ctx, &txn, "UPDATE", "HelpRequest", id, Some(current.client_id)).await?;
        let row = help_request::Entity::find_by_id(id).one(&txn).await?.ok_or(ApiError::Internal)?;
        txn.commit().await?;
        Ok(HelpRequest(row))
    }

    /// Closes a help request with what came of it. While a referral of it is still open (not
    /// REJECTED, COMPLETED or CANCELLED), CONFLICT naming those referrals. A help request that
    /// its last referral's answer closed takes its outcome this way too (it keeps its closing
    /// time); one closed with an outcome is CONFLICT.
    #[graphql(
        guard = "RoleIn(HELP_REQUEST_WRITERS)",
        visible = "crate::policy::visible::help_request_writing"
    )]
    async fn close_help_request(&self, ctx: &Context<'_>, id: ID, outcome: String) -> ApiResult<HelpRequest> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let outcome = text("outcome", &outcome, 4000)?;

        let txn = crate::write_transaction(ctx).await?;
        let current = locked_help_request(&txn, caller, id).await?;
        if current.outcome.is_some() {
            return Err(ApiError::Conflict(format!("help request {id} is closed already, with its outcome")));
        }
        refuse_open_referrals(&txn, id).await?;
        let closed_at = current.closed_at.unwrap_or_else(|| Utc::now().trunc_subsecs(6));
        help_request::Entity::update_many()
            .col_expr(help_request::Column::Status, Expr::value(HelpRequestStatus::Closed))
            .col_expr(help_request::Column::ClosedAt, Expr::value(closed_at))
            .col_expr(help_request::Column::Outcome, Expr::value(outcome))
            .col_expr(help_request::Column::ClosedBy, Expr::value(caller.user_id()))
            .filter(help_request::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        record_change(ctx, &txn, "CLOSE", "HelpRequest", id, Some(current.client_id)).await?;
        let row = help_request::Entity::find_by_id(id).one(&txn).await?.ok_or(ApiError::Internal)?;
        txn.commit().await?;
        Ok(HelpRequest(row))
    }
}

/// The help request, locked for this change (on PostgreSQL; SQLite's writer holds the whole
/// database): NOT_FOUND outside the caller's scope.
async fn locked_help_request(
    txn: &DatabaseTransaction,
    caller: &Caller,
    id: Uuid,
) -> ApiResult<help_request::Model> {
    let row = help_request::Entity::find_by_id(id)
        .filter(policy::help_requests(caller))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("help request"))?;
    crate::erasure::refuse_if_erased(txn, row.client_id).await?;
    Ok(row)
}

/// CONFLICT naming the referrals of the help request that are not in a final status.
async fn refuse_open_referrals(txn: &DatabaseTransaction, id: Uuid) -> ApiResult<()> {
    let open: Vec<Uuid> = referral::Entity::find()
        .select_only()
        .column(referral::Column::Id)
        .filter(referral::Column::HelpRequestId.eq(id))
        .filter(referral::Column::Status.is_in(ReferralStatus::OPEN.to_vec()))
        .order_by_asc(referral::Column::CreatedAt)
        .into_tuple()
        .all(txn)
        .await?;
    if open.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = open.iter().map(Uuid::to_string).collect();
    Err(ApiError::Conflict(format!(
        "help request {id} has open referrals: {}; they must be completed, rejected or cancelled first",
        ids.join(", ")
    )))
}

/// Replaces the life domains of a help request.
async fn replace_life_domains(
    txn: &DatabaseTransaction,
    id: Uuid,
    domains: Vec<entities::LifeDomain>,
) -> ApiResult<()> {
    help_request_life_domain::Entity::delete_many()
        .filter(help_request_life_domain::Column::HelpRequestId.eq(id))
        .exec(txn)
        .await?;
    help_request_life_domain::Entity::insert_many(domains.into_iter().map(|life_domain| {
        help_request_life_domain::ActiveModel { help_request_id: Set(id), life_domain: Set(life_domain) }
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

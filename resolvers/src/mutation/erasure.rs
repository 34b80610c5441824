//! Erasing a client's data on request, and the legal hold that stops erasure (ADMIN).

use async_graphql::{Context, ID, Object};
use chrono::{SubsecRound, Utc};
use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};

use super::text;
use crate::audit::record_change;
use crate::erasure::{self, Erasure};
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::ERASERS;
use crate::types::client::Client;
use crate::types::parse_id;

/// The longest reason of an erasure or a hold.
const REASON_MAX: usize = 500;

#[derive(Default)]
pub struct ErasureMutation;

#[Object]
impl ErasureMutation {
    /// Erases the client's personal data and every free text about them (names read
    /// "[gewist]"; date of birth, national register number, address, contact and language are
    /// gone; help request summaries and outcomes, all versions of case notes, referral reasons
    /// and notes, consent purposes likewise), keeping the shape of their trajectory (ids,
    /// statuses, dates, life domains, organisations) so that the figures do not change. One
    /// transaction. Erasing an erased client changes nothing and answers the client; a client
    /// under a legal hold is CONFLICT. The client can no longer sign in.
    ///
    /// `reason` is required, so that an erasure is a stated, deliberate act, but it is not
    /// stored anywhere, the audit log included: it is free text about the very person being
    /// erased (it often names them, or their request), and anything kept would outlive the
    /// erasure it explains — in the append-only audit log, for ever. The audit row (who, when,
    /// `ERASE`, the client's id) is the trace; the request itself is filed where the house keeps
    /// its correspondence.
    #[graphql(guard = "RoleIn(ERASERS)", visible = "crate::policy::visible::erasure")]
    async fn erase_client(&self, ctx: &Context<'_>, id: ID, reason: String) -> ApiResult<Client> {
        let id = parse_id(&id, "id")?;
        text("reason", &reason, REASON_MAX)?;
        let txn = crate::write_transaction(ctx).await?;
        match erasure::erase(&txn, id, Utc::now().trunc_subsecs(6)).await? {
            Erasure::Erased(client) => {
                record_change(ctx, &txn, erasure::ERASE, "Client", id, Some(id)).await?;
                txn.commit().await?;
                Ok(Client(client))
            }
            Erasure::AlreadyErased(client) => Ok(Client(client)),
        }
    }

    /// Puts a legal hold on the client: while it is on, `eraseClient` is CONFLICT and the
    /// retention rule leaves them alone. The reason (say, the court case) is kept with the
    /// client, for administrators only, and never in the audit log. Holding a held client
    /// replaces the reason and keeps the date the hold began; an erased client has nothing left
    /// to hold: CONFLICT.
    #[graphql(guard = "RoleIn(ERASERS)", visible = "crate::policy::visible::erasure")]
    async fn hold_client(&self, ctx: &Context<'_>, id: ID, reason: String) -> ApiResult<Client> {
        let id = parse_id(&id, "id")?;
        let reason = text("reason", &reason, REASON_MAX)?;
        let txn = crate::write_transaction(ctx).await?;
        let current = erasure::lock_client(&txn, id).await?;
        if current.erased_at.is_some() {
            return Err(ApiError::Conflict("this client's data was erased: there is nothing to hold".into()));
        }
        let now = Utc::now().trunc_subsecs(6);
        let since = current.legal_hold_at.unwrap_or(now);
        let mut row = current.into_active_model();
        row.legal_hold_at = Set(Some(since));
        row.legal_hold_reason = Set(Some(reason));
        let held = row.update(&txn).await?;
        record_change(ctx, &txn, "HOLD", "Client", id, Some(id)).await?;
        txn.commit().await?;
        Ok(Client(held))
    }

    /// Lifts the client's legal hold (its reason goes with it). A client without one is
    /// answered as they are.
    #[graphql(guard = "RoleIn(ERASERS)", visible = "crate::policy::visible::erasure")]
    async fn release_client_hold(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Client> {
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        let current = erasure::lock_client(&txn, id).await?;
        if current.legal_hold_at.is_none() {
            return Ok(Client(current));
        }
        let mut row = current.into_active_model();
        row.legal_hold_at = Set(None);
        row.legal_hold_reason = Set(None);
        let released = row.update(&txn).await?;
        record_change(ctx, &txn, "RELEASE_HOLD", "Client", id, Some(id)).await?;
        txn.commit().await?;
        Ok(Client(released))
    }
}

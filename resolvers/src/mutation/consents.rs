//! Consent: what a client agrees to share with one organisation. Recorded and revoked by the
//! welfare house's staff; a revocation takes effect on the very next request.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{SubsecRound, Utc};
use entities::{client, consent, organisation};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use crate::audit::record_change;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, CONSENT_RECORDERS};
use crate::types::consent::Consent;
use crate::types::{ConsentScope, parse_id};

#[derive(Default)]
pub struct ConsentMutation;

/// A client's consent to share data categories with one organisation.
#[derive(InputObject)]
pub struct RecordConsentInput {
    pub client_id: ID,
    /// The organisation that may see the data.
    pub recipient_id: ID,
    /// The data categories it may see; at least one.
    pub scopes: Vec<ConsentScope>,
    /// What the data may be used for (default: referral and follow-up).
    pub purpose: Option<String>,
}

const DEFAULT_PURPOSE: &str = "Doorverwijzing en opvolging";

#[Object]
impl ConsentMutation {
    /// Records a client's consent. Staff of the welfare house only.
    #[graphql(guard = "RoleIn(CONSENT_RECORDERS)", visible = "crate::policy::visible::consent_recording")]
    async fn record_consent(&self, ctx: &Context<'_>, input: RecordConsentInput) -> ApiResult<Consent> {
        let caller = crate::caller_of(ctx)?;
        let client_id = parse_id(&input.client_id, "input.clientId")?;
        let recipient_id = parse_id(&input.recipient_id, "input.recipientId")?;
        let scopes: Vec<entities::ConsentScope> = input.scopes.into_iter().map(Into::into).collect();
        if scopes.is_empty() {
            return Err(ApiError::bad_input("input.scopes", "name at least one data category"));
        }
        let purpose = input.purpose.map(|p| p.trim().to_owned()).unwrap_or_else(|| DEFAULT_PURPOSE.into());
        if purpose.is_empty() || purpose.len() > 500 {
            return Err(ApiError::bad_input("input.purpose", "must be 1 to 500 characters"));
        }

        let txn = crate::write_transaction(ctx).await?;
        client::Entity::find_by_id(client_id)
            .filter(policy::clients(caller))
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.clientId", "no such client"))?;
        // A deactivated organisation has left the network: no one there could act on a consent.
        organisation::Entity::find_by_id(recipient_id)
            .one(&txn)
            .await?
            .filter(|o| o.active)
            .ok_or_else(|| ApiError::bad_input("input.recipientId", "no such active organisation"))?;
        let has = |scope| scopes.contains(&scope);
        let row = consent::ActiveModel {
            id: Set(Uuid::now_v7()),
            client_id: Set(client_id),
            recipient_id: Set(recipient_id),
            scope_identity: Set(has(entities::ConsentScope::Identity)),
            scope_contact: Set(has(entities::ConsentScope::Contact)),
            scope_national_number: Set(has(entities::ConsentScope::NationalNumber)),
            scope_situation: Set(has(entities::ConsentScope::Situation)),
            purpose: Set(purpose),
            recorded_by: Set(caller.user_id()),
            given_at: Set(Utc::now().trunc_subsecs(6)),
            revoked_at: Set(None),
            revoked_by: Set(None),
        }
        .insert(&txn)
        .await?;
        record_change(ctx, &txn, "CREATE", "Consent", row.id, Some(client_id)).await?;
        txn.commit().await?;
        Ok(Consent(row))
    }

    /// Revokes a consent; from the next request on, the recipient no longer sees what it opened.
    #[graphql(guard = "RoleIn(CONSENT_RECORDERS)", visible = "crate::policy::visible::consent_recording")]
    async fn revoke_consent(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Consent> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let txn = crate::write_transaction(ctx).await?;
        let found = consent::Entity::find_by_id(id)
            .filter(policy::consents(caller))
            .one(&txn)
            .await?
            .ok_or(ApiError::NotFound("consent"))?;
        if found.revoked_at.is_some() {
            return Err(ApiError::Conflict("this consent is already revoked".into()));
        }
        let client_id = found.client_id;
        let mut row = found.into_active_model();
        row.revoked_at = Set(Some(Utc::now().trunc_subsecs(6)));
        row.revoked_by = Set(caller.user_id());
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "REVOKE", "Consent", row.id, Some(client_id)).await?;
        txn.commit().await?;
        Ok(Consent(row))
    }
}

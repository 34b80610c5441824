//! Consent: what a client agrees to share with one organisation. Given by the client themself
//! (signed in) or recorded at the desk by the welfare house's staff, who say so on the consent;
//! revoked by either; a revocation takes effect on the very next operation of the recipient.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{SubsecRound, Utc};
use entities::{client, consent, organisation};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use crate::audit::record_change;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, CONSENT_GIVERS, CONSENT_RECORDERS, CONSENT_REVOKERS};
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

/// A consent the client gives themself.
#[derive(InputObject)]
pub struct GrantConsentInput {
    /// The organisation that may see the data.
    pub recipient_id: ID,
    /// The data categories it may see; at least one.
    pub scopes: Vec<ConsentScope>,
    /// What the data may be used for, in the client's words or the form's.
    pub purpose: String,
}

const DEFAULT_PURPOSE: &str = "Doorverwijzing en opvolging";

/// A consent as asked: checked input, not yet written.
struct Asked {
    client_id: Uuid,
    recipient_id: Uuid,
    scopes: Vec<entities::ConsentScope>,
    purpose: String,
}

impl Asked {
    fn check(client_id: Uuid, recipient: &ID, scopes: Vec<ConsentScope>, purpose: String) -> ApiResult<Self> {
        let recipient_id = parse_id(recipient, "input.recipientId")?;
        let scopes: Vec<entities::ConsentScope> = scopes.into_iter().map(Into::into).collect();
        if scopes.is_empty() {
            return Err(ApiError::bad_input("input.scopes", "name at least one data category"));
        }
        let purpose = purpose.trim().to_owned();
        if purpose.is_empty() || purpose.chars().count() > 500 || purpose.chars().any(char::is_control) {
            return Err(ApiError::bad_input("input.purpose", "must be 1 to 500 characters, on one line"));
        }
        Ok(Asked { client_id, recipient_id, scopes, purpose })
    }
}

#[Object]
impl ConsentMutation {
    /// Records a consent the client gave at the desk. Staff of the welfare house only; the
    /// consent says who recorded it.
    #[graphql(guard = "RoleIn(CONSENT_RECORDERS)", visible = "crate::policy::visible::consent_recording")]
    async fn record_consent(&self, ctx: &Context<'_>, input: RecordConsentInput) -> ApiResult<Consent> {
        let client_id = parse_id(&input.client_id, "input.clientId")?;
        let purpose = input.purpose.unwrap_or_else(|| DEFAULT_PURPOSE.into());
        let asked = Asked::check(client_id, &input.recipient_id, input.scopes, purpose)?;
        write_consent(ctx, asked).await
    }

    /// Gives consent as the client, for your own data: which organisation may see which
    /// categories, and for what.
    #[graphql(guard = "RoleIn(CONSENT_GIVERS)", visible = "crate::policy::visible::consent_giving")]
    async fn grant_consent(&self, ctx: &Context<'_>, input: GrantConsentInput) -> ApiResult<Consent> {
        let caller = crate::caller_of(ctx)?;
        let me = caller.client_id().ok_or(ApiError::Forbidden)?;
        if !policy::may_give_consent_for(caller, me) {
            return Err(ApiError::Forbidden);
        }
        write_consent(ctx, Asked::check(me, &input.recipient_id, input.scopes, input.purpose)?).await
    }

    /// Revokes a consent; from its next operation on, the recipient no longer sees what it
    /// opened. Staff revoke any; a client their own.
    #[graphql(guard = "RoleIn(CONSENT_REVOKERS)", visible = "crate::policy::visible::consent_revoking")]
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
        row.revoked_by_client = Set(caller.client_id().is_some());
        let row = row.update(&txn).await?;
        record_change(ctx, &txn, "REVOKE", "Consent", row.id, Some(client_id)).await?;
        txn.commit().await?;
        Ok(Consent(row))
    }
}

/// Writes a consent: the client must exist for the caller (a client: themself), the recipient be
/// an active organisation. Who gave it (the client, or staff at the desk) is kept on the row.
async fn write_consent(ctx: &Context<'_>, asked: Asked) -> ApiResult<Consent> {
    let caller = crate::caller_of(ctx)?;
    let Asked { client_id, recipient_id, scopes, purpose } = asked;
    let txn = crate::write_transaction(ctx).await?;
    client::Entity::find_by_id(client_id)
        .filter(policy::clients(caller))
        .one(&txn)
        .await?
        .ok_or_else(|| ApiError::bad_input("input.clientId", "no such client"))
        .and_then(crate::erasure::not_erased)?;
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
        given_by_client: Set(caller.client_id().is_some()),
        revoked_by_client: Set(false),
    }
    .insert(&txn)
    .await?;
    record_change(ctx, &txn, "CREATE", "Consent", row.id, Some(client_id)).await?;
    txn.commit().await?;
    Ok(Consent(row))
}

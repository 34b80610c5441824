//! A client's data after registration: changed by the welfare house's staff, and a duplicate
//! merged into the client kept by an administrator.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{NaiveDate, SubsecRound, Utc};
use entities::client;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::client_fields::{self as fields, Address};
use super::conflict_on_unique;
use super::intake::AddressInput;
use crate::audit::record_change;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::merge::{Merge, merge_clients};
use crate::policy::{self, CLIENT_EDITORS, CLIENT_MERGERS};
use crate::types::client::Client;
use crate::types::parse_id;

#[derive(Default)]
pub struct ClientMutation;

/// What changes in a client's data: what is given. A field left out stays as it is; `null` (or
/// an empty text) clears it, except the names, which cannot be cleared.
#[derive(InputObject)]
pub struct UpdateClientInput {
    pub given_name: MaybeUndefined<String>,
    pub family_name: MaybeUndefined<String>,
    pub date_of_birth: MaybeUndefined<NaiveDate>,
    /// Checked like at registration; a number another client holds is CONFLICT.
    pub national_register_number: MaybeUndefined<String>,
    pub address: MaybeUndefined<AddressInput>,
    pub phone: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub preferred_language: MaybeUndefined<String>,
}

/// A change of one field: `None` leaves it, `Some(value)` sets it (`Some(None)` clears it).
type Change<T> = Option<Option<T>>;

/// A client's changes, checked.
struct ClientChanges {
    given_name: Option<String>,
    family_name: Option<String>,
    date_of_birth: Change<NaiveDate>,
    national_register_number: Change<String>,
    address: Change<Address>,
    phone: Change<String>,
    email: Change<String>,
    preferred_language: Change<String>,
}

/// A given field through its check; `null` as "clear".
fn change<T, U>(
    value: MaybeUndefined<T>,
    check: impl FnOnce(Option<T>) -> ApiResult<Option<U>>,
) -> ApiResult<Change<U>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => check(None).map(Some),
        MaybeUndefined::Value(value) => check(Some(value)).map(Some),
    }
}

/// A name: given, it must not be empty; it cannot be cleared.
fn name_change(field: &str, value: MaybeUndefined<String>) -> ApiResult<Option<String>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(ApiError::bad_input(field, "cannot be cleared")),
        MaybeUndefined::Value(name) => fields::name(field, &name).map(Some),
    }
}

impl ClientChanges {
    fn parse(input: UpdateClientInput) -> ApiResult<Self> {
        let changes = ClientChanges {
            given_name: name_change("input.givenName", input.given_name)?,
            family_name: name_change("input.familyName", input.family_name)?,
            date_of_birth: change(input.date_of_birth, |d| fields::date_of_birth("input.dateOfBirth", d))?,
            national_register_number: change(input.national_register_number, |n| {
                fields::national_number("input.nationalRegisterNumber", n)
            })?,
            address: change(input.address, |a| a.map(|a| fields::address("input.address", a)).transpose())?,
            phone: change(input.phone, |p| fields::phone("input.phone", p))?,
            email: change(input.email, |e| fields::email("input.email", e))?,
            preferred_language: change(input.preferred_language, |l| {
                fields::language("input.preferredLanguage", l)
            })?,
        };
        if changes.is_empty() {
            return Err(ApiError::bad_input("input", "give at least one field to change"));
        }
        Ok(changes)
    }

    fn is_empty(&self) -> bool {
        self.given_name.is_none()
            && self.family_name.is_none()
            && self.date_of_birth.is_none()
            && self.national_register_number.is_none()
            && self.address.is_none()
            && self.phone.is_none()
            && self.email.is_none()
            && self.preferred_language.is_none()
    }

    /// The row with the changes applied.
    fn apply(self, row: client::Model) -> client::ActiveModel {
        let mut row = row.into_active_model();
        if let Some(given) = self.given_name {
            row.given_name = Set(given);
        }
        if let Some(family) = self.family_name {
            row.family_name = Set(family);
        }
        if let Some(born) = self.date_of_birth {
            row.date_of_birth = Set(born);
        }
        if let Some(number) = self.national_register_number {
            row.national_register_number = Set(number);
        }
        if let Some(address) = self.address {
            row.street = Set(address.as_ref().and_then(|a| a.street.clone()));
            row.postcode = Set(address.as_ref().map(|a| a.postcode.clone()));
            row.municipality = Set(address.map(|a| a.municipality));
        }
        if let Some(phone) = self.phone {
            row.phone = Set(phone);
        }
        if let Some(email) = self.email {
            row.email = Set(email);
        }
        if let Some(language) = self.preferred_language {
            row.preferred_language = Set(language);
        }
        row.updated_at = Set(Utc::now().trunc_subsecs(6));
        row
    }
}

#[Object]
impl ClientMutation {
    /// Changes a client's data: what is given changes. A national register number that another
    /// client holds is CONFLICT naming that client (merge them if they are one person).
    #[graphql(guard = "RoleIn(CLIENT_EDITORS)", visible = "crate::policy::visible::client_editing")]
    async fn update_client(&self, ctx: &Context<'_>, id: ID, input: UpdateClientInput) -> ApiResult<Client> {
        let caller = crate::caller_of(ctx)?;
        let id = parse_id(&id, "id")?;
        let changes = ClientChanges::parse(input)?;

        let txn = crate::write_transaction(ctx).await?;
        let current = client_in_scope(&txn, caller, id).await?;
        if let Some(Some(number)) = &changes.national_register_number {
            refuse_number_of_another(&txn, caller, id, number).await?;
        }
        let row = changes
            .apply(current)
            .update(&txn)
            .await
            .map_err(|e| conflict_on_unique(e, "another client holds this national register number"))?;
        record_change(ctx, &txn, "UPDATE", "Client", id, Some(id)).await?;
        txn.commit().await?;
        Ok(Client(row))
    }

    /// Merges the duplicate `mergeId` into `keepId`, and answers the kept client: every help
    /// request, consent, referral, appointment and case note of the duplicate moves to it, its
    /// empty fields take the duplicate's values, and the duplicate's id is gone (NOT_FOUND from
    /// then on; the audit log reads its rows as the kept client's). Two different national
    /// register numbers are two people: CONFLICT.
    #[graphql(guard = "RoleIn(CLIENT_MERGERS)", visible = "crate::policy::visible::client_merging")]
    async fn merge_clients(&self, ctx: &Context<'_>, keep_id: ID, merge_id: ID) -> ApiResult<Client> {
        let caller = crate::caller_of(ctx)?;
        let keep_id = parse_id(&keep_id, "keepId")?;
        let merge_id = parse_id(&merge_id, "mergeId")?;
        if keep_id == merge_id {
            return Err(ApiError::bad_input("mergeId", "a client cannot be merged into itself"));
        }

        let txn = crate::write_transaction(ctx).await?;
        let (kept, duplicate) = pair_in_scope(&txn, caller, keep_id, merge_id).await?;
        let merge = Merge::now(caller.user_id(), Utc::now().trunc_subsecs(6));
        let merged = merge_clients(&txn, kept, duplicate, merge).await?;
        record_change(ctx, &txn, "MERGE", "Client", merge_id, Some(keep_id)).await?;
        txn.commit().await?;
        Ok(Client(merged.kept))
    }
}

/// The client, locked for this change (on PostgreSQL); NOT_FOUND outside the caller's scope.
async fn client_in_scope(txn: &DatabaseTransaction, caller: &Caller, id: Uuid) -> ApiResult<client::Model> {
    client::Entity::find_by_id(id)
        .filter(policy::clients(caller))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(ApiError::NotFound("client"))
        .and_then(crate::erasure::not_erased)
}

/// Both clients of a merge, locked in one statement in the order of their ids, so that two
/// merges of the same pair (either way round) wait for each other instead of deadlocking; the
/// second then finds one of them gone (NOT_FOUND).
async fn pair_in_scope(
    txn: &DatabaseTransaction,
    caller: &Caller,
    keep: Uuid,
    merge: Uuid,
) -> ApiResult<(client::Model, client::Model)> {
    let mut rows = client::Entity::find()
        .filter(client::Column::Id.is_in([keep, merge]))
        .filter(policy::clients(caller))
        .order_by_asc(client::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    let mut take = |id: Uuid| {
        let at = rows.iter().position(|c| c.id == id).ok_or(ApiError::NotFound("client"))?;
        Ok::<_, ApiError>(rows.swap_remove(at))
    };
    let checked = |client| crate::erasure::not_erased(client).and_then(crate::erasure::not_held);
    let kept = take(keep).and_then(checked)?;
    Ok((kept, take(merge).and_then(checked)?))
}

/// CONFLICT when another client holds `number` (the number is unique over all clients), naming
/// that client to a caller who reads every client.
async fn refuse_number_of_another(
    txn: &DatabaseTransaction,
    caller: &Caller,
    id: Uuid,
    number: &str,
) -> ApiResult<()> {
    let holder = client::Entity::find()
        .filter(client::Column::NationalRegisterNumber.eq(number))
        .filter(client::Column::Id.ne(id))
        .one(txn)
        .await?;
    match holder {
        Some(other) if policy::may_search_clients(caller) => Err(ApiError::Conflict(format!(
            "client {} holds this national register number already: if they are one person, merge them",
            other.id
        ))),
        Some(_) => Err(ApiError::Conflict("another client holds this national register number".into())),
        None => Ok(()),
    }
}

//! Merging a duplicate client into the client kept: everything the duplicate held (help
//! requests, consents, referrals, appointments, case notes, earlier merges into it) moves to the
//! kept client, the kept client's empty fields take the duplicate's values, the duplicate's row
//! is deleted, and a `client_merges` row says which id went where. All inside the caller's
//! transaction: it happens entirely or not at all.
//!
//! What could collide, and how it is handled:
//! - two different national register numbers: two people, not a duplicate: CONFLICT, nothing
//!   merged. A number only the duplicate holds moves to the kept client (after the duplicate's
//!   row is gone, so the unique index never sees it twice);
//! - consents: the kept client's word on sharing with an organisation stands. Where the kept
//!   client has any consent with an organisation — given or revoked — the duplicate's active
//!   consents to it are revoked by the merge (and kept, as history): a merge never brings back
//!   what the client withdrew, nor widens what they gave. A consent to an organisation the kept
//!   client never decided on moves as it is: it is the same person's word;
//! - any unique rule of the database that a move would break (one a later migration adds):
//!   CONFLICT, nothing merged;
//! - a table referencing clients that this module does not move: its foreign key refuses the
//!   duplicate's deletion, and nothing is merged (the merge test lists every reference).
//!
//! The audit log is append-only and keeps the duplicate's id on the rows written before the
//! merge; they are read as the kept client's through `client_merges` ([`crate::audit::of_client`]).

use chrono::{DateTime, Utc};
use entities::{appointment, case_note, client, client_merge, consent, help_request, referral};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// What a merge did.
pub struct Merged {
    /// The kept client as it is after the merge.
    pub kept: client::Model,
    /// The trace of the merge.
    pub trace: client_merge::Model,
}

/// Who merges, when, and the id of the merge's trace.
pub struct Merge {
    pub by: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub trace_id: Uuid,
}

impl Merge {
    /// A merge by `by`, now.
    pub fn now(by: Option<Uuid>, at: DateTime<Utc>) -> Self {
        Merge { by, at, trace_id: Uuid::now_v7() }
    }
}

/// Merges `duplicate` into `kept` (both already read, inside `txn`).
pub async fn merge_clients(
    txn: &impl ConnectionTrait,
    kept: client::Model,
    duplicate: client::Model,
    merge: Merge,
) -> ApiResult<Merged> {
    if kept.id == duplicate.id {
        return Err(ApiError::bad_input("mergeId", "a client cannot be merged into itself"));
    }
    let combined = combine(kept, &duplicate, merge.at)?;
    keep_the_kept_clients_word(txn, combined.id, duplicate.id, &merge).await?;
    let moved = move_references(txn, duplicate.id, combined.id).await?;
    // A reference this module does not move makes the deletion fail: a fault of ours (the merge
    // test lists every reference), not the caller's conflict.
    let deleted =
        client::Entity::delete_by_id(duplicate.id).exec(txn).await.map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => ApiError::internal(err),
            _ => collision(err),
        })?;
    if deleted.rows_affected != 1 {
        return Err(ApiError::NotFound("client"));
    }
    let kept = combined.into_active_model().reset_all().update(txn).await.map_err(collision)?;
    let trace = client_merge::ActiveModel {
        id: Set(merge.trace_id),
        kept_client_id: Set(kept.id),
        merged_client_id: Set(duplicate.id),
        merged_by: Set(merge.by),
        merged_at: Set(merge.at),
        moved: Set(moved.iter().map(|(table, n)| format!("{table}={n}")).collect::<Vec<_>>().join(",")),
    }
    .insert(txn)
    .await
    .map_err(collision)?;
    Ok(Merged { kept, trace })
}

/// The kept client with the gaps filled from the duplicate: what the kept client holds wins.
fn combine(kept: client::Model, duplicate: &client::Model, now: DateTime<Utc>) -> ApiResult<client::Model> {
    if let (Some(a), Some(b)) = (&kept.national_register_number, &duplicate.national_register_number)
        && a != b
    {
        return Err(ApiError::Conflict(
            "the two clients have different national register numbers: they are two people, not a duplicate"
                .into(),
        ));
    }
    let or = |mine: Option<String>, theirs: &Option<String>| mine.or_else(|| theirs.clone());
    // An address is taken whole: the kept client's street never joins the duplicate's town.
    let has_address = kept.postcode.is_some() && kept.municipality.is_some();
    let (street, postcode, municipality) = if has_address {
        (kept.street, kept.postcode, kept.municipality)
    } else {
        (duplicate.street.clone(), duplicate.postcode.clone(), duplicate.municipality.clone())
    };
    Ok(client::Model {
        date_of_birth: kept.date_of_birth.or(duplicate.date_of_birth),
        national_register_number: or(kept.national_register_number, &duplicate.national_register_number),
        street,
        postcode,
        municipality,
        phone: or(kept.phone, &duplicate.phone),
        email: or(kept.email, &duplicate.email),
        preferred_language: or(kept.preferred_language, &duplicate.preferred_language),
        updated_at: now,
        ..kept
    })
}

/// Revokes the duplicate's active consents to the organisations the kept client has decided on.
async fn keep_the_kept_clients_word(
    txn: &impl ConnectionTrait,
    kept: Uuid,
    duplicate: Uuid,
    merge: &Merge,
) -> ApiResult<()> {
    let decided = sea_orm::sea_query::Query::select()
        .column(consent::Column::RecipientId)
        .from(consent::Entity)
        .and_where(consent::Column::ClientId.eq(kept))
        .to_owned();
    consent::Entity::update_many()
        .col_expr(consent::Column::RevokedAt, Expr::value(merge.at))
        .col_expr(consent::Column::RevokedBy, Expr::value(merge.by))
        .filter(consent::Column::ClientId.eq(duplicate))
        .filter(consent::Column::RevokedAt.is_null())
        .filter(consent::Column::RecipientId.in_subquery(decided))
        .exec(txn)
        .await?;
    Ok(())
}

/// Points every row of the duplicate at the kept client; returns how many moved, per table.
async fn move_references(
    txn: &impl ConnectionTrait,
    from: Uuid,
    to: Uuid,
) -> ApiResult<Vec<(&'static str, u64)>> {
    Ok(vec![
        ("appointments", repoint(txn, appointment::Entity, appointment::Column::ClientId, from, to).await?),
        ("case_notes", repoint(txn, case_note::Entity, case_note::Column::ClientId, from, to).await?),
        (
            "client_merges",
            repoint(txn, client_merge::Entity, client_merge::Column::KeptClientId, from, to).await?,
        ),
        ("consents", repoint(txn, consent::Entity, consent::Column::ClientId, from, to).await?),
        (
            "help_requests",
            repoint(txn, help_request::Entity, help_request::Column::ClientId, from, to).await?,
        ),
        ("referrals", repoint(txn, referral::Entity, referral::Column::ClientId, from, to).await?),
    ])
}

/// `UPDATE <table> SET <column> = to WHERE <column> = from`; the rows changed.
async fn repoint<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    _: E,
    column: E::Column,
    from: Uuid,
    to: Uuid,
) -> ApiResult<u64> {
    let updated = E::update_many()
        .col_expr(column, Expr::value(to))
        .filter(column.eq(from))
        .exec(txn)
        .await
        .map_err(collision)?;
    Ok(updated.rows_affected)
}

/// A unique rule broken by the merge is a conflict of the two clients' data; anything else is
/// an error of ours.
fn collision(err: sea_orm::DbErr) -> ApiError {
    crate::mutation::conflict_on_unique(
        err,
        "merging these two clients would break a uniqueness rule of their data: nothing was merged",
    )
}

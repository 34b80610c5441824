//! Case notes: written by the welfare house's staff on a client, optionally on one of its help
//! requests. A correction is a new version of the note; the version it corrects is kept.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, SubsecRound, Utc};
use entities::{case_note, client, help_request};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{conflict_on_unique, text};
use crate::audit::record_change;
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::guards::RoleIn;
use crate::policy::{self, CASE_NOTE_WRITERS};
use crate::types::case_note::CaseNote;
use crate::types::parse_id;

#[derive(Default)]
pub struct CaseNoteMutation;

/// A case note, or a correction of one.
#[derive(InputObject)]
pub struct AddCaseNoteInput {
    pub client_id: ID,
    /// One of the client's help requests the note is about. A correction stays on the help
    /// request of the note it corrects.
    pub help_request_id: Option<ID>,
    pub body: String,
    /// Whether the client may read the note (default: no; a correction keeps what it corrects).
    pub shared_with_client: Option<bool>,
    /// The current version of a note this one corrects: the new version replaces it in lists,
    /// and the corrected one stays readable in `versions`.
    pub corrects_id: Option<ID>,
}

/// The longest note.
const MAX_BODY: usize = 20_000;

/// A note's input, checked.
struct NewNote {
    client_id: Uuid,
    help_request_id: Option<Uuid>,
    body: String,
    shared_with_client: Option<bool>,
    corrects_id: Option<Uuid>,
}

impl NewNote {
    fn parse(input: AddCaseNoteInput) -> ApiResult<Self> {
        Ok(NewNote {
            client_id: parse_id(&input.client_id, "input.clientId")?,
            help_request_id: input
                .help_request_id
                .as_ref()
                .map(|id| parse_id(id, "input.helpRequestId"))
                .transpose()?,
            body: text("input.body", &input.body, MAX_BODY)?,
            shared_with_client: input.shared_with_client,
            corrects_id: input.corrects_id.as_ref().map(|id| parse_id(id, "input.correctsId")).transpose()?,
        })
    }
}

#[Object]
impl CaseNoteMutation {
    /// Writes a case note on a client (and perhaps one of its help requests), as you, now. With
    /// `correctsId`, the note is a new version of that note: CONFLICT when that version was
    /// corrected already (correct the current one).
    #[graphql(guard = "RoleIn(CASE_NOTE_WRITERS)", visible = "crate::policy::visible::case_note_writing")]
    async fn add_case_note(&self, ctx: &Context<'_>, input: AddCaseNoteInput) -> ApiResult<CaseNote> {
        let caller = crate::caller_of(ctx)?;
        let author = caller.user_id().ok_or(ApiError::Forbidden)?;
        let note = NewNote::parse(input)?;
        let now = Utc::now().trunc_subsecs(6);

        let txn = crate::write_transaction(ctx).await?;
        client::Entity::find_by_id(note.client_id)
            .filter(policy::clients(caller))
            .one(&txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.clientId", "no such client"))
            .and_then(crate::erasure::not_erased)?;
        let row = match note.corrects_id {
            None => first_version(&txn, caller, note, author, now).await?,
            Some(corrected) => correction(&txn, caller, note, corrected, author, now).await?,
        };
        let action = if row.version == 1 { "CREATE" } else { "CORRECT" };
        record_change(ctx, &txn, action, "CaseNote", row.id, Some(row.client_id)).await?;
        txn.commit().await?;
        Ok(CaseNote(row))
    }
}

/// A new note: version 1 of a thread of its own.
async fn first_version(
    txn: &DatabaseTransaction,
    caller: &Caller,
    note: NewNote,
    author: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<case_note::Model> {
    if let Some(help_request) = note.help_request_id {
        help_request::Entity::find_by_id(help_request)
            .filter(help_request::Column::ClientId.eq(note.client_id))
            .filter(policy::help_requests(caller))
            .one(txn)
            .await?
            .ok_or_else(|| ApiError::bad_input("input.helpRequestId", "not a help request of this client"))?;
    }
    let id = Uuid::now_v7();
    let row = case_note::ActiveModel {
        id: Set(id),
        client_id: Set(note.client_id),
        help_request_id: Set(note.help_request_id),
        thread_id: Set(id),
        version: Set(1),
        author_id: Set(author),
        body: Set(note.body),
        shared_with_client: Set(note.shared_with_client.unwrap_or(false)),
        noted_at: Set(now),
        created_at: Set(now),
        superseded_at: Set(None),
    };
    Ok(row.insert(txn).await?)
}

/// The next version of the note `corrected`, which must be the client's and current.
async fn correction(
    txn: &DatabaseTransaction,
    caller: &Caller,
    note: NewNote,
    corrected: Uuid,
    author: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<case_note::Model> {
    let previous = case_note::Entity::find_by_id(corrected)
        .filter(policy::case_notes(caller))
        .lock_exclusive()
        .one(txn)
        .await?
        .filter(|n| n.client_id == note.client_id)
        .ok_or_else(|| ApiError::bad_input("input.correctsId", "not a case note of this client"))?;
    if note.help_request_id.is_some_and(|h| Some(h) != previous.help_request_id) {
        return Err(ApiError::bad_input(
            "input.helpRequestId",
            "a correction stays on the help request of the note it corrects",
        ));
    }
    supersede(txn, &previous, now).await?;
    let row = case_note::ActiveModel {
        id: Set(Uuid::now_v7()),
        client_id: Set(previous.client_id),
        help_request_id: Set(previous.help_request_id),
        thread_id: Set(previous.thread_id),
        version: Set(previous.version + 1),
        author_id: Set(author),
        body: Set(note.body),
        shared_with_client: Set(note.shared_with_client.unwrap_or(previous.shared_with_client)),
        noted_at: Set(previous.noted_at),
        created_at: Set(now),
        superseded_at: Set(None),
    };
    // Two corrections of one version: the unique (thread, version) lets exactly one in.
    row.insert(txn).await.map_err(|e| conflict_on_unique(e, &corrected_already(previous.id)))
}

/// Marks `previous` as replaced, if it is still the current version.
async fn supersede(
    txn: &DatabaseTransaction,
    previous: &case_note::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let updated = case_note::Entity::update_many()
        .col_expr(case_note::Column::SupersededAt, Expr::value(now))
        .filter(case_note::Column::Id.eq(previous.id))
        .filter(case_note::Column::SupersededAt.is_null())
        .exec(txn)
        .await?;
    if updated.rows_affected == 1 {
        return Ok(());
    }
    let current = case_note::Entity::find()
        .filter(case_note::Column::ThreadId.eq(previous.thread_id))
        .filter(case_note::Column::SupersededAt.is_null())
        .one(txn)
        .await?;
    Err(ApiError::Conflict(match current {
        Some(current) => format!("{}: its current version is {}", corrected_already(previous.id), current.id),
        None => corrected_already(previous.id),
    }))
}

fn corrected_already(id: Uuid) -> String {
    format!("case note {id} was corrected already; correct its current version")
}

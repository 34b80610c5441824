//! The loaders of case notes: the current version of each note on a help request or a client,
//! and every version of one note. Each adds the case note scope, so no path reaches a note a
//! caller may not read.

use std::collections::HashMap;

use entities::case_note;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{CaseNotesOf, Fetch, Loaders, columns, group, ids, rekey};
use crate::connection::{Keep, capped_children, caps};
use crate::error::ApiResult;
use crate::policy;

key!(
    /// The case notes of a client (current versions), oldest first.
    CaseNotesOfClient,
    /// Every version of a case note, by the id of its first version, oldest first.
    CaseNoteVersionsOf,
);

/// The order of a list of notes: their place in the timeline (when the first version was
/// written), so that a corrected note stays where it was.
fn timeline() -> Vec<sea_orm::sea_query::Expr> {
    columns::<case_note::Entity>(&[case_note::Column::NotedAt, case_note::Column::ThreadId])
}

impl Loaders {
    /// The current versions of the notes whose `parent` column is one of `keys`, at most `cap`
    /// per parent (the most recent), within the caller's scope.
    async fn current_notes(
        &self,
        parent: case_note::Column,
        keys: Vec<Uuid>,
        cap: usize,
    ) -> ApiResult<Vec<case_note::Model>> {
        capped_children(
            &self.db,
            case_note::Entity::find()
                .filter(parent.is_in(keys))
                .filter(case_note::Column::SupersededAt.is_null())
                .filter(policy::case_notes(&self.caller)),
            parent,
            &timeline(),
            Keep::Last,
            cap,
        )
        .await
    }
}

impl Fetch<CaseNotesOf> for Loaders {
    type Value = Vec<case_note::Model>;
    async fn fetch(&self, keys: &[CaseNotesOf]) -> ApiResult<HashMap<CaseNotesOf, Self::Value>> {
        let rows = self
            .current_notes(case_note::Column::HelpRequestId, ids(keys), caps::CASE_NOTES_PER_HELP_REQUEST)
            .await?;
        let mut map: HashMap<CaseNotesOf, Self::Value> = HashMap::new();
        for note in rows {
            // Every row has one: it was selected by its help request.
            if let Some(help_request) = note.help_request_id {
                map.entry(CaseNotesOf(help_request)).or_default().push(note);
            }
        }
        Ok(map)
    }
}

impl Fetch<CaseNotesOfClient> for Loaders {
    type Value = Vec<case_note::Model>;
    async fn fetch(&self, keys: &[CaseNotesOfClient]) -> ApiResult<HashMap<CaseNotesOfClient, Self::Value>> {
        let rows =
            self.current_notes(case_note::Column::ClientId, ids(keys), caps::CASE_NOTES_PER_CLIENT).await?;
        Ok(rekey(group(rows, |n| n.client_id), CaseNotesOfClient))
    }
}

impl Fetch<CaseNoteVersionsOf> for Loaders {
    type Value = Vec<case_note::Model>;
    async fn fetch(
        &self,
        keys: &[CaseNoteVersionsOf],
    ) -> ApiResult<HashMap<CaseNoteVersionsOf, Self::Value>> {
        let rows = capped_children(
            &self.db,
            case_note::Entity::find()
                .filter(case_note::Column::ThreadId.is_in(ids(keys)))
                .filter(policy::case_notes(&self.caller)),
            case_note::Column::ThreadId,
            &columns::<case_note::Entity>(&[case_note::Column::Version]),
            Keep::Last,
            caps::VERSIONS_PER_CASE_NOTE,
        )
        .await?;
        Ok(rekey(group(rows, |n| n.thread_id), CaseNoteVersionsOf))
    }
}

//! A note of the welfare house's staff on a client, optionally on one of its help requests;
//! never shown to partners. Notes are kept in versions: a correction is a new row of the same
//! thread with the next version, and the row it corrects is kept, marked `superseded_at`.

#[allow(unused_imports)]
use crate::enums::*;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub help_request_id: Option<Uuid>,
    /// The id of the note's first version; every version of one note shares it.
    pub thread_id: Uuid,
    /// 1 for the first version, one more for each correction.
    pub version: i32,
    /// Who wrote this version.
    pub author_id: Uuid,
    pub body: String,
    /// A note the client may read (once clients sign in).
    pub shared_with_client: bool,
    /// When the first version was written: the note's place in the timeline.
    pub noted_at: DateTimeUtc,
    /// When this version was written.
    pub created_at: DateTimeUtc,
    /// When a correction replaced this version; `None` for the current version.
    pub superseded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! The parsed documents of recent requests, by their text.
//!
//! Apps send the same few documents over and over, and parsing one is a large part of a small
//! request: 3 % of the partner inbox's instructions and 15 % of a social map search's
//! (bench/RESULTS.md, session 13). Only the parse is kept: every check after it (limits, the
//! caller's role, introspection) runs for every request.
//!
//! Each caller finds only the parses of the texts it sent itself (a user, a signed-in citizen;
//! the public is one caller). A parse kept is an answer a little quicker, and a text can hold a
//! name: shared, the time of one probe could tell anyone whether a worker had just searched for
//! that name.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::parser::types::ExecutableDocument;
use uuid::Uuid;

/// How many documents are kept, and the longest text kept: together they bound the memory the
/// cache can take (a parsed document is some ten times its text).
const ENTRIES: NonZeroUsize = NonZeroUsize::new(64).unwrap();
const MAX_TEXT_BYTES: usize = 4 * 1024;

/// Whose texts: a user's id, a signed-in citizen's client id, `None` for the public.
pub(crate) type Sender = Option<Uuid>;

type Documents = lru::LruCache<(Sender, String), Arc<ExecutableDocument>>;

#[derive(Clone)]
pub(crate) struct Parsed(Arc<Mutex<Documents>>);

impl Default for Parsed {
    fn default() -> Self {
        Parsed(Arc::new(Mutex::new(lru::LruCache::new(ENTRIES))))
    }
}

impl Parsed {
    /// `text` parsed, or the parse of the same text `sender` sent before. A text that does not
    /// parse is not kept: its error is worked out again each time.
    pub(crate) fn parse(&self, sender: Sender, text: &str) -> async_graphql::parser::Result<Arc<ExecutableDocument>> {
        let key = (sender, text.to_owned());
        if let Some(document) = self.documents().get(&key) {
            return Ok(document.clone());
        }
        let document = Arc::new(async_graphql::parser::parse_query(text)?);
        if text.len() <= MAX_TEXT_BYTES {
            self.documents().put(key, document.clone());
        }
        Ok(document)
    }

    fn documents(&self) -> MutexGuard<'_, Documents> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

//! The parsed documents of recent requests, by their text.
//!
//! Apps send the same few documents over and over, and parsing one is a large part of a small
//! request: 3 % of the partner inbox's instructions and 15 % of a social map search's
//! (bench/RESULTS.md, session 13). Only the parse is shared: every check after it (limits, the
//! caller's role, introspection) runs for every request, whoever sent the text before.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::parser::types::ExecutableDocument;

/// How many documents are kept, and the longest text kept: together they bound the memory the
/// cache can take (a parsed document is some ten times its text).
const ENTRIES: NonZeroUsize = NonZeroUsize::new(64).unwrap();
const MAX_TEXT_BYTES: usize = 4 * 1024;

#[derive(Clone)]
pub(crate) struct Parsed(Arc<Mutex<lru::LruCache<String, Arc<ExecutableDocument>>>>);

impl Default for Parsed {
    fn default() -> Self {
        Parsed(Arc::new(Mutex::new(lru::LruCache::new(ENTRIES))))
    }
}

impl Parsed {
    /// `text` parsed, or the parse of the same text kept from before. A text that does not parse
    /// is not kept: its error is worked out again each time.
    pub(crate) fn parse(&self, text: &str) -> async_graphql::parser::Result<Arc<ExecutableDocument>> {
        if let Some(document) = self.documents().get(text) {
            return Ok(document.clone());
        }
        let document = Arc::new(async_graphql::parser::parse_query(text)?);
        if text.len() <= MAX_TEXT_BYTES {
            self.documents().put(text.to_owned(), document.clone());
        }
        Ok(document)
    }

    fn documents(&self) -> MutexGuard<'_, lru::LruCache<String, Arc<ExecutableDocument>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

//! The parsed documents of recent requests, by their text.
//!
//! Apps send the same few documents over and over, and parsing one is a large part of a small
//! request: 3 % of the partner inbox's instructions and 15 % of a social map search's
//! (bench/RESULTS.md, session 13). Only the parse is kept, and only once every check after it
//! (limits, the caller's role, introspection) has passed; those checks still run for every
//! request.
//!
//! Each caller finds only the parses of the texts it sent itself (a user, a signed-in citizen;
//! the public is one caller). A parse kept is an answer a little quicker, and a text can hold a
//! name: shared, the time of one probe could tell anyone whether a worker had just searched for
//! that name.

use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::parser::types::ExecutableDocument;
use uuid::Uuid;

/// What the kept parses may weigh together, in estimated bytes: a text's own bytes (its key,
/// and its strings again in the parse) and `TOKEN_BYTES` per token for the parse's nodes
/// (async-graphql 7.2.1's parse was measured at 160-342 bytes a token: bench/RESULTS.md,
/// session 13).
const BUDGET: usize = 4 << 20;
const TOKEN_BYTES: usize = 384;
/// The heaviest parse kept: a sixteenth of the budget (the partner inbox weighs some 20 KB).
const MAX_WEIGHT: usize = BUDGET / 16;

/// Whose texts: a user's id, a signed-in citizen's client id, `None` for the public.
pub(crate) type Sender = Option<Uuid>;

type Key = (Sender, String);

struct Kept {
    documents: lru::LruCache<Key, (Arc<ExecutableDocument>, usize)>,
    weight: usize,
}

#[derive(Clone)]
pub(crate) struct Parsed(Arc<Mutex<Kept>>);

impl Default for Parsed {
    fn default() -> Self {
        Parsed(Arc::new(Mutex::new(Kept { documents: lru::LruCache::unbounded(), weight: 0 })))
    }
}

impl Parsed {
    /// The parse of `text` kept for `sender`, else `text` parsed now (and not kept: see
    /// [`Parsed::keep`]).
    pub(crate) fn parse(&self, sender: Sender, text: &str) -> async_graphql::parser::Result<Arc<ExecutableDocument>> {
        if let Some(document) = self.find(sender, text) {
            return Ok(document);
        }
        Ok(Arc::new(async_graphql::parser::parse_query(text)?))
    }

    /// The parse of `text` kept for `sender`, if any.
    pub(crate) fn find(&self, sender: Sender, text: &str) -> Option<Arc<ExecutableDocument>> {
        // No text longer than this was kept; the tokens were counted when it was (`weight`).
        if text.len() > MAX_WEIGHT {
            return None;
        }
        self.kept().documents.get(&(sender, text.to_owned())).map(|(document, _)| document.clone())
    }

    /// Keeps `document`, the parse of `text`, for `sender`'s next requests, when it is light
    /// enough; the least recently used parses make room.
    pub(crate) fn keep(&self, sender: Sender, text: &str, document: &Arc<ExecutableDocument>) {
        let Some(weight) = weight(text) else { return };
        let mut kept = self.kept();
        let kept = &mut *kept;
        if let Some((_, old)) = kept.documents.put((sender, text.to_owned()), (document.clone(), weight)) {
            kept.weight -= old;
        }
        kept.weight += weight;
        while kept.weight > BUDGET {
            match kept.documents.pop_lru() {
                Some((_, (_, gone))) => kept.weight -= gone,
                None => break,
            }
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The estimated weight of `text`'s parse, `None` when it is too heavy to keep.
fn weight(text: &str) -> Option<usize> {
    if text.len() > MAX_WEIGHT {
        return None;
    }
    let tokens = crate::limits::count_tokens(text, (MAX_WEIGHT - text.len()) / TOKEN_BYTES)?;
    Some(text.len() + tokens * TOKEN_BYTES)
}

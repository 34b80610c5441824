//! Documents known by their SHA-256: automatic persisted queries (Apollo's
//! `extensions.persistedQuery`: a client sends the hash alone, and the document once when the
//! server does not know it yet) and trusted documents (a configured list outside which partner
//! tokens may run nothing). Checked when a request is prepared, so HTTP and WebSocket alike.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::Request;
use resolvers::{ApiError, Caller};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Documents registered by clients that are kept per audience, least recently used first out.
const REGISTERED_DOCUMENTS: usize = 1_000;
/// And the bytes their text may take, per audience.
const REGISTERED_BYTES: usize = 4 * 1024 * 1024;

/// The known documents, shared by every request.
#[derive(Clone)]
pub struct Documents {
    /// From the trusted documents file: when present, the only ones partners may run.
    trusted: Option<Arc<HashMap<String, String>>>,
    /// Registered through automatic persisted queries, per audience (the public, or one
    /// organisation's users): no one can push another audience's documents out, nor learn by
    /// asking for a hash which documents another audience ran.
    registered: Arc<Mutex<HashMap<Option<Uuid>, Registered>>>,
}

/// Documents one audience registered, bounded by count and by bytes.
struct Registered {
    documents: lru::LruCache<String, String>,
    bytes: usize,
}

impl Registered {
    fn new() -> Self {
        let capacity = NonZeroUsize::new(REGISTERED_DOCUMENTS).expect("not zero");
        Registered { documents: lru::LruCache::new(capacity), bytes: 0 }
    }

    fn put(&mut self, hash: String, text: String) {
        if text.len() > REGISTERED_BYTES || self.documents.contains(&hash) {
            return;
        }
        self.bytes += text.len();
        if let Some((_, old)) = self.documents.push(hash, text) {
            self.bytes -= old.len();
        }
        while self.bytes > REGISTERED_BYTES {
            match self.documents.pop_lru() {
                Some((_, old)) => self.bytes -= old.len(),
                None => break,
            }
        }
    }
}

/// Whose registrations a caller's are: the public's, or its organisation's.
fn audience(caller: Option<&Caller>) -> Option<Uuid> {
    caller.and_then(Caller::organisation_id)
}

impl Default for Documents {
    fn default() -> Self {
        Documents::new(None)
    }
}

impl Documents {
    pub fn new(trusted: Option<HashMap<String, String>>) -> Self {
        Documents { trusted: trusted.map(Arc::new), registered: Arc::default() }
    }

    /// Reads a trusted documents file: a JSON object from SHA-256 (hex, optionally prefixed
    /// `sha256:`) to document. Every hash is checked against its document.
    pub fn parse_trusted(json: &str) -> Result<HashMap<String, String>, String> {
        let listed: HashMap<String, String> =
            serde_json::from_str(json).map_err(|e| format!("not a JSON object of hash to document: {e}"))?;
        listed
            .into_iter()
            .map(|(hash, document)| {
                let hash = hash.strip_prefix("sha256:").unwrap_or(&hash).to_ascii_lowercase();
                if sha256(&document) == hash {
                    Ok((hash, document))
                } else {
                    Err(format!("the document listed as {hash} has another SHA-256"))
                }
            })
            .collect()
    }

    /// The document with this hash, if it is trusted, or registered by `caller`'s audience or by
    /// the public (whose documents tell nothing about anyone).
    pub fn lookup(&self, hash: &str, caller: Option<&Caller>) -> Option<String> {
        if let Some(document) = self.trusted.as_ref().and_then(|t| t.get(hash)) {
            return Some(document.clone());
        }
        let mut registered = self.registered.lock().unwrap_or_else(|p| p.into_inner());
        let own = registered.get_mut(&audience(caller)).and_then(|own| own.documents.get(hash).cloned());
        own.or_else(|| registered.get_mut(&None).and_then(|public| public.documents.get(hash).cloned()))
    }

    /// Keeps a document sent with its hash, once it passed the checks of a request (it parses,
    /// keeps to the limits and names nothing outside the caller's schema).
    pub fn register(&self, hash: String, text: String, caller: &Caller) {
        let mut registered = self.registered.lock().unwrap_or_else(|p| p.into_inner());
        registered.entry(audience(Some(caller))).or_insert_with(Registered::new).put(hash, text);
    }

    /// Fills in a request sent by hash and refuses a partner's document that is not trusted
    /// (when trusted documents are configured); a document sent with its hash and not known yet
    /// comes back as its hash, to [`Documents::register`] once it passed the request's checks.
    pub fn resolve(
        &self,
        request: &mut Request,
        caller: Option<&Caller>,
    ) -> Result<Option<String>, ApiError> {
        let persisted = request.extensions.remove("persistedQuery").map(persisted_hash).transpose()?;
        let with_hash = persisted.is_some();
        let hash = match persisted {
            Some(hash) if request.query.is_empty() => {
                request.query = self.lookup(&hash, caller).ok_or(ApiError::PersistedQueryNotFound)?;
                hash
            }
            Some(hash) => {
                if sha256(&request.query) != hash {
                    return Err(ApiError::bad_input(
                        "extensions.persistedQuery.sha256Hash",
                        "is not the SHA-256 of the query",
                    ));
                }
                hash
            }
            None if self.trusted.is_some() => sha256(&request.query),
            None => return Ok(None),
        };
        let bound = caller.is_some_and(|c| resolvers::policy::TRUSTED_DOCUMENTS_ONLY.contains(&c.role));
        if let Some(trusted) = &self.trusted {
            if bound && !trusted.contains_key(&hash) {
                return Err(ApiError::UntrustedDocument);
            }
        }
        let known = self.trusted.as_ref().is_some_and(|t| t.contains_key(&hash))
            || self.lookup(&hash, caller).is_some();
        Ok((with_hash && !known).then_some(hash))
    }
}

fn persisted_hash(value: async_graphql::Value) -> Result<String, ApiError> {
    #[derive(serde::Deserialize)]
    struct Persisted {
        version: i32,
        #[serde(rename = "sha256Hash")]
        sha256_hash: String,
    }
    let persisted: Persisted = async_graphql::from_value(value).map_err(|_| {
        ApiError::bad_input("extensions.persistedQuery", "must be { version: 1, sha256Hash: \"…\" }")
    })?;
    if persisted.version != 1 {
        return Err(ApiError::bad_input("extensions.persistedQuery.version", "only version 1 is supported"));
    }
    Ok(persisted.sha256_hash.to_ascii_lowercase())
}

pub fn sha256(document: &str) -> String {
    Sha256::digest(document.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

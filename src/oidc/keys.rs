//! The provider's signing keys (its JWKS), cached. The set is fetched again when a token names a
//! key (`kid`) not in it — that is how a key rotation reaches us without a restart — and when it
//! is older than [`MAX_AGE`], so that a key the provider withdrew stops being accepted. Either
//! way at most once per [`MIN_REFETCH_INTERVAL`], one fetch at a time: tokens with made-up kids
//! cannot make us hammer the provider, however many arrive at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::fetch::Fetcher;

/// The least time between two fetches of the key set after the first.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// How long a fetched key set is used before it is fetched again.
pub const MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// One public key of the provider's.
pub struct Key {
    pub decoding: DecodingKey,
    /// The algorithm the key is for, when the JWKS says so: a token must then use that one.
    pub algorithm: Option<Algorithm>,
}

/// The keys by their id, and when they were fetched.
struct KeySet {
    keys: HashMap<String, Arc<Key>>,
    fetched_at: Instant,
}

pub struct KeyCache {
    jwks_uri: url::Url,
    fetcher: Fetcher,
    current: RwLock<Arc<KeySet>>,
    /// When the set was last fetched after the first time; held while a fetch runs, so that
    /// callers who need the same fetch wait for it instead of starting their own.
    last_refetch: tokio::sync::Mutex<Option<Instant>>,
}

impl KeyCache {
    /// Fetches the key set a first time: a provider whose keys cannot be read is refused at start.
    pub async fn load(jwks_uri: url::Url, fetcher: Fetcher) -> anyhow::Result<Self> {
        let set = fetch(&fetcher, &jwks_uri).await?;
        if set.keys.is_empty() {
            anyhow::bail!(
                "{jwks_uri} holds no signing key this server can use (RSA, EC or Ed25519 with a kid)"
            );
        }
        tracing::info!(keys = set.keys.len(), "OpenID provider's signing keys loaded");
        Ok(KeyCache {
            jwks_uri,
            fetcher,
            current: RwLock::new(Arc::new(set)),
            last_refetch: tokio::sync::Mutex::new(None),
        })
    }

    /// The key with id `kid`, fetching the set again when it is unknown or the set is old (within
    /// the bound on fetches).
    pub async fn key(&self, kid: &str) -> Option<Arc<Key>> {
        let set = self.current();
        match set.keys.get(kid) {
            Some(key) if set.fetched_at.elapsed() < MAX_AGE => Some(key.clone()),
            _ => self.refetch().await.keys.get(kid).cloned(),
        }
    }

    fn current(&self) -> Arc<KeySet> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The set fetched anew, unless it was fetched less than [`MIN_REFETCH_INTERVAL`] ago (while
    /// this caller waited its turn, say): then, or when the fetch fails, the set as it is.
    async fn refetch(&self) -> Arc<KeySet> {
        let mut last = self.last_refetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFETCH_INTERVAL) {
            return self.current();
        }
        *last = Some(Instant::now());
        match fetch(&self.fetcher, &self.jwks_uri).await {
            Ok(set) => {
                tracing::info!(keys = set.keys.len(), "OpenID provider's signing keys fetched again");
                let set = Arc::new(set);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = set.clone();
                set
            }
            Err(err) => {
                // The keys we have stay good until the provider answers again.
                tracing::warn!(error = format!("{err:#}"), "could not fetch the OpenID provider's keys");
                self.current()
            }
        }
    }
}

async fn fetch(fetcher: &Fetcher, jwks_uri: &url::Url) -> anyhow::Result<KeySet> {
    #[derive(serde::Deserialize)]
    struct Jwks {
        keys: Vec<serde_json::Value>,
    }
    let jwks: Jwks = fetcher.json(jwks_uri).await?;
    let keys = jwks.keys.into_iter().filter_map(signing_key).collect();
    Ok(KeySet { keys, fetched_at: Instant::now() })
}

/// A key of the set we may check signatures with, by its id: public (RSA, EC, Ed25519), meant
/// for signatures, with a kid. Anything else in the set — an encryption key, a symmetric key, a
/// key of an algorithm we do not know — is passed over, not a reason to refuse the whole set.
fn signing_key(value: serde_json::Value) -> Option<(String, Arc<Key>)> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    let kid = jwk.common.key_id.clone()?;
    if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature) {
        return None;
    }
    if !matches!(
        jwk.algorithm,
        AlgorithmParameters::RSA(_)
            | AlgorithmParameters::EllipticCurve(_)
            | AlgorithmParameters::OctetKeyPair(_)
    ) {
        return None;
    }
    let algorithm = match jwk.common.key_algorithm {
        None => None,
        Some(alg) => Some(asymmetric(alg)?),
    };
    let decoding = DecodingKey::from_jwk(&jwk).ok()?;
    Some((kid, Arc::new(Key { decoding, algorithm })))
}

/// The signature algorithm a JWK names, when it is one checked with a public key.
fn asymmetric(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

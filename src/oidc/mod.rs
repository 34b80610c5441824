//! Sign-in through the house's own OpenID Connect provider (`WELZIJNSHUIS_OIDC_ISSUER`,
//! `WELZIJNSHUIS_OIDC_AUDIENCE`).
//!
//! At start the provider's discovery document (`<issuer>/.well-known/openid-configuration`) and
//! signing keys are read; a provider that cannot be read, or that calls itself by another issuer,
//! stops the start with why. A token then passes when its header names a key (`kid`) of the
//! provider's key set with an asymmetric algorithm (never `none`, never HS*: a public key is no
//! shared secret), its signature holds, and its `iss`, `aud`, `exp` and `nbf` are right within a
//! minute of clock skew, and it lives no longer than any token may here.
//!
//! The token says only who signed in (`sub`); which user that is, is ours to say ([`pinning`]),
//! and the user's role and organisation come from our database on every operation.
//!
//! Citizens sign in through the same provider (in Belgium the federal login, with eID or
//! itsme), when `WELZIJNSHUIS_OIDC_CLIENT_CLAIM` names the claim that holds their national
//! register number (e.g. `rrn`). **The claim wins**: a token that carries it is a citizen's
//! sign-in, whatever its `sub` or e-mail address, and is let in only as the client with that
//! number (role CLIENT), never as a user; a token without it is a staff sign-in as before. So
//! staff must sign in through a provider client (or scope) that does not release that claim:
//! their own number would otherwise make them a client, if the house holds a file on them, or
//! be refused. With the setting unset the claim is ignored, and citizens cannot sign in here.

pub(crate) mod fetch;
pub mod keys;
pub mod pinning;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
use resolvers::ApiError;
use serde::Deserialize;

use crate::auth::{LEEWAY_SECS, check_lifetime};
use fetch::Fetcher;
use keys::KeyCache;

/// The house's OpenID Connect provider, as discovered at start, with its keys.
pub struct OpenIdProvider {
    issuer: String,
    audience: String,
    keys: KeyCache,
    max_ttl: chrono::Duration,
    /// The claim that holds a citizen's national register number, when citizens may sign in.
    client_claim: Option<String>,
}

/// Who a valid token says signed in.
#[derive(Debug)]
pub struct Identity {
    /// The provider's `sub`.
    pub subject: String,
    /// The `email` claim, only when the provider vouches for it (`email_verified` true).
    pub verified_email: Option<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// What the client claim (`WELZIJNSHUIS_OIDC_CLIENT_CLAIM`) says, as text, when it is
    /// configured and the token carries it: then this is a citizen's sign-in. Not parsed yet.
    pub national_number: Option<String>,
}

/// `sub` is at most 255 ASCII characters (OpenID Connect Core, 2).
const MAX_SUBJECT_LEN: usize = 255;

/// A missing `sub` or `exp` is refused by the validation as a missing claim, which says more than
/// a claim set that does not read.
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: String,
    #[serde(default)]
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    email_verified: bool,
    /// Every other claim, for the client claim whose name is configured.
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

impl OpenIdProvider {
    /// Reads the provider's discovery document and keys; `issuer` must already be a secure URL.
    pub async fn discover(
        issuer: url::Url,
        audience: String,
        max_ttl: chrono::Duration,
    ) -> anyhow::Result<Self> {
        #[derive(Deserialize)]
        struct Discovery {
            issuer: String,
            jwks_uri: String,
        }
        let fetcher = Fetcher::new()?;
        // The issuer as configured, without a trailing slash, then the well-known path (Discovery 4).
        let configured = issuer.as_str().strip_suffix('/').unwrap_or(issuer.as_str()).to_owned();
        let well_known = secure_url(&format!("{configured}/.well-known/openid-configuration"))
            .map_err(|why| anyhow::anyhow!("WELZIJNSHUIS_OIDC_ISSUER: {why}"))?;
        let discovery: Discovery = fetcher.json(&well_known).await.map_err(|e| {
            anyhow::anyhow!(
                "WELZIJNSHUIS_OIDC_ISSUER: could not read the provider's discovery document: {e:#}"
            )
        })?;
        // Its tokens name the issuer as the document does; it must be the one configured
        // (Discovery 4.3), or anyone serving a document could speak for another issuer.
        if discovery.issuer.trim_end_matches('/') != configured {
            anyhow::bail!(
                "WELZIJNSHUIS_OIDC_ISSUER={issuer}: the provider calls itself {}; set exactly that",
                discovery.issuer
            );
        }
        let jwks_uri = secure_url(&discovery.jwks_uri)
            .map_err(|why| anyhow::anyhow!("the provider's jwks_uri {}: {why}", discovery.jwks_uri))?;
        let keys = KeyCache::load(jwks_uri, fetcher)
            .await
            .map_err(|e| anyhow::anyhow!("reading the OpenID provider's signing keys: {e:#}"))?;
        tracing::info!(issuer = %discovery.issuer, %audience, "sign-in through the OpenID provider");
        Ok(OpenIdProvider { issuer: discovery.issuer, audience, keys, max_ttl, client_claim: None })
    }

    /// Lets citizens sign in with their national register number in `claim` (when `Some`).
    pub fn with_client_claim(mut self, claim: Option<&str>) -> Self {
        self.client_claim = claim.map(str::to_owned);
        self
    }

    /// Whether a token says it comes from this provider (its `iss`, read before any check): only
    /// then is it checked here; any other token goes to the service's own keys.
    pub fn claims_to_be_ours(&self, token: &str) -> bool {
        #[derive(Deserialize)]
        struct Issuer {
            iss: Option<String>,
        }
        jsonwebtoken::dangerous::insecure_decode_claims::<Issuer>(token)
            .is_ok_and(|claims| claims.iss.as_deref() == Some(&self.issuer))
    }

    /// Who a token of this provider says signed in, when every check passes.
    pub async fn verify(&self, token: &str) -> Result<Identity, ApiError> {
        let header = decode_header(token).map_err(|_| ApiError::Unauthenticated("invalid token"))?;
        if !is_asymmetric(header.alg) {
            return Err(ApiError::Unauthenticated("the token's signature algorithm is not accepted here"));
        }
        let kid = header.kid.ok_or(ApiError::Unauthenticated("the token names no signing key (kid)"))?;
        let key = self.keys.key(&kid).await.ok_or(ApiError::Unauthenticated(
            "the token is signed with a key the identity provider does not publish",
        ))?;
        if key.algorithm.is_some_and(|alg| alg != header.alg) {
            return Err(ApiError::Unauthenticated("the token's algorithm is not its key's"));
        }
        let data = decode::<Claims>(token, &key.decoding, &self.validation(header.alg)).map_err(refusal)?;
        let claims = data.claims;
        check_lifetime(claims.iat, claims.exp, self.max_ttl)?;
        if claims.sub.is_empty() || claims.sub.len() > MAX_SUBJECT_LEN {
            return Err(ApiError::Unauthenticated("invalid token subject"));
        }
        let verified_email = claims.email.filter(|_| claims.email_verified);
        // A null claim is an absent one; anything but a string is read as its JSON text (a number
        // as its digits, an object as text that never parses as a number).
        let national_number = self.client_claim.as_ref().and_then(|name| match claims.other.get(name) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(text)) => Some(text.clone()),
            Some(other) => Some(other.to_string()),
        });
        Ok(Identity { subject: claims.sub, verified_email, expires_at: claims.exp, national_number })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation
    }
}

/// What a failed check tells the caller: which claim, never more.
fn refusal(err: jsonwebtoken::errors::Error) -> ApiError {
    ApiError::Unauthenticated(match err.kind() {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidAudience => "the token is not meant for this service (aud)",
        ErrorKind::InvalidIssuer => "the token comes from another issuer (iss)",
        ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim (sub, exp, iss or aud)",
        ErrorKind::InvalidSignature => "the token's signature does not hold",
        _ => "invalid token",
    })
}

/// Signatures checked with a public key: RSA, RSA-PSS, ECDSA, EdDSA.
fn is_asymmetric(algorithm: Algorithm) -> bool {
    !matches!(algorithm, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// `email_verified` as a boolean; a few providers send the string `"true"`.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Flag>::deserialize(deserializer)? {
        Some(Flag::Bool(flag)) => flag,
        Some(Flag::Text(text)) => text == "true",
        None => false,
    })
}

/// A URL the provider may be reached at: `https`, or `http` on this machine only (development and
/// tests: `127.0.0.1`, `::1`, `localhost`); no user name or password, query or fragment.
pub fn secure_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if loopback => {}
        "http" => {
            return Err("must be https (plain http only on 127.0.0.1 or localhost, for development)".into());
        }
        _ => return Err("must be an https URL".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold a user name or password".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not hold a query or fragment".into());
    }
    Ok(url)
}

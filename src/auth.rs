//! Access tokens: JWTs that say who is calling. Three kinds are accepted:
//! - HS256, signed by this service (the `token` command), whose `sub` is a user's id;
//! - RS256 or ES256 of an external identity provider whose public key is configured
//!   (`WELZIJNSHUIS_JWT_PUBLIC_KEY`), whose `sub` is a user's id too;
//! - tokens of the house's OpenID Connect provider (`WELZIJNSHUIS_OIDC_ISSUER`), checked against
//!   its published keys and linked to a user by [`crate::oidc::pinning`].
//!
//! A citizen signs in as a client (role CLIENT): with this service's HS256 token whose
//! `principal` claim is `client` and whose `sub` is the client's id (`token --client`, for the
//! demo and tests), or through the OpenID provider with their national register number in the
//! claim `WELZIJNSHUIS_OIDC_CLIENT_CLAIM` names.
//!
//! The token's `alg` header picks the key; any other algorithm, `none` included, is refused. The
//! token only says who; the role and organisation are read from the user's row on every
//! request, so deactivating a user or changing a role takes effect at once.

use chrono::{Duration, Utc};
use entities::{client, user};
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use resolvers::{ApiError, Caller};
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::oidc::OpenIdProvider;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    /// `client` for a citizen's own token; absent for staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    principal: Option<String>,
}

/// Whom a valid token names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    User(Uuid),
    Client(Uuid),
}

const CLIENT_PRINCIPAL: &str = "client";

/// Signs and checks tokens.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    verifiers: Vec<(DecodingKey, Validation)>,
    /// The longest a token may live, from its `iat` (or from now, without one) to its `exp`.
    max_ttl: Duration,
    /// The house's OpenID Connect provider, when one is configured.
    oidc: Option<Arc<OpenIdProvider>>,
}

/// How long any token may live unless configured otherwise (`WELZIJNSHUIS_JWT_MAX_TTL`).
pub const DEFAULT_MAX_TTL: Duration = Duration::hours(24);

/// Clock skew tolerated between us and an identity provider, in seconds.
pub(crate) const LEEWAY_SECS: u64 = 60;

/// Refuses a token that lives longer than `max_ttl`, or says it was issued in the future (which
/// would stretch its life past that bound).
pub(crate) fn check_lifetime(iat: Option<i64>, exp: i64, max_ttl: Duration) -> Result<(), ApiError> {
    let now = Utc::now().timestamp();
    if iat.is_some_and(|iat| iat > now + LEEWAY_SECS as i64) {
        return Err(ApiError::Unauthenticated("the token says it was issued in the future"));
    }
    let lifetime = exp.saturating_sub(iat.unwrap_or(now));
    if lifetime > max_ttl.num_seconds() + LEEWAY_SECS as i64 {
        return Err(ApiError::Unauthenticated("the token lives longer than this server allows"));
    }
    Ok(())
}

fn validation(algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    // Our own tokens carry no audience; an external key's audience is checked when configured.
    validation.validate_aud = false;
    validation
}

/// What an external identity provider's tokens must say of themselves.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    /// `iss`, when set.
    pub issuer: Option<String>,
    /// One of the token's `aud`, when set.
    pub audience: Option<String>,
}

impl Tokens {
    /// Tokens signed and checked with a shared HS256 secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            verifiers: vec![(DecodingKey::from_secret(secret), validation(Algorithm::HS256))],
            max_ttl: DEFAULT_MAX_TTL,
            oidc: None,
        }
    }

    /// Refuses tokens that live longer than `max_ttl`, whoever signed them.
    pub fn with_max_ttl(mut self, max_ttl: Duration) -> Self {
        self.max_ttl = max_ttl;
        self
    }

    /// Also accepts tokens of an external identity provider, checked with its public key
    /// (PEM) for `algorithm` (RS256 or ES256), and for the issuer and audience `expected`.
    pub fn with_public_key(
        mut self,
        algorithm: &str,
        pem: &[u8],
        expected: &Expected,
    ) -> anyhow::Result<Self> {
        let (algorithm, key) = match algorithm.to_ascii_uppercase().as_str() {
            "RS256" => (Algorithm::RS256, DecodingKey::from_rsa_pem(pem)?),
            "ES256" => (Algorithm::ES256, DecodingKey::from_ec_pem(pem)?),
            other => anyhow::bail!("unsupported token algorithm {other}: use RS256 or ES256"),
        };
        let mut validation = validation(algorithm);
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &expected.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        if let Some(audience) = &expected.audience {
            validation.set_audience(&[audience]);
            validation.validate_aud = true;
            required.push("aud");
        }
        // Configured means required: a token that does not say is not taken at its word.
        validation.set_required_spec_claims(&required);
        self.verifiers.push((key, validation));
        Ok(self)
    }

    /// Also accepts the tokens of the house's OpenID Connect provider.
    pub fn with_openid_provider(mut self, provider: OpenIdProvider) -> Self {
        self.oidc = Some(Arc::new(provider));
        self
    }

    /// The token checker a configuration asks for; with an OpenID provider, its discovery
    /// document and keys are read now.
    pub async fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        let mut tokens = Tokens::hs256(config.secret().expose()).with_max_ttl(config.jwt_max_ttl);
        if let Some((issuer, audience)) = config.oidc.check()? {
            let provider = OpenIdProvider::discover(issuer, audience, config.jwt_max_ttl).await?;
            tokens = tokens.with_openid_provider(provider.with_client_claim(config.oidc.client_claim()));
        }
        match &config.jwt_public_key {
            None => Ok(tokens),
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("reading the token public key {}: {e}", path.display()))?;
                let expected =
                    Expected { issuer: config.jwt_issuer.clone(), audience: config.jwt_audience.clone() };
                tokens.with_public_key(&config.jwt_algorithm, &pem, &expected)
            }
        }
    }

    /// A token for `user` valid for `ttl`, which may not exceed the longest a token may live.
    pub fn issue(&self, user: Uuid, ttl: Duration) -> anyhow::Result<String> {
        self.sign(Subject::User(user), ttl)
    }

    /// A citizen's own token (role CLIENT) for the client `client`, valid for `ttl`.
    pub fn issue_for_client(&self, client: Uuid, ttl: Duration) -> anyhow::Result<String> {
        self.sign(Subject::Client(client), ttl)
    }

    fn sign(&self, subject: Subject, ttl: Duration) -> anyhow::Result<String> {
        if ttl > self.max_ttl || ttl <= Duration::zero() {
            anyhow::bail!(
                "a token may live between 1 second and {} hours (WELZIJNSHUIS_JWT_MAX_TTL)",
                self.max_ttl.num_hours()
            );
        }
        let now = Utc::now().timestamp();
        let (sub, principal) = match subject {
            Subject::User(id) => (id, None),
            Subject::Client(id) => (id, Some(CLIENT_PRINCIPAL.to_owned())),
        };
        let claims = Claims {
            sub: sub.to_string(),
            iat: Some(now),
            nbf: Some(now),
            exp: now + ttl.num_seconds(),
            principal,
        };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Whom a token names and when it expires (seconds since the epoch), if it is valid.
    pub fn verify(&self, token: &str) -> Result<(Subject, i64), ApiError> {
        let invalid = || ApiError::Unauthenticated("invalid or expired token");
        let header = decode_header(token).map_err(|_| invalid())?;
        let (key, validation) =
            self.verifiers.iter().find(|(_, v)| v.algorithms == [header.alg]).ok_or_else(invalid)?;
        let data = decode::<Claims>(token, key, validation).map_err(|_| invalid())?;
        check_lifetime(data.claims.iat, data.claims.exp, self.max_ttl)?;
        let id = Uuid::parse_str(&data.claims.sub)
            .map_err(|_| ApiError::Unauthenticated("invalid token subject"))?;
        let subject = match data.claims.principal.as_deref() {
            None => Subject::User(id),
            Some(CLIENT_PRINCIPAL) => Subject::Client(id),
            Some(_) => return Err(ApiError::Unauthenticated("invalid token principal")),
        };
        Ok((subject, data.claims.exp))
    }

    /// The caller behind an `Authorization` header, read from the user's row now, and when its
    /// token expires: PUBLIC without one; refused, never downgraded, when the header is there but
    /// wrong or names no active user.
    pub async fn caller(
        &self,
        db: &DatabaseConnection,
        header: Option<&str>,
    ) -> Result<(Caller, Option<i64>), ApiError> {
        let Some(header) = header else {
            return Ok((Caller::public(), None));
        };
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let token = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .ok_or(ApiError::Unauthenticated("expected 'Authorization: Bearer <token>'"))?;
        let token = token.trim();
        match &self.oidc {
            Some(provider) if provider.claims_to_be_ours(token) => {
                let identity = provider.verify(token).await?;
                let caller = crate::oidc::pinning::caller_for(db, &identity).await?;
                Ok((caller, Some(identity.expires_at)))
            }
            _ => {
                let (subject, expires_at) = self.verify(token)?;
                Ok((caller_of(db, subject).await?, Some(expires_at)))
            }
        }
    }
}

/// The caller a token's subject is now: an active user, or a client not erased.
async fn caller_of(db: &DatabaseConnection, subject: Subject) -> Result<Caller, ApiError> {
    match subject {
        Subject::User(id) => {
            let user = user::Entity::find_by_id(id)
                .filter(resolvers::policy::users_who_may_act())
                .one(db)
                .await?
                .ok_or(ApiError::Unauthenticated("unknown or inactive user"))?;
            Ok(Caller::user(user))
        }
        Subject::Client(id) => {
            let client = client::Entity::find_by_id(id)
                .filter(resolvers::policy::clients_who_may_sign_in())
                .one(db)
                .await?
                .ok_or(ApiError::Unauthenticated("unknown client"))?;
            Ok(Caller::client(client.id))
        }
    }
}

/// Parses a lifetime such as `8h`, `30m`, `2d` or `3600s`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("'{text}': expected a number and s, m, h or d"))?;
    let ttl = match unit {
        "s" | "" => Duration::try_seconds(n),
        "m" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => return Err(format!("'{text}': unit must be s, m, h or d")),
    };
    let ttl = ttl.ok_or_else(|| format!("'{text}': must be between 1 second and 30 days"))?;
    if ttl <= Duration::zero() || ttl > Duration::days(30) {
        return Err(format!("'{text}': must be between 1 second and 30 days"));
    }
    Ok(ttl)
}

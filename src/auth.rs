//! Access tokens: HS256 JWTs whose `sub` is a user's id. The token only says who; the role and
//! organisation are read from the user's row on every request, so deactivating a user or
//! changing a role takes effect at once.

use chrono::{Duration, Utc};
use entities::user;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use resolvers::{ApiError, Caller};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
    nbf: i64,
}

/// Signs and checks tokens.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Tokens {
    pub fn hs256(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.leeway = 30;
        validation.validate_nbf = true;
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A token for `user` valid for `ttl`.
    pub fn issue(&self, user: Uuid, ttl: Duration) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims { sub: user.to_string(), iat: now, nbf: now, exp: now + ttl.num_seconds() };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// The user id a token names, if the token is valid.
    pub fn verify(&self, token: &str) -> Result<Uuid, ApiError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| ApiError::Unauthenticated("invalid or expired token"))?;
        Uuid::parse_str(&data.claims.sub).map_err(|_| ApiError::Unauthenticated("invalid token subject"))
    }

    /// The caller behind an `Authorization` header: PUBLIC without one; refused, never
    /// downgraded, when the header is there but wrong or names no active user.
    pub async fn caller(&self, db: &DatabaseConnection, header: Option<&str>) -> Result<Caller, ApiError> {
        let Some(header) = header else {
            return Ok(Caller::public());
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(ApiError::Unauthenticated("expected 'Authorization: Bearer <token>'"))?;
        let user_id = self.verify(token.trim())?;
        let user = user::Entity::find_by_id(user_id)
            .filter(user::Column::Active.eq(true))
            .one(db)
            .await?
            .ok_or(ApiError::Unauthenticated("unknown or inactive user"))?;
        Ok(Caller::user(user))
    }
}

/// Parses a lifetime such as `8h`, `30m`, `2d` or `3600s`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| format!("'{text}': expected a number and s, m, h or d"))?;
    let ttl = match unit {
        "s" | "" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(format!("'{text}': unit must be s, m, h or d")),
    };
    if ttl <= Duration::zero() || ttl > Duration::days(30) {
        return Err(format!("'{text}': must be between 1 second and 30 days"));
    }
    Ok(ttl)
}

//! The service's configuration: one typed struct, read from the environment (and the command
//! line) by clap. The JWT secret is wrapped so that it never prints.

use std::fmt;
use std::net::SocketAddr;

/// The SQLite file `cargo run` uses when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://welzijnshuis.db?mode=rwc";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Used when `WELZIJNSHUIS_JWT_SECRET` is unset, with a warning: fine on a laptop, never in
/// production, since anyone who reads this file can sign tokens.
pub const DEVELOPMENT_SECRET: &str = "welzijnshuis-development-secret-do-not-use-in-production";

#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Database URL: `sqlite://file.db?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "WELZIJNSHUIS_ADDR", default_value = DEFAULT_ADDR, global = true)]
    pub addr: SocketAddr,

    /// HS256 key that signs and checks access tokens.
    #[arg(long = "jwt-secret", env = "WELZIJNSHUIS_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<Secret>,

    /// PEM file with the public key of an external identity provider whose RS256 or ES256
    /// tokens are accepted too (their `sub` must be a user's id).
    #[arg(long = "jwt-public-key", env = "WELZIJNSHUIS_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<std::path::PathBuf>,

    /// The algorithm of that key: RS256 or ES256.
    #[arg(
        long = "jwt-algorithm",
        env = "WELZIJNSHUIS_JWT_ALGORITHM",
        default_value = "RS256",
        global = true
    )]
    pub jwt_algorithm: String,
}

impl Config {
    /// The configured secret, or the development one (the caller warns).
    pub fn secret(&self) -> Secret {
        self.jwt_secret.clone().unwrap_or_else(|| Secret(DEVELOPMENT_SECRET.into()))
    }

    pub fn uses_development_secret(&self) -> bool {
        self.jwt_secret.is_none()
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// A secret that shows as `***` in logs and debug output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < 32 { Err("must be at least 32 characters".into()) } else { Ok(Secret(s.into())) }
    }
}

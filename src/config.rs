//! The service's configuration: one typed struct, read from the environment (and the command
//! line) by clap. The JWT secret is wrapped so that it never prints.

use std::fmt;
use std::net::SocketAddr;

/// The SQLite file `cargo run` uses when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://welzijnshuis.db?mode=rwc";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// `WELZIJNSHUIS_RETENTION_YEARS` when unset.
pub const DEFAULT_RETENTION_YEARS: u32 = 5;
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

    /// Address to serve `/metrics` on, alone; when set, `/metrics` is not served on `addr`.
    #[arg(long, env = "WELZIJNSHUIS_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// HS256 key that signs and checks access tokens.
    #[arg(long = "jwt-secret", env = "WELZIJNSHUIS_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<Secret>,

    /// PEM file with the public key of an external identity provider whose RS256 or ES256
    /// tokens are accepted too (their `sub` must be a user's id).
    #[arg(long = "jwt-public-key", env = "WELZIJNSHUIS_JWT_PUBLIC_KEY", global = true)]
    pub jwt_public_key: Option<std::path::PathBuf>,

    /// The issuer (`iss`) that key's tokens must name, when set.
    #[arg(long = "jwt-issuer", env = "WELZIJNSHUIS_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,

    /// An audience (`aud`) that key's tokens must name, when set.
    #[arg(long = "jwt-audience", env = "WELZIJNSHUIS_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,

    /// The longest any token may live (`exp` − `iat`), ours and an identity provider's alike.
    #[arg(long = "jwt-max-ttl", env = "WELZIJNSHUIS_JWT_MAX_TTL", default_value = "24h",
          value_parser = crate::auth::parse_ttl, global = true)]
    pub jwt_max_ttl: chrono::Duration,

    /// The algorithm of that key: RS256 or ES256.
    #[arg(
        long = "jwt-algorithm",
        env = "WELZIJNSHUIS_JWT_ALGORITHM",
        default_value = "RS256",
        global = true
    )]
    pub jwt_algorithm: String,

    /// A JSON file of trusted documents (`{"<sha256 hex>": "<document>", …}`): when set, partner
    /// tokens may run only these operations.
    #[arg(long, env = "WELZIJNSHUIS_TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<std::path::PathBuf>,

    /// Who may introspect the schema: everyone, staff only (ADMIN, INTAKE, CASE_WORKER,
    /// ANALYST), or no one.
    #[arg(long, env = "WELZIJNSHUIS_INTROSPECTION", value_enum, default_value_t = Introspection::All, global = true)]
    pub introspection: Introspection,

    /// Browser origins allowed to call the API (comma-separated); none by default.
    #[arg(long, env = "WELZIJNSHUIS_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// Reverse proxies (addresses or CIDR ranges, comma-separated) whose `X-Forwarded-For` is
    /// believed: the caller is then the last address in it that is not one of them. No proxy
    /// is believed by default, so that no caller can choose its own rate-limit bucket.
    #[arg(long, env = "WELZIJNSHUIS_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Log lines as text or as JSON objects.
    #[arg(long, env = "WELZIJNSHUIS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// On SIGTERM, how long in-flight requests may take before the process exits anyway.
    #[arg(long, env = "WELZIJNSHUIS_SHUTDOWN_GRACE_SECS", default_value_t = 20, global = true)]
    pub shutdown_grace_secs: u64,

    /// Years a closed trajectory is kept after its last activity; then the client's personal
    /// data and every free text about them are erased (`welzijnshuis retention run`, and daily
    /// by the server).
    #[arg(long, env = "WELZIJNSHUIS_RETENTION_YEARS", default_value_t = DEFAULT_RETENTION_YEARS, global = true)]
    pub retention_years: u32,

    #[command(flatten)]
    pub oidc: OidcConfig,

    #[command(flatten)]
    pub limits: LimitsConfig,

    #[command(flatten)]
    pub webhooks: crate::webhooks::WebhookConfig,
}

/// Sign-in through the house's own OpenID Connect provider: both set, or neither.
#[derive(Clone, Debug, Default, PartialEq, Eq, clap::Args)]
pub struct OidcConfig {
    /// The provider's issuer URL; its settings are read from `<issuer>/.well-known/openid-configuration`.
    #[arg(long = "oidc-issuer", env = "WELZIJNSHUIS_OIDC_ISSUER", global = true)]
    pub issuer: Option<String>,

    /// The audience (`aud`) the provider's access tokens for this service carry.
    #[arg(long = "oidc-audience", env = "WELZIJNSHUIS_OIDC_AUDIENCE", global = true)]
    pub audience: Option<String>,

    /// The claim of the provider's tokens that holds a citizen's national register number (e.g.
    /// `rrn`): a token carrying it signs in as that client (role CLIENT). Unset: citizens cannot
    /// sign in through the provider.
    #[arg(long = "oidc-client-claim", env = "WELZIJNSHUIS_OIDC_CLIENT_CLAIM", global = true)]
    pub client_claim: Option<String>,
}

impl OidcConfig {
    /// The issuer's URL and the audience when sign-in through a provider is configured; refuses
    /// half a configuration and an issuer that is not `https` (or `http` on loopback).
    pub fn check(&self) -> anyhow::Result<Option<(url::Url, String)>> {
        let audience = self.audience.as_deref().map(str::trim).filter(|a| !a.is_empty());
        match (self.issuer.as_deref().map(str::trim).filter(|i| !i.is_empty()), audience) {
            (None, None) if self.client_claim().is_some() => {
                anyhow::bail!("WELZIJNSHUIS_OIDC_CLIENT_CLAIM is set without WELZIJNSHUIS_OIDC_ISSUER")
            }
            (None, None) => Ok(None),
            (Some(_), None) => anyhow::bail!(
                "WELZIJNSHUIS_OIDC_AUDIENCE is not set: with WELZIJNSHUIS_OIDC_ISSUER it names the audience \
                 (`aud`) the provider's tokens for this service carry"
            ),
            (None, Some(_)) => {
                anyhow::bail!("WELZIJNSHUIS_OIDC_AUDIENCE is set without WELZIJNSHUIS_OIDC_ISSUER")
            }
            (Some(issuer), Some(audience)) => {
                if let Some(claim) = self.client_claim().filter(|c| STANDARD_CLAIMS.contains(c)) {
                    anyhow::bail!(
                        "WELZIJNSHUIS_OIDC_CLIENT_CLAIM={claim}: a standard claim; name the claim that holds \
                         the national register number (e.g. rrn)"
                    );
                }
                let url = crate::oidc::secure_url(issuer)
                    .map_err(|why| anyhow::anyhow!("WELZIJNSHUIS_OIDC_ISSUER={issuer}: {why}"))?;
                Ok(Some((url, audience.to_owned())))
            }
        }
    }

    /// The claim that holds a citizen's national register number, when citizens may sign in
    /// through the provider.
    pub fn client_claim(&self) -> Option<&str> {
        self.client_claim.as_deref().map(str::trim).filter(|claim| !claim.is_empty())
    }
}

/// Claims a provider's token carries for its own sake: never a national register number.
const STANDARD_CLAIMS: &[&str] =
    &["sub", "iss", "aud", "exp", "iat", "nbf", "jti", "email", "email_verified"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Introspection {
    All,
    Staff,
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What one request, one caller and one database statement may cost. Every limit is refused with
/// `QUERY_TOO_COMPLEX` or `RATE_LIMITED`, never with a 500.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::Args)]
pub struct LimitsConfig {
    /// Deepest selection of a query.
    #[arg(long, env = "WELZIJNSHUIS_MAX_DEPTH", default_value_t = DEFAULT_LIMITS.max_depth, global = true)]
    pub max_depth: usize,
    /// Complexity: every field counts 1, a page's fields once per row it may return.
    #[arg(long, env = "WELZIJNSHUIS_MAX_COMPLEXITY", default_value_t = DEFAULT_LIMITS.max_complexity, global = true)]
    pub max_complexity: usize,
    /// Aliased fields in one document.
    #[arg(long, env = "WELZIJNSHUIS_MAX_ALIASES", default_value_t = DEFAULT_LIMITS.max_aliases, global = true)]
    pub max_aliases: usize,
    /// Root fields in one operation.
    #[arg(long, env = "WELZIJNSHUIS_MAX_ROOT_FIELDS", default_value_t = DEFAULT_LIMITS.max_root_fields, global = true)]
    pub max_root_fields: usize,
    /// Lexical tokens in one document.
    #[arg(long, env = "WELZIJNSHUIS_MAX_TOKENS", default_value_t = DEFAULT_LIMITS.max_tokens, global = true)]
    pub max_tokens: usize,
    /// Largest request body, in bytes.
    #[arg(long, env = "WELZIJNSHUIS_MAX_BODY_BYTES", default_value_t = DEFAULT_LIMITS.max_body_bytes, global = true)]
    pub max_body_bytes: usize,
    /// How long one request may run, in milliseconds.
    #[arg(long, env = "WELZIJNSHUIS_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_LIMITS.request_timeout_ms, global = true)]
    pub request_timeout_ms: u64,
    /// How long one SQL statement may run on PostgreSQL, in milliseconds.
    #[arg(long, env = "WELZIJNSHUIS_STATEMENT_TIMEOUT_MS", default_value_t = DEFAULT_LIMITS.statement_timeout_ms, global = true)]
    pub statement_timeout_ms: u64,
    /// Requests per second one caller (a user, or an address for the public) may make; 0: no limit.
    #[arg(long, env = "WELZIJNSHUIS_RATE_LIMIT", default_value_t = DEFAULT_LIMITS.rate_limit, global = true)]
    pub rate_limit: u32,
    /// Requests a caller may make at once above the rate.
    #[arg(long, env = "WELZIJNSHUIS_RATE_BURST", default_value_t = DEFAULT_LIMITS.rate_burst, global = true)]
    pub rate_burst: u32,
    /// GraphQL requests executed at once; more wait their turn. Bounds memory under load: beyond
    /// the database pool's connections, more at once only wait for a connection while holding
    /// their half-built answers.
    #[arg(long, env = "WELZIJNSHUIS_MAX_CONCURRENT_REQUESTS", default_value_t = DEFAULT_LIMITS.max_concurrent_requests, global = true)]
    pub max_concurrent_requests: usize,
    /// Subscriptions one user may hold open.
    #[arg(long, env = "WELZIJNSHUIS_MAX_SUBSCRIPTIONS", default_value_t = DEFAULT_LIMITS.max_subscriptions, global = true)]
    pub max_subscriptions: usize,
    /// Seconds a WebSocket may take to send its `connection_init` before it is closed (4408).
    #[arg(long, env = "WELZIJNSHUIS_WS_INIT_TIMEOUT_SECS", default_value_t = DEFAULT_LIMITS.ws_init_timeout_secs, global = true)]
    pub ws_init_timeout_secs: u64,
    /// Seconds a client has to send a request's head (request line and headers): from when its
    /// connection opens, or from the first byte of its next request on a kept-alive one.
    #[arg(long, env = "WELZIJNSHUIS_HEADER_TIMEOUT_SECS", default_value_t = DEFAULT_LIMITS.header_timeout_secs, global = true)]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body (408 after).
    #[arg(long, env = "WELZIJNSHUIS_BODY_TIMEOUT_SECS", default_value_t = DEFAULT_LIMITS.body_timeout_secs, global = true)]
    pub body_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request, and a client may leave its
    /// answer unread, before the connection is closed.
    #[arg(long, env = "WELZIJNSHUIS_IDLE_TIMEOUT_SECS", default_value_t = DEFAULT_LIMITS.idle_timeout_secs, global = true)]
    pub idle_timeout_secs: u64,
    /// Connections open at once (WebSockets included). Keep it well below the open files limit.
    #[arg(long, env = "WELZIJNSHUIS_MAX_CONNECTIONS", default_value_t = DEFAULT_LIMITS.max_connections, global = true)]
    pub max_connections: usize,
    /// Connections one address may hold open at once.
    #[arg(long, env = "WELZIJNSHUIS_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = DEFAULT_LIMITS.max_connections_per_address, global = true)]
    pub max_connections_per_address: usize,
    /// WebSockets open without a user (PUBLIC) at once.
    #[arg(long, env = "WELZIJNSHUIS_MAX_PUBLIC_SOCKETS", default_value_t = DEFAULT_LIMITS.max_public_sockets, global = true)]
    pub max_public_sockets: usize,
}

pub const DEFAULT_LIMITS: LimitsConfig = LimitsConfig {
    max_depth: schema::Limits::DEFAULT.depth,
    max_complexity: schema::Limits::DEFAULT.complexity,
    max_aliases: schema::Limits::DEFAULT.aliases,
    max_root_fields: schema::Limits::DEFAULT.root_fields,
    max_tokens: schema::Limits::DEFAULT.tokens,
    max_body_bytes: 100_000,
    request_timeout_ms: 10_000,
    statement_timeout_ms: 5_000,
    rate_limit: 50,
    rate_burst: 100,
    max_concurrent_requests: 8,
    max_subscriptions: 10,
    ws_init_timeout_secs: 10,
    header_timeout_secs: 10,
    body_timeout_secs: 10,
    idle_timeout_secs: 60,
    max_connections: 1024,
    max_connections_per_address: 256,
    max_public_sockets: 256,
};

impl Default for LimitsConfig {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

/// A proxy's address (`10.0.0.7`) or range (`10.0.0.0/8`, `fd00::/8`).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("'{text}': expected an IP address or a CIDR range such as 10.0.0.0/8"))
}

fn within(name: &str, value: impl TryInto<u64> + Copy, low: u64, high: u64) -> anyhow::Result<()> {
    let value: u64 = value.try_into().unwrap_or(u64::MAX);
    if value < low || value > high {
        anyhow::bail!("{name}={value}: must be between {low} and {high}");
    }
    Ok(())
}

/// The browser origins allowed to call the API, as `scheme://host[:port]`: a trailing `/` is
/// dropped; `*`, a path, or anything that is not an origin is refused with why.
pub fn cors_origins(origins: &[String]) -> anyhow::Result<Vec<axum::http::HeaderValue>> {
    origins
        .iter()
        .map(|origin| origin.trim())
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            if origin == "*" {
                anyhow::bail!(
                    "WELZIJNSHUIS_CORS_ORIGINS: '*' would let any web page call the API with its users' \
                     tokens; list the dashboards' origins, e.g. https://dashboard.example.be"
                );
            }
            let trimmed = origin.strip_suffix('/').unwrap_or(origin);
            let uri: axum::http::Uri = trimmed
                .parse()
                .map_err(|_| anyhow::anyhow!("WELZIJNSHUIS_CORS_ORIGINS: '{origin}' is not an origin"))?;
            let is_origin = matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.host().is_some()
                && uri.path_and_query().is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/");
            if !is_origin {
                anyhow::bail!(
                    "WELZIJNSHUIS_CORS_ORIGINS: '{origin}' is not an origin: scheme://host[:port], no path"
                );
            }
            axum::http::HeaderValue::from_str(trimmed)
                .map_err(|_| anyhow::anyhow!("WELZIJNSHUIS_CORS_ORIGINS: '{origin}' is not an origin"))
        })
        .collect()
}

impl LimitsConfig {
    /// Refuses a limit out of its range, naming it.
    pub fn check(&self) -> anyhow::Result<()> {
        within("WELZIJNSHUIS_MAX_DEPTH", self.max_depth, 1, schema::within_nesting_limit() as u64)?;
        within("WELZIJNSHUIS_MAX_COMPLEXITY", self.max_complexity, 1, 10_000_000)?;
        within("WELZIJNSHUIS_MAX_ALIASES", self.max_aliases, 0, 10_000)?;
        within("WELZIJNSHUIS_MAX_ROOT_FIELDS", self.max_root_fields, 1, 1_000)?;
        within("WELZIJNSHUIS_MAX_TOKENS", self.max_tokens, 1, 1_000_000)?;
        within("WELZIJNSHUIS_MAX_BODY_BYTES", self.max_body_bytes, 1_000, 100_000_000)?;
        within("WELZIJNSHUIS_REQUEST_TIMEOUT_MS", self.request_timeout_ms, 1, 600_000)?;
        within("WELZIJNSHUIS_STATEMENT_TIMEOUT_MS", self.statement_timeout_ms, 1, 600_000)?;
        within("WELZIJNSHUIS_MAX_CONCURRENT_REQUESTS", self.max_concurrent_requests, 1, 10_000)?;
        within("WELZIJNSHUIS_MAX_SUBSCRIPTIONS", self.max_subscriptions, 0, 10_000)?;
        within("WELZIJNSHUIS_WS_INIT_TIMEOUT_SECS", self.ws_init_timeout_secs, 1, 3_600)?;
        Ok(())
    }

    /// The limits the schema checks a document against.
    pub fn schema_limits(&self) -> schema::Limits {
        schema::Limits {
            depth: self.max_depth,
            complexity: self.max_complexity,
            aliases: self.max_aliases,
            root_fields: self.max_root_fields,
            tokens: self.max_tokens,
        }
    }
}

impl Config {
    /// The configured secret, or the development one (the caller warns).
    pub fn secret(&self) -> Secret {
        self.jwt_secret.clone().unwrap_or_else(|| Secret(DEVELOPMENT_SECRET.into()))
    }

    pub fn uses_development_secret(&self) -> bool {
        self.jwt_secret.is_none()
    }

    /// Refuses, with a message naming the setting, any setting out of its range: a clear error at
    /// start, never a panic later.
    pub fn check(&self) -> anyhow::Result<()> {
        self.limits.check()?;
        cors_origins(&self.cors_origins)?;
        self.oidc.check()?;
        within("WELZIJNSHUIS_SHUTDOWN_GRACE_SECS", self.shutdown_grace_secs, 0, 3_600)?;
        within("WELZIJNSHUIS_RETENTION_YEARS", self.retention_years, 1, 100)?;
        self.webhooks.check()?;
        if self.jwt_max_ttl > chrono::Duration::days(30) {
            anyhow::bail!("WELZIJNSHUIS_JWT_MAX_TTL: at most 30 days");
        }
        Ok(())
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

//! The closed set of errors the API answers with, each carrying its `extensions.code`.
//!
//! `ApiError` deliberately does not implement `Display`: async-graphql turns any `Display` type
//! into an error carrying its text and no code, and that is how SQL ends up in a response. Without
//! `Display`, the only way from an `ApiError` to a GraphQL error is the `From` impl below, which
//! always sets the code and never copies internal detail.

use async_graphql::ErrorExtensions;

/// The contract's error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    QueryTooComplex,
    Internal,
}

impl Code {
    pub const ALL: [Code; 8] = [
        Code::Unauthenticated,
        Code::Forbidden,
        Code::NotFound,
        Code::BadUserInput,
        Code::Conflict,
        Code::RateLimited,
        Code::QueryTooComplex,
        Code::Internal,
    ];

    /// The code named by `name`, if it is one of the contract's.
    pub fn parse(name: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|code| code.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::Conflict => "CONFLICT",
            Code::RateLimited => "RATE_LIMITED",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::Internal => "INTERNAL",
        }
    }
}

/// An error as the caller may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// No valid identity: bad, expired or unsigned token, unknown or inactive user.
    Unauthenticated(&'static str),
    /// The caller's role or the client's consent does not cover this.
    Forbidden,
    /// A referral to an organisation the client gave no active consent for (names it).
    ConsentMissing(String),
    /// No such row *for this caller*: the same answer whether it does not exist or is out of scope.
    NotFound(&'static str),
    /// Input that cannot be accepted, naming the field.
    BadUserInput { field: String, message: String },
    /// A state conflict: stale version, illegal transition, taken slot.
    Conflict(String),
    /// A request beyond the configured limits.
    QueryTooComplex(String),
    /// An operation that ran into the request timeout (its place in the queue included).
    TimedOut { limit_ms: u64 },
    /// Too many requests or subscriptions for this caller; try again after the given seconds.
    RateLimited { retry_after_secs: u64 },
    /// A request by hash whose document this server does not know: send it with the document.
    PersistedQueryNotFound,
    /// Trusted documents are configured and this one is not among them.
    UntrustedDocument,
    /// Introspection is switched off for the caller's role.
    IntrospectionOff,
    /// A mutation sent over GET (or HEAD), which only queries may use.
    MutationOverGet,
    /// The user holds as many subscriptions open as allowed.
    TooManySubscriptions(usize),
    /// The database is busy with another long write (on SQLite one write runs at a time: a
    /// social map import, say) and this one waited its turn as long as it may. Nothing was
    /// written: try again after the seconds given. `RATE_LIMITED` with `retryAfter`, HTTP 503.
    Busy { retry_after_secs: u64 },
    /// The database does not answer: the request failed fast rather than wait, and may be
    /// retried. Answered as `INTERNAL` (HTTP 503), with a message that says so.
    Unavailable,
    /// Something broke on our side; the detail went to the log, never to the caller.
    Internal,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadUserInput { field: field.into(), message: message.into() }
    }

    /// Logs the detail of an unexpected failure and answers `INTERNAL`.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        ApiError::Internal
    }

    pub fn code(&self) -> Code {
        match self {
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::Forbidden
            | ApiError::ConsentMissing(_)
            | ApiError::UntrustedDocument
            | ApiError::IntrospectionOff => Code::Forbidden,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::BadUserInput { .. } | ApiError::PersistedQueryNotFound | ApiError::MutationOverGet => {
                Code::BadUserInput
            }
            ApiError::Conflict(_) => Code::Conflict,
            ApiError::QueryTooComplex(_) | ApiError::TimedOut { .. } => Code::QueryTooComplex,
            ApiError::RateLimited { .. } | ApiError::Busy { .. } | ApiError::TooManySubscriptions(_) => {
                Code::RateLimited
            }
            ApiError::Internal | ApiError::Unavailable => Code::Internal,
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Unauthenticated(why) => format!("not authenticated: {why}"),
            ApiError::Forbidden => "your role or the client's consent does not allow this".into(),
            ApiError::ConsentMissing(recipient) => {
                format!("the client has no active consent to share data with {recipient}: record it first")
            }
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::BadUserInput { field, message } => format!("{field}: {message}"),
            ApiError::Conflict(message) | ApiError::QueryTooComplex(message) => message.clone(),
            ApiError::TimedOut { limit_ms } => {
                format!("the request took longer than {limit_ms} ms: ask for less at once")
            }
            ApiError::RateLimited { retry_after_secs } => {
                format!("too many requests: try again in {retry_after_secs} s")
            }
            // The exact text Apollo clients react to by sending the document.
            ApiError::PersistedQueryNotFound => "PersistedQueryNotFound".into(),
            ApiError::UntrustedDocument => {
                "this document is not among the trusted documents: partner tokens may run only those".into()
            }
            ApiError::IntrospectionOff => "introspection is switched off for your role on this server".into(),
            ApiError::MutationOverGet => "query: a mutation must be sent with POST".into(),
            ApiError::TooManySubscriptions(cap) => {
                format!("too many open subscriptions: at most {cap} per user; close one first")
            }
            ApiError::Busy { retry_after_secs } => format!(
                "the database is busy with another write (an import, say): nothing was written, try again in {retry_after_secs} s"
            ),
            ApiError::Unavailable => "the database is unavailable: try again shortly".into(),
            ApiError::Internal => "internal error".into(),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::sqlx::Error as Sqlx;
        use sea_orm::{DbErr, RuntimeErr};
        // A row this change refers to went away meanwhile (a client merged or erased while the
        // change was on its way): a state conflict, not a fault.
        if let Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) = err.sql_err() {
            tracing::warn!(error = %err, "a write referred to a row that is gone");
            return ApiError::Conflict(
                "a row this change refers to was removed meanwhile (merged or erased): reload and try again"
                    .into(),
            );
        }
        let sqlx = match &err {
            DbErr::ConnectionAcquire(_) => None,
            DbErr::Conn(RuntimeErr::SqlxError(e))
            | DbErr::Exec(RuntimeErr::SqlxError(e))
            | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
            _ => return ApiError::internal(err),
        };
        match sqlx {
            // PostgreSQL's query_canceled: the statement timeout fired.
            Some(Sqlx::Database(db)) if db.code().as_deref() == Some("57014") => {
                tracing::warn!(error = %err, "a statement ran into the statement timeout");
                ApiError::QueryTooComplex("the query took longer than the database allows".into())
            }
            // PostgreSQL's lock_not_available: a row stayed locked past lock_timeout.
            Some(Sqlx::Database(db)) if db.code().as_deref() == Some("55P03") => {
                tracing::warn!(error = %err, "a write waited for a locked row longer than lock_timeout");
                ApiError::Busy { retry_after_secs: BUSY_RETRY_AFTER_SECS }
            }
            Some(Sqlx::Database(db)) if is_sqlite_busy(db.as_ref()) => {
                tracing::warn!(error = %err, "a write waited for SQLite's lock longer than its busy timeout");
                ApiError::Busy { retry_after_secs: BUSY_RETRY_AFTER_SECS }
            }
            Some(Sqlx::Database(_)) => ApiError::internal(err),
            None
            | Some(Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::Tls(_) | Sqlx::Protocol(_)) => {
                tracing::error!(error = %err, "the database is unavailable");
                ApiError::Unavailable
            }
            Some(_) => ApiError::internal(err),
        }
    }
}

/// How long a write refused as [`ApiError::Busy`] is told to wait before trying again.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// SQLITE_BUSY or SQLITE_LOCKED (with any extended code): another connection holds the lock.
fn is_sqlite_busy(db: &(dyn sea_orm::sqlx::error::DatabaseError + 'static)) -> bool {
    db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>().is_some()
        && db
            .code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let field = match &err {
            ApiError::BadUserInput { field, .. } => Some(field.clone()),
            _ => None,
        };
        async_graphql::Error::new(err.message()).extend_with(|_, ext| {
            ext.set("code", err.code().as_str());
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } = err {
                ext.set("retryAfter", retry_after_secs);
            }
        })
    }
}

/// The code an error already carries, if any.
pub fn code_of(error: &async_graphql::ServerError) -> Option<String> {
    let value = error.extensions.as_ref()?.get("code")?;
    match value {
        async_graphql::Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

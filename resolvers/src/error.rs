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
            ApiError::Forbidden | ApiError::ConsentMissing(_) => Code::Forbidden,
            ApiError::NotFound(_) => Code::NotFound,
            ApiError::BadUserInput { .. } => Code::BadUserInput,
            ApiError::Conflict(_) => Code::Conflict,
            ApiError::QueryTooComplex(_) => Code::QueryTooComplex,
            ApiError::Internal => Code::Internal,
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
            ApiError::Internal => "internal error".into(),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        ApiError::internal(err)
    }
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

//! GraphQL over HTTP, after the GraphQL-over-HTTP specification: POST (JSON or
//! `application/graphql`) and GET (queries only: a mutation over GET is 405), answered as
//! `application/graphql-response+json` when the client names it in `Accept`, with the spec's
//! status codes (400 and no `data` entry for a request that does not parse or validate, 2xx once
//! it executed), else (no `Accept`, `*/*`, `application/json` …) as `application/json` with 200.
//! Before a request executes: the body size, the caller's token, the caller's rate; while it
//! does: the request timeout.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use resolvers::mutation::IdempotencyKey;
use resolvers::{ApiError, Code, Provenance};

use super::{AppState, REQUEST_ID};
use crate::db;
use crate::gate::Credentials;
use crate::metrics::Origin;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// How the answer is written, from the request's `Accept`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `application/graphql-response+json`: status codes tell request errors apart.
    GraphqlResponse,
    /// `application/json`: 200 for every request that was understood as GraphQL. Also for no
    /// `Accept`, `*/*` or `application/*`, as the spec says a server should for now.
    Json,
}

impl Format {
    fn of(headers: &HeaderMap) -> Format {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut media = accept.split(',').map(|media| media.split(';').next().unwrap_or("").trim());
        if media.any(|m| m == GRAPHQL_RESPONSE) { Format::GraphqlResponse } else { Format::Json }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::GraphqlResponse => GRAPHQL_RESPONSE,
            Format::Json => JSON,
        }
    }
}

/// A request refused before execution, with the HTTP status that says why.
struct Refused {
    status: StatusCode,
    error: ApiError,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused { status: status_of(&error), error }
    }
}

fn status_of(error: &ApiError) -> StatusCode {
    match error {
        // The server was too busy or the work too long: another try may pass.
        ApiError::TimedOut { .. } | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        _ => status_of_code(error.code(), *error == ApiError::Unavailable),
    }
}

/// The status of a request refused with `code`; `unavailable`: the database did not answer.
fn status_of_code(code: Code, unavailable: bool) -> StatusCode {
    match code {
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Forbidden => StatusCode::FORBIDDEN,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Code::Internal if unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

pub(super) async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let provenance = Provenance {
        request_id: uuid::Uuid::now_v7().to_string(),
        caller_request_id: caller_request_id(&parts.headers),
    };
    let request_id = provenance.request_id.clone();
    let format = Format::of(&parts.headers);
    // Statements counted from the token's check to the audit trail.
    let (answered, statements) =
        db::count_statements(answer(&state, peer, &parts, body, &provenance, format)).await;
    let (mut response, operation, outcome) = match answered {
        Ok(answered) => answered,
        Err(refused) => {
            let outcome = refused.error.code().as_str().to_owned();
            (refusal_with(&refused.error, Some(&request_id), refused.status, format), None, outcome)
        }
    };
    let elapsed = started.elapsed();
    let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let origin = Origin { authorization, address: state.client_address(peer.ip(), &parts.headers) };
    state.metrics.record(operation.as_deref(), origin, &outcome, elapsed, statements);
    tracing::info!(
        request_id = %request_id,
        caller_request_id = provenance.caller_request_id.as_deref().unwrap_or("-"),
        operation = operation.as_deref().unwrap_or("-"),
        outcome = %outcome,
        status = response.status().as_u16(),
        statements,
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        "graphql request"
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    // Responses carry personal data: no shared or browser cache may keep them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

type Answered = (Response, Option<String>, String);

async fn answer(
    state: &AppState,
    peer: SocketAddr,
    parts: &axum::http::request::Parts,
    body: Body,
    provenance: &Provenance,
    format: Format,
) -> Result<Answered, Refused> {
    let mut request = read_request(parts, body, &state.limits).await?;
    let credentials = Credentials {
        authorization: authorization(&parts.headers)?,
        address: state.client_address(peer.ip(), &parts.headers),
        role: None,
    };
    if is_get(&parts.method) {
        // Only queries over GET (and HEAD): the gate refuses a mutation once it knows which
        // document runs (one sent by hash is known only to its own audience).
        request = request.data(resolvers::ReadOnly);
    }
    if let Some(key) = parts.headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        request = request.data(IdempotencyKey(key.to_owned()));
    }
    let executed = state.gate.run(&credentials, request, provenance).await?;
    let response = executed.response;
    // An INTERNAL anywhere is what an alert must see; otherwise the first error's code.
    let codes = || response.errors.iter().filter_map(resolvers::error::code_of);
    let outcome = codes()
        .find(|code| code == Code::Internal.as_str())
        .or_else(|| codes().next())
        .unwrap_or_else(|| "ok".into());
    // A name is believed only when its operation ran: a request error ran nothing.
    let operation = executed.operation.filter(|_| !is_request_error(&response));
    let status = status_of_response(&response, format);
    let body = body_of(&response, format).map_err(|_| ApiError::internal("a response did not serialise"))?;
    let busy = busy_retry_after(&response);
    let status = if busy.is_some() { StatusCode::SERVICE_UNAVAILABLE } else { status };
    let mut http = (status, [(header::CONTENT_TYPE, format.content_type())], body).into_response();
    if let Some(seconds) = busy {
        http.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    } else if status == StatusCode::TOO_MANY_REQUESTS {
        http.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        http.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    Ok((http, operation, outcome))
}

/// A response that did nothing because the database was busy with another write (every error
/// says when to try again, and no field has data): 503 with `Retry-After`, which clients and
/// proxies retry as they would any service briefly unavailable.
fn busy_retry_after(response: &async_graphql::Response) -> Option<u64> {
    let nothing_done = match &response.data {
        async_graphql::Value::Null => true,
        async_graphql::Value::Object(fields) => fields.values().all(|v| *v == async_graphql::Value::Null),
        _ => false,
    };
    let after = |e: &async_graphql::ServerError| match e.extensions.as_ref()?.get("retryAfter")? {
        async_graphql::Value::Number(n) => n.as_u64(),
        _ => None,
    };
    let waits: Option<Vec<u64>> = response.errors.iter().map(after).collect();
    waits.filter(|w| nothing_done && !w.is_empty()).and_then(|w| w.into_iter().max())
}

/// A request error: no data, no error with a path (it did not parse, validate or pass a limit).
fn is_request_error(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null && response.errors.iter().all(|e| e.path.is_empty())
}

/// The answer's JSON. With graphql-response+json a request error has no `data` entry at all (not
/// `"data": null`), as the spec says: it never executed.
fn body_of(response: &async_graphql::Response, format: Format) -> serde_json::Result<Vec<u8>> {
    if format == Format::GraphqlResponse && !response.errors.is_empty() && is_request_error(response) {
        let mut value = serde_json::to_value(response)?;
        if let Some(fields) = value.as_object_mut() {
            fields.remove("data");
        }
        return serde_json::to_vec(&value);
    }
    serde_json::to_vec(response)
}

/// The `Authorization` header's value: two of them are refused rather than one picked.
fn authorization(headers: &HeaderMap) -> Result<Option<String>, Refused> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let first = values.next().map(|v| v.to_str().unwrap_or("").to_owned());
    if values.next().is_some() {
        return Err(ApiError::bad_input("Authorization", "send one Authorization header, not several").into());
    }
    Ok(first)
}

/// 2xx once execution started; a request error gets the status of its first error's code.
fn status_of_response(response: &async_graphql::Response, format: Format) -> StatusCode {
    let Some(first) = response.errors.first().filter(|_| is_request_error(response)) else {
        return StatusCode::OK;
    };
    if first.message == ApiError::MutationOverGet.message() {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    let code = resolvers::error::code_of(first).and_then(|code| Code::parse(&code));
    let unavailable = first.message == ApiError::Unavailable.message();
    let status = status_of_code(code.unwrap_or(Code::BadUserInput), unavailable);
    match format {
        Format::GraphqlResponse => status,
        // With application/json, errors of the GraphQL request itself are still a 200.
        Format::Json if status.is_client_error() => StatusCode::OK,
        Format::Json => status,
    }
}

/// GET, or HEAD: axum routes HEAD to the GET handler (and drops the answer's body), so HEAD reads
/// its request from the query string as GET does and, like GET, may not run a mutation. Read as a
/// POST, a HEAD with a body ran mutations.
fn is_get(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// The GraphQL request of a GET or HEAD (its query string) or a POST (its body: at most
/// `max_body_bytes`, received within `body_timeout_secs`, or 408 and the connection closes).
async fn read_request(
    parts: &axum::http::request::Parts,
    body: Body,
    limits: &crate::config::LimitsConfig,
) -> Result<async_graphql::Request, Refused> {
    if is_get(&parts.method) {
        return from_query_string(&parts.uri);
    }
    let (max_bytes, timeout_secs) = (limits.max_body_bytes, limits.body_timeout_secs.max(1));
    let read = axum::body::to_bytes(body, max_bytes);
    let bytes = tokio::time::timeout(std::time::Duration::from_secs(timeout_secs), read)
        .await
        .map_err(|_| Refused {
            status: StatusCode::REQUEST_TIMEOUT,
            error: ApiError::bad_input("body", format!("not received within {timeout_secs} s")),
        })?
        .map_err(|_| Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: ApiError::QueryTooComplex(format!("the request body is larger than {max_bytes} bytes")),
        })?;
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or(JSON);
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media {
        JSON | "" => from_json(&bytes),
        "application/graphql" => String::from_utf8(bytes.to_vec())
            .map(async_graphql::Request::new)
            .map_err(|_| ApiError::bad_input("body", "not UTF-8").into()),
        _ => Err(Refused {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error: ApiError::bad_input("Content-Type", "send application/json or application/graphql"),
        }),
    }
}

/// A POST body in JSON. `null` for `variables`, `extensions` or `operationName` means absent,
/// as many clients send it.
fn from_json(bytes: &[u8]) -> Result<async_graphql::Request, Refused> {
    let refuse = |e: serde_json::Error| -> Refused {
        ApiError::bad_input("body", format!("not a GraphQL request in JSON: {e}")).into()
    };
    let mut body: serde_json::Value = serde_json::from_slice(bytes).map_err(refuse)?;
    if let Some(fields) = body.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    // A request names its document: as `query`, or by hash (a persisted query).
    let by_hash = body["extensions"]["persistedQuery"].is_object();
    if !body["query"].is_string() && !by_hash {
        return Err(ApiError::bad_input("query", "the request has no query (a string)").into());
    }
    serde_json::from_value(body).map_err(refuse)
}

/// A GET request's parameters, named as the spec names them (`operationName`); `variables` and
/// `extensions` are JSON.
fn from_query_string(uri: &axum::http::Uri) -> Result<async_graphql::Request, Refused> {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(default)]
        query: String,
        #[serde(rename = "operationName")]
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let axum::extract::Query(params) = axum::extract::Query::<Params>::try_from_uri(uri)
        .map_err(|e| ApiError::bad_input("query string", e.body_text()))?;
    fn json<T: serde::de::DeserializeOwned + Default>(
        name: &str,
        text: Option<String>,
    ) -> Result<T, Refused> {
        text.filter(|t| !t.is_empty())
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| ApiError::bad_input(name, format!("not JSON: {e}")).into())
            .map(Option::unwrap_or_default)
    }
    let mut request = async_graphql::Request::new(params.query);
    request.operation_name = params.operation_name.filter(|name| !name.is_empty());
    request.variables = json("variables", params.variables)?;
    request.extensions = json("extensions", params.extensions)?;
    Ok(request)
}

/// The caller's `X-Request-Id` when it is a sane token: logged and kept in the audit trail beside
/// the server's own id (so a proxy's trace runs through), never in its place.
pub(super) fn caller_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(str::to_owned)
}

/// A refusal before execution, as a GraphQL error response.
pub(super) fn refusal(error: &ApiError, request_id: Option<&str>) -> Response {
    refusal_with(error, request_id, status_of(error), Format::Json)
}

/// A refusal with the status a door other than GraphQL gives it (a REST API's 404, say), in the
/// same error body.
pub(super) fn refusal_as(error: &ApiError, request_id: Option<&str>, status: StatusCode) -> Response {
    refusal_with(error, request_id, status, Format::Json)
}

fn refusal_with(error: &ApiError, request_id: Option<&str>, status: StatusCode, format: Format) -> Response {
    let mut extensions = serde_json::json!({ "code": error.code().as_str() });
    if let (Code::Internal, Some(id)) = (error.code(), request_id) {
        extensions["requestId"] = id.into();
    }
    let body = serde_json::json!({ "errors": [{ "message": error.message(), "extensions": extensions }] });
    let mut response =
        (status, [(header::CONTENT_TYPE, format.content_type())], body.to_string()).into_response();
    let headers = response.headers_mut();
    match error {
        ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        ApiError::Unavailable => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        _ => {}
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if status == StatusCode::REQUEST_TIMEOUT {
        // The rest of the body may still come: this connection carries no next request.
        headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

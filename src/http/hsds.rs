//! `GET /hsds/…`: the social map as the HSDS 3.0 API (`schema/openapi.json` of the standard),
//! read-only and public. Every request passes the gate as the public does (a token, if sent, is
//! not read: these answers are the same for everyone): the rate per address, a place among the
//! operations executing at once, the request timeout. What the public may see of a confidential
//! location is the policy's word ([`Reveal::for_caller`]). Errors are JSON, in the API's error
//! body: 400 for a bad parameter, 404 for an unknown id, 429 and 503 from the gate.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use resolvers::{ApiError, Code};
use serde_json::Value;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};

use super::graphql::refusal_as;
use super::{AppState, REQUEST_ID};
use crate::gate::Credentials;
use crate::socialmap::Reveal;
use crate::socialmap::api::{self, Listing, Nest, PageAsked, ServiceQuery, ServiceShape, TermQuery};

/// The routes under `/hsds`. Any web page may read them (`Access-Control-Allow-Origin: *`: a
/// partner's website showing the social map), as they hold only what the public sees and
/// nothing a browser's cookies or tokens would change: a preflight from any origin is answered
/// for `GET` with whatever headers it asks for. This layer is the only CORS these routes get
/// (`WELZIJNSHUIS_CORS_ORIGINS` governs the others, [`super::router`]). A path under `/hsds`
/// that is none of these, and a method other than `GET` or `HEAD`, are answered in the API's
/// JSON error body too (404, 405).
pub fn routes() -> Router<AppState> {
    let anyone = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([REQUEST_ID, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    Router::new()
        .route("/hsds", get(info).fallback(not_allowed))
        .route("/hsds/", get(info).fallback(not_allowed))
        .route("/hsds/services", get(services).fallback(not_allowed))
        .route("/hsds/services/{id}", get(service).fallback(not_allowed))
        .route("/hsds/organizations", get(organizations).fallback(not_allowed))
        .route("/hsds/organizations/{id}", get(organization).fallback(not_allowed))
        .route("/hsds/service_at_locations", get(service_at_locations).fallback(not_allowed))
        .route("/hsds/service_at_locations/{id}", get(service_at_location).fallback(not_allowed))
        .route("/hsds/taxonomies", get(taxonomies).fallback(not_allowed))
        .route("/hsds/taxonomies/{id}", get(taxonomy).fallback(not_allowed))
        .route("/hsds/taxonomy_terms", get(taxonomy_terms).fallback(not_allowed))
        .route("/hsds/taxonomy_terms/{id}", get(taxonomy_term).fallback(not_allowed))
        .route("/hsds/{*rest}", any(unknown_path))
        .layer(anyone)
}

/// A path under `/hsds` the API does not have (`/hsds/services/` with its slash, say).
async fn unknown_path() -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    with_request_id(
        refusal_as(&ApiError::NotFound("path"), Some(&request_id), StatusCode::NOT_FOUND),
        &request_id,
    )
}

/// A method the API does not serve: only `GET` (and `HEAD`) read it. (`OPTIONS` is the CORS
/// layer's: it answers every one, from any origin.)
async fn not_allowed() -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    let error = ApiError::bad_input("method", "the HSDS API is read with GET");
    let mut response = refusal_as(&error, Some(&request_id), StatusCode::METHOD_NOT_ALLOWED);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    with_request_id(response, &request_id)
}

/// The query string's parameters, each at most once.
struct Params(HashMap<String, String>);

impl Params {
    fn parse(raw: Option<String>, known: &[&str]) -> Result<Params, ApiError> {
        let mut params = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if !known.contains(&key.as_ref()) {
                continue;
            }
            // PostgreSQL refuses a NUL in text: refused here alike on both databases.
            if value.contains('\0') {
                return Err(ApiError::bad_input(key.to_string(), "no NUL character"));
            }
            if params.insert(key.to_string(), value.to_string()).is_some() {
                return Err(ApiError::bad_input(key.to_string(), "give it once"));
            }
        }
        let params = Params(params);
        if let Some(format) = params.text("format")
            && !["json", "ndjson"].contains(&format)
        {
            return Err(ApiError::bad_input(
                "format",
                "json (pages) or ndjson (the whole list, a line each)",
            ));
        }
        for key in ["search", "taxonomy_term_id", "taxonomy_id", "organization_id", "postcode", "parent_id"] {
            if params.text(key).is_some_and(|v| v.chars().count() > 200) {
                return Err(ApiError::bad_input(key, "at most 200 characters"));
            }
        }
        Ok(params)
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn owned(&self, key: &str) -> Option<String> {
        self.text(key).map(str::to_owned)
    }

    /// `search` as every list reads it: words (letters and digits), at least one and at most
    /// 10 of at most 60 letters; a search of no words (`%`, `_`) is refused, never "everything".
    fn search(&self) -> Result<Option<String>, ApiError> {
        let Some(text) = self.text("search") else { return Ok(None) };
        resolvers::query::search_words(text).map_err(|rule| ApiError::bad_input("search", rule))?;
        Ok(Some(text.to_owned()))
    }

    fn number(&self, key: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
        let Some(text) = self.text(key) else { return Ok(None) };
        match text.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::bad_input(key, format!("a whole number from {min} to {max}"))),
        }
    }

    fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.text(key) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::bad_input(key, "true or false")),
        }
    }

    fn streamed(&self) -> bool {
        self.text("format") == Some("ndjson")
    }

    fn page(&self, (default, max): (u64, u64)) -> Result<PageAsked, ApiError> {
        Ok(PageAsked {
            page: self.number("page", 1, 1_000_000)?.unwrap_or(1),
            per_page: self.number("per_page", 1, max)?.unwrap_or(default),
        })
    }

    fn service_query(&self) -> Result<ServiceQuery, ApiError> {
        let modified_after = match self.text("modified_after") {
            Some(text) => Some(api::parse_moment(text).ok_or_else(|| {
                ApiError::bad_input("modified_after", "a date-time (RFC 3339) or a date (YYYY-MM-DD)")
            })?),
            None => None,
        };
        let proximity_m = match self.text("proximity") {
            Some(text) => match text.parse::<f64>() {
                Ok(m) if m > 0.0 && m <= api::MAX_PROXIMITY_M => Some(m),
                _ => return Err(ApiError::bad_input("proximity", "metres, more than 0 and at most 200000")),
            },
            None => None,
        };
        Ok(ServiceQuery {
            search: self.search()?,
            taxonomy_term_id: self.owned("taxonomy_term_id"),
            taxonomy_id: self.owned("taxonomy_id"),
            organization_id: self.owned("organization_id"),
            modified_after,
            postcode: self.owned("postcode"),
            proximity_m,
        })
    }
}

/// The id of a one-item route: one that cannot be read (not UTF-8) or cannot be any record's
/// (a NUL, which PostgreSQL refuses in text) names nothing here, in the API's JSON 404.
fn id_of(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    match path {
        Ok(Path(id)) if !id.contains('\0') => Ok(id),
        _ => Err(ApiError::NotFound("id")),
    }
}

/// What the one-item routes read: nothing but `format`, which must not ask for a stream.
fn one_item(raw: Option<String>, known: &[&str]) -> Result<Params, ApiError> {
    let params = Params::parse(raw, known)?;
    if params.streamed() {
        return Err(ApiError::bad_input("format", "ndjson streams lists; this is one item"));
    }
    Ok(params)
}

const SERVICE_FILTERS: [&str; 10] = [
    "page",
    "per_page",
    "format",
    "search",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "postcode",
    "proximity",
];

/// The request's id, and its headers once answered: never cached (as every answer of the
/// service: a changed map is read at once, and a shared cache keeps nothing).
fn with_request_id(mut response: Response, request_id: &str) -> Response {
    tracing::debug!(request_id = %request_id, status = response.status().as_u16(), "hsds");
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A refusal in the API's JSON error body: an unknown id is 404; a bad parameter 400, the
/// gate's refusals as everywhere (429, 503).
fn refused(error: &ApiError, request_id: &str) -> Response {
    if error.code() == Code::NotFound {
        refusal_as(error, Some(request_id), StatusCode::NOT_FOUND)
    } else {
        super::graphql::refusal(error, Some(request_id))
    }
}

fn credentials(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Credentials {
    Credentials { authorization: None, address: state.client_address(peer.ip(), headers), role: None }
}

/// Runs `work` through the gate as the public, and answers its JSON or its refusal.
async fn answer<F, Fut>(state: &AppState, peer: SocketAddr, headers: &HeaderMap, work: F) -> Response
where
    F: FnOnce(AppState, Reveal) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ApiError>>,
{
    let request_id = uuid::Uuid::now_v7().to_string();
    let outcome = state
        .gate
        .run_plain(&credentials(state, peer, headers), |caller| {
            work(state.clone(), Reveal::for_caller(&caller))
        })
        .await;
    let response = match outcome {
        Ok(value) => Json(value).into_response(),
        Err(error) => refused(&error, &request_id),
    };
    with_request_id(response, &request_id)
}

/// A list's answer: a page of it as JSON, or (`format=ndjson`) all of it streamed. `read` turns
/// the parameters into the list asked for.
async fn list(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    raw: Option<String>,
    known: &[&str],
    read: impl FnOnce(&Params) -> Result<Listing, ApiError>,
) -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    let db = state.db.conn.clone();
    let outcome = state
        .gate
        .run_plain(&credentials(state, peer, headers), |caller| async move {
            let params = Params::parse(raw, known)?;
            let listing = read(&params)?;
            let reveal = Reveal::for_caller(&caller);
            // Checked even when a stream has no pages: a bad parameter is never passed over.
            let page = params.page(listing.per_page())?;
            if params.streamed() {
                let first = listing.chunk(&db, None, reveal).await?;
                Ok(Listed::Streamed(listing, reveal, first))
            } else {
                Ok(Listed::Page(listing.page(&db, page, reveal).await?))
            }
        })
        .await;
    let response = match outcome {
        Ok(Listed::Page(value)) => Json(value).into_response(),
        Ok(Listed::Streamed(listing, reveal, first)) => {
            ndjson(state.clone(), listing, reveal, first, &request_id)
        }
        Err(error) => refused(&error, &request_id),
    };
    with_request_id(response, &request_id)
}

enum Listed {
    Page(Value),
    Streamed(Listing, Reveal, (Vec<Value>, Option<uuid::Uuid>)),
}

/// The rest of a streamed list, after its `first` chunk (read in the gate with the request):
/// one line per item, each further chunk read as the client takes the lines, as its own piece
/// of work ([`crate::gate::Gate::run_part`]: a place among the operations executing at once and
/// the request timeout, each). A chunk that fails cuts the body short, unended, so the client
/// cannot take a cut list for a whole one.
fn ndjson(
    state: AppState,
    listing: Listing,
    reveal: Reveal,
    (first, next): (Vec<Value>, Option<uuid::Uuid>),
    request_id: &str,
) -> Response {
    let request_id = request_id.to_owned();
    let chunks = futures_util::stream::try_unfold(
        (Some(first), next, state, listing),
        move |(pending, next, state, listing)| {
            let request_id = request_id.clone();
            async move {
                let (items, next) = match (pending, next) {
                    (Some(items), next) => (items, next),
                    (None, None) => return Ok::<_, std::io::Error>(None),
                    (None, Some(after)) => {
                        let db = state.db.conn.clone();
                        state.gate.run_part(listing.chunk(&db, Some(after), reveal)).await.map_err(
                            |error| {
                                tracing::warn!(request_id = %request_id, ?error, "hsds stream cut short");
                                std::io::Error::other(error.message())
                            },
                        )?
                    }
                };
                let mut lines = Vec::with_capacity(items.len() * 512);
                for item in &items {
                    serde_json::to_writer(&mut lines, item).map_err(std::io::Error::other)?;
                    lines.push(b'\n');
                }
                Ok(Some((lines, (None, next, state, listing))))
            }
        },
    );
    let mut response = Body::from_stream(chunks).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    response
}

async fn info(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    answer(&state, peer, &headers, |_, _| async move { Ok(api::info()) }).await
}

async fn services(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut known = SERVICE_FILTERS.to_vec();
    known.extend(["full_service", "full", "minimal"]);
    list(&state, peer, &headers, raw, &known, |params| {
        let full = params.flag("full_service")? || params.flag("full")?;
        let shape = match (params.flag("minimal")?, full) {
            (true, true) => return Err(ApiError::bad_input("minimal", "either minimal or full, not both")),
            (true, false) => ServiceShape::Minimal,
            (false, true) => ServiceShape::Full,
            (false, false) => ServiceShape::Flat,
        };
        Ok(Listing::Services(params.service_query()?, shape))
    })
    .await
}

async fn service(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = id_of(id);
    answer(&state, peer, &headers, |state, reveal| async move {
        one_item(raw, &["format"])?;
        api::service(&state.db.conn, &id?, reveal).await
    })
    .await
}

async fn organizations(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let known = ["page", "per_page", "format", "search", "full_service", "full"];
    list(&state, peer, &headers, raw, &known, |params| {
        let nest = match (params.flag("full_service")?, params.flag("full")?) {
            (true, _) => Nest::FullServices,
            (false, true) => Nest::Services,
            (false, false) => Nest::Nothing,
        };
        Ok(Listing::Organizations(params.search()?, nest))
    })
    .await
}

async fn organization(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = id_of(id);
    answer(&state, peer, &headers, |state, reveal| async move {
        let params = one_item(raw, &["full_service", "format"])?;
        api::organization_by_id(&state.db.conn, &id?, params.flag("full_service")?, reveal).await
    })
    .await
}

async fn service_at_locations(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut known = SERVICE_FILTERS.to_vec();
    known.push("full");
    list(&state, peer, &headers, raw, &known, |params| {
        Ok(Listing::Places(params.service_query()?, params.flag("full")?))
    })
    .await
}

async fn service_at_location(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Response {
    let id = id_of(id);
    answer(&state, peer, &headers, |state, reveal| async move {
        one_item(raw, &["format"])?;
        api::service_at_location(&state.db.conn, &id?, reveal).await
    })
    .await
}

async fn taxonomies(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    list(&state, peer, &headers, raw, &["page", "per_page", "format", "search"], |params| {
        Ok(Listing::Taxonomies(params.search()?))
    })
    .await
}

async fn taxonomy(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = id_of(id);
    answer(&state, peer, &headers, |_, _| async move { api::taxonomy(&id?) }).await
}

async fn taxonomy_terms(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let known = ["page", "per_page", "format", "search", "taxonomy_id", "top_only", "parent_id"];
    list(&state, peer, &headers, raw, &known, |params| {
        Ok(Listing::Terms(TermQuery {
            search: params.search()?,
            taxonomy_id: params.owned("taxonomy_id"),
            top_only: params.flag("top_only")?,
            parent_id: params.owned("parent_id"),
        }))
    })
    .await
}

async fn taxonomy_term(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let id = id_of(id);
    answer(&state, peer, &headers, |_, _| async move { api::taxonomy_term(&id?) }).await
}

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
use crate::socialmap::api::{self, MAX_PER_PAGE, PageAsked, ServiceQuery};

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
    let mut response = refusal_as(&ApiError::NotFound("path"), Some(&request_id), StatusCode::NOT_FOUND);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// A method the API does not serve: only `GET` (and `HEAD`) read it. (`OPTIONS` is the CORS
/// layer's: it answers every one, from any origin.)
async fn not_allowed() -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    let error = ApiError::bad_input("method", "the HSDS API is read with GET");
    let mut response = refusal_as(&error, Some(&request_id), StatusCode::METHOD_NOT_ALLOWED);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
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
            if params.insert(key.to_string(), value.to_string()).is_some() {
                return Err(ApiError::bad_input(key.to_string(), "give it once"));
            }
        }
        let params = Params(params);
        if let Some(format) = params.text("format")
            && format != "json"
        {
            return Err(ApiError::bad_input("format", "only json is served"));
        }
        Ok(params)
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
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

    fn page(&self) -> Result<PageAsked, ApiError> {
        let default = PageAsked::default();
        Ok(PageAsked {
            page: self.number("page", 1, 1_000_000)?.unwrap_or(default.page),
            per_page: self.number("per_page", 1, MAX_PER_PAGE)?.unwrap_or(default.per_page),
        })
    }

    fn service_query(&self) -> Result<ServiceQuery, ApiError> {
        let modified_after = match self.text("modified_after") {
            Some(text) => Some(api::parse_moment(text).ok_or_else(|| {
                ApiError::bad_input("modified_after", "a date-time (RFC 3339) or a date (YYYY-MM-DD)")
            })?),
            None => None,
        };
        for key in ["search", "taxonomy_term_id", "taxonomy_id", "organization_id", "postcode"] {
            if self.text(key).is_some_and(|v| v.chars().count() > 200) {
                return Err(ApiError::bad_input(key, "at most 200 characters"));
            }
        }
        Ok(ServiceQuery {
            search: self.text("search").map(str::to_owned),
            taxonomy_term_id: self.text("taxonomy_term_id").map(str::to_owned),
            taxonomy_id: self.text("taxonomy_id").map(str::to_owned),
            organization_id: self.text("organization_id").map(str::to_owned),
            modified_after,
            postcode: self.text("postcode").map(str::to_owned),
        })
    }
}

const PAGING: [&str; 3] = ["page", "per_page", "format"];
const SERVICE_FILTERS: [&str; 9] = [
    "page",
    "per_page",
    "format",
    "search",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "modified_after",
    "postcode",
];

/// Runs `work` through the gate as the public, and answers its JSON or its refusal.
async fn answer<F, Fut>(state: &AppState, peer: SocketAddr, headers: &HeaderMap, work: F) -> Response
where
    F: FnOnce(AppState, Reveal) -> Fut,
    Fut: std::future::Future<Output = Result<Value, ApiError>>,
{
    let request_id = uuid::Uuid::now_v7().to_string();
    let credentials =
        Credentials { authorization: None, address: state.client_address(peer.ip(), headers), role: None };
    let outcome =
        state.gate.run_plain(&credentials, |caller| work(state.clone(), Reveal::for_caller(&caller))).await;
    let mut response = match outcome {
        Ok(value) => Json(value).into_response(),
        // An unknown id is 404; a bad parameter 400, the gate's refusals as everywhere (429, 503).
        Err(error) if error.code() == Code::NotFound => {
            refusal_as(&error, Some(&request_id), StatusCode::NOT_FOUND)
        }
        Err(error) => super::graphql::refusal(&error, Some(&request_id)),
    };
    tracing::debug!(request_id = %request_id, status = response.status().as_u16(), "hsds");
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
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
    known.extend(["full_service", "full"]);
    answer(&state, peer, &headers, |state, reveal| async move {
        let params = Params::parse(raw, &known)?;
        let full = params.flag("full_service")? || params.flag("full")?;
        api::services(&state.db.conn, &params.service_query()?, params.page()?, full, reveal).await
    })
    .await
}

async fn service(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    answer(
        &state,
        peer,
        &headers,
        |state, reveal| async move { api::service(&state.db.conn, &id, reveal).await },
    )
    .await
}

async fn organizations(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    answer(&state, peer, &headers, |state, _| async move {
        let params = Params::parse(raw, &["page", "per_page", "format", "search", "full_service", "full"])?;
        if params.text("search").is_some_and(|v| v.chars().count() > 200) {
            return Err(ApiError::bad_input("search", "at most 200 characters"));
        }
        api::organizations(&state.db.conn, params.text("search"), params.page()?).await
    })
    .await
}

async fn organization(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    answer(&state, peer, &headers, |state, reveal| async move {
        let params = Params::parse(raw, &["full_service", "format"])?;
        api::organization_by_id(&state.db.conn, &id, params.flag("full_service")?, reveal).await
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
    answer(&state, peer, &headers, |state, reveal| async move {
        let params = Params::parse(raw, &known)?;
        let full = params.flag("full")?;
        api::service_at_locations(&state.db.conn, &params.service_query()?, params.page()?, full, reveal)
            .await
    })
    .await
}

async fn service_at_location(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    answer(&state, peer, &headers, |state, reveal| async move {
        api::service_at_location(&state.db.conn, &id, reveal).await
    })
    .await
}

async fn taxonomies(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    answer(&state, peer, &headers, |_, _| async move {
        let params = Params::parse(raw, &PAGING)?;
        Ok(api::taxonomies(params.page()?))
    })
    .await
}

async fn taxonomy(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    answer(&state, peer, &headers, |_, _| async move { api::taxonomy(&id) }).await
}

async fn taxonomy_terms(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    answer(&state, peer, &headers, |_, _| async move {
        let params = Params::parse(raw, &["page", "per_page", "format", "taxonomy_id"])?;
        Ok(api::taxonomy_terms(params.text("taxonomy_id"), params.page()?))
    })
    .await
}

async fn taxonomy_term(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    answer(&state, peer, &headers, |_, _| async move { api::taxonomy_term(&id) }).await
}

//! `GET /me/export`: a citizen (role CLIENT) downloads everything held about them as one JSON
//! file ([`resolvers::export`]). Through the same gate as every operation: the token and the
//! client's row read now, the caller's rate, a place among the operations executing at once and
//! the request timeout; the export's audit row is written before the document leaves. Any other
//! caller is refused with the API's error body: 401 `UNAUTHENTICATED` without a valid token,
//! 403 `FORBIDDEN` for a token that is not a client's.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use entities::Role;
use resolvers::export::ExportedBy;
use resolvers::{ApiError, Provenance};

use super::graphql::refusal;
use super::{AppState, REQUEST_ID};
use crate::gate::Credentials;

/// What the export's audit row names as its operation.
pub const OPERATION: &str = "GET /me/export";

/// HEAD would run the export (and write its audit row) only to drop the body: refused, so that
/// a download is recorded exactly when a document leaves.
pub(super) async fn no_head() -> Response {
    (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET")]).into_response()
}

pub(super) async fn me_export(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let provenance = Provenance {
        request_id: uuid::Uuid::now_v7().to_string(),
        caller_request_id: super::graphql::caller_request_id(&headers),
    };
    let request_id = provenance.request_id.clone();
    let mut response = match answer(&state, peer, &headers, &provenance).await {
        Ok(response) => response,
        Err(refused) => refusal(&refused, Some(&request_id)),
    };
    tracing::info!(request_id = %request_id, status = response.status().as_u16(), "export");
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn answer(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    provenance: &Provenance,
) -> Result<Response, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let authorization = values.next().map(|v| v.to_str().unwrap_or("").to_owned());
    if values.next().is_some() {
        return Err(ApiError::bad_input("Authorization", "send one Authorization header, not several"));
    }
    let credentials =
        Credentials { authorization, address: state.client_address(peer.ip(), headers), role: None };
    let document = state
        .gate
        .run_plain(&credentials, |caller| async move {
            // Only a citizen exports, and only their own file; no token is no citizen either.
            let client = match (caller.role, caller.client_id()) {
                (Role::Client, Some(client)) => client,
                (Role::Public, _) => {
                    return Err(ApiError::Unauthenticated("sign in as yourself to export your data"));
                }
                _ => return Err(ApiError::Forbidden),
            };
            let by = ExportedBy::Operation { caller: &caller, provenance, operation: OPERATION };
            resolvers::export::export(&state.db.conn, client, by).await
        })
        .await?;
    let day = document.exported_at.date_naive();
    // A large file is written off the runtime's threads.
    let body = tokio::task::spawn_blocking(move || serde_json::to_vec_pretty(&document))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let disposition = format!("attachment; filename=\"welzijnshuis-export-{day}.json\"");
    let disposition = HeaderValue::from_str(&disposition).map_err(ApiError::internal)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

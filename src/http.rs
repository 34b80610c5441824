//! The HTTP surface: GraphQL over HTTP, GraphiQL, health, readiness and metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::Router;
use axum::extract::State;
use axum::extract::WebSocketUpgrade;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use resolvers::ApiError;
use resolvers::mutation::IdempotencyKey;
use schema::AppSchema;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Tokens;
use crate::db::Database;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: Database,
    pub tokens: Tokens,
    pub requests: Arc<AtomicU64>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(graphiql))
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
        .layer(CatchPanicLayer::custom(panicked))
        .layer(TraceLayer::new_for_http())
}

/// A panic anywhere in a request is answered as an `INTERNAL` error, never a dropped connection.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request panicked");
    refused(ApiError::Internal)
}

async fn graphql(State(state): State<AppState>, headers: HeaderMap, request: GraphQLRequest) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    let caller = match state.tokens.caller(&state.db.conn, authorization).await {
        Ok(caller) => caller,
        Err(err) => return refused(err),
    };
    let mut request = request.into_inner();
    if let Some(key) = headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        request = request.data(IdempotencyKey(key.to_owned()));
    }
    let request_id = request_id(&headers);
    let response = schema::execute(&state.schema, request, &state.db.conn, caller, &request_id).await;
    let mut response = GraphQLResponse::from(response).into_response();
    if let Ok(value) = request_id.parse() {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Subscriptions over graphql-transport-ws (and the older graphql-ws). The caller is
/// authenticated once, from the `Authorization` value of the `connection_init` payload; a bad
/// token refuses the connection, no token makes the caller PUBLIC.
async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| {
        let schema = state.schema.clone();
        GraphQLWebSocket::new(socket, schema, protocol)
            .on_connection_init(move |payload| async move {
                let authorization = ["Authorization", "authorization"]
                    .iter()
                    .find_map(|key| payload.get(*key).and_then(|v| v.as_str()).map(str::to_owned));
                let caller = state
                    .tokens
                    .caller(&state.db.conn, authorization.as_deref())
                    .await
                    .map_err(async_graphql::Error::from)?;
                Ok(resolvers::subscription_data(&state.db.conn, caller))
            })
            .serve()
    })
}

const REQUEST_ID: &str = "x-request-id";

/// The caller's `X-Request-Id` when it is a sane token (so a proxy's id runs through the logs),
/// else a fresh one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .filter(|id| id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// A request refused before execution, as a GraphQL error response.
fn refused(err: ApiError) -> Response {
    let status = match err {
        ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": err.message(), "extensions": { "code": err.code().as_str() } }],
    });
    (status, axum::Json(body)).into_response()
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("welzijnshuis")
            .finish(),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let body = format!(
        "# HELP welzijnshuis_graphql_requests_total GraphQL requests received.\n\
         # TYPE welzijnshuis_graphql_requests_total counter\n\
         welzijnshuis_graphql_requests_total {}\n\
         # HELP welzijnshuis_sql_statements_total SQL statements run.\n\
         # TYPE welzijnshuis_sql_statements_total counter\n\
         welzijnshuis_sql_statements_total {}\n",
        state.requests.load(Ordering::Relaxed),
        state.db.statements(),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

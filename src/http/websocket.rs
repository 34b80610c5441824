//! Subscriptions over graphql-transport-ws (and the older graphql-ws). The caller is
//! authenticated once, from the `Authorization` value of the `connection_init` payload; a bad
//! token refuses the connection, no token makes the caller PUBLIC. On shutdown every socket is
//! closed with 1001 (going away), so clients know to reconnect elsewhere.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};

use super::AppState;

pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let open = state.sockets.open();
    upgrade.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| async move {
        serve(socket, state, protocol).await;
        drop(open);
    })
}

async fn serve(socket: WebSocket, state: AppState, protocol: GraphQLProtocol) {
    let (mut sink, stream) = socket.split();
    let mut closing = state.closing.clone();
    let incoming = stream.take_until(async move {
        let _ = closing.wait_for(|closing| *closing).await;
    });
    let schema = state.api.subscriptions().clone();
    let (db, tokens) = (state.db.clone(), state.tokens.clone());
    GraphQLWebSocket::new_with_pair(&mut sink, incoming, schema, protocol)
        .on_connection_init(move |payload| async move {
            let authorization = ["Authorization", "authorization"]
                .iter()
                .find_map(|key| payload.get(*key).and_then(|v| v.as_str()).map(str::to_owned));
            let caller = tokens
                .caller(&db.conn, authorization.as_deref())
                .await
                .map_err(async_graphql::Error::from)?;
            Ok(resolvers::subscription_data(&db.conn, caller))
        })
        .serve()
        .await;
    if *state.closing.borrow() {
        let frame = CloseFrame { code: 1001, reason: "the server is shutting down".into() };
        let _ = sink.send(Message::Close(Some(frame))).await;
    }
}

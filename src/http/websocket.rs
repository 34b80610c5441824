//! The WebSocket door: graphql-transport-ws, as its protocol says, with every operation passing
//! the same gate as HTTP (see `crate::gate`).
//!
//! - `connection_init` carries the token (`{"Authorization": "Bearer …"}`); a refused one closes
//!   the socket with `4403`, none makes the caller PUBLIC; `connection_ack` answers the rest.
//! - Every `subscribe` is an operation of its own, admitted afresh from the token (the user's row
//!   read again) and limited like an HTTP request: rate, places, timeout, document limits. A
//!   query or mutation answers `next` and `complete`; a subscription answers, for each event of
//!   the bus, a `next` resolved as a fresh operation of its subscriber.
//! - Close codes: `4400` invalid message, `4401` subscribe before ack, `4403` refused init or a
//!   user gone or a token expired while the socket is open, `4408` no init in time, `4409` an id
//!   in use, `4429` a second init, `1001` the server shutting down, `1013` (try again later) a
//!   public socket over `WELZIJNSHUIS_MAX_PUBLIC_SOCKETS`, or one without `connection_init` that
//!   gave its place to a new connection under a full connection cap.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use async_graphql::Response;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::extract::{ConnectInfo, Extension, State, WebSocketUpgrade};
use axum::response::Response as HttpResponse;
use futures_util::{SinkExt, StreamExt};
use resolvers::subscription::{EventToDeliver, Slot};
use resolvers::{ApiError, Code, Provenance};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{AppState, connections};
use crate::gate::Credentials;

const PROTOCOL: &str = "graphql-transport-ws";

/// How often an idle socket's user is read again, so that a deactivated user's socket closes
/// even when nothing happens on it.
const RECHECK: Duration = Duration::from_secs(30);

pub(super) async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: axum::http::HeaderMap,
    place: Option<Extension<connections::Place>>,
    upgrade: WebSocketUpgrade,
) -> HttpResponse {
    let address = state.client_address(peer.ip(), &headers);
    // A token on the upgrade request is checked like one in `connection_init` (and used when
    // that carries none): a bad one is refused here, never taken for the public.
    let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let upgrade_authorization = values.next().map(|v| v.to_str().unwrap_or("").to_owned());
    if values.next().is_some() {
        let refused = ApiError::bad_input("Authorization", "send one Authorization header, not several");
        return super::graphql::refusal(&refused, None);
    }
    if upgrade_authorization.is_some() {
        let credentials = Credentials { authorization: upgrade_authorization.clone(), address, role: None };
        if let Err(refused) = state.gate.admit(&credentials).await {
            return super::graphql::refusal(&refused, None);
        }
    }
    let open = state.sockets.open();
    // The socket keeps its connection's place among the open connections.
    let place = place.map(|Extension(place)| place);
    if let Some(place) = &place {
        place.socket_opening();
    }
    // A message is a request: no larger than a request's body may be.
    let max = state.limits.max_body_bytes;
    upgrade.protocols([PROTOCOL]).max_message_size(max).max_frame_size(max).on_upgrade(
        move |socket| async move {
            let mut connection = Connection::new(state, address, place);
            connection.upgrade_authorization = upgrade_authorization;
            connection.serve(socket).await;
            drop(open);
        },
    )
}

/// What the connection's tasks ask its loop to do.
enum Out {
    Send(Value),
    /// An operation's last message (`complete` or `error`): its id is free again before the
    /// client can read the message, so the client may reuse it at once.
    Last(Ticket, Value),
    Close(u16, String),
    /// The operation has ended without a last message (the socket is closing).
    Done(Ticket),
}

/// One operation's hold on its id: the id, and the operation's number on this socket (so that
/// an operation ending late never frees the id a newer one took).
#[derive(Clone, Debug)]
struct Ticket {
    id: String,
    number: u64,
}

struct Connection {
    state: AppState,
    /// The caller's address (behind trusted proxies, the one they name).
    address: std::net::IpAddr,
    /// Its place among the open connections (none when served without one).
    place: Option<connections::Place>,
    init_received: bool,
    /// The `Authorization` of the upgrade request, for a `connection_init` without one.
    upgrade_authorization: Option<String>,
    /// Set once `connection_init` was accepted.
    credentials: Option<Credentials>,
    /// The user the token named at `connection_init` (`None`: the public).
    user: Option<uuid::Uuid>,
    /// Who that was at `connection_init`: whose persisted documents the socket may name.
    caller: Option<resolvers::Caller>,
    expires_at: Option<i64>,
    /// The running operations by id, with their number on this socket.
    operations: HashMap<String, (u64, JoinHandle<()>)>,
    /// Operations started on this socket so far.
    started: u64,
    out: mpsc::Sender<Out>,
    out_rx: Option<mpsc::Receiver<Out>>,
}

impl Connection {
    fn new(state: AppState, address: std::net::IpAddr, place: Option<connections::Place>) -> Self {
        let (out, out_rx) = mpsc::channel(64);
        Connection {
            state,
            address,
            place,
            init_received: false,
            upgrade_authorization: None,
            credentials: None,
            user: None,
            caller: None,
            expires_at: None,
            operations: HashMap::new(),
            started: 0,
            out,
            out_rx: Some(out_rx),
        }
    }

    async fn serve(mut self, socket: WebSocket) {
        let (mut sink, mut stream) = socket.split();
        let Some(mut out_rx) = self.out_rx.take() else { return };
        let mut closing = self.state.closing.clone();
        let shutdown = async move {
            let _ = closing.wait_for(|closing| *closing).await;
        };
        tokio::pin!(shutdown);
        // Until its `connection_init`, a socket may give its place to a new connection.
        let place = self.place.clone();
        let evicted = async move {
            match place {
                Some(place) => place.evicted().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(evicted);
        let init_deadline = Instant::now() + Duration::from_secs(self.state.limits.ws_init_timeout_secs);
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        let close = loop {
            let expiry = self.expiry();
            tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if let Some(close) = self.receive(text.as_str()).await {
                            break Some(close);
                        }
                    }
                    Some(Ok(Message::Binary(_))) => break Some((4400, "binary messages are not part of the protocol".into())),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => break None,
                    Some(Err(err)) => {
                        tracing::debug!(%err, "a WebSocket failed");
                        // A message over the size limit: say so, as RFC 6455 does (1009).
                        let too_big = err.to_string().to_ascii_lowercase().contains("too long");
                        break too_big.then(|| (1009, "the message is larger than a request may be".into()));
                    }
                },
                Some(out) = out_rx.recv() => match out {
                    Out::Send(message) => {
                        if sink.send(Message::text(message.to_string())).await.is_err() {
                            break None;
                        }
                    }
                    Out::Last(ticket, message) => {
                        self.release(&ticket);
                        if sink.send(Message::text(message.to_string())).await.is_err() {
                            break None;
                        }
                    }
                    Out::Close(code, reason) => break Some((code, reason)),
                    Out::Done(ticket) => self.release(&ticket),
                },
                () = tokio::time::sleep_until(init_deadline.into()), if !self.init_received => {
                    break Some((4408, "Connection initialisation timeout".into()));
                }
                () = tokio::time::sleep(expiry), if self.expires_at.is_some() => {
                    break Some((4403, "Forbidden: the token expired".into()));
                }
                _ = recheck.tick(), if self.credentials.is_some() => {
                    if let Some(close) = self.recheck().await {
                        break Some(close);
                    }
                }
                () = &mut shutdown => {
                    break Some((1001, "the server is shutting down".into()));
                }
                () = &mut evicted, if !self.init_received => {
                    break Some((1013, "the server is at its connection limit: try again later".into()));
                }
            }
        };
        for (_, (_, operation)) in self.operations.drain() {
            operation.abort();
        }
        if let Some((code, reason)) = close {
            let reason = fit_close_reason(reason);
            let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
        }
        let _ = sink.close().await;
    }

    /// Frees an operation's id, unless a newer operation holds it already.
    fn release(&mut self, ticket: &Ticket) {
        if self.operations.get(&ticket.id).is_some_and(|(number, _)| *number == ticket.number) {
            self.operations.remove(&ticket.id);
        }
    }

    /// How long until the token expires (a long time when it does not).
    fn expiry(&self) -> Duration {
        let now = chrono::Utc::now().timestamp();
        match self.expires_at {
            Some(at) => Duration::from_secs(at.saturating_sub(now).max(0) as u64),
            None => Duration::from_secs(86_400),
        }
    }

    /// Reads the user again; a user gone or a token expired closes the socket.
    async fn recheck(&self) -> Option<(u16, String)> {
        let credentials = self.credentials.as_ref()?;
        match self.state.gate.admit(credentials).await {
            Err(ApiError::Unauthenticated(why)) => Some((4403, format!("Forbidden: {why}"))),
            _ => None,
        }
    }

    /// Handles one message; `Some` closes the socket with that code and reason.
    async fn receive(&mut self, text: &str) -> Option<(u16, String)> {
        let invalid = |why: &str| Some((4400, format!("Invalid message received: {why}")));
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
            return invalid("not a JSON object");
        };
        match message.get("type").and_then(Value::as_str) {
            Some("connection_init") => self.init(message.get("payload")).await,
            Some("ping") => {
                let _ = self.out.send(Out::Send(json!({ "type": "pong" }))).await;
                None
            }
            Some("pong") => None,
            Some("subscribe") => {
                let Some(id) = message.get("id").and_then(Value::as_str).filter(|id| !id.is_empty()) else {
                    return invalid("subscribe needs an id");
                };
                let Some(payload) = message.get("payload").filter(|p| p["query"].is_string()) else {
                    return invalid("subscribe needs a payload with a query");
                };
                if self.credentials.is_none() {
                    return Some((4401, "Unauthorized".into()));
                }
                if self.operations.contains_key(id) {
                    return Some((4409, format!("Subscriber for {id} already exists")));
                }
                let Some(request) = request_of(payload) else {
                    return invalid("the payload is not a GraphQL request");
                };
                let caller = self.caller.as_ref();
                let is_subscription = self.state.gate.api.operation_type(&request, caller)
                    == Some(async_graphql::parser::types::OperationType::Subscription);
                // The places among the user's subscriptions go in the order they were asked for.
                let slot = if is_subscription {
                    match self.state.gate.reserve_subscription(self.user) {
                        Ok(slot) => Some(slot),
                        Err(err) => {
                            let errors = json!([{ "message": err.message(), "extensions": { "code": err.code().as_str() } }]);
                            let _ = self
                                .out
                                .send(Out::Send(json!({ "id": id, "type": "error", "payload": errors })))
                                .await;
                            return None;
                        }
                    }
                } else {
                    None
                };
                self.started += 1;
                let ticket = Ticket { id: id.to_owned(), number: self.started };
                let task = self.operation(ticket, payload.clone(), request, slot);
                self.operations.insert(id.to_owned(), (self.started, tokio::spawn(task)));
                None
            }
            Some("complete") => {
                let Some(id) = message.get("id").and_then(Value::as_str) else {
                    return invalid("complete needs an id");
                };
                if let Some((_, operation)) = self.operations.remove(id) {
                    operation.abort();
                }
                None
            }
            _ => invalid("unknown type"),
        }
    }

    async fn init(&mut self, payload: Option<&Value>) -> Option<(u16, String)> {
        if self.init_received {
            return Some((4429, "Too many initialisation requests".into()));
        }
        self.init_received = true;
        let authorization = match payload {
            None | Some(Value::Null) => None,
            Some(Value::Object(fields)) => {
                let value = fields.get("Authorization").or_else(|| fields.get("authorization"));
                match value {
                    None | Some(Value::Null) => None,
                    Some(Value::String(value)) => Some(value.clone()),
                    Some(_) => {
                        return Some((
                            4400,
                            "Invalid message received: Authorization must be a string".into(),
                        ));
                    }
                }
            }
            Some(_) => return Some((4400, "Invalid message received: the payload must be an object".into())),
        };
        let authorization = authorization.or_else(|| self.upgrade_authorization.clone());
        let mut credentials = Credentials { authorization, address: self.address, role: None };
        match self.state.gate.admit(&credentials).await {
            Ok(admitted) => {
                if let Some(place) = &self.place {
                    if admitted.caller.principal().is_some() {
                        place.user_socket();
                    } else if !place.public_socket() {
                        // Public sockets are capped: a flood of them leaves places for users.
                        return Some((1013, "too many public sockets are open: try again later".into()));
                    }
                }
                self.expires_at = admitted.expires_at;
                self.user = admitted.caller.principal();
                credentials.role = Some(admitted.caller.role);
                self.caller = Some(admitted.caller);
                self.credentials = Some(credentials);
                let _ = self.out.send(Out::Send(json!({ "type": "connection_ack" }))).await;
                None
            }
            Err(err) => Some((4403, format!("Forbidden: {}", err.message()))),
        }
    }

    /// The task of one `subscribe`.
    fn operation(
        &self,
        ticket: Ticket,
        payload: Value,
        request: async_graphql::Request,
        slot: Option<Slot>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let state = self.state.clone();
        let credentials = self.credentials.clone().expect("only acknowledged sockets run operations");
        let out = self.out.clone();
        async move {
            let operation = Operation {
                state,
                credentials,
                out: out.clone(),
                id: ticket.id.clone(),
                ticket: ticket.clone(),
            };
            if let Some(slot) = slot {
                operation.subscription(payload, request, slot).await;
            } else {
                operation.single(request).await;
            }
            let _ = out.send(Out::Done(ticket)).await;
        }
    }
}

/// A `subscribe` payload as a GraphQL request; `null` members read as absent.
fn request_of(payload: &Value) -> Option<async_graphql::Request> {
    let mut payload = payload.clone();
    if let Some(fields) = payload.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    serde_json::from_value(payload).ok()
}

/// One running operation of a socket.
struct Operation {
    state: AppState,
    credentials: Credentials,
    out: mpsc::Sender<Out>,
    id: String,
    ticket: Ticket,
}

impl Operation {
    fn provenance(&self) -> Provenance {
        Provenance { request_id: uuid::Uuid::now_v7().to_string(), caller_request_id: Some(self.id.clone()) }
    }

    async fn send(&self, message: Value) {
        let _ = self.out.send(Out::Send(message)).await;
    }

    /// The operation's last message: `complete`, or an `error` that ends it.
    async fn finish(&self, message: Value) {
        let _ = self.out.send(Out::Last(self.ticket.clone(), message)).await;
    }

    /// A query or mutation: `next` and `complete`, or `error` when it did not get to run.
    async fn single(&self, request: async_graphql::Request) {
        let provenance = self.provenance();
        let started = Instant::now();
        let (ran, statements) =
            crate::db::count_statements(self.state.gate.run(&self.credentials, request, &provenance)).await;
        let (operation, outcome) = match ran {
            Ok(executed) => {
                let outcome = outcome_of(&executed.response);
                if is_request_error(&executed.response) {
                    self.finish(
                        json!({ "id": self.id, "type": "error", "payload": executed.response.errors }),
                    )
                    .await;
                } else {
                    self.send(json!({ "id": self.id, "type": "next", "payload": executed.response })).await;
                    self.finish(json!({ "id": self.id, "type": "complete" })).await;
                }
                // A name is believed only when its operation ran.
                (executed.operation.filter(|_| !is_request_error(&executed.response)), outcome)
            }
            Err(err) => {
                self.refused(&err, &provenance).await;
                (None, err.code().as_str().to_owned())
            }
        };
        let origin = crate::metrics::Origin {
            authorization: self.credentials.authorization.as_deref(),
            address: self.credentials.address,
        };
        self.state.metrics.record(operation.as_deref(), origin, &outcome, started.elapsed(), statements);
        tracing::info!(
            request_id = %provenance.request_id,
            transport = "websocket",
            operation = operation.as_deref().unwrap_or("-"),
            outcome = %outcome,
            statements,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "graphql request"
        );
    }

    /// A refusal by the gate: a user gone or a token expired closes the socket (4403); anything
    /// else is this operation's `error`.
    async fn refused(&self, err: &ApiError, provenance: &Provenance) {
        if matches!(err, ApiError::Unauthenticated(_)) {
            let _ = self.out.send(Out::Close(4403, format!("Forbidden: {}", err.message()))).await;
            return;
        }
        let mut extensions = json!({ "code": err.code().as_str() });
        if err.code() == Code::Internal {
            extensions["requestId"] = provenance.request_id.clone().into();
        }
        if let ApiError::RateLimited { retry_after_secs } = err {
            extensions["retryAfter"] = (*retry_after_secs).into();
        }
        let errors = json!([{ "message": err.message(), "extensions": extensions }]);
        self.finish(json!({ "id": self.id, "type": "error", "payload": errors })).await;
    }

    /// A subscription: checked and counted once, then each event a fresh operation.
    async fn subscription(&self, payload: Value, request: async_graphql::Request, slot: Slot) {
        let mut events = self.state.events.subscribe();
        match self.state.gate.subscribe(&self.credentials, request, &self.provenance()).await {
            Ok(None) => {}
            Ok(Some(refused)) => {
                self.finish(json!({ "id": self.id, "type": "error", "payload": refused.response.errors }))
                    .await;
                return;
            }
            Err(err) => return self.refused(&err, &self.provenance()).await,
        }
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a subscriber fell behind and skipped events");
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            let Some(request) = request_of(&payload) else { break };
            let provenance = self.provenance();
            match self
                .state
                .gate
                .deliver(&self.credentials, request, &provenance, EventToDeliver(event))
                .await
            {
                // What the subscriber may subscribe to changed (its role): the subscription ends.
                Ok(Some(executed)) if is_request_error(&executed.response) => {
                    drop(slot);
                    let errors = executed.response.errors;
                    return self.finish(json!({ "id": self.id, "type": "error", "payload": errors })).await;
                }
                Ok(Some(executed)) => {
                    self.send(json!({ "id": self.id, "type": "next", "payload": executed.response })).await;
                }
                Ok(None) => {}
                Err(err @ ApiError::Unauthenticated(_)) => return self.refused(&err, &provenance).await,
                Err(err) => {
                    let errors =
                        json!([{ "message": err.message(), "extensions": { "code": err.code().as_str() } }]);
                    self.send(json!({ "id": self.id, "type": "next", "payload": { "data": null, "errors": errors } }))
                        .await;
                }
            }
        }
        drop(slot);
        self.finish(json!({ "id": self.id, "type": "complete" })).await;
    }
}

/// An operation that did not get to run: no data, and no error with a path.
fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// The metrics' outcome label: `INTERNAL` when any error is, else the first error's code.
fn outcome_of(response: &Response) -> String {
    let codes = || response.errors.iter().filter_map(resolvers::error::code_of);
    codes()
        .find(|code| code == Code::Internal.as_str())
        .or_else(|| codes().next())
        .unwrap_or_else(|| "ok".into())
}

/// A close frame's reason holds at most 123 bytes (RFC 6455, 5.5): a longer one makes a frame
/// that clients refuse as a protocol error, and the close code never reaches them.
fn fit_close_reason(mut reason: String) -> String {
    const MAX_BYTES: usize = 123;
    if reason.len() > MAX_BYTES {
        let mut end = MAX_BYTES - '…'.len_utf8();
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push('…');
    }
    reason
}

//! Serving a listener: our own accept loop over hyper's HTTP/1.1, so that every connection is
//! bounded in time and in number (`axum::serve` has no timeout and no cap: 200 connections
//! sending half a request line stayed open forever, and 20,000 silent ones used up the file
//! descriptors).
//!
//! - **Header timeout**: a connection must deliver a request's head within
//!   `WELZIJNSHUIS_HEADER_TIMEOUT_SECS` of opening, or of the first byte of its next request.
//! - **Body timeout**: the GraphQL handler reads a body within `WELZIJNSHUIS_BODY_TIMEOUT_SECS`
//!   (408), see `graphql::read_request`.
//! - **Idle timeout**: a kept-alive connection waits `WELZIJNSHUIS_IDLE_TIMEOUT_SECS` for its next
//!   request; a write the client does not read for as long fails (see [`io`]).
//! - **Caps**: all connections, per address, and public WebSockets, with eviction of connections
//!   that do nothing (see [`registry`]).
//! - **Shutdown**: stop accepting; a connection with a request in flight finishes it and closes,
//!   one without closes at once (hyper's own graceful shutdown waits for a half-sent head).
//!
//! These are our own timers rather than hyper's `header_read_timeout`, which runs from the end
//! of one answer to the next head and so is the idle timeout and the header timeout in one.
//! HTTP/1.1 only, as before (axum's `http2` feature is off); hyper's `auto` builder would also
//! sniff for HTTP/2 with a read no timer covers.

mod io;
mod registry;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

pub use registry::{Caps, Place, Registry, network_of};

use crate::config::LimitsConfig;

/// How long a connection may take over what.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub header: Duration,
    pub idle: Duration,
}

impl Timeouts {
    pub fn of(limits: &LimitsConfig) -> Timeouts {
        Timeouts {
            header: Duration::from_secs(limits.header_timeout_secs.max(1)),
            idle: Duration::from_secs(limits.idle_timeout_secs.max(1)),
        }
    }
}

impl Caps {
    pub fn of(limits: &LimitsConfig) -> Caps {
        Caps {
            connections: limits.max_connections,
            per_address: limits.max_connections_per_address,
            public_sockets: limits.max_public_sockets,
        }
    }
}

/// Serves `router` on `listener` until `closing` turns `true`; then stops accepting and returns
/// once every connection (WebSockets included) has closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &LimitsConfig,
    mut closing: watch::Receiver<bool>,
) {
    let registry = Registry::new(Caps::of(limits));
    let timeouts = Timeouts::of(limits);
    let mut http = hyper::server::conn::http1::Builder::new();
    // Our own timers replace hyper's (see the module's documentation). A request head of at most
    // 64 KiB (431 beyond; a long GET query fits): hyper's default lets each connection buffer
    // about 400 KiB of head, 400 MiB over a thousand slow connections.
    http.keep_alive(true).header_read_timeout(None).max_header_size(64 * 1024);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = closed(&mut closing) => break,
        };
        let Some(place) = registry.admit(peer.ip()) else {
            tracing::debug!(%peer, "every place is busy: connection refused");
            continue;
        };
        // Without TCP_NODELAY, the last part of a larger answer waited for the client's delayed
        // ACK: 1 % of inbox requests took 70–100 ms instead of 6.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::warn!(%err, "could not set TCP_NODELAY");
        }
        let connection = Connection { peer, place, timeouts, closing: closing.clone() };
        tokio::spawn(connection.serve(stream, router.clone(), http.clone()));
    }
    drop(listener);
    registry.all_closed().await;
}

/// Resolves once `closing` turns `true` (or its sender is gone).
async fn closed(closing: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: dropped here, before anything else awaits.
    let _ = closing.wait_for(|closing| *closing).await;
}

/// A failed accept: a connection reset before it was accepted is nothing; anything else (out of
/// file descriptors, say) is logged and waited out briefly instead of spinning.
async fn accept_failed(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!(%err, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

struct Connection {
    peer: SocketAddr,
    place: Place,
    timeouts: Timeouts,
    closing: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream, router: Router, http: hyper::server::conn::http1::Builder) {
        let io = TokioIo::new(io::Guarded::new(stream, self.place.slot().clone(), self.timeouts.idle));
        let (peer, place) = (self.peer, self.place.clone());
        let service = hyper::service::service_fn(move |request| {
            // Called as soon as the head is read: from here the request is in flight.
            let in_flight = place.request_started();
            respond(router.clone(), request, peer, place.clone(), in_flight)
        });
        let connection = http.serve_connection(io, service).with_upgrades();
        tokio::pin!(connection);
        // Evicted or shutting down: close as soon as no request is in flight.
        let mut winding_down = false;
        loop {
            let deadline = self.place.deadline(self.timeouts.header, self.timeouts.idle);
            tokio::select! {
                served = connection.as_mut() => {
                    if let Err(err) = served {
                        tracing::debug!(%err, peer = %self.peer, "a connection ended with an error");
                    }
                    return;
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    if self.place.expired(self.timeouts.header, self.timeouts.idle) {
                        tracing::debug!(peer = %self.peer, "closing a connection: header or idle timeout");
                        return;
                    }
                }
                () = self.place.evicted(), if !winding_down => {
                    winding_down = true;
                    connection.as_mut().graceful_shutdown();
                }
                () = closed(&mut self.closing), if !winding_down => {
                    winding_down = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
            if winding_down && !self.place.in_flight() {
                return;
            }
        }
    }
}

/// One request through the router, with what handlers read of its connection: the peer's
/// address (`ConnectInfo`) and the connection's [`Place`] (the WebSocket upgrade takes it along).
async fn respond(
    router: Router,
    mut request: hyper::Request<Incoming>,
    peer: SocketAddr,
    place: Place,
    in_flight: registry::InFlight,
) -> Result<hyper::Response<Answer>, Infallible> {
    request.extensions_mut().insert(ConnectInfo(peer));
    request.extensions_mut().insert(place);
    let response = router.oneshot(request.map(Body::new)).await?;
    Ok(response.map(|body| Answer { body, _in_flight: in_flight }))
}

/// An answer's body, which holds its request in flight until hyper has written it (and drops it).
struct Answer {
    body: Body,
    _in_flight: registry::InFlight,
}

impl HttpBody for Answer {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

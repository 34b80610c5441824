//! The open connections, and who gets a place when they are too many.
//!
//! Two caps: all connections (`WELZIJNSHUIS_MAX_CONNECTIONS`, which keeps the process within its
//! file descriptors) and those of one address (`WELZIJNSHUIS_MAX_CONNECTIONS_PER_ADDRESS`). A cap
//! alone would let one flood lock everyone out: whoever fills it first keeps it. So a connection
//! that arrives at a full cap takes the place of one that is doing nothing, and is refused only
//! when every connection under that cap has a request in flight (or is a WebSocket past its
//! `connection_init`):
//! 1. first a connection that never delivered a request head (silent, or sending it slowly)
//!    or a WebSocket still waiting for its `connection_init`, the one open longest: legitimate
//!    clients send at once, so these are the cheap end of a flood;
//! 2. else a kept-alive connection between requests, the one idle longest: its client reconnects
//!    when it needs to, at the cost of one handshake.
//!
//! An address is an IPv4 address or an IPv6 /64 (see [`network_of`]). A flood of silent or slow
//! connections therefore only ever evicts itself once the honest
//! clients have connected, and new arrivals (`/healthz`, a partner) always find a place. What
//! cannot be evicted is bounded elsewhere: a request in flight by the header, body and request
//! timeouts and the per-address cap, a public WebSocket by `WELZIJNSHUIS_MAX_PUBLIC_SOCKETS`, a
//! user's WebSocket by the user's account.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::http::{Open as Tracked, Tracker};

/// The caps, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Caps {
    pub connections: usize,
    pub per_address: usize,
    pub public_sockets: usize,
}

/// What a connection is, for eviction and the WebSocket cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    Http = 0,
    /// Upgraded, waiting for `connection_init`.
    SocketOpening = 1,
    /// Acknowledged without a user: counted against the public sockets' cap.
    PublicSocket = 2,
    UserSocket = 3,
}

impl Kind {
    fn from_u8(value: u8) -> Kind {
        match value {
            1 => Kind::SocketOpening,
            2 => Kind::PublicSocket,
            3 => Kind::UserSocket,
            _ => Kind::Http,
        }
    }
}

/// The connections of one listener.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    caps: Caps,
    epoch: Instant,
    open: Mutex<Open>,
    /// Every connection whose place is still held, evicted or not: the server waits for them all
    /// on shutdown.
    alive: Tracker,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    /// Those holding a place, by id.
    connections: HashMap<u64, Arc<Slot>>,
    per_address: HashMap<IpAddr, usize>,
    public_sockets: usize,
}

/// What the connection, its IO and its requests tell each other; times are milliseconds since
/// the registry's epoch.
pub(super) struct Slot {
    id: u64,
    address: IpAddr,
    epoch: Instant,
    accepted_ms: u64,
    kind: AtomicU8,
    /// Requests whose answer is not written yet.
    in_flight: AtomicUsize,
    /// Whether a request head ever arrived.
    served: AtomicBool,
    /// When the last request's answer was written (or the socket was upgraded).
    idle_since_ms: AtomicU64,
    /// When the first byte of the next request arrived while none was in flight; 0: none yet.
    head_since_ms: AtomicU64,
    evicted: AtomicBool,
    evict: Notify,
}

/// A place among the open connections, shared by the connection, its requests and (after an
/// upgrade) its WebSocket; the place is given back when the last of them drops it.
#[derive(Clone)]
pub struct Place {
    inner: Arc<PlaceInner>,
}

struct PlaceInner {
    slot: Arc<Slot>,
    registry: Registry,
    _alive: Tracked,
}

/// A request in flight on a connection; its end is when the answer has been written.
pub(super) struct InFlight(Arc<Slot>);

impl Registry {
    pub fn new(caps: Caps) -> Registry {
        let caps = Caps {
            connections: caps.connections.max(1),
            per_address: caps.per_address.max(1),
            public_sockets: caps.public_sockets,
        };
        Registry {
            inner: Arc::new(Inner {
                caps,
                epoch: Instant::now(),
                open: Mutex::default(),
                alive: Tracker::default(),
            }),
        }
    }

    fn now_ms(&self) -> u64 {
        millis_since(self.inner.epoch)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.inner.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for a connection from `address`, taking an idle one's place under a full cap;
    /// `None`: every place is busy, refuse it.
    pub fn admit(&self, address: IpAddr) -> Option<Place> {
        let address = network_of(address);
        let caps = self.inner.caps;
        let now = self.now_ms();
        let mut open = self.lock();
        if open.per_address.get(&address).copied().unwrap_or(0) >= caps.per_address {
            let victim = open.victim(|slot| slot.address == address)?;
            open.evict(victim);
        }
        if open.connections.len() >= caps.connections {
            let victim = open.victim(|_| true)?;
            open.evict(victim);
        }
        let id = open.next_id;
        open.next_id += 1;
        let slot = Arc::new(Slot {
            id,
            address,
            epoch: self.inner.epoch,
            accepted_ms: now,
            kind: AtomicU8::new(Kind::Http as u8),
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since_ms: AtomicU64::new(now),
            head_since_ms: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        open.connections.insert(id, slot.clone());
        *open.per_address.entry(address).or_default() += 1;
        drop(open);
        let inner = PlaceInner { slot, registry: self.clone(), _alive: self.inner.alive.open() };
        Some(Place { inner: Arc::new(inner) })
    }

    /// Waits until every connection is closed.
    pub async fn all_closed(&self) {
        self.inner.alive.all_closed().await
    }

    fn release(&self, slot: &Slot) {
        let mut open = self.lock();
        if open.connections.remove(&slot.id).is_some() {
            open.forget(slot);
        }
    }
}

impl Open {
    /// The connection to evict among those `matching`: never delivered a request first, then
    /// the longest idle; `None` when all are busy.
    fn victim(&self, matching: impl Fn(&Slot) -> bool) -> Option<u64> {
        self.connections
            .values()
            .filter(|slot| matching(slot) && slot.evictable())
            .min_by_key(|slot| {
                let kind = slot.kind();
                let unproven = kind == Kind::SocketOpening || !slot.served.load(Ordering::Acquire);
                let since = if unproven && kind == Kind::Http {
                    slot.accepted_ms
                } else {
                    slot.idle_since_ms.load(Ordering::Acquire)
                };
                (!unproven, since)
            })
            .map(|slot| slot.id)
    }

    fn evict(&mut self, id: u64) {
        if let Some(slot) = self.connections.remove(&id) {
            self.forget(&slot);
            slot.evicted.store(true, Ordering::Release);
            slot.evict.notify_one();
            tracing::debug!(address = %slot.address, "a connection gave its place to a new one");
        }
    }

    /// Takes `slot`, no longer among the connections, out of the counts.
    fn forget(&mut self, slot: &Slot) {
        if let Some(count) = self.per_address.get_mut(&slot.address) {
            *count -= 1;
            if *count == 0 {
                self.per_address.remove(&slot.address);
            }
        }
        if slot.kind() == Kind::PublicSocket {
            self.public_sockets -= 1;
        }
    }
}

impl Slot {
    fn kind(&self) -> Kind {
        Kind::from_u8(self.kind.load(Ordering::Acquire))
    }

    fn evictable(&self) -> bool {
        match self.kind() {
            Kind::Http => self.in_flight.load(Ordering::Acquire) == 0,
            Kind::SocketOpening => true,
            Kind::PublicSocket | Kind::UserSocket => false,
        }
    }

    /// Bytes arrived: the start of a request head, when none is in flight.
    pub(super) fn bytes_arrived(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0 && self.head_since_ms.load(Ordering::Relaxed) == 0 {
            let now = millis_since(self.epoch).max(1);
            let _ = self.head_since_ms.compare_exchange(0, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

impl Place {
    pub(super) fn slot(&self) -> &Arc<Slot> {
        &self.inner.slot
    }

    /// A request head arrived: the request is in flight until the guard drops.
    pub(super) fn request_started(&self) -> InFlight {
        let slot = &self.inner.slot;
        slot.in_flight.fetch_add(1, Ordering::AcqRel);
        slot.served.store(true, Ordering::Release);
        slot.head_since_ms.store(0, Ordering::Release);
        InFlight(slot.clone())
    }

    pub(super) fn in_flight(&self) -> bool {
        self.inner.slot.in_flight.load(Ordering::Acquire) > 0
    }

    /// When this connection is to be closed if nothing happens before: the header timeout from
    /// its opening or its next request's first byte, the idle timeout from its last answer.
    /// While a request is in flight, only a time to look again.
    pub(super) fn deadline(&self, header: Duration, idle: Duration) -> Instant {
        let slot = &self.inner.slot;
        let at = |ms: u64, timeout: Duration| slot.epoch + Duration::from_millis(ms) + timeout;
        if self.in_flight() {
            return Instant::now() + header;
        }
        match slot.head_since_ms.load(Ordering::Acquire) {
            0 if !slot.served.load(Ordering::Acquire) => at(slot.accepted_ms, header),
            0 => at(slot.idle_since_ms.load(Ordering::Acquire), idle),
            since => at(since, header),
        }
    }

    /// Whether the connection is past its deadline with no request in flight.
    pub(super) fn expired(&self, header: Duration, idle: Duration) -> bool {
        !self.in_flight() && Instant::now() >= self.deadline(header, idle)
    }

    /// Resolves once this connection has been evicted to make room.
    pub async fn evicted(&self) {
        let slot = &self.inner.slot;
        loop {
            let notified = slot.evict.notified();
            if slot.evicted.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// The connection became a WebSocket, waiting for its `connection_init`.
    pub fn socket_opening(&self) {
        let slot = &self.inner.slot;
        slot.idle_since_ms.store(millis_since(slot.epoch), Ordering::Release);
        slot.kind.store(Kind::SocketOpening as u8, Ordering::Release);
    }

    /// The WebSocket was acknowledged for a user.
    pub fn user_socket(&self) {
        self.inner.slot.kind.store(Kind::UserSocket as u8, Ordering::Release);
    }

    /// The WebSocket is to be acknowledged without a user: `false` when the public already hold
    /// every place for sockets (or this one was evicted meanwhile).
    pub fn public_socket(&self) -> bool {
        let registry = &self.inner.registry;
        let slot = &self.inner.slot;
        let mut open = registry.lock();
        if slot.evicted.load(Ordering::Acquire) || !open.connections.contains_key(&slot.id) {
            return false;
        }
        if slot.kind() == Kind::PublicSocket {
            return true;
        }
        if open.public_sockets >= registry.inner.caps.public_sockets {
            return false;
        }
        open.public_sockets += 1;
        slot.kind.store(Kind::PublicSocket as u8, Ordering::Release);
        true
    }
}

impl Drop for PlaceInner {
    fn drop(&mut self) {
        self.registry.release(&self.slot);
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let slot = &self.0;
        slot.idle_since_ms.store(millis_since(slot.epoch), Ordering::Release);
        slot.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An address as the caps count it: an IPv4 address (also when it comes IPv4-mapped), or the /64
/// of an IPv6 address, which one host usually holds whole.
pub fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

fn millis_since(epoch: Instant) -> u64 {
    epoch.elapsed().as_millis() as u64
}

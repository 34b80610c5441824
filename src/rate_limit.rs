//! Per-caller rate limiting (GCRA, by the `governor` crate): a user is counted by their id, the
//! public by their address (IPv6 by its /64). Each replica counts on its own: with N replicas a caller may make up
//! to N times the rate, which is fine for a limit meant to stop runaway clients.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use resolvers::{ApiError, Caller};
use uuid::Uuid;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
enum Key {
    User(Uuid),
    Address(IpAddr),
}

/// The public's bucket for an address: an IPv4 address, or the /64 network of an IPv6 one (a
/// single subscriber is typically given a whole /64, and would otherwise have 2⁶⁴ buckets).
fn bucket_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
        v4 => v4,
    }
}

#[derive(Clone)]
pub struct RateLimiter {
    limiter: Option<Arc<DefaultKeyedRateLimiter<Key>>>,
}

impl RateLimiter {
    /// `per_second` requests a second with bursts of `burst`; no limit when `per_second` is 0.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            Arc::new(governor::RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)))
        });
        RateLimiter { limiter }
    }

    /// Counts one request of `caller` (from `address`); refused with the wait when over the rate.
    pub fn check(&self, caller: &Caller, address: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else { return Ok(()) };
        let key = caller.principal().map_or(Key::Address(bucket_of(address)), Key::User);
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited { retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) }
        })
    }

    /// Forgets callers that have been quiet long enough to be back at a full burst, so that the
    /// table does not grow with every address ever seen.
    pub fn spawn_cleanup(&self) {
        if let Some(limiter) = self.limiter.clone() {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(60));
                loop {
                    every.tick().await;
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            });
        }
    }
}

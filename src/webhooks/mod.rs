//! Delivering webhooks: a worker in the server takes due deliveries from the outbox (written by
//! the mutations, see `resolvers::webhooks`), signs them per Standard Webhooks and POSTs them,
//! retrying on the configured schedule. See `docs/webhooks.md`.

mod queue;
mod send;
mod worker;

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicI64;

pub use send::{Sender, resolve, sign};
pub use worker::{PER_ORGANISATION, Worker};

/// The retry schedule Standard Webhooks suggests (and Svix uses): after the first attempt,
/// these waits before each next one; then the delivery has failed.
pub const DEFAULT_RETRY_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h";

/// Webhook delivery settings.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct WebhookConfig {
    /// `loopback`: endpoints may be `http://127.0.0.1…` and loopback addresses (development,
    /// tests). By default endpoints must be https and public.
    #[arg(long = "webhook-allow-http", env = "WELZIJNSHUIS_WEBHOOK_ALLOW_HTTP", value_enum,
          default_value_t = AllowHttp::None, global = true)]
    pub allow_http: AllowHttp,

    /// Hosts (names or addresses, comma-separated) that endpoints may name although they are,
    /// or resolve to, private or link-local addresses.
    #[arg(
        long = "webhook-allowed-hosts",
        env = "WELZIJNSHUIS_WEBHOOK_ALLOWED_HOSTS",
        value_delimiter = ',',
        global = true
    )]
    pub allowed_hosts: Vec<String>,

    /// Waits between attempts (`5s,5m,30m,2h,5h,10h`; units ms, s, m, h), each plus up to 10 %
    /// jitter; after the last, the delivery has failed.
    #[arg(long = "webhook-retry-schedule", env = "WELZIJNSHUIS_WEBHOOK_RETRY_SCHEDULE",
          default_value = DEFAULT_RETRY_SCHEDULE, value_parser = RetrySchedule::parse, global = true)]
    pub retry_schedule: RetrySchedule,

    /// How long one attempt may take, connecting included, in milliseconds.
    #[arg(
        long = "webhook-timeout-ms",
        env = "WELZIJNSHUIS_WEBHOOK_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub timeout_ms: u64,

    /// An endpoint is disabled after this many deliveries in a row failed for good (a 410 Gone
    /// disables it at once).
    #[arg(
        long = "webhook-disable-after",
        env = "WELZIJNSHUIS_WEBHOOK_DISABLE_AFTER",
        default_value_t = 5,
        global = true
    )]
    pub disable_after: u32,

    /// How often the worker looks for due deliveries, in milliseconds.
    #[arg(
        long = "webhook-poll-ms",
        env = "WELZIJNSHUIS_WEBHOOK_POLL_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub poll_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_http: AllowHttp::None,
            allowed_hosts: Vec::new(),
            retry_schedule: RetrySchedule::parse(DEFAULT_RETRY_SCHEDULE)
                .expect("the default schedule parses"),
            timeout_ms: 5_000,
            disable_after: 5,
            poll_ms: 1_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AllowHttp {
    /// https only.
    None,
    /// http (and https) to loopback addresses too.
    Loopback,
}

impl WebhookConfig {
    pub fn check(&self) -> anyhow::Result<()> {
        if !(100..=60_000).contains(&self.timeout_ms) {
            anyhow::bail!(
                "WELZIJNSHUIS_WEBHOOK_TIMEOUT_MS={}: must be between 100 and 60000",
                self.timeout_ms
            );
        }
        if !(10..=60_000).contains(&self.poll_ms) {
            anyhow::bail!("WELZIJNSHUIS_WEBHOOK_POLL_MS={}: must be between 10 and 60000", self.poll_ms);
        }
        if self.disable_after == 0 {
            anyhow::bail!("WELZIJNSHUIS_WEBHOOK_DISABLE_AFTER: at least 1");
        }
        Ok(())
    }

    /// The rules endpoints are checked against, when registered and when called.
    pub fn url_rules(&self) -> resolvers::webhooks::UrlRules {
        resolvers::webhooks::UrlRules {
            allow_loopback: self.allow_http == AllowHttp::Loopback,
            allowed_hosts: self
                .allowed_hosts
                .iter()
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// The waits between attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl RetrySchedule {
    /// `5s,5m,30m,2h,5h,10h`: durations with a unit (ms, s, m, h), comma-separated; at most 20,
    /// each at most a day. An empty schedule means one attempt only.
    pub fn parse(text: &str) -> Result<RetrySchedule, String> {
        let mut waits = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let split = part.find(|c: char| !c.is_ascii_digit()).unwrap_or(part.len());
            let (number, unit) = part.split_at(split);
            let number: u64 = number
                .parse()
                .map_err(|_| format!("'{part}': expected a number and a unit, e.g. 5s or 30m"))?;
            let wait = match unit {
                "ms" => Duration::from_millis(number),
                "s" => Duration::from_secs(number),
                "m" => Duration::from_secs(number * 60),
                "h" => Duration::from_secs(number * 3600),
                _ => return Err(format!("'{part}': the unit must be ms, s, m or h")),
            };
            if wait > Duration::from_secs(24 * 3600) {
                return Err(format!("'{part}': at most 24h between attempts"));
            }
            waits.push(wait);
        }
        if waits.len() > 20 {
            return Err("at most 20 retries".into());
        }
        Ok(RetrySchedule(waits))
    }

    /// The wait after failed attempt number `attempts` (1-based), with up to 10 % jitter, or
    /// `None` when that was the last.
    pub fn after(&self, attempts: usize) -> Option<Duration> {
        let wait = *self.0.get(attempts.checked_sub(1)?)?;
        let jitter = wait.mul_f64(fastrand::f64() * 0.1);
        Some(wait + jitter)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// What `/metrics` shows of the deliveries.
#[derive(Clone, Default)]
pub struct WebhookMetrics {
    attempts: Family<OutcomeLabels, Counter>,
    oldest_pending: Gauge<i64, AtomicI64>,
}

impl WebhookMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = WebhookMetrics::default();
        registry.register(
            "welzijnshuis_webhook_deliveries",
            "Webhook delivery attempts, by outcome: delivered, retrying (failed, tried again later), \
             failed (the last attempt failed), gone (410: endpoint disabled)",
            metrics.attempts.clone(),
        );
        registry.register(
            "welzijnshuis_webhook_oldest_pending_seconds",
            "Age of the oldest delivery still pending (0 when none is)",
            metrics.oldest_pending.clone(),
        );
        metrics
    }

    fn count(&self, outcome: &'static str) {
        self.attempts.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    fn oldest_pending(&self, seconds: i64) {
        self.oldest_pending.set(seconds.max(0));
    }
}

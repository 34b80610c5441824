//! Webhooks, the parts every door shares: which endpoint URLs and addresses may be called (the
//! same rules when an endpoint is registered and when each delivery is sent), the secrets, and
//! the outbox: one delivery per active endpoint that may see the event, written in the
//! transaction of the change that caused it, so that an event is never lost nor sent for a
//! change that did not commit.
//!
//! A payload is thin: event type, ids, status, version and times — never a client's name or any
//! other personal data. The receiver fetches what it needs through GraphQL, where its role,
//! the client's consent and the audit log apply.

use std::net::IpAddr;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use entities::{
    DeliveryStatus, WebhookEventType, appointment, organisation, referral, webhook, webhook_delivery,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::policy;

/// Endpoints one organisation may have: enough for a test and a production system per event
/// type; bounded so that one event cannot fan out into unbounded deliveries and calls.
pub const WEBHOOKS_PER_ORGANISATION: u64 = 10;

/// Which endpoints may be called: `https` to public addresses; `http` and loopback addresses
/// only when the operator allows loopback (development, tests); private and link-local
/// addresses only for hosts the operator lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlRules {
    /// `WELZIJNSHUIS_WEBHOOK_ALLOW_HTTP=loopback`.
    pub allow_loopback: bool,
    /// `WELZIJNSHUIS_WEBHOOK_ALLOWED_HOSTS`: host names or addresses exempt from the address
    /// rule (a partner's endpoint inside the house's own network, say).
    pub allowed_hosts: Vec<String>,
}

/// Why a URL is refused when it names an address it may not.
pub const PRIVATE_ADDRESS: &str = "points to a private, loopback or link-local address, which webhooks may not call \
     (the operator can list the host in WELZIJNSHUIS_WEBHOOK_ALLOWED_HOSTS)";

impl UrlRules {
    /// Checks an endpoint as registered: a URL, `https` (or `http` to loopback when allowed), no
    /// credentials, and not an address it may not call when it names one. A host name is
    /// checked again, resolved, at every delivery (a name can be made to point anywhere).
    pub fn check(&self, text: &str) -> Result<url::Url, String> {
        let text = text.trim();
        if text.len() > 2000 {
            return Err("at most 2000 characters".into());
        }
        let url = url::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".into());
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment (#…)".into());
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("needs a host")?.to_owned();
        let literal = literal_address(&host);
        let loopback = literal.is_some_and(|ip| ip.is_loopback()) || host.eq_ignore_ascii_case("localhost");
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback && loopback => {}
            "http" if self.allow_loopback => {
                return Err("must be https (http only to a loopback address such as 127.0.0.1)".into());
            }
            _ => return Err("must be https".into()),
        }
        let allowed = match literal {
            Some(ip) => self.address_allowed(&host, ip),
            None if host.eq_ignore_ascii_case("localhost") => self.allow_loopback || self.is_listed(&host),
            None => true,
        };
        if !allowed {
            return Err(PRIVATE_ADDRESS.into());
        }
        Ok(url)
    }

    fn is_listed(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts.iter().any(|h| h.trim().eq_ignore_ascii_case(host))
    }

    /// Whether a delivery may go to `ip`, which `host` names (or is).
    pub fn address_allowed(&self, host: &str, ip: IpAddr) -> bool {
        if self.is_listed(host) {
            return true;
        }
        let ip = canonical(ip);
        if ip.is_loopback() {
            return self.allow_loopback;
        }
        is_public(ip)
    }
}

/// The address a URL's host is, when it is one (`[::1]` included).
pub fn literal_address(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// An IPv4 address mapped into IPv6 as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// An address on the public internet: not private, loopback, link-local, shared (CGNAT),
/// unspecified, broadcast, multicast, documentation or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 192 && b == 88 && v4.octets()[2] == 99)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // Global unicast (2000::/3) only, without the ranges in it that are not the public
            // internet: IETF protocol assignments (2001::/23, Teredo among them),
            // documentation (2001:db8::/32, 3fff::/20) and 6to4 (2002::/16, which embeds any IPv4
            // address). The NAT64 well-known prefix counts as the IPv4 address it carries.
            let global = (s[0] & 0xe000) == 0x2000;
            let protocol = s[0] == 0x2001 && s[1] < 0x0200;
            let documentation = (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000);
            let six_to_four = s[0] == 0x2002;
            (global && !protocol && !documentation && !six_to_four) || nat64_of_a_public_ipv4(v6)
        }
    }
}

/// A NAT64 address of the well-known prefix (`64:ff9b::/96`) carrying a public IPv4 address.
fn nat64_of_a_public_ipv4(v6: std::net::Ipv6Addr) -> bool {
    let s = v6.segments();
    let embedded = std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&x| x == 0) && is_public(IpAddr::V4(embedded))
}

/// A new signing secret: `whsec_` and the base64 of 32 random bytes, as Standard Webhooks
/// writes them.
pub fn new_secret() -> ApiResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| ApiError::internal("no randomness for a webhook secret"))?;
    Ok(format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// The event types as stored: comma-separated, each once, in a fixed order.
pub fn events_text(events: &[WebhookEventType]) -> String {
    let mut sorted: Vec<WebhookEventType> = events.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Writes, in `txn`, the deliveries of a referral's event: its creation or a status change.
pub async fn referral_event(
    txn: &impl ConnectionTrait,
    referral: &referral::Model,
    event: WebhookEventType,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let audience = policy::webhook_audience_of_referral(referral);
    let hooks = active_hooks(txn, &audience, event).await?;
    let rows = hooks.iter().map(|hook| {
        let payload = json!({
            "type": event.dotted(),
            "timestamp": timestamp(at),
            "data": {
                "referralId": referral.id,
                "status": referral.status.as_str(),
                "version": referral.version,
                "organisationId": hook.organisation_id,
                "senderId": referral.sender_id,
                "recipientId": referral.recipient_id,
            }
        });
        delivery(hook, event, payload, Some(referral.id), at)
    });
    insert(txn, rows.collect()).await
}

/// Writes, in `txn`, the deliveries of appointments booked or cancelled.
pub async fn appointment_events(
    txn: &impl ConnectionTrait,
    appointments: &[appointment::Model],
    event: WebhookEventType,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let mut audience: Vec<Uuid> =
        appointments.iter().flat_map(policy::webhook_audience_of_appointment).collect();
    audience.sort();
    audience.dedup();
    if audience.is_empty() {
        return Ok(());
    }
    let hooks = active_hooks(txn, &audience, event).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::new();
    for appointment in appointments {
        let status = if appointment.cancelled_at.is_some() { "CANCELLED" } else { "BOOKED" };
        let its_audience = policy::webhook_audience_of_appointment(appointment);
        for hook in hooks.iter().filter(|h| its_audience.contains(&h.organisation_id)) {
            let payload = json!({
                "type": event.dotted(),
                "timestamp": timestamp(at),
                "data": {
                    "appointmentId": appointment.id,
                    "status": status,
                    "organisationId": hook.organisation_id,
                    "referralId": appointment.referral_id,
                    "startsAt": timestamp(appointment.starts_at),
                    "endsAt": timestamp(appointment.ends_at),
                }
            });
            // In order with the referral it follows up, or with its own other events.
            let order = appointment.referral_id.unwrap_or(appointment.id);
            rows.push(delivery(hook, event, payload, Some(order), at));
        }
    }
    insert(txn, rows).await
}

/// The ids of the active organisations: a deactivated one gets no events (no one of it can sign
/// in to see or manage its endpoints).
pub fn active_organisations() -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(organisation::Column::Id)
        .from(organisation::Entity)
        .and_where(organisation::Column::Active.eq(true))
        .to_owned()
}

/// The active webhooks of `organisations` that take `event`.
async fn active_hooks(
    txn: &impl ConnectionTrait,
    organisations: &[Uuid],
    event: WebhookEventType,
) -> ApiResult<Vec<webhook::Model>> {
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::OrganisationId.is_in(organisations.iter().copied()))
        .filter(webhook::Column::OrganisationId.in_subquery(active_organisations()))
        .filter(webhook::Column::Active.eq(true))
        .all(txn)
        .await?;
    Ok(hooks.into_iter().filter(|hook| hook.event_types().contains(&event)).collect())
}

fn delivery(
    hook: &webhook::Model,
    event: WebhookEventType,
    payload: serde_json::Value,
    referral_id: Option<Uuid>,
    at: DateTime<Utc>,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        webhook_id: Set(hook.id),
        event_type: Set(event),
        payload: Set(payload.to_string()),
        referral_id: Set(referral_id),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(at),
        claimed_until: Set(None),
        last_status_code: Set(None),
        delivered_at: Set(None),
        created_at: Set(at),
    }
}

/// Rows per `INSERT`: far below either database's parameter limit.
const BATCH: usize = 500;

async fn insert(txn: &impl ConnectionTrait, rows: Vec<webhook_delivery::ActiveModel>) -> ApiResult<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(BATCH).collect();
        webhook_delivery::Entity::insert_many(batch).exec_without_returning(txn).await?;
    }
    Ok(())
}

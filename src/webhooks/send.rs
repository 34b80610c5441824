//! One attempt: a signed POST, over HTTPS checked against the system's roots, to an address the
//! rules allow — checked when the host name is resolved, at every connection, so that a name
//! pointed at an internal address after registration (DNS rebinding) is refused. No redirect is
//! followed, the whole attempt is bounded in time, and at most a few kilobytes of the answer are
//! read.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use resolvers::webhooks::{PRIVATE_ADDRESS, UrlRules, literal_address};
use sha2::Sha256;

/// The most of an answer read: its status is what counts.
const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// The Standard Webhooks signature of one message: `v1,` and the base64 of
/// HMAC-SHA256(key, "id.timestamp.body"), the key being the base64 after `whsec_`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let key = engine.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", engine.encode(mac.finalize().into_bytes())))
}

/// Resolves host names to the addresses the rules allow only; none left is an error.
#[derive(Clone)]
struct GuardedResolver {
    rules: Arc<UrlRules>,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let rules = self.rules.clone();
        Box::pin(async move { resolve(name.as_str(), &rules).await.map(Vec::into_iter) })
    }
}

/// The addresses `host` resolves to now that the rules allow; none left is an error. Every
/// connection resolves again, so a name that pointed to a public address when the endpoint was
/// registered and points to a private one later (DNS rebinding) is refused then.
///
/// A name that does not resolve and one that resolves only to refused addresses fail with the
/// same words: the attempt's error is shown to the partner, who must not learn from it which
/// names exist inside the house's network.
pub async fn resolve(host: &str, rules: &UrlRules) -> std::io::Result<Vec<SocketAddr>> {
    let refused = || {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{host} does not resolve to an address webhooks may call (a public one)"),
        )
    };
    let found = tokio::net::lookup_host((host, 0)).await.map_err(|_| refused())?;
    let allowed: Vec<SocketAddr> = found.filter(|addr| rules.address_allowed(host, addr.ip())).collect();
    if allowed.is_empty() {
        return Err(refused());
    }
    Ok(allowed)
}

/// What one attempt came to.
#[derive(Debug)]
pub struct Answer {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub latency: Duration,
}

/// Sends deliveries.
#[derive(Clone)]
pub struct Sender {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
    rules: Arc<UrlRules>,
    timeout: Duration,
}

impl Sender {
    pub fn new(rules: UrlRules, timeout: Duration) -> anyhow::Result<Sender> {
        let rules = Arc::new(rules);
        let mut http = HttpConnector::new_with_resolver(GuardedResolver { rules: rules.clone() });
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = match hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider.clone())
        {
            Ok(builder) => builder,
            Err(err) => {
                tracing::warn!(error = %err, "no system root certificates: using Mozilla's for webhooks");
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_provider_and_webpki_roots(provider)
                    .context("setting up TLS with Mozilla's root certificates")?
            }
        };
        // Which scheme an endpoint may use is checked before each attempt (`UrlRules::check`).
        let connector = builder.https_or_http().enable_http1().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Sender { client, rules, timeout })
    }

    /// POSTs `body` to `url` with the Standard Webhooks headers.
    pub async fn send(&self, url: &str, id: &str, timestamp: i64, signature: &str, body: &str) -> Answer {
        let started = Instant::now();
        let result = match self.rules.check(url) {
            Err(why) => Err(format!("refused: {why}")),
            Ok(url) => {
                match tokio::time::timeout(self.timeout, self.post(&url, id, timestamp, signature, body))
                    .await
                {
                    Ok(result) => result,
                    Err(_) => Err(format!("no answer within {} ms", self.timeout.as_millis())),
                }
            }
        };
        let latency = started.elapsed();
        match result {
            Ok(status) => Answer { status: Some(status), error: None, latency },
            Err(error) => Answer { status: None, error: Some(error), latency },
        }
    }

    async fn post(
        &self,
        url: &url::Url,
        id: &str,
        timestamp: i64,
        signature: &str,
        body: &str,
    ) -> Result<u16, String> {
        // A literal address is not resolved, so it is checked here.
        if let Some(host) = url.host_str()
            && let Some(ip) = literal_address(host)
            && !self.rules.address_allowed(host, ip)
        {
            return Err(format!("refused: {PRIVATE_ADDRESS}"));
        }
        let uri: hyper::Uri = url.as_str().parse().map_err(|_| "not a URL".to_string())?;
        let request = hyper::Request::post(uri)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::USER_AGENT, concat!("welzijnshuis-webhooks/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| format!("building the request: {e}"))?;
        let response = self.client.request(request).await.map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        // Read a little of the answer (a receiver may explain a refusal), never more.
        let mut body = response.into_body();
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len()),
                _ => break,
            }
        }
        Ok(status)
    }
}

/// An error and its causes, in one line.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

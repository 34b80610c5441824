//! Reading JSON documents from the provider (and another house's HSDS API): HTTPS checked against the system's roots (or plain
//! HTTP on loopback, for development), no redirects, bounded in time and size, so that a slow or
//! hostile answer can neither hold a request long nor fill the memory.

use std::time::Duration;

use anyhow::Context;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;

/// The whole fetch, connecting included.
const TIMEOUT: Duration = Duration::from_secs(5);
/// A discovery document or a key set is a few kilobytes.
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Fetcher {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Fetcher {
    pub fn new() -> anyhow::Result<Self> {
        // ring, explicitly: no process-wide crypto provider is installed (nor needed elsewhere).
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        // The system's roots (a house's own CA included); on a system without any, Mozilla's.
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_provider_and_native_roots(provider.clone()) {
            Ok(builder) => builder,
            Err(err) => {
                tracing::warn!(error = %err, "no system root certificates: using Mozilla's for the OpenID provider");
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_provider_and_webpki_roots(provider)
                    .context("setting up TLS with Mozilla's root certificates")?
            }
        };
        let connector = builder
            // Which scheme a URL may use is decided before it gets here (`secure_url`).
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Fetcher { client: Client::builder(TokioExecutor::new()).build(connector) })
    }

    /// The JSON document at `url`, which must answer 200 itself (no redirect is followed: one
    /// could lead from HTTPS to plain HTTP).
    pub async fn json<T: DeserializeOwned>(&self, url: &url::Url) -> anyhow::Result<T> {
        self.json_limited(url, MAX_BYTES).await
    }

    /// [`Fetcher::json`] for a document of at most `max_bytes` (a page of another house's
    /// social map, say).
    pub async fn json_limited<T: DeserializeOwned>(
        &self,
        url: &url::Url,
        max_bytes: usize,
    ) -> anyhow::Result<T> {
        let bytes = tokio::time::timeout(TIMEOUT, self.bytes(url, max_bytes))
            .await
            .map_err(|_| anyhow::anyhow!("{url} did not answer within {} s", TIMEOUT.as_secs()))??;
        serde_json::from_slice(&bytes).with_context(|| format!("{url} did not answer the JSON expected"))
    }

    async fn bytes(&self, url: &url::Url, max_bytes: usize) -> anyhow::Result<Bytes> {
        let uri: hyper::Uri = url.as_str().parse().with_context(|| format!("{url} is not a URL"))?;
        let request = hyper::Request::get(uri)
            .header(hyper::header::ACCEPT, "application/json")
            .body(Empty::new())
            .context("building a request")?;
        let response = self.client.request(request).await.with_context(|| format!("fetching {url}"))?;
        let status = response.status();
        if status != hyper::StatusCode::OK {
            anyhow::bail!("{url} answered {status}, not 200");
        }
        let body = Limited::new(response.into_body(), max_bytes).collect().await;
        let body = body.map_err(|e| anyhow::anyhow!("reading {url}: {e} (at most {max_bytes} bytes)"))?;
        Ok(body.to_bytes())
    }
}

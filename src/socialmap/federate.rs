//! Importing another house's social map from its HSDS 3.0 API: `welzijnshuis socialmap import
//! https://…/hsds`. Its `/services` is read page by page (`full_service=true`, so each service
//! comes nested, as a file holds it); the pages are gathered into a file on disk, one service
//! after another, and that file is imported as any other: every record checked, all or
//! nothing, idempotent. Memory holds one page at a time. Gathering is bounded: by the pages, the
//! services and the bytes a file may hold, and by a deadline; the file on disk has no name
//! (removed as soon as it is opened), so nothing is left behind however the process ends.
//!
//! A feed changes only what it brought: entries this house keeps itself (its own services,
//! which a neighbour federating back lists too) or that another feed brought are passed over.

use std::io::{BufWriter, Seek, Write};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use serde_json::Value;

use super::ImportSummary;
use crate::oidc::fetch::Fetcher;

/// Services asked for per page, unless told otherwise.
pub const PER_PAGE: u32 = 50;
/// Pages read at most: a publisher whose pages never end is not followed for ever.
const MAX_PAGES: u32 = 20_000;
/// The most bytes of one page.
const MAX_PAGE_BYTES: usize = 32 << 20;
/// The most bytes gathered from one API (a file of the import's largest size is far smaller).
const MAX_BYTES: u64 = 2 << 30;
/// How long gathering may take in all (each page has its own timeout too).
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Whether `source` names an HSDS API rather than a file.
pub fn is_url(source: &str) -> bool {
    source.starts_with("https://") || source.starts_with("http://")
}

/// The API's base (`…/hsds`) from what was given: the base itself, or its `/services`.
fn base_of(source: &str) -> anyhow::Result<url::Url> {
    let trimmed = source.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/services").unwrap_or(trimmed);
    let url = url::Url::parse(&format!("{trimmed}/")).with_context(|| format!("{source} is not a URL"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        anyhow::bail!("{source}: an HSDS API is read over https (plain http only on this machine)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        anyhow::bail!("{source}: no credentials in the URL: the HSDS API is public");
    }
    Ok(url)
}

/// Imports every service the HSDS API at `source` lists.
pub async fn import_from(
    db: &DatabaseConnection,
    source: &str,
    per_page: u32,
) -> anyhow::Result<ImportSummary> {
    let base = base_of(source)?;
    let fetcher = Fetcher::new()?;
    let path = std::env::temp_dir().join(format!("welzijnshuis-hsds-{}.json", uuid::Uuid::new_v4()));
    let gathering = gather(&fetcher, &base, per_page.clamp(1, 100), &path);
    let mut file = tokio::time::timeout(DEADLINE, gathering)
        .await
        .map_err(|_| anyhow::anyhow!("{base}: not read within {} minutes", DEADLINE.as_secs() / 60))??;
    file.rewind()?;
    let origin = base.as_str().trim_end_matches('/').to_owned();
    super::import_with(db, file, super::STALL, Some(&origin)).await
}

/// Reads every page into `path` as `{"services": [...]}`; the file, open.
async fn gather(
    fetcher: &Fetcher,
    base: &url::Url,
    per_page: u32,
    path: &std::path::Path,
) -> anyhow::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    // Open and nameless: the space is freed when the file is closed, even by a killed process.
    std::fs::remove_file(path).with_context(|| format!("unlinking {}", path.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all(b"{\"services\": [")?;
    let mut written = 0usize;
    for page in 1..=MAX_PAGES {
        let mut url = base.join("services")?;
        url.query_pairs_mut()
            .append_pair("full_service", "true")
            .append_pair("page", &page.to_string())
            .append_pair("per_page", &per_page.to_string());
        let mut answer: Value = fetcher.json_limited(&url, MAX_PAGE_BYTES).await?;
        let Some(Value::Array(services)) = answer.get_mut("contents").map(Value::take) else {
            anyhow::bail!("{url}: not a page of the HSDS API (no \"contents\")");
        };
        for service in &services {
            if written > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut out, service)?;
            written += 1;
        }
        if written > super::check::MAX_SERVICES {
            anyhow::bail!("{base}: more than {} services", super::check::MAX_SERVICES);
        }
        if out.get_ref().metadata()?.len() > MAX_BYTES {
            anyhow::bail!("{base}: more than {} GiB of services", MAX_BYTES >> 30);
        }
        let last = answer.get("last_page").and_then(Value::as_bool).unwrap_or(false);
        let pages = answer.get("total_pages").and_then(Value::as_u64);
        tracing::info!(page, services = services.len(), "read a page of {base}");
        if last || services.is_empty() || pages.is_some_and(|pages| u64::from(page) >= pages) {
            out.write_all(b"]}")?;
            return Ok(out.into_inner().map_err(|e| e.into_error())?);
        }
    }
    anyhow::bail!("{base}: more than {MAX_PAGES} pages")
}

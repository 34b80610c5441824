//! The social map in and out as Open Referral HSDS 3.0 JSON (the nested service form: each
//! service with its organization, locations, schedules, languages and attributes).
//!
//! An import is bounded whatever the file: it is read one service at a time ([`read`]), each
//! record at most [`read::MAX_RECORD_BYTES`] and each text within the limits the service
//! mutations apply ([`check`], with `resolvers::social_map_rules`); checked records are written
//! in batches of at most [`BATCH`] services and [`BATCH_BYTES`] ([`write`]) inside one transaction, which commits
//! only if no record had a problem: all or nothing. Problems are reported by service id and
//! field, the first [`MAX_REPORTED`] of them and a count. The import is idempotent by HSDS id (a
//! service, organization or location seen before is updated, not duplicated; by the id an
//! export shows too, see [`ids`]). Life domains travel as attributes whose terms belong to the
//! `welzijnshuis-life-domain` taxonomy ([`ids`]). Export writes what import reads ([`export`]:
//! every service valid against the standard's `schema/compiled/service.json`); the HSDS API
//! serves the same ([`api`]); [`federate`] imports another house's API.

pub mod api;
mod check;
mod export;
pub mod federate;
pub mod ids;
pub mod read;
pub mod wall_clock;
mod write;

use std::fmt;
use std::io::Read;

use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use check::Checked;
pub use export::{Reveal, export, export_services};

/// Services written per batch, at most: enough to make each statement worth its round trip.
pub const BATCH: usize = 500;
/// Bytes of JSON per batch, at most: a batch in flight stays small however long its records.
pub const BATCH_BYTES: usize = 1 << 20;
/// Problems an import reports one by one; the rest are counted.
pub const MAX_REPORTED: usize = 100;

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    /// Records of a federation feed passed over: this house's own entries, or another feed's.
    pub skipped: usize,
    /// Of the updated, those whose record said the same as their last import: nothing of them
    /// changed (not even their `last_modified`).
    pub unchanged: usize,
}

/// Why nothing was imported: the first problems, by service and field, and how many there were.
#[derive(Debug)]
pub struct ImportRefused {
    pub problems: Vec<String>,
    pub total: usize,
}

impl fmt::Display for ImportRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "nothing imported, {} problem(s)", self.total)?;
        if self.total > self.problems.len() {
            write!(f, "; the first {}", self.problems.len())?;
        }
        write!(f, ":")?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportRefused {}

impl ImportRefused {
    /// Counts a problem, keeping the first [`MAX_REPORTED`] to tell.
    fn add(&mut self, problem: String) {
        self.total += 1;
        if self.problems.len() < MAX_REPORTED {
            self.problems.push(problem);
        }
    }
}

/// How long an import waits for its input before it gives up (a stalled pipe or download must
/// not hold the database's write lock, or a service's rows, for hours).
pub const STALL: std::time::Duration = std::time::Duration::from_secs(60);

/// The audit entries' name for what an import changed.
const COMMAND: &str = "welzijnshuis socialmap import";

/// What the reading thread hands to the writer.
enum Message {
    Batch(Vec<Checked>),
    Problem(String),
}

/// Imports the services `reader` holds. The file is read on a blocking thread while the
/// previous batch is written, so memory holds three batches at most, whatever the file's size.
/// Refused with [`ImportRefused`] when any record has a problem: then nothing is written.
pub async fn import(
    db: &DatabaseConnection,
    reader: impl Read + Send + 'static,
) -> anyhow::Result<ImportSummary> {
    import_with(db, reader, STALL, None).await
}

/// [`import`], giving up when the input brings nothing for `stall`; for a federation feed read
/// from `origin`, changing only what that feed brought.
pub async fn import_with(
    db: &DatabaseConnection,
    reader: impl Read + Send + 'static,
    stall: std::time::Duration,
    origin: Option<&str>,
) -> anyhow::Result<ImportSummary> {
    let (sender, mut received) = mpsc::channel(1);
    let reading = tokio::task::spawn_blocking(move || read_and_check(reader, &sender));
    let mut txn = None;
    let mut summary = ImportSummary::default();
    let mut refused = ImportRefused { problems: Vec::new(), total: 0 };
    loop {
        let Ok(next) = tokio::time::timeout(stall, received.recv()).await else {
            anyhow::bail!("nothing imported: the input stalled for {} s", stall.as_secs());
        };
        let Some(message) = next else { break };
        match message {
            // Once a record is refused nothing will commit: the rest is only checked.
            Message::Batch(batch) if refused.total == 0 => {
                let txn = match &mut txn {
                    Some(txn) => txn,
                    None => txn.insert(write_transaction(db).await?),
                };
                for problem in write::batch(txn, batch, &mut summary, origin).await? {
                    refused.add(problem);
                }
            }
            Message::Batch(_) => {}
            Message::Problem(problem) => refused.add(problem),
        }
    }
    reading.await?;
    if refused.total > 0 {
        if let Some(txn) = txn {
            txn.rollback().await?;
        }
        return Err(refused.into());
    }
    if let Some(txn) = txn {
        txn.commit().await?;
    }
    Ok(summary)
}

/// The import's one transaction, begun when the first checked batch is there to write (a file
/// refused at its first record never takes a lock). On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`, waiting its turn like any writer): a transaction that read first and then
/// wrote would fail outright if a live write committed in between.
async fn write_transaction(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    let options = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}

/// Reads and checks every record, sending checked ones in batches and each problem as found.
fn read_and_check(reader: impl Read, sender: &mpsc::Sender<Message>) {
    let mut ids = check::SeenIds::default();
    let (mut batch, mut bytes) = (Vec::with_capacity(BATCH), 0);
    let send = |message| sender.blocking_send(message).is_ok();
    let outcome = read::services(reader, |index, size, record| {
        let checked = record.and_then(|service| ids.check(index, service));
        let delivered = match checked {
            Ok(checked) => {
                batch.push(checked);
                bytes += size;
                if batch.len() < BATCH && bytes < BATCH_BYTES {
                    return std::ops::ControlFlow::Continue(());
                }
                bytes = 0;
                send(Message::Batch(std::mem::take(&mut batch)))
            }
            Err(problems) => problems.into_iter().all(|p| send(Message::Problem(p))),
        };
        // The writer stopped (a database error): nothing more to read.
        if delivered { std::ops::ControlFlow::Continue(()) } else { std::ops::ControlFlow::Break(()) }
    });
    match outcome {
        Ok(()) => {
            if !batch.is_empty() {
                send(Message::Batch(batch));
            }
        }
        Err(problem) => {
            send(Message::Problem(problem));
        }
    }
}

/// The taxonomy of the life-domain attributes (its name; in files of before HSDS 3.0 the
/// `vocabulary` of the term).
pub const LIFE_DOMAIN_VOCABULARY: &str = "welzijnshuis-life-domain";
/// The taxonomy of the attribute that marks a confidential location.
pub const LOCATION_VOCABULARY: &str = "welzijnshuis-location";
const DAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

fn is_empty<T>(list: &[T]) -> bool {
    list.is_empty()
}

/// One service in the nested form of `schema/compiled/service.json`, as export writes it and
/// import reads it. Import is lenient (every field may be missing: the checks say what is
/// needed); export fills every field the schema requires. Fields the social map does not keep
/// are read and dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsService {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_process: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fees_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligibility_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assured_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// When the entry last changed (RFC 3339); written, not read.
    #[serde(skip_serializing_if = "Option::is_none", skip_deserializing)]
    pub last_modified: Option<String>,
    pub organization: HsdsOrganization,
    pub phones: Vec<HsdsPhone>,
    pub languages: Vec<HsdsLanguage>,
    pub attributes: Vec<HsdsAttribute>,
    pub schedules: Vec<HsdsSchedule>,
    pub service_at_locations: Vec<HsdsServiceAtLocation>,
    /// Which lists the record as read gave (not part of the JSON).
    #[serde(skip)]
    pub given: Given,
}

/// Which of a service's lists a record gives. A list it leaves out keeps what is stored (a
/// page of an API's flat `/services` holds none); a list it gives, even empty, replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Given {
    pub phones: bool,
    pub languages: bool,
    /// The attributes, which hold the life domains.
    pub attributes: bool,
    /// The hours: `schedules`, or the places (which may hold theirs).
    pub hours: bool,
    pub places: bool,
}

impl Default for Given {
    fn default() -> Self {
        Given { phones: true, languages: true, attributes: true, hours: true, places: true }
    }
}

impl Given {
    /// The lists `record` (a service as read) holds a key for.
    pub fn of(record: &serde_json::Value) -> Given {
        let has = |key: &str| record.get(key).is_some();
        Given {
            phones: has("phones"),
            languages: has("languages"),
            attributes: has("attributes"),
            hours: has("schedules") || has("service_at_locations"),
            places: has("service_at_locations"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsOrganization {
    pub id: String,
    pub name: String,
    /// Required by the standard: written as `""` when the organisation has none.
    #[serde(serialize_with = "text_or_empty")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn text_or_empty<S: serde::Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.as_deref().unwrap_or(""))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsPhone {
    pub id: String,
    pub number: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsLanguage {
    pub id: String,
    pub code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsAttribute {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxonomy_term_id: Option<String>,
    pub taxonomy_term: HsdsTaxonomyTerm,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsTaxonomyTerm {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    /// The taxonomy's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxonomy_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxonomy_detail: Option<HsdsTaxonomy>,
    /// HSDS 2.0's name for the taxonomy, still read (files of earlier exports); never written.
    #[serde(skip_serializing)]
    pub vocabulary: Option<String>,
}

impl HsdsTaxonomyTerm {
    /// The name of the taxonomy the term belongs to, whichever way the file says it.
    pub fn taxonomy_name(&self) -> Option<&str> {
        self.taxonomy
            .as_deref()
            .or(self.taxonomy_detail.as_ref().map(|t| t.name.as_str()))
            .or(self.vocabulary.as_deref())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsTaxonomy {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsSchedule {
    pub id: String,
    /// `WEEKLY` (the only recurrence the social map keeps); absent means weekly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub freq: Option<String>,
    /// Every how many weeks: only 1 is kept (absent means 1). Read, never written.
    #[serde(skip_serializing)]
    pub interval: Option<serde_json::Value>,
    /// Days as iCal codes, comma-separated: `MO,TU`.
    pub byday: String,
    pub opens_at: String,
    pub closes_at: String,
    /// Hours from UTC that times without an offset are in (read; the export writes offsets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsServiceAtLocation {
    pub id: String,
    /// The service's hours at this location.
    #[serde(skip_serializing_if = "is_empty")]
    pub schedules: Vec<HsdsSchedule>,
    pub location: HsdsLocation,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsLocation {
    pub id: String,
    /// `physical`: every location of the social map is a place one can go to.
    pub location_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    pub addresses: Vec<HsdsAddress>,
    /// The location's own hours: read (they hold for the service there when the
    /// service_at_location has none of its own); export writes them on the service_at_location.
    #[serde(skip_serializing_if = "is_empty")]
    pub schedules: Vec<HsdsSchedule>,
    pub attributes: Vec<HsdsAttribute>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HsdsAddress {
    pub id: String,
    /// The street and number; `""` when unknown or kept from the reader (a shelter's).
    pub address_1: String,
    pub city: String,
    /// The province (derived from a Belgian postcode); required by the standard.
    pub state_province: String,
    pub postal_code: String,
    pub country: String,
    /// `physical`.
    pub address_type: String,
}

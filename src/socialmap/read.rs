//! Reading an HSDS file one service at a time, so that memory does not grow with the file.
//!
//! The file is an array of services, `{"services": [...]}` (also an organization with its
//! services, which then belong to it), a page of the HSDS API (`{"contents": [...],
//! "total_items": …}`; other keys are skipped), or one service object.
//! Each service is taken whole into a `serde_json::Value` and only then turned into an
//! [`HsdsService`], so that a record of the wrong shape is reported by its id and field and the
//! rest of the file is still checked. A record may be at most [`MAX_RECORD_BYTES`]: the reader
//! refuses to hand over more, so a hostile file cannot make one record, or one string in it,
//! take the memory.

use std::cell::Cell;
use std::fmt;
use std::io::{self, BufReader, Read};
use std::ops::ControlFlow;
use std::rc::Rc;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::HsdsService;

/// The most bytes of JSON one service may take.
pub const MAX_RECORD_BYTES: usize = 256 << 10;

/// A record as read: the service, or its problems.
pub type Record = Result<HsdsService, Vec<String>>;

/// Calls `each` with every service of the file in order (with its index and its size in bytes),
/// until the file ends or
/// `each` breaks. `Err` when the file itself cannot be read (not JSON, not HSDS, a record too
/// large): then its reason, with the line and column where reading stopped.
pub fn services(
    reader: impl Read,
    each: impl FnMut(usize, usize, Record) -> ControlFlow<()>,
) -> Result<(), String> {
    let used = Rc::new(Cell::new(0));
    let budget = Budget { inner: BufReader::with_capacity(64 * 1024, reader), used: used.clone() };
    let mut file = File { each, used, count: 0, stopped: false, organization: None };
    let mut json = serde_json::Deserializer::from_reader(budget);
    match json.deserialize_any(&mut file).and_then(|()| json.end()) {
        Ok(()) => Ok(()),
        Err(_) if file.stopped => Ok(()),
        Err(error) => Err(format!("the file: {error}")),
    }
}

/// A reader that refuses to read more than [`MAX_RECORD_BYTES`] since `used` was last reset.
struct Budget<R> {
    inner: R,
    used: Rc<Cell<usize>>,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.used.set(self.used.get() + read);
        if self.used.get() > MAX_RECORD_BYTES {
            return Err(io::Error::other(format!(
                "a record (or value) larger than {MAX_RECORD_BYTES} bytes"
            )));
        }
        Ok(read)
    }
}

struct File<F> {
    each: F,
    used: Rc<Cell<usize>>,
    count: usize,
    /// `each` asked to stop: the error that ends reading is not the file's fault.
    stopped: bool,
    /// The organization whose `services` these are (an organization object, as the API's
    /// `/organizations/{id}?full_service=true` and the standard's `organization_full.json`):
    /// its one-to-one fields, for the services that do not name their own.
    organization: Option<serde_json::Value>,
}

const EXPECTED: &str = "an array of services, {\"services\": [...]}, {\"contents\": [...]} or one service";

impl<'de, F: FnMut(usize, usize, Record) -> ControlFlow<()>> Visitor<'de> for &mut File<F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.services(seq)
    }

    /// A wrapper (`services` or `contents` holds the list; other keys are skipped) or a service
    /// itself: its keys are kept until the end shows which, within the one record's budget.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut found = false;
        let mut fields = serde_json::Map::new();
        self.used.set(0);
        while let Some(key) = map.next_key::<String>()? {
            if LISTS.contains(&key.as_str()) && !found {
                found = true;
                if key == "services" && fields.contains_key("id") && fields.contains_key("name") {
                    fields.retain(|_, v| !v.is_array() && !v.is_object());
                    self.organization = Some(serde_json::Value::Object(std::mem::take(&mut fields)));
                }
                fields.clear();
                map.next_value_seed(Services(&mut *self))?;
            } else if found {
                self.used.set(0);
                map.next_value::<IgnoredAny>()?;
            } else {
                fields.insert(key, map.next_value::<serde_json::Value>()?);
            }
        }
        if found {
            return Ok(());
        }
        if !(fields.contains_key("id") || fields.contains_key("name")) {
            return Err(de::Error::custom(format!("expected {EXPECTED}")));
        }
        let record = service(0, serde_json::Value::Object(fields));
        self.count = 1;
        if (self.each)(0, self.used.get(), record).is_break() {
            self.stopped = true;
        }
        Ok(())
    }
}

/// The keys whose array holds the services: a file's, and a page's of the HSDS API.
const LISTS: [&str; 2] = ["services", "contents"];

/// `"services": [...]` inside the wrapping object: an array, nothing else.
struct Services<'a, F>(&'a mut File<F>);

impl<'de, F: FnMut(usize, usize, Record) -> ControlFlow<()>> DeserializeSeed<'de> for Services<'_, F> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(usize, usize, Record) -> ControlFlow<()>> Visitor<'de> for Services<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of services")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.services(seq)
    }
}

impl<F: FnMut(usize, usize, Record) -> ControlFlow<()>> File<F> {
    fn services<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.used.set(0);
            let Some(mut value) = seq.next_element::<serde_json::Value>()? else { return Ok(()) };
            if let (Some(org), Some(service)) = (&self.organization, value.as_object_mut())
                && !service.contains_key("organization")
            {
                service.insert("organization".to_owned(), org.clone());
            }
            let record = service(self.count, value);
            self.count += 1;
            if (self.each)(self.count - 1, self.used.get(), record).is_break() {
                self.stopped = true;
                return Err(de::Error::custom("stopped"));
            }
        }
    }
}

/// One record as a service, or what is wrong with its shape (by id and field).
fn service(index: usize, value: serde_json::Value) -> Record {
    let label = label(index, &value);
    let given = super::Given::of(&value);
    let read: Result<HsdsService, _> = serde_path_to_error::deserialize(value);
    read.map(|service| HsdsService { given, ..service }).map_err(|error| {
        // serde quotes the offending value whole: keep the report short however long it is.
        let mut message = error.inner().to_string();
        if let Some((cut, _)) = message.char_indices().nth(200) {
            message.truncate(cut);
            message.push('…');
        }
        vec![format!("service {label}: {}: {message}", error.path())]
    })
}

/// How a problem names its record: by its id when it has a usable one, else by its place.
pub fn label(index: usize, value: &serde_json::Value) -> String {
    match value.get("id").and_then(|id| id.as_str()) {
        Some(id) if !id.trim().is_empty() && id.len() <= 100 && !id.contains(char::is_control) => {
            id.to_owned()
        }
        _ => format!("#{index}"),
    }
}

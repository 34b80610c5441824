//! Generated access tests: thousands of random, valid queries built from what the PARTNER,
//! ANALYST and CLIENT roles see of the schema (their introspection), run against the demo network over HTTP
//! and the WebSocket alternately; every
//! client, referral, help request, consent, event, appointment and personal field in every
//! response is checked against an oracle computed here from the tables, independently of the
//! policy module. Seeded and reproducible: `WELZIJNSHUIS_GENERATIVE_SEED` and
//! `WELZIJNSHUIS_GENERATIVE_QUERIES` (per role) change the run; a failure prints its seed and query.

use std::collections::{HashMap, HashSet};

use entities::{
    appointment, case_note, client, consent, help_request, organisation, referral, referral_event, service,
    user,
};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, Transport, Who};

const INTROSPECTION: &str = "{ __schema { types { name kind
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } }
    enumValues { name } } } }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The schema as one role sees it.
struct Schema {
    types: HashMap<String, Value>,
}

impl Schema {
    async fn of(app: &TestApp, who: Who) -> Schema {
        let response = app.query(who, INTROSPECTION, json!({})).await;
        let types = response["data"]["__schema"]["types"].as_array().expect("introspection answers");
        Schema { types: types.iter().map(|t| (t["name"].as_str().unwrap().to_owned(), t.clone())).collect() }
    }
}

/// A type reference without its NON_NULL and LIST wrappers: (name, non-null, list).
fn unwrap(type_ref: &Value) -> (String, bool, bool) {
    let non_null = type_ref["kind"] == "NON_NULL";
    let mut t = type_ref;
    let mut list = false;
    while t["name"].is_null() {
        list |= t["kind"] == "LIST";
        t = &t["ofType"];
    }
    (t["name"].as_str().unwrap().to_owned(), non_null, list)
}

/// Builds random queries over a role's schema, with argument values drawn from the demo's ids
/// (in scope and out of it alike).
struct Generator<'a> {
    schema: &'a Schema,
    rng: fastrand::Rng,
    ids: Vec<String>,
    aliases: usize,
}

impl Generator<'_> {
    fn query(&mut self) -> String {
        self.aliases = 0;
        let root = &self.schema.types["Query"];
        let fields: Vec<&Value> = root["fields"].as_array().unwrap().iter().collect();
        let mut selection = String::new();
        for _ in 0..self.rng.usize(1..=3) {
            let field = fields[self.rng.usize(..fields.len())];
            selection.push_str(&self.field(field, 0));
        }
        format!("{{ {selection} }}")
    }

    fn field(&mut self, field: &Value, depth: usize) -> String {
        let name = field["name"].as_str().unwrap();
        let (type_name, _, _) = unwrap(&field["type"]);
        let args = self.arguments(field["args"].as_array().unwrap());
        let kind = self.schema.types[&type_name]["kind"].as_str().unwrap().to_owned();
        if kind == "OBJECT" {
            let alias = if self.rng.u8(..10) == 0 {
                self.aliases += 1;
                format!("a{}: ", self.aliases)
            } else {
                String::new()
            };
            let selection = self.selection(&type_name, depth + 1);
            if self.rng.u8(..10) == 0 {
                return format!("{alias}{name}{args} {{ ... on {type_name} {selection} }} ");
            }
            format!("{alias}{name}{args} {selection} ")
        } else {
            format!("{name}{args} ")
        }
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let object = &self.schema.types[type_name];
        let mut selection = String::from("{ __typename ");
        for field in object["fields"].as_array().unwrap() {
            let (field_type, _, _) = unwrap(&field["type"]);
            let is_object = self.schema.types[&field_type]["kind"] == "OBJECT";
            let keep = match field["name"].as_str().unwrap() {
                "id" => true,
                _ if is_object && depth >= 3 => false,
                _ => self.rng.bool(),
            };
            if keep {
                selection.push_str(&self.field(field, depth));
            }
        }
        selection.push('}');
        selection
    }

    fn arguments(&mut self, args: &[Value]) -> String {
        let mut given = Vec::new();
        for arg in args {
            let (_, required, _) = unwrap(&arg["type"]);
            if required || self.rng.u8(..10) < 3 {
                let name = arg["name"].as_str().unwrap();
                given.push(format!("{name}: {}", self.value(name, &arg["type"])));
            }
        }
        if given.is_empty() { String::new() } else { format!("({})", given.join(", ")) }
    }

    fn value(&mut self, name: &str, type_ref: &Value) -> String {
        let (type_name, _, list) = unwrap(type_ref);
        let one = self.scalar(name, &type_name);
        if list { format!("[{one}]") } else { one }
    }

    fn scalar(&mut self, name: &str, type_name: &str) -> String {
        let rng = &mut self.rng;
        match type_name {
            "ID" => format!("\"{}\"", self.ids[rng.usize(..self.ids.len())]),
            "Int" if name == "first" => rng.i32(0..=6).to_string(),
            "Int" => rng.i32(0..=5).to_string(),
            "Float" if name.contains("lat") => format!("{:.4}", 50.8 + rng.f64() * 0.2),
            "Float" if name.contains("lon") => format!("{:.4}", 3.2 + rng.f64() * 0.3),
            "Float" => format!("{:.1}", 1.0 + rng.f64() * 30.0),
            "Boolean" => rng.bool().to_string(),
            "String" => format!("\"{}\"", ["schuld", "woon", "CAW", "pensioen", "x"][rng.usize(..5)]),
            "DateTime" => format!("\"2026-{:02}-{:02}T09:00:00Z\"", rng.u8(1..=12), rng.u8(1..=28)),
            "NaiveDate" => "\"1985-07-30\"".into(),
            "NaiveTime" => "\"09:30:00\"".into(),
            other => {
                let t = &self.schema.types[other];
                match t["kind"].as_str().unwrap() {
                    "ENUM" => {
                        let values = t["enumValues"].as_array().unwrap();
                        values[self.rng.usize(..values.len())]["name"].as_str().unwrap().to_owned()
                    }
                    "INPUT_OBJECT" => {
                        let fields = t["inputFields"].as_array().unwrap().clone();
                        let mut given = Vec::new();
                        for field in &fields {
                            let (_, required, _) = unwrap(&field["type"]);
                            if required || self.rng.u8(..10) < 4 {
                                let name = field["name"].as_str().unwrap();
                                given.push(format!("{name}: {}", self.value(name, &field["type"])));
                            }
                        }
                        format!("{{ {} }}", given.join(", "))
                    }
                    _ => "null".into(),
                }
            }
        }
    }
}

/// What one caller may see, computed from the tables.
struct Oracle {
    partner: Option<Uuid>,
    /// For a citizen signed in as themself: who they are.
    client: Option<Uuid>,
    /// The case notes the caller may read (a client: those about them shared with them).
    case_notes: HashSet<String>,
    referrals: HashSet<String>,
    clients: HashSet<String>,
    help_requests: HashSet<String>,
    consents: HashSet<String>,
    events: HashSet<String>,
    appointments: HashSet<String>,
    /// Per client: the consent scopes given to this partner, active now.
    scopes: HashMap<String, HashSet<&'static str>>,
    /// How many objects of each type the responses held (so the test cannot pass vacuously).
    seen: std::cell::RefCell<HashMap<String, usize>>,
}

impl Oracle {
    async fn of(app: &TestApp, who: Who) -> Oracle {
        let db = &app.db.conn;
        let me = match who {
            Who::Client => Some(app.demo_client().await.id),
            _ => None,
        };
        let partner = match who {
            Who::Analyst | Who::Client => None,
            _ => Some(app.user(who).await.unwrap().organisation_id),
        };
        let org = partner.unwrap_or(Uuid::nil());
        let referrals: Vec<_> = referral::Entity::find().all(db).await.unwrap();
        let mine: Vec<_> = referrals
            .iter()
            .filter(|r| match me {
                Some(me) => r.client_id == me,
                None => r.sender_id == org || r.recipient_id == org,
            })
            .collect();
        let clients: HashSet<Uuid> = mine.iter().map(|r| r.client_id).chain(me).collect();
        let mut scopes: HashMap<String, HashSet<&'static str>> = HashMap::new();
        if let Some(me) = me {
            // The client reads every category of their own data.
            scopes.insert(me.to_string(), ["IDENTITY", "CONTACT", "NATIONAL_NUMBER", "SITUATION"].into());
        }
        let consents: Vec<_> = consent::Entity::find().all(db).await.unwrap();
        for c in consents.iter().filter(|c| c.recipient_id == org && c.revoked_at.is_none()) {
            let entry = scopes.entry(c.client_id.to_string()).or_default();
            for (on, scope) in [
                (c.scope_identity, "IDENTITY"),
                (c.scope_contact, "CONTACT"),
                (c.scope_national_number, "NATIONAL_NUMBER"),
                (c.scope_situation, "SITUATION"),
            ] {
                if on {
                    entry.insert(scope);
                }
            }
        }
        let situation =
            |client: &Uuid| scopes.get(&client.to_string()).is_some_and(|s| s.contains("SITUATION"));
        let help_requests = help_request::Entity::find().all(db).await.unwrap();
        let events = referral_event::Entity::find().all(db).await.unwrap();
        let referral_ids: HashSet<Uuid> = mine.iter().map(|r| r.id).collect();
        let own = |client: &Uuid| Some(*client) == me;
        Oracle {
            partner,
            client: me,
            case_notes: case_note::Entity::find()
                .all(db)
                .await
                .unwrap()
                .iter()
                .filter(|n| own(&n.client_id) && n.shared_with_client)
                .map(|n| n.id.to_string())
                .collect(),
            referrals: mine.iter().map(|r| r.id.to_string()).collect(),
            clients: clients.iter().map(Uuid::to_string).collect(),
            help_requests: help_requests
                .iter()
                .filter(|h| own(&h.client_id) || (clients.contains(&h.client_id) && situation(&h.client_id)))
                .map(|h| h.id.to_string())
                .collect(),
            consents: consents
                .iter()
                .filter(|c| own(&c.client_id) || (c.recipient_id == org && clients.contains(&c.client_id)))
                .map(|c| c.id.to_string())
                .collect(),
            events: events
                .iter()
                .filter(|e| referral_ids.contains(&e.referral_id))
                .map(|e| e.id.to_string())
                .collect(),
            appointments: appointment::Entity::find()
                .all(db)
                .await
                .unwrap()
                .iter()
                .filter(|a| own(&a.client_id) || a.organisation_id == org)
                .map(|a| a.id.to_string())
                .collect(),
            scopes,
            seen: Default::default(),
        }
    }

    /// Every object of `value` checked; returns the first violation.
    fn check(&self, value: &Value) -> Result<(), String> {
        match value {
            Value::Array(items) => items.iter().try_for_each(|item| self.check(item)),
            Value::Object(fields) => {
                let typename = fields.get("__typename").and_then(Value::as_str).unwrap_or("");
                *self.seen.borrow_mut().entry(typename.to_owned()).or_default() += 1;
                if fields.get("givenName").is_some_and(|v| !v.is_null()) {
                    *self.seen.borrow_mut().entry("Client with givenName".into()).or_default() += 1;
                }
                self.check_object(typename, fields)?;
                fields.values().try_for_each(|field| self.check(field))
            }
            _ => Ok(()),
        }
    }

    fn check_object(&self, typename: &str, fields: &serde_json::Map<String, Value>) -> Result<(), String> {
        const FIGURES: [&str; 6] =
            ["Dashboard", "StatusCount", "LifeDomainCount", "MonthCount", "RejectionCount", "PartnerFigures"];
        let id = fields.get("id").and_then(Value::as_str).unwrap_or("");
        let in_scope = |set: &HashSet<String>, what: &str| {
            if set.contains(id) { Ok(()) } else { Err(format!("{what} {id} is outside the caller's scope")) }
        };
        match typename {
            "Client" => {
                in_scope(&self.clients, "client")?;
                let scopes = self.scopes.get(id).cloned().unwrap_or_default();
                for (field, scope) in [
                    ("givenName", "IDENTITY"),
                    ("familyName", "IDENTITY"),
                    ("dateOfBirth", "IDENTITY"),
                    ("nationalRegisterNumber", "NATIONAL_NUMBER"),
                    ("address", "CONTACT"),
                    ("phone", "CONTACT"),
                    ("email", "CONTACT"),
                    ("preferredLanguage", "CONTACT"),
                ] {
                    if fields.get(field).is_some_and(|v| !v.is_null()) && !scopes.contains(scope) {
                        return Err(format!("client {id}: {field} shown without {scope} consent"));
                    }
                }
                Ok(())
            }
            "Referral" => in_scope(&self.referrals, "referral"),
            "HelpRequest" => in_scope(&self.help_requests, "help request"),
            "Consent" => in_scope(&self.consents, "consent"),
            "ReferralEvent" => in_scope(&self.events, "referral event"),
            "Appointment" => in_scope(&self.appointments, "appointment"),
            "CaseNote" if self.client.is_some() => in_scope(&self.case_notes, "case note"),
            "AuditEntry" if self.client.is_some() => match fields.get("clientId").and_then(Value::as_str) {
                Some(about) if about != self.client.unwrap().to_string() => {
                    Err(format!("an audit entry about another client: {about}"))
                }
                _ => Ok(()),
            },
            "CaseNote" | "AuditEntry" => Err(format!("a {typename} reached the caller")),
            "PartnerFigures" if self.partner.is_some() => {
                let org = fields.get("organisation").and_then(|o| o.get("id")).and_then(Value::as_str);
                match org {
                    Some(org) if org != self.partner.unwrap().to_string() => {
                        Err(format!("another partner's figures: {org}"))
                    }
                    _ => Ok(()),
                }
            }
            _ if FIGURES.contains(&typename) && self.partner.is_none() => {
                // The analyst: no count from 1 to 4 anywhere in the dashboard.
                for (name, value) in fields {
                    if let Some(n) = value.as_i64().filter(|n| (1..=4).contains(n)) {
                        return Err(format!("{typename}.{name} = {n}: a small count shown to the analyst"));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

async fn all_ids(app: &TestApp) -> Vec<String> {
    let db = &app.db.conn;
    let mut ids: Vec<String> = Vec::new();
    ids.extend(client::Entity::find().all(db).await.unwrap().iter().map(|r| r.id.to_string()));
    ids.extend(referral::Entity::find().all(db).await.unwrap().iter().map(|r| r.id.to_string()));
    ids.extend(help_request::Entity::find().all(db).await.unwrap().iter().map(|r| r.id.to_string()));
    ids.extend(organisation::Entity::find().all(db).await.unwrap().iter().map(|r| r.id.to_string()));
    ids.extend(service::Entity::find().all(db).await.unwrap().iter().map(|r| r.id.to_string()));
    ids.extend(user::Entity::find().all(db).await.unwrap().iter().map(|r| r.id.to_string()));
    ids.push(Uuid::new_v4().to_string());
    ids.push("not-an-id".into());
    ids
}

#[tokio::test]
async fn random_queries_never_leave_the_callers_scope() {
    let seed: u64 =
        std::env::var("WELZIJNSHUIS_GENERATIVE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2026);
    let per_role: usize =
        std::env::var("WELZIJNSHUIS_GENERATIVE_QUERIES").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    // Thousands of queries a second from one user: the rate limit is not what is tested here.
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let ids = all_ids(&app).await;
    let mut answered_with_data = 0;
    let mut total = 0;
    for (n, who) in [Who::Caw, Who::Pension, Who::Analyst, Who::Client].into_iter().enumerate() {
        let schema = Schema::of(&app, who).await;
        let oracle = Oracle::of(&app, who).await;
        let role_seed = seed.wrapping_add(n as u64);
        let mut generator = Generator {
            schema: &schema,
            rng: fastrand::Rng::with_seed(role_seed),
            ids: ids.clone(),
            aliases: 0,
        };
        let queries = if matches!(who, Who::Pension | Who::Client) { per_role / 2 } else { per_role };
        for i in 0..queries {
            let query = generator.query();
            // Through both doors, alternately: they pass one gate.
            let transport = if i % 2 == 0 { Transport::Http } else { Transport::WebSocket };
            let response = app.query_over(transport, who, &query, json!({})).await;
            let data = &response["data"];
            if let Err(violation) = oracle.check(data) {
                panic!("{who:?}, seed {role_seed}, query #{i}: {violation}\n{query}\n{response:#}");
            }
            if let Some(errors) = response["errors"].as_array() {
                for error in errors {
                    let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
                    assert_ne!(
                        code, "INTERNAL",
                        "{who:?}, seed {role_seed}, query #{i}: {query}\n{response:#}"
                    );
                }
            }
            if std::env::var("GEN_DEBUG").is_ok()
                && !data.as_object().is_some_and(|d| d.values().any(|v| !v.is_null()))
            {
                eprintln!("NODATA {who:?} {}", response["errors"][0]["message"]);
            }
            answered_with_data +=
                usize::from(data.as_object().is_some_and(|d| d.values().any(|v| !v.is_null())));
            total += 1;
        }
        let seen = oracle.seen.borrow();
        println!("{who:?} saw {seen:?}");
        let expected: &[&str] = if who == Who::Analyst {
            &["Dashboard", "Service", "Organisation"]
        } else if who == Who::Client {
            &[
                "Client",
                "Client with givenName",
                "Referral",
                "ReferralEvent",
                "Consent",
                "HelpRequest",
                "AuditEntry",
            ]
        } else {
            &["Client", "Client with givenName", "Referral", "ReferralEvent", "Consent", "Service"]
        };
        for typename in expected {
            assert!(
                seen.get(*typename).is_some_and(|n| *n > 0),
                "{who:?}: the queries never reached a {typename}"
            );
        }
    }
    // The oracle does catch a leak: what ADMIN sees is not all CAW's to see.
    let everything = app
        .query(Who::Admin, "{ referrals(first: 100) { edges { node { __typename id client { __typename id givenName } } } } }", json!({}))
        .await;
    let caw = Oracle::of(&app, Who::Caw).await;
    assert!(caw.check(&everything["data"]).is_err(), "the oracle flags rows outside CAW's scope");
    println!("{total} generated queries, {answered_with_data} with data, all within scope (seed {seed})");
    assert!(
        answered_with_data * 2 > total,
        "most generated queries must reach data: {answered_with_data}/{total}"
    );
}

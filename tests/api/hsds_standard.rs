//! The social map against the official HSDS 3.0 JSON Schemas (copied into `tests/hsds-3.0/`):
//! every exported service valid, also under the strict variant (no property the schema does not
//! define); the specification's own examples imported; every form a publisher sends read;
//! schedules at the three levels found by `openAt`.

use std::time::Instant;

use serde_json::{Value, json};
use welzijnshuis::socialmap::{HsdsService, Reveal, export, import};

use crate::helpers::{TestApp, Who, assert_ok, nodes};

/// The folder of the copied standard.
pub fn standard(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hsds-3.0").join(path)
}

/// A JSON file of the copied standard.
pub fn standard_json(path: &str) -> Value {
    let text = std::fs::read_to_string(standard(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The strict variant of a schema, as the specification's own CI checks it: every object that
/// lists its properties allows no others.
pub fn strict(mut schema: Value) -> Value {
    fn close(node: &mut Value) {
        match node {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    schema
}

/// A validator of JSON Schema 2020-12 that also checks formats (`uuid`, `uri`, `email`,
/// `date-time`): an id that is not a UUID is an error, not an annotation.
pub fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::draft202012::options().should_validate_formats(true).build(schema).unwrap()
}

/// Both validators of a compiled schema: as published, and strict.
pub struct Schemas {
    pub published: jsonschema::Validator,
    pub strict: jsonschema::Validator,
}

impl Schemas {
    pub fn compiled(name: &str) -> Schemas {
        let schema = standard_json(&format!("schema/compiled/{name}.json"));
        Schemas { published: validator(&schema), strict: validator(&strict(schema)) }
    }

    /// Panics with the first problems (path and message) when `instance` is not valid under
    /// either variant.
    pub fn assert_valid(&self, instance: &Value, what: &str) {
        for (variant, validator) in [("published", &self.published), ("strict", &self.strict)] {
            let problems: Vec<String> = validator
                .iter_errors(instance)
                .take(10)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(problems.is_empty(), "{what} is not valid ({variant} schema):\n{}", problems.join("\n"));
        }
    }
}

fn reading(text: impl ToString) -> std::io::Cursor<Vec<u8>> {
    std::io::Cursor::new(text.to_string().into_bytes())
}

fn assert_all_valid(schemas: &Schemas, services: &[HsdsService], what: &str) {
    for service in services {
        let value = serde_json::to_value(service).unwrap();
        schemas.assert_valid(&value, &format!("{what}: service {} ({})", service.id, service.name));
    }
}

#[tokio::test]
async fn every_service_the_demo_exports_is_valid_hsds() {
    let app = TestApp::spawn().await;
    let schemas = Schemas::compiled("service");
    let full = export(&app.db.conn, Reveal::EVERYTHING).await.unwrap();
    assert!(full.len() >= 45, "{}", full.len());
    assert_all_valid(&schemas, &full, "the house's export");
    let public = export(&app.db.conn, Reveal::for_caller(&resolvers::Caller::public())).await.unwrap();
    assert_all_valid(&schemas, &public, "the public export");
    // Ids are UUIDs, and the same in the next export.
    let again = export(&app.db.conn, Reveal::EVERYTHING).await.unwrap();
    assert_eq!(serde_json::to_value(&full).unwrap(), serde_json::to_value(&again).unwrap());
    // The life domains are terms of their own taxonomy, complete.
    let term = &full.iter().find(|s| !s.attributes.is_empty()).unwrap().attributes[0].taxonomy_term;
    assert_eq!(term.taxonomy.as_deref(), Some("welzijnshuis-life-domain"));
    assert!(!term.name.is_empty() && !term.description.is_empty() && term.taxonomy_detail.is_some());
}

#[tokio::test]
async fn a_confidential_address_stays_out_of_the_public_export() {
    let app = TestApp::spawn().await;
    let mut shelter = service("7d5c7f2e-0b1a-4d8e-9b7e-2f1f3c4d5e60", "Opvang Geheim");
    shelter["service_at_locations"][0]["location"]["attributes"] = json!([{ "id": "a8f0e6f8-7a55-4d57-b7a4-6a0c1f2b3c4d",
        "taxonomy_term": { "id": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e", "code": "CONFIDENTIAL", "name": "x", "description": "x",
        "taxonomy": "welzijnshuis-location" } }]);
    shelter["service_at_locations"][0]["location"]["addresses"][0]["address_1"] = json!("Geheimstraat 12");
    import(&app.db.conn, reading(json!([shelter]))).await.unwrap();
    let public = export(&app.db.conn, Reveal::for_caller(&resolvers::Caller::public())).await.unwrap();
    let text = serde_json::to_string(&public).unwrap();
    assert!(!text.contains("Geheimstraat"), "the street of a confidential location is not public");
    let location =
        &public.iter().find(|s| s.name == "Opvang Geheim").unwrap().service_at_locations[0].location;
    assert_eq!((location.latitude, location.longitude), (None, None));
    assert_eq!(location.addresses[0].address_1, "");
    assert_eq!(location.addresses[0].city, "Waregem", "the municipality stays, as in GraphQL");
    let full = serde_json::to_string(&export(&app.db.conn, Reveal::EVERYTHING).await.unwrap()).unwrap();
    assert!(full.contains("Geheimstraat 12"), "the house's own export keeps it, marked confidential");
}

/// A service of the generated map: `n` picks its organisation, location and where its hours are.
fn service(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "description": "Hulp bij huur, budget en papieren.",
        "status": "active",
        "organization": { "id": "0c7a1f7e-3b5d-4c1e-8f2a-9d6b4e3c2a10", "name": "Sociaal Huis", "description": "Het sociaal huis." },
        "languages": [{ "id": "1d1e3c9a-6e1b-4a57-9a37-8ab2a2c1e0f1", "code": "nl" }],
        "attributes": [{ "id": "2b8d9a44-1c0e-4f3a-8d5b-6e7f8a9b0c1d", "taxonomy_term": { "id": "3c9e0b55-2d1f-4a4b-9e6c-7f8a9b0c1d2e",
            "code": "HOUSING", "name": "Wonen", "description": "Wonen", "taxonomy": "welzijnshuis-life-domain" } }],
        "service_at_locations": [{ "id": uuid::Uuid::new_v4().to_string(), "location": {
            "id": "4d0f1c66-3e2a-4b5c-8f7d-8a9b0c1d2e3f", "location_type": "physical", "name": "Het Sociaal Huis",
            "latitude": 50.885, "longitude": 3.43,
            "addresses": [{ "id": "5e1a2d77-4f3b-4c6d-9a8e-9b0c1d2e3f4a", "address_1": "Markt 1", "city": "Waregem",
                "state_province": "West-Vlaanderen", "postal_code": "8790", "country": "BE", "address_type": "physical" }]
        } }]
    })
}

/// `count` services: some with their hours on the service, some on the service_at_location,
/// some on the location; some without a UUID as their id (as many feeds).
fn generated_map(count: usize) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let id = if i % 10 == 0 { format!("feed-service-{i}") } else { uuid::Uuid::new_v4().to_string() };
            let mut s = service(&id, &format!("Dienst {i:04}"));
            s["organization"]["id"] = json!(format!("feed-org-{}", i % 37));
            s["organization"]["name"] = json!(format!("Organisatie {}", i % 37));
            let location = &mut s["service_at_locations"][0];
            location["location"]["id"] = json!(format!("feed-location-{}", i % 113));
            let hours = json!([{ "id": uuid::Uuid::new_v4().to_string(), "freq": "WEEKLY", "byday": "MO,WE",
                "opens_at": "09:00", "closes_at": format!("{}:30", 12 + i % 5), "description": "Op afspraak" }]);
            match i % 3 {
                0 => s["schedules"] = hours,
                1 => location["schedules"] = hours,
                _ => location["location"]["schedules"] = hours,
            }
            if i % 4 == 0 {
                s["phones"] = json!([{ "id": uuid::Uuid::new_v4().to_string(), "number": format!("056 {i:06}") }]);
                s["languages"] = json!([{ "code": "nl" }, { "code": "fr" }]);
            }
            s
        })
        .collect()
}

#[tokio::test]
async fn a_generated_map_of_a_thousand_services_exports_valid_and_reads_back_exactly() {
    let app = TestApp::spawn().await;
    let file = json!({ "services": generated_map(1000) });
    let summary = import(&app.db.conn, reading(&file)).await.unwrap();
    assert_eq!(summary.created, 1000);
    let started = Instant::now();
    let first = export(&app.db.conn, Reveal::EVERYTHING).await.unwrap();
    let took = started.elapsed();
    println!("export of {} services: {} ms", first.len(), took.as_millis());
    assert!(first.len() >= 1045);
    let schemas = Schemas::compiled("service");
    let started = Instant::now();
    assert_all_valid(&schemas, &first, "the generated map");
    println!(
        "validated {} services against the compiled schema twice: {} ms",
        first.len(),
        started.elapsed().as_millis()
    );
    // export → import (elsewhere) → export: the same document.
    let other = TestApp::spawn().await;
    import(&other.db.conn, reading(serde_json::to_string(&first).unwrap())).await.unwrap();
    let second = export(&other.db.conn, Reveal::EVERYTHING).await.unwrap();
    assert_eq!(serde_json::to_value(&first).unwrap(), serde_json::to_value(&second).unwrap());
    // … and into the same database: nothing new, nothing changed.
    let again = import(&app.db.conn, reading(serde_json::to_string(&first).unwrap())).await.unwrap();
    assert_eq!((again.created, again.updated), (0, first.len()));
    let third = export(&app.db.conn, Reveal::EVERYTHING).await.unwrap();
    assert_eq!(serde_json::to_value(&first).unwrap(), serde_json::to_value(&third).unwrap());
}

/// The specification's example, with its coordinates (latitude 100, longitude 101) in range.
fn example(name: &str) -> Value {
    let mut value = standard_json(&format!("examples/{name}"));
    fn in_range(node: &mut Value) {
        match node {
            Value::Object(map) => {
                if let Some(lat) = map.get_mut("latitude") {
                    *lat = json!(50.9);
                }
                if let Some(lon) = map.get_mut("longitude") {
                    *lon = json!(3.1);
                }
                map.values_mut().for_each(in_range);
            }
            Value::Array(items) => items.iter_mut().for_each(in_range),
            _ => {}
        }
    }
    in_range(&mut value);
    value
}

#[tokio::test]
async fn the_specifications_own_examples_import() {
    let app = TestApp::spawn().await;
    // A page of the API (`contents`), as `service_list.json` is: its items flat.
    let page = example("service_list.json");
    assert!(page["contents"].is_array());
    let summary = import(&app.db.conn, reading(&page)).await.unwrap();
    assert_eq!((summary.created, summary.updated), (1, 0));
    // One service object, as `service_full.json` is: the same service, now with everything.
    let full = example("service_full.json");
    let summary = import(&app.db.conn, reading(&full)).await.unwrap();
    assert_eq!((summary.created, summary.updated), (0, 1));
    let query = r#"{ services(filter: { search: "counselling" }) { edges { node { name languages
        organisation { name } locations { address { municipality postcode } latitude } openingHours { weekday opens closes locationId } } } } }"#;
    let response = app.query(Who::Public, query, json!({})).await;
    assert_ok(&response);
    let node = nodes(&response, &["services"])[0].clone();
    assert_eq!(node["organisation"]["name"], "Example Organization Inc.");
    assert_eq!(node["languages"], json!(["ur"]));
    assert_eq!(node["locations"][0]["address"]["municipality"], "MyCity");
    // Thursday and Friday, 10:00–18:00 at UTC+3 (the example's `timezone: 3`): in Belgian
    // time today, on the service and at its location.
    let hours = node["openingHours"].as_array().unwrap();
    let opens =
        welzijnshuis::socialmap::wall_clock::read("10:00+03:00", None, chrono::Utc::now().date_naive())
            .map(|m| format!("{:02}:{:02}", m / 60, m % 60))
            .unwrap();
    assert!(["08:00", "09:00"].contains(&opens.as_str()), "{opens}");
    assert!(
        hours.iter().any(|h| h["weekday"] == 4 && h["opens"] == opens.as_str() && h["locationId"].is_null()),
        "{node}"
    );
    assert!(hours.iter().any(|h| h["weekday"] == 5 && h["locationId"].is_string()), "{node}");
    // An organization with its services (`organization_full.json`): they are its.
    let organization = example("organization_full.json");
    let summary = import(&app.db.conn, reading(&organization)).await.unwrap();
    assert_eq!(summary.created + summary.updated, organization["services"].as_array().unwrap().len());
    // What it became exports valid.
    let schemas = Schemas::compiled("service");
    assert_all_valid(
        &schemas,
        &export(&app.db.conn, Reveal::EVERYTHING).await.unwrap(),
        "after the examples",
    );
    // The example's coordinates as published are refused, by service and field.
    let error = import(&app.db.conn, reading(standard_json("examples/service_full.json"))).await.unwrap_err();
    assert!(error.to_string().contains("ac148810-d857-441c-9679-408f346de14b: service_at_locations[0].location: latitude or longitude out of range"), "{error}");
}

#[tokio::test]
async fn every_form_a_publisher_sends_is_read() {
    let app = TestApp::spawn().await;
    let one = service("6f2b3e88-5a4c-4d7e-8b9f-0c1d2e3f4a5b", "Vorm één");
    let two = service("7a3c4f99-6b5d-4e8f-9c0a-1d2e3f4a5b6c", "Vorm twee");
    let forms = [
        ("one service", one.clone()),
        ("an array", json!([one.clone(), two.clone()])),
        ("services", json!({ "services": [one.clone(), two.clone()] })),
        (
            "a page of the API",
            json!({ "total_items": 2, "total_pages": 1, "page_number": 1, "size": 2,
            "first_page": true, "last_page": true, "empty": false, "contents": [one.clone(), two.clone()] }),
        ),
    ];
    for (form, file) in forms {
        let summary = import(&app.db.conn, reading(&file)).await.unwrap_or_else(|e| panic!("{form}: {e}"));
        assert!(summary.created + summary.updated >= 1, "{form}");
    }
    let response =
        app.query(Who::Public, r#"{ services(filter: { search: "vorm" }) { totalCount } }"#, json!({})).await;
    assert_eq!(response["data"]["services"]["totalCount"], 2, "idempotent whatever the form: {response}");
    // Neither a list nor a service.
    let error = import(&app.db.conn, reading(json!({ "total_items": 0 }))).await.unwrap_err();
    assert!(error.to_string().contains("or one service"), "{error}");
}

#[tokio::test]
async fn schedules_at_all_three_levels_are_found_by_open_at() {
    let app = TestApp::spawn().await;
    let hours = json!([{ "id": "8b4d5a00-7c6e-4f90-8d1b-2e3f4a5b6c7d", "freq": "WEEKLY", "byday": "SU",
        "opens_at": "06:00:00", "closes_at": "07:00:00" }]);
    let mut on_service = service("9c5e6b11-8d7f-4a01-9e2c-3f4a5b6c7d8e", "Zondag op de dienst");
    on_service["schedules"] = hours.clone();
    let mut on_place = service("0d6f7c22-9e8a-4b12-8f3d-4a5b6c7d8e9f", "Zondag op de plek");
    on_place["service_at_locations"][0]["schedules"] = hours.clone();
    let mut on_location = service("1e7a8d33-0f9b-4c23-9a4e-5b6c7d8e9f0a", "Zondag op de locatie");
    on_location["service_at_locations"][0]["location"]["id"] = json!("2f8b9e44-1a0c-4d34-8b5f-6c7d8e9f0a1b");
    on_location["service_at_locations"][0]["location"]["schedules"] = hours.clone();
    import(&app.db.conn, reading(json!([on_service, on_place, on_location]))).await.unwrap();
    // A Sunday at 06:30 in Brussels (05:30 UTC in winter): only these three are open.
    let query = r#"query($at: DateTime!) { services(filter: { openAt: $at }, first: 50) { edges { node { name } } } }"#;
    let response = app.query(Who::Public, query, json!({ "at": "2026-11-29T05:30:00Z" })).await;
    assert_ok(&response);
    // (The demo's round-the-clock services are open too.)
    let mut names: Vec<String> = nodes(&response, &["services"])
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .filter(|n| n.starts_with("Zondag"))
        .collect();
    names.sort();
    assert_eq!(names, ["Zondag op de dienst", "Zondag op de locatie", "Zondag op de plek"]);
    let closed = app.query(Who::Public, query, json!({ "at": "2026-11-29T06:30:00Z" })).await;
    assert!(nodes(&closed, &["services"]).iter().all(|n| !n["name"].as_str().unwrap().starts_with("Zondag")));
    // The export says where each holds: on the service, or at the place.
    let exported = export(&app.db.conn, Reveal::EVERYTHING).await.unwrap();
    let by_name = |name: &str| exported.iter().find(|s| s.name == name).unwrap().clone();
    assert_eq!(by_name("Zondag op de dienst").schedules.len(), 1);
    assert_eq!(by_name("Zondag op de plek").service_at_locations[0].schedules.len(), 1);
    assert_eq!(by_name("Zondag op de locatie").service_at_locations[0].schedules.len(), 1);
}

#[tokio::test]
async fn the_import_and_the_mutations_apply_one_check() {
    let app = TestApp::spawn().await;
    // Without a life domain (a publisher's service, the specification's example): both doors take it.
    let mut plain = service("3a9c0f55-2b1d-4e45-9c6a-7d8e9f0a1b2c", "Zonder levensdomein");
    plain["attributes"] = json!([]);
    import(&app.db.conn, reading(json!([plain]))).await.unwrap();
    let dyzo = app.user(Who::Dyzo).await.unwrap().organisation_id.to_string();
    let create = "mutation($org: ID!, $input: ServiceInput!) { createService(organisationId: $org, input: $input) { lifeDomains } }";
    let input = json!({ "name": "Ook zonder", "lifeDomains": [], "languages": ["nl"] });
    let created = app.query(Who::Dyzo, create, json!({ "org": dyzo, "input": input })).await;
    assert_ok(&created);
    // What one refuses, the other refuses, by the same rule and words.
    for (field, value, graphql, hsds) in [
        ("email", json!("geen adres"), "input.email", "email: not an e-mail address"),
        ("url", json!("ftp://x"), "input.url", "url: must start with http"),
        ("name", json!("  "), "input.name", "name: must not be empty"),
    ] {
        let mut bad = service("4b0d1a66-3c2e-4f56-8d7b-8e9f0a1b2c3d", "Fout");
        bad[field] = value.clone();
        let error = import(&app.db.conn, reading(json!([bad]))).await.unwrap_err().to_string();
        assert!(error.contains(hsds), "{hsds}: {error}");
        let mut input = json!({ "name": "Fout", "lifeDomains": [], "languages": [] });
        input[field] = value;
        let refused = app.query(Who::Dyzo, create, json!({ "org": dyzo, "input": input })).await;
        assert_eq!(refused["errors"][0]["extensions"]["field"], graphql, "{refused}");
    }
}

#[tokio::test]
async fn a_list_a_record_leaves_out_keeps_what_is_stored() {
    let app = TestApp::spawn().await;
    let id = "5c1e2b77-4d3f-4a67-9b8c-9f0a1b2c3d4e";
    let mut full = service(id, "Met alles");
    full["phones"] = json!([{ "id": "6d2f3c88-5e4a-4b78-8c9d-0a1b2c3d4e5f", "number": "056 11 22 33" }]);
    full["schedules"] = json!([{ "id": "7e3a4d99-6f5b-4c89-9d0e-1b2c3d4e5f6a", "byday": "TU", "opens_at": "09:00", "closes_at": "11:00" }]);
    import(&app.db.conn, reading(json!([full]))).await.unwrap();
    let query = r#"{ services(filter: { search: "alles" }) { edges { node { phone languages lifeDomains openingHours { weekday } locations { name } } } } }"#;
    let before = app.query(Who::Public, query, json!({})).await;
    assert_eq!(nodes(&before, &["services"])[0]["phone"], "056 11 22 33");
    // A page of an API's flat /services: the one-to-one fields only.
    let mut flat: serde_json::Map<String, Value> = full.as_object().unwrap().clone();
    flat.retain(|_, v| !v.is_array());
    flat.insert("description".into(), json!("Nieuwe beschrijving"));
    import(&app.db.conn, reading(json!({ "contents": [flat] }))).await.unwrap();
    assert_eq!(app.query(Who::Public, query, json!({})).await, before, "the lists stay as they were");
    // A list given empty is emptied.
    let mut fewer = full.clone();
    fewer["languages"] = json!([]);
    fewer["schedules"] = json!([]);
    import(&app.db.conn, reading(json!([fewer]))).await.unwrap();
    let after = app.query(Who::Public, query, json!({})).await;
    let node = &nodes(&after, &["services"])[0];
    assert_eq!((node["languages"].clone(), node["openingHours"].clone()), (json!([]), json!([])));
    assert_eq!(node["lifeDomains"], json!(["HOUSING"]));
}

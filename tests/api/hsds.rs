//! The social map in and out as HSDS 3.0 JSON.

use entities::{service, service_language, service_life_domain};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use welzijnshuis::socialmap::{Reveal, import};

async fn export(
    db: &sea_orm::DatabaseConnection,
) -> anyhow::Result<Vec<welzijnshuis::socialmap::HsdsService>> {
    welzijnshuis::socialmap::export(db, Reveal::EVERYTHING).await
}

use crate::helpers::{SECRET, TestApp, Who, assert_ok, nodes};

/// A file's text, to read as the import reads a file.
fn reading(text: impl ToString) -> std::io::Cursor<Vec<u8>> {
    std::io::Cursor::new(text.to_string().into_bytes())
}

fn new_service(id: &str) -> Value {
    json!({
        "id": id,
        "name": "Repair Café Waregem",
        "description": "Samen kapotte spullen herstellen, met vrijwilligers.",
        "status": "active",
        "fees_description": "Gratis, een vrije bijdrage mag",
        "assured_date": "2026-11-01",
        "organization": { "id": "hsds-org-repair", "name": "Repair Café vzw", "website": "https://www.repaircafe.be" },
        "phones": [{ "number": "056 00 00 00" }],
        "languages": [{ "code": "NL" }, { "code": "fr" }],
        "attributes": [
            { "taxonomy_term": { "code": "PARTICIPATION", "vocabulary": "welzijnshuis-life-domain" } },
            { "taxonomy_term": { "code": "FINANCES" } }
        ],
        "schedules": [{ "byday": "SA", "opens_at": "10:00", "closes_at": "13:00" }],
        "service_at_locations": [{ "location": {
            "id": "hsds-loc-repair", "name": "Ontmoetingscentrum", "latitude": 50.885, "longitude": 3.43,
            "addresses": [{ "address_1": "Kerkstraat 1", "city": "Waregem", "postal_code": "8790", "country": "BE" }]
        } }]
    })
}

#[tokio::test]
async fn an_import_adds_services_the_api_then_shows() {
    let app = TestApp::spawn().await;
    let before = service::Entity::find().count(&app.db.conn).await.unwrap();
    let file = json!({ "services": [new_service("hsds-repair-1")] }).to_string();
    let summary = import(&app.db.conn, reading(&file)).await.unwrap();
    assert_eq!((summary.created, summary.updated), (1, 0));
    assert_eq!(service::Entity::find().count(&app.db.conn).await.unwrap(), before + 1);
    let query = r#"{ services(filter: { search: "repair" }) { edges { node { name fees languages lifeDomains
        organisation { name kind isNetworkPartner } locations { address { municipality } } openingHours { weekday opens closes } } } } }"#;
    let response = app.query(Who::Public, query, json!({})).await;
    assert_ok(&response);
    let node = nodes(&response, &["services"])[0].clone();
    assert_eq!(node["languages"], json!(["fr", "nl"]));
    assert_eq!(node["lifeDomains"], json!(["FINANCES", "PARTICIPATION"]));
    assert_eq!(
        node["organisation"],
        json!({ "name": "Repair Café vzw", "kind": "OTHER", "isNetworkPartner": false })
    );
    assert_eq!(node["openingHours"], json!([{ "weekday": 6, "opens": "10:00", "closes": "13:00" }]));

    // Importing the same file again changes nothing (idempotent by HSDS id).
    let again = import(&app.db.conn, reading(&file)).await.unwrap();
    assert_eq!((again.created, again.updated), (0, 1));
    assert_eq!(service::Entity::find().count(&app.db.conn).await.unwrap(), before + 1);
    let repair = service::Entity::find()
        .all(&app.db.conn)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.hsds_id.as_deref() == Some("hsds-repair-1"))
        .unwrap();
    let languages = service_language::Entity::find()
        .all(&app.db.conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.service_id == repair.id)
        .count();
    assert_eq!(languages, 2, "the lists are replaced, not appended to");
}

#[tokio::test]
async fn one_bad_record_rejects_the_whole_file_naming_it() {
    let app = TestApp::spawn().await;
    let (services, domains) = (
        service::Entity::find().count(&app.db.conn).await.unwrap(),
        service_life_domain::Entity::find().count(&app.db.conn).await.unwrap(),
    );
    let mut bad = new_service("hsds-bad-7");
    bad["status"] = json!("open");
    bad["schedules"][0]["opens_at"] = json!("25:00");
    bad["attributes"][0]["taxonomy_term"]["code"] = json!("GARDENING");
    let mut nameless = new_service("hsds-bad-8");
    nameless["name"] = json!(" ");
    let file = json!([new_service("hsds-good-1"), bad, nameless]).to_string();
    let error = import(&app.db.conn, reading(&file)).await.unwrap_err().to_string();
    for needle in [
        "service hsds-bad-7: status",
        "service hsds-bad-7: schedules[0]",
        "hsds-bad-7: attributes[0].taxonomy_term.code",
        "service hsds-bad-8: name",
    ] {
        assert!(error.contains(needle), "{needle} in: {error}");
    }
    assert!(!error.contains("hsds-good-1"), "{error}");
    assert_eq!(service::Entity::find().count(&app.db.conn).await.unwrap(), services, "nothing written");
    assert_eq!(service_life_domain::Entity::find().count(&app.db.conn).await.unwrap(), domains);
    assert!(import(&app.db.conn, reading("{ \"not\": \"hsds\" }")).await.is_err());
}

#[tokio::test]
async fn export_then_import_reads_back_exactly() {
    let app = TestApp::spawn().await;
    import(&app.db.conn, reading(&json!([new_service("hsds-repair-2")]).to_string())).await.unwrap();
    let first = export(&app.db.conn).await.unwrap();
    assert!(first.len() >= 46);
    assert!(
        first.iter().any(|s| s.service_at_locations.iter().any(|l| !l.location.attributes.is_empty())),
        "the shelter stays confidential"
    );
    // Into a database that has never seen them: the same map comes out.
    let other = TestApp::spawn().await;
    let text = serde_json::to_string(&first).unwrap();
    import(&other.db.conn, reading(&text)).await.unwrap();
    let second = export(&other.db.conn).await.unwrap();
    assert_eq!(serde_json::to_value(&first).unwrap(), serde_json::to_value(&second).unwrap());
    // And into the same database again: unchanged.
    import(&app.db.conn, reading(&text)).await.unwrap();
    assert_eq!(
        serde_json::to_value(export(&app.db.conn).await.unwrap()).unwrap(),
        serde_json::to_value(&first).unwrap()
    );
}

#[tokio::test]
async fn the_command_line_imports_and_reports_problems() {
    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join(format!("wzh-hsds-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.json");
    std::fs::write(&good, json!([new_service("hsds-cli-1")]).to_string()).unwrap();
    let mut bad_service = new_service("hsds-cli-2");
    bad_service["service_at_locations"][0]["location"]["addresses"] = json!([]);
    let bad = dir.join("bad.json");
    std::fs::write(&bad, json!([bad_service]).to_string()).unwrap();
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"))
            .args(["socialmap", "import"])
            .arg(file)
            .env("DATABASE_URL", &app.database.url)
            .env("WELZIJNSHUIS_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    };
    let ok = run(&good);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("1 new"));
    let refused = run(&bad);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("hsds-cli-2") && stderr.contains("addresses"), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

const CREATE_SERVICE: &str = "mutation($org: ID!, $input: ServiceInput!) { createService(organisationId: $org, input: $input) { id name lifeDomains languages status assuredDate } }";
const UPDATE_SERVICE: &str = "mutation($id: ID!, $input: ServiceInput!) { updateService(id: $id, input: $input) { id name lifeDomains languages status alert } }";

#[tokio::test]
async fn a_partner_edits_its_own_services_and_admin_any() {
    let app = TestApp::spawn().await;
    let dyzo = app.user(Who::Dyzo).await.unwrap().organisation_id.to_string();
    let input = json!({ "name": "Startersatelier", "description": "Begeleiding voor wie herstart als zelfstandige.",
        "lifeDomains": ["WORK"], "languages": ["nl", "EN"], "url": "https://www.dyzo.be/herstart" });
    let created = app.query(Who::Dyzo, CREATE_SERVICE, json!({ "org": dyzo, "input": input })).await;
    assert_ok(&created);
    let service = &created["data"]["createService"];
    assert_eq!(
        (service["lifeDomains"].clone(), service["languages"].clone(), service["status"].clone()),
        (json!(["WORK"]), json!(["en", "nl"]), json!("ACTIVE"))
    );
    let id = service["id"].clone();
    // Found by the search right away.
    let found = app
        .query(
            Who::Public,
            r#"{ services(filter: { search: "startersatelier" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(found["data"]["services"]["totalCount"], 1);

    let mut changed = input.clone();
    changed["name"] = json!("Startersatelier dyzo");
    changed["status"] = json!("TEMPORARILY_CLOSED");
    changed["alert"] = json!("Gesloten tijdens de kerstvakantie");
    let updated = app.query(Who::Dyzo, UPDATE_SERVICE, json!({ "id": id, "input": changed })).await;
    assert_ok(&updated);
    assert_eq!(updated["data"]["updateService"]["status"], "TEMPORARILY_CLOSED");
    // The search index follows the rename: one entry, under the new name only.
    for (search, expected) in [("startersatelier", 1), ("dyzo", 1)] {
        let query =
            format!(r#"{{ services(filter: {{ search: "{search}" }}) {{ edges {{ node {{ id }} }} }} }}"#);
        let found = app.query(Who::Public, &query, json!({})).await;
        let hits = found["data"]["services"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"]["id"] == id)
            .count();
        assert_eq!(hits, expected, "{search}: {found}");
    }
    assert_ok(&app.query(Who::Admin, UPDATE_SERVICE, json!({ "id": id, "input": input })).await);

    // Another partner, staff without the role, the public: refused. Bad input names its field.
    for (who, refusal) in
        [(Who::Caw, "FORBIDDEN"), (Who::Intake, "HIDDEN"), (Who::Analyst, "HIDDEN"), (Who::Public, "HIDDEN")]
    {
        let response = app.query(who, UPDATE_SERVICE, json!({ "id": id, "input": input })).await;
        assert_eq!(crate::helpers::denied(&response), refusal, "{who:?}");
    }
    assert_eq!(
        crate::helpers::codes(
            &app.query(Who::Caw, CREATE_SERVICE, json!({ "org": dyzo, "input": input })).await
        ),
        vec!["FORBIDDEN"]
    );
    for (key, value, field) in [
        ("name", json!(""), "input.name"),
        ("phone", json!("0".repeat(51)), "input.phone"),
        ("languages", json!(["dutch"]), "input.languages"),
        ("url", json!("dyzo.be"), "input.url"),
    ] {
        let mut bad = input.clone();
        bad[key] = value;
        let response = app.query(Who::Dyzo, CREATE_SERVICE, json!({ "org": dyzo, "input": bad })).await;
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn a_hostile_file_gets_the_first_hundred_problems_and_a_count() {
    let app = TestApp::spawn().await;
    let before = service::Entity::find().count(&app.db.conn).await.unwrap();
    // 200,000 records with two problems each: the old import answered with an 18 MB message.
    let records: Vec<String> = (0..200_000).map(|i| format!(r#"{{"id":"bad-{i}","name":" "}}"#)).collect();
    let text = format!("[{},{}]", serde_json::to_string(&new_service("fine")).unwrap(), records.join(","));
    let error = import(&app.db.conn, reading(text)).await.unwrap_err().to_string();
    assert!(error.starts_with("nothing imported, 800000 problem(s); the first 100:"), "{}", &error[..200]);
    assert_eq!(error.lines().count(), 101);
    assert!(error.len() < 20_000, "{} bytes", error.len());
    assert!(error.contains("service bad-0: name: must not be empty"));
    assert_eq!(service::Entity::find().count(&app.db.conn).await.unwrap(), before, "all or nothing");
}

#[tokio::test]
async fn the_import_applies_the_limits_of_the_service_mutations() {
    let app = TestApp::spawn().await;
    let with = |field: &str, value: Value| {
        let mut service = new_service("limits-1");
        service[field] = value;
        json!([service]).to_string()
    };
    let cases = [
        (
            with("description", json!("x".repeat(10_001))),
            "service limits-1: description: at most 10000 characters",
        ),
        (with("alert", json!("nul\u{0}byte")), "service limits-1: alert: must not hold control characters"),
        (with("url", json!("javascript:alert(1)")), "service limits-1: url: must start with http"),
        (with("languages", json!([{ "code": "klingon" }])), "service limits-1: languages: ISO 639-1"),
        (with("name", json!(5)), "service limits-1: name: invalid type: integer `5`, expected a string"),
        (with("id", json!("i".repeat(101))), "service #0: id: at most 100 characters"),
        // One value beyond a record's size is refused as it is read, not held.
        (with("description", json!("y".repeat(300_000))), "larger than 262144 bytes"),
        // serde quotes a value of the wrong type whole: the report does not.
        (with("phones", json!("z".repeat(200_000))), "service limits-1: phones: invalid type: string"),
        (json!([new_service("twice"), new_service("twice")]).to_string(), "service twice: id: appears twice"),
        (
            with("assured_date", json!("0000-01-01")),
            "assured_date: expected YYYY-MM-DD, in the years 1 to 9999",
        ),
        (with("assured_date", json!("2024-1-5")), "assured_date: expected YYYY-MM-DD"),
        (
            with("schedules", json!([{ "byday": "MO", "opens_at": "+9:00", "closes_at": "12:00" }])),
            "schedules[0]: opens_at and closes_at must be HH:MM",
        ),
        (
            with(
                "schedules",
                json!(vec![json!({ "byday": "MO", "opens_at": "09:00", "closes_at": "12:00" }); 51]),
            ),
            "schedules: at most 50",
        ),
        (with("id", json!(" limits-1")), "id: must not start or end with a space"),
        (
            with("organization", json!({ "id": "o", "name": "O", "website": "javascript:alert(1)" })),
            "organization.website: must start with http",
        ),
        (
            with(
                "service_at_locations",
                json!([{ "location": { "id": "l", "latitude": 50.0,
            "addresses": [{ "city": "Waregem", "postal_code": "8790", "country": "BE" }] } }]),
            ),
            "latitude and longitude come together",
        ),
    ];
    for (text, expected) in cases {
        let error = import(&app.db.conn, reading(text)).await.unwrap_err().to_string();
        assert!(error.contains(expected), "{expected}\n{error}");
    }
    // The mutation refuses what the import refuses, by the same rule.
    let dyzo = app.user(Who::Dyzo).await.unwrap().organisation_id.to_string();
    let input = json!({ "name": "Te lang", "description": "x".repeat(10_001), "lifeDomains": ["WORK"], "languages": [] });
    let refused = app.query(Who::Dyzo, CREATE_SERVICE, json!({ "org": dyzo, "input": input })).await;
    assert_eq!(refused["errors"][0]["extensions"]["field"], "input.description", "{refused}");
    assert_eq!(refused["errors"][0]["message"], "input.description: at most 10000 characters");
}

/// Writes an HSDS file of `services` services, each with a description of about 8 KB.
fn write_large_file(path: &std::path::Path, services: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let words = "Begeleiding bij budget, huur en schulden; elke werkdag op afspraak in het Welzijnshuis. ";
    let description = words.repeat(8_000 / words.len());
    out.write_all(b"{\"services\": [").unwrap();
    for i in 0..services {
        let mut service = new_service(&format!("large-{i}"));
        service["description"] = json!(description);
        service["organization"]["id"] = json!(format!("large-org-{}", i % 50));
        service["service_at_locations"][0]["location"]["id"] = json!(format!("large-loc-{}", i % 200));
        if i > 0 {
            out.write_all(b",").unwrap();
        }
        serde_json::to_writer(&mut out, &service).unwrap();
    }
    out.write_all(b"]}").unwrap();
}

/// The peak resident memory of a running process, in bytes (`VmHWM`: it only grows).
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

#[tokio::test]
async fn a_100_mb_import_stays_small_while_the_service_keeps_registering() {
    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join(format!("wzh-large-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("large.json");
    write_large_file(&path, 12_500);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > 100_000_000, "{size} bytes");

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"))
        .args(["socialmap", "import"])
        .arg(&path)
        .env("DATABASE_URL", &app.database.url)
        .env("WELZIJNSHUIS_JWT_SECRET", SECRET)
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let token = app.token(Who::Intake).await.unwrap();
    let (mut peak, mut outcomes) = (0, Vec::new());
    let mut i = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(peak_rss(pid).unwrap_or(0));
        let register = format!(
            r#"mutation {{ registerClient(input: {{ givenName: "Tijdens", familyName: "Import{i}" }}) {{ id }} }}"#
        );
        i += 1;
        let response = app
            .http
            .post(format!("http://{}/graphql", app.addr))
            .bearer_auth(&token)
            .json(&json!({ "query": register }))
            .send()
            .await
            .unwrap();
        let (status, retry) = (response.status().as_u16(), response.headers().contains_key("retry-after"));
        let body: Value = response.json().await.unwrap();
        outcomes.push((status, retry, body));
        // Readers are never starved by writers waiting for the import's lock.
        let (status, map) = crate::helpers::post_to(
            &app.http,
            &app.addr.to_string(),
            None,
            "{ services(first: 2) { totalCount } }",
            json!({}),
        )
        .await;
        assert!(status == 200 && map["errors"].is_null(), "a public read during the import: {status} {map}");
        assert_eq!(app.get("/readyz").await.status().as_u16(), 200, "ready during the import");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("12500 new"));
    let _ = std::fs::remove_dir_all(&dir);

    println!("import of {size} bytes: peak RSS {} MB, {} registrations tried", peak >> 20, outcomes.len());
    // Memory does not follow the file: a debug build peaks at 72–84 MB here (the process
    // itself, two batches in flight, the id set), where holding a 100 MB file parsed would take
    // several times its size (828 MB for 67 MB before the import streamed).
    assert!(peak > 0 && peak < 96 << 20, "peak RSS {} MB for a {} MB file", peak >> 20, size >> 20);
    for (status, retry, body) in &outcomes {
        let ok = *status == 200 && body["errors"].is_null();
        // SQLite writes one at a time: a registration waits its turn, or is told when to retry.
        let busy = *status == 503 && *retry && body["errors"][0]["extensions"]["code"] == "RATE_LIMITED";
        assert!(ok || (busy && !app.database.is_postgres()), "{status} {body}");
    }
    // And once the import is done, registering simply works.
    let after = app
        .query(
            Who::Intake,
            r#"mutation { registerClient(input: { givenName: "Na", familyName: "Import" }) { id } }"#,
            json!({}),
        )
        .await;
    assert_ok(&after);
}

#[tokio::test]
async fn an_import_neither_moves_another_organisations_entries_nor_reveals_a_shelter() {
    let app = TestApp::spawn().await;
    let shelter_query = r#"{ services(filter: { search: "vluchthuis" }) { edges { node { organisation { name }
        locations { address { street } latitude } } } } }"#;
    let before = app.query(Who::Public, shelter_query, json!({})).await;
    // Another feed names the shelter's location, without the confidential mark, with its address.
    let mut other = new_service("feed-1");
    other["organization"] = json!({ "id": "feed-org", "name": "Andere vzw" });
    other["service_at_locations"][0]["location"] = json!({ "id": "demo-location-caw-shelter", "latitude": 50.83, "longitude": 3.26,
        "addresses": [{ "address_1": "Geheimstraat 12", "city": "Kortrijk", "postal_code": "8500", "country": "BE" }] });
    import(&app.db.conn, reading(json!([other]).to_string())).await.unwrap();
    let after = app.query(Who::Public, shelter_query, json!({})).await;
    assert_eq!(after, before, "the shelter's address stays hidden and unchanged");
    assert!(!after.to_string().contains("Geheimstraat"));

    // A file that puts CAW's service under another organisation is refused whole.
    let mut takeover = new_service("demo-service-10");
    takeover["organization"] = json!({ "id": "feed-org", "name": "Overnemer vzw" });
    let error = import(&app.db.conn, reading(json!([new_service("feed-2"), takeover]).to_string()))
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("demo-service-10: organization: this service belongs to another organisation"),
        "{error}"
    );
    assert_eq!(app.query(Who::Public, shelter_query, json!({})).await, before);
}

#[tokio::test]
async fn an_import_is_audited_and_gives_up_on_a_stalled_input() {
    let app = TestApp::spawn().await;
    import(&app.db.conn, reading(json!([new_service("audited-1"), new_service("audited-2")]).to_string()))
        .await
        .unwrap();
    let entries = entities::audit_entry::Entity::find()
        .filter(entities::audit_entry::Column::Action.eq("IMPORT"))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e.operation_name.as_deref() == Some("welzijnshuis socialmap import")));

    // Half a file, then silence: the import lets go instead of holding the database.
    struct Stalls(std::io::Cursor<Vec<u8>>);
    impl std::io::Read for Stalls {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(buf)? {
                0 => {
                    std::thread::sleep(std::time::Duration::from_secs(3));
                    Ok(0)
                }
                n => Ok(n),
            }
        }
    }
    let half = format!("[{},", json!(new_service("stalled-1")));
    let stalled = Stalls(std::io::Cursor::new(half.into_bytes()));
    let started = std::time::Instant::now();
    let error =
        welzijnshuis::socialmap::import_with(&app.db.conn, stalled, std::time::Duration::from_secs(1), None)
            .await
            .unwrap_err();
    assert!(error.to_string().contains("the input stalled"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

mod streamed {
    //! The reader on its own: both forms of a file, a bad record that does not stop the rest, a
    //! record beyond the cap refused without being held.
    use std::ops::ControlFlow;

    use welzijnshuis::socialmap::read::{MAX_RECORD_BYTES, Record, services};

    fn read(text: &str) -> (Vec<Record>, Result<(), String>) {
        let mut records = Vec::new();
        let outcome = services(text.as_bytes(), |_, _, record| {
            records.push(record);
            ControlFlow::Continue(())
        });
        (records, outcome)
    }

    #[test]
    fn both_forms_read_and_a_bad_record_does_not_stop_the_rest() {
        let (records, outcome) = read(r#"[{"id": "a", "name": "A"}, {"id": "b", "name": 5}, {"id": "c"}]"#);
        assert!(outcome.is_ok());
        assert_eq!(records.len(), 3);
        assert!(records[1].as_ref().unwrap_err()[0].starts_with("service b: name: invalid type"));
        let (records, outcome) = read(r#"{"total": 2, "services": [{"id": "a"}], "extra": [[1]]}"#);
        assert_eq!((records.len(), outcome), (1, Ok(())));
        assert!(read(r#"{"not": "hsds"}"#).1.unwrap_err().contains("expected an array of services"));
        assert!(read(r#"[{"id": "a"}"#).1.is_err());
    }

    #[test]
    fn a_record_beyond_the_cap_is_refused_without_being_held() {
        let huge = format!(r#"[{{"id": "a", "name": "{}"}}]"#, "x".repeat(MAX_RECORD_BYTES + 1));
        let (records, outcome) = read(&huge);
        assert!(records.is_empty());
        assert!(outcome.unwrap_err().contains("larger than"));
        // Many records, each under the cap, are fine together.
        let many = format!(
            "[{}]",
            vec![format!(r#"{{"id": "x", "name": "{}"}}"#, "y".repeat(1000)); 2000].join(",")
        );
        assert_eq!(read(&many).0.len(), 2000);
    }
}

mod service_rules {
    //! The one set of rules for a service, as both doors apply it.
    use resolvers::social_map_rules::{Field, ServiceDraft};

    #[test]
    fn a_draft_names_every_field_it_breaks() {
        let long = "x".repeat(10_001);
        let languages = vec!["NL".to_owned(), "dutch".to_owned()];
        let draft = ServiceDraft {
            name: " ",
            description: Some(&long),
            url: Some("ftp://x"),
            email: Some("nobody"),
            alert: Some("a\0b"),
            languages: &languages,
            ..ServiceDraft::default()
        };
        let fields: Vec<Field> = draft.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [Field::Name, Field::Description, Field::Alert, Field::Url, Field::Email, Field::Languages]
        );
        let fine = ServiceDraft {
            name: "Budgetbeheer",
            description: Some("Regel 1\nRegel 2"),
            ..Default::default()
        };
        assert!(fine.problems().is_empty());
        assert_eq!(
            resolvers::social_map_rules::languages(&["FR".into(), " nl ".into(), "fr".into()]).unwrap(),
            ["fr", "nl"]
        );
    }
}

/// Imports `text` as a federation feed read from `origin`.
async fn feed(
    app: &TestApp,
    origin: &str,
    text: Value,
) -> anyhow::Result<welzijnshuis::socialmap::ImportSummary> {
    welzijnshuis::socialmap::import_with(
        &app.db.conn,
        reading(text),
        welzijnshuis::socialmap::STALL,
        Some(origin),
    )
    .await
}

#[tokio::test]
async fn a_feed_changes_only_what_it_brought() {
    use entities::{location, organisation};
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let public =
        welzijnshuis::socialmap::export(db, Reveal::for_caller(&resolvers::Caller::public())).await.unwrap();
    let ours = serde_json::to_value(&public).unwrap();
    let house = organisation::Entity::find()
        .filter(organisation::Column::HsdsId.eq("demo-org-welzijnshuis"))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let shelter = location::Entity::find()
        .filter(location::Column::Confidential.eq(true))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let caw_service = public.iter().find(|s| s.organization.name.starts_with("CAW")).unwrap();

    // A hostile feed names this house's own entries by the ids its public map shows: the house
    // itself (renamed), a partner's service (taken over) and the shelter's location (moved).
    let mut renamed = new_service("7f0e8a52-5b8e-4c1d-9a0e-1c2d3e4f5a60");
    renamed["organization"] = json!({ "id": house.id.to_string(), "name": "Welzijnshuis (nieuw nummer)", "website": "https://evil.example" });
    let mut taken = serde_json::to_value(caw_service).unwrap();
    taken["name"] = json!("GEKAAPT");
    let mut moved = new_service("0c9b8a7f-6e5d-4c3b-8a29-181716151413");
    moved["service_at_locations"][0]["location"]["id"] = json!(shelter.id.to_string());
    moved["service_at_locations"][0]["location"]["addresses"][0]["address_1"] = json!("Onthuld 1");
    let summary = feed(&app, "https://evil.example/hsds", json!([renamed, taken, moved])).await.unwrap();
    assert_eq!((summary.created, summary.updated, summary.skipped), (0, 0, 3), "{summary:?}");
    let after = organisation::Entity::find_by_id(house.id).one(db).await.unwrap().unwrap();
    assert_eq!(after.name, house.name);
    let still = location::Entity::find_by_id(shelter.id).one(db).await.unwrap().unwrap();
    assert_eq!((still.street, still.latitude), (shelter.street.clone(), shelter.latitude));
    assert!(!serde_json::to_string(&export(db).await.unwrap()).unwrap().contains("GEKAAPT"));

    // What a feed brings is its own: new, then updated by the same feed, never by another.
    let theirs = new_service("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d");
    let summary = feed(&app, "https://roeselare.example/hsds", json!([theirs])).await.unwrap();
    assert_eq!((summary.created, summary.skipped), (1, 0));
    let summary = feed(&app, "https://roeselare.example/hsds", json!([theirs])).await.unwrap();
    assert_eq!((summary.updated, summary.skipped), (1, 0));
    let summary = feed(&app, "https://evil.example/hsds", json!([theirs])).await.unwrap();
    assert_eq!((summary.updated, summary.skipped), (0, 1));

    // Two houses federating both ways: this house's own map coming back through a neighbour
    // changes nothing of it (the public view's blanks least of all).
    let summary = feed(&app, "https://roeselare.example/hsds", ours.clone()).await.unwrap();
    assert_eq!((summary.created, summary.updated, summary.skipped), (0, 0, public.len()));
    let still = location::Entity::find_by_id(shelter.id).one(db).await.unwrap().unwrap();
    assert_eq!(
        (still.street, still.latitude, still.longitude),
        (shelter.street.clone(), shelter.latitude, shelter.longitude)
    );
}

#[tokio::test]
async fn a_public_view_imported_as_a_file_never_blanks_a_shelters_address() {
    use entities::location;
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let shelter = location::Entity::find()
        .filter(location::Column::Confidential.eq(true))
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert!(shelter.latitude.is_some());
    let public =
        welzijnshuis::socialmap::export(db, Reveal::for_caller(&resolvers::Caller::public())).await.unwrap();
    let summary = import(db, reading(serde_json::to_value(&public).unwrap())).await.unwrap();
    assert_eq!(summary.updated, public.len());
    let still = location::Entity::find_by_id(shelter.id).one(db).await.unwrap().unwrap();
    assert_eq!(
        (still.street, still.latitude, still.longitude, still.confidential),
        (shelter.street, shelter.latitude, shelter.longitude, true)
    );
}

#[tokio::test]
async fn hours_the_map_cannot_keep_are_refused_not_bent() {
    let app = TestApp::spawn().await;
    let with_hours = |hours: Value| {
        let mut service = new_service("3c2b1a09-8f7e-4d6c-9b5a-493827161504");
        service["schedules"] = json!([hours]);
        service
    };
    // Fortnightly hours would show as weekly (open on the off-weeks too); hours without days say
    // nothing; both are refused by field.
    for (hours, field) in [
        (
            json!({ "freq": "WEEKLY", "interval": 2, "byday": "MO", "opens_at": "09:00", "closes_at": "12:00" }),
            "interval",
        ),
        (json!({ "freq": "WEEKLY", "opens_at": "09:00", "closes_at": "12:00" }), "byday"),
    ] {
        let refused =
            import(&app.db.conn, reading(json!([with_hours(hours)]))).await.unwrap_err().to_string();
        assert!(refused.contains(&format!("schedules[0].{field}")), "{refused}");
    }
    // A day named twice is one day's hours; interval 1 is weekly.
    let twice = json!({ "freq": "WEEKLY", "interval": 1, "byday": "MO,mo, MO,TU", "opens_at": "09:00", "closes_at": "12:00" });
    import(&app.db.conn, reading(json!([with_hours(twice)]))).await.unwrap();
    let exported = export(&app.db.conn).await.unwrap();
    let service = exported.iter().find(|s| s.id == "3c2b1a09-8f7e-4d6c-9b5a-493827161504").unwrap();
    let days: Vec<&str> = service.schedules.iter().map(|s| s.byday.as_str()).collect();
    assert_eq!(days.len(), 2, "{days:?}");
}

#[test]
fn times_with_an_offset_become_belgian_wall_clock_times() {
    use chrono::NaiveDate;
    use welzijnshuis::socialmap::wall_clock::{read, written};
    let winter = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let summer = NaiveDate::from_ymd_opt(2026, 7, 15).unwrap();
    // Without an offset: Belgian wall-clock time, as Flemish publishers write it.
    assert_eq!(read("09:00", None, winter), Some(540));
    assert_eq!(read("09:00:00", None, summer), Some(540));
    // With one: converted on the schedule's day (summer time moves it).
    assert_eq!(read("08:00Z", None, winter), Some(540));
    assert_eq!(read("08:00Z", None, summer), Some(600));
    assert_eq!(read("09:00+01:00", None, winter), Some(540));
    assert_eq!(read("09:00-05:00", None, winter), Some(900));
    assert_eq!(read("10:00:00", Some(3.0), winter), Some(480));
    // Outside the Belgian day, or not a time: refused.
    assert_eq!(read("23:30-05:00", None, winter), None);
    assert_eq!(read("09:00+1", None, winter), None);
    assert_eq!(read("09:00", Some(f64::NAN), winter), None);
    // Written with the offset of the day, and read back as they were.
    assert_eq!(written(540, winter), "09:00+01:00");
    assert_eq!(written(540, summer), "09:00+02:00");
    for day in [winter, summer] {
        assert_eq!(read(&written(1440, day), None, day), Some(1440));
    }
}

#[tokio::test]
async fn a_record_that_says_the_same_again_changes_nothing_not_even_its_last_modified() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let record = new_service("6b5a4938-2716-4504-9f3e-2d1c0b0a0908");
    import(db, reading(json!([record]))).await.unwrap();
    let stored = || async {
        service::Entity::find()
            .filter(service::Column::HsdsId.eq("6b5a4938-2716-4504-9f3e-2d1c0b0a0908"))
            .one(db)
            .await
            .unwrap()
            .unwrap()
    };
    let first = stored().await;
    // `updated_at` keeps whole seconds: a second later, a rewrite would show.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = import(db, reading(json!([record]))).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 1, 1));
    assert_eq!(stored().await.updated_at, first.updated_at, "nothing changed, nothing modified");
    // A record that says something new is written, and modified.
    let mut changed = record.clone();
    changed["description"] = json!("Nu ook op zondag.");
    let third = import(db, reading(json!([changed]))).await.unwrap();
    assert_eq!((third.updated, third.unchanged), (1, 0));
    assert!(stored().await.updated_at > first.updated_at);
    // An edit here clears what the last import said: the next import rewrites it.
    let edited = app
        .query(
            Who::Admin,
            "mutation($id: ID!) { updateService(id: $id, input: { name: \"Bewerkt\", lifeDomains: [PARTICIPATION], languages: [\"nl\"] }) { name } }",
            json!({ "id": first.id }),
        )
        .await;
    assert_ok(&edited);
    let fourth = import(db, reading(json!([changed]))).await.unwrap();
    assert_eq!((fourth.updated, fourth.unchanged), (1, 0));
    assert_eq!(stored().await.name, "Repair Café Waregem");
}

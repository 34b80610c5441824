//! `GET /hsds/…`: the social map as the HSDS 3.0 API. Every answer validated against the
//! official schema of its list or item (published and strict), the public's view only, bounded
//! pages and statements, JSON errors; and federation: one welzijnshuis importing another's map
//! over HTTP, two processes on this machine.

use serde_json::{Value, json};

use crate::helpers::{SECRET, ServerProcess, TestApp, TestDatabase, Who};
use crate::hsds_standard::{Schemas, standard_json, strict, validator};

pub(crate) async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    if status != 429 && status != 503 {
        let cache = response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(cache.as_deref(), Some("no-store"), "{path}: never cached");
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(content_type.is_some_and(|c| c.contains("json")), "{path}: JSON, whatever the status");
    (status, body)
}

/// Each of `paths` answered `status` with the API's JSON error of `code`.
pub(crate) async fn assert_refused(app: &TestApp, status: u16, code: &str, paths: &[&str]) {
    for path in paths {
        let (answered, body) = get(app, path).await;
        assert_eq!(answered, status, "{path}: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{path}");
    }
}

/// The demo's shelter's location as staff see it (id, street, coordinates).
pub(crate) async fn shelter_location(app: &TestApp) -> Value {
    let staff = app
        .query(
            Who::Caw,
            r#"{ services(filter: { search: "vluchthuis" }) { edges { node { id locations { id confidential address { street } latitude longitude } } } } }"#,
            json!({}),
        )
        .await;
    staff["data"]["services"]["edges"][0]["node"]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["confidential"] == true)
        .unwrap()
        .clone()
}

/// The `Page` of the API around items each valid against `items`.
pub(crate) fn assert_page(page: &Value, items: &Schemas, what: &str) {
    for key in ["total_items", "total_pages", "page_number", "size"] {
        assert!(page[key].is_u64(), "{what}: {key} in {page}");
    }
    for key in ["first_page", "last_page", "empty"] {
        assert!(page[key].is_boolean(), "{what}: {key}");
    }
    let contents = page["contents"].as_array().unwrap_or_else(|| panic!("{what}: contents"));
    assert_eq!(page["size"], contents.len());
    for (i, item) in contents.iter().enumerate() {
        items.assert_valid(item, &format!("{what}: contents[{i}]"));
    }
}

/// The schemas of a taxonomy and of a taxonomy term. The published `taxonomy.json` and
/// `taxonomy_term.json` refer to other files (`metadata.json`, `taxonomy.json`); the compiled
/// service schema holds both with everything inline, as the attribute's `taxonomy_term` and
/// its `taxonomy_detail`.
pub(crate) fn taxonomy_schemas() -> (Schemas, Schemas) {
    let service = standard_json("schema/compiled/service.json");
    let term = service["properties"]["attributes"]["items"]["properties"]["taxonomy_term"].clone();
    let taxonomy = term["properties"]["taxonomy_detail"].clone();
    assert_eq!(term["required"], json!(["id", "name", "description"]));
    let schemas =
        |schema: Value| Schemas { published: validator(&schema), strict: validator(&strict(schema)) };
    (schemas(taxonomy), schemas(term))
}

#[tokio::test]
async fn every_hsds_answer_is_valid_against_the_official_schemas() {
    let app = TestApp::spawn().await;
    let service = Schemas::compiled("service");
    let service_list = Schemas::compiled("service_list");
    let organization = Schemas::compiled("organization");
    let organization_list = Schemas::compiled("organization_list");
    let place = Schemas::compiled("service_at_location");
    let place_list = Schemas::compiled("service_at_location_list");
    let (taxonomy, term) = taxonomy_schemas();

    let (status, info) = get(&app, "/hsds/").await;
    assert_eq!((status, info["version"].as_str()), (200, Some("3.0")), "{info}");
    let openapi = standard_json("schema/openapi.json");
    let described =
        &openapi["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
    let info_schemas =
        Schemas { published: validator(described), strict: validator(&strict(described.clone())) };
    info_schemas.assert_valid(&info, "/hsds/");

    // Every service, page by page, flat and nested.
    let mut seen = Vec::new();
    for page in 1..=3 {
        let (status, flat) = get(&app, &format!("/hsds/services?page={page}&per_page=20")).await;
        assert_eq!(status, 200, "{flat}");
        assert_page(&flat, &service_list, "/hsds/services");
        let (_, nested) =
            get(&app, &format!("/hsds/services?page={page}&per_page=20&full_service=true")).await;
        assert_page(&nested, &service, "/hsds/services?full_service=true");
        seen.extend(
            flat["contents"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()),
        );
        assert_eq!(nested["page_number"], page);
    }
    assert!(seen.len() >= 45, "{}", seen.len());
    for id in seen.iter().take(10) {
        let (status, one) = get(&app, &format!("/hsds/services/{id}")).await;
        assert_eq!(status, 200);
        service.assert_valid(&one, &format!("/hsds/services/{id}"));
        assert_eq!(one["id"], id.as_str());
    }

    let (_, orgs) = get(&app, "/hsds/organizations?per_page=100").await;
    assert_page(&orgs, &organization_list, "/hsds/organizations");
    for org in orgs["contents"].as_array().unwrap() {
        let id = org["id"].as_str().unwrap();
        for full in ["false", "true"] {
            let (status, one) = get(&app, &format!("/hsds/organizations/{id}?full_service={full}")).await;
            assert_eq!(status, 200);
            organization.assert_valid(&one, &format!("/hsds/organizations/{id}"));
        }
    }

    let (_, places) = get(&app, "/hsds/service_at_locations?per_page=100").await;
    assert_page(&places, &place_list, "/hsds/service_at_locations");
    assert!(places["total_items"].as_u64().unwrap() >= 45);
    for one in places["contents"].as_array().unwrap().iter().take(10) {
        let id = one["id"].as_str().unwrap();
        let (status, one) = get(&app, &format!("/hsds/service_at_locations/{id}")).await;
        assert_eq!(status, 200, "{one}");
        place.assert_valid(&one, &format!("/hsds/service_at_locations/{id}"));
    }

    let (_, taxonomies) = get(&app, "/hsds/taxonomies").await;
    assert_page(&taxonomies, &taxonomy, "/hsds/taxonomies");
    let (_, terms) = get(&app, "/hsds/taxonomy_terms?per_page=50").await;
    assert_page(&terms, &term, "/hsds/taxonomy_terms");
    assert_eq!(terms["total_items"], 11, "ten life domains and the confidential mark");
}

#[tokio::test]
async fn the_services_filters_work_and_bad_parameters_are_400() {
    let app = TestApp::spawn().await;
    let (_, terms) = get(&app, "/hsds/taxonomy_terms?per_page=50").await;
    let housing = terms["contents"].as_array().unwrap().iter().find(|t| t["code"] == "HOUSING").unwrap();
    let housing_id = housing["id"].as_str().unwrap();
    let (_, housing_services) =
        get(&app, &format!("/hsds/services?taxonomy_term_id={housing_id}&per_page=100")).await;
    let graphql = app
        .query(Who::Public, "{ services(filter: { lifeDomains: [HOUSING] }) { totalCount } }", json!({}))
        .await;
    assert_eq!(housing_services["total_items"], graphql["data"]["services"]["totalCount"]);
    let (_, all) = get(&app, "/hsds/services?per_page=100&full_service=true").await;
    assert!(
        housing_services["contents"].as_array().unwrap().iter().all(|s| {
            let full = all["contents"].as_array().unwrap().iter().find(|f| f["id"] == s["id"]).unwrap();
            full["attributes"].as_array().unwrap().iter().any(|a| a["taxonomy_term"]["id"] == housing_id)
        }),
        "every service found carries the term"
    );
    let (_, found) = get(&app, "/hsds/services?search=vluchthuis").await;
    assert!(found["total_items"].as_u64().unwrap() >= 1, "{found}");
    let (_, none) = get(&app, "/hsds/services?modified_after=2999-01-01T00:00:00Z").await;
    assert_eq!(none["total_items"], 0);
    let (_, since) = get(&app, "/hsds/services?modified_after=2000-01-01").await;
    assert_eq!(since["total_items"], all["total_items"]);
    let org = all["contents"][0]["organization"]["id"].as_str().unwrap().to_owned();
    let (_, of_org) = get(&app, &format!("/hsds/services?organization_id={org}&per_page=100")).await;
    assert!(of_org["contents"].as_array().unwrap().iter().all(|s| s["organization"]["id"] == org.as_str()));
    assert!(of_org["total_items"].as_u64().unwrap() >= 1);

    assert_refused(
        &app,
        400,
        "BAD_USER_INPUT",
        &[
            "/hsds/services?per_page=101",
            "/hsds/services?per_page=0",
            "/hsds/services?page=0",
            "/hsds/services?page=abc",
            "/hsds/services?full_service=maybe",
            "/hsds/services?modified_after=yesterday",
            "/hsds/services?search=%20%20",
            "/hsds/services?page=1&page=2",
            "/hsds/taxonomy_terms?per_page=1000",
        ],
    )
    .await;
    assert_refused(
        &app,
        404,
        "NOT_FOUND",
        &[
            "/hsds/services/3f1c2d4e-0000-4000-8000-000000000000",
            "/hsds/services/not-an-id",
            "/hsds/organizations/3f1c2d4e-0000-4000-8000-000000000000",
            "/hsds/service_at_locations/3f1c2d4e-0000-4000-8000-000000000000",
            "/hsds/service_at_locations/nope",
            "/hsds/taxonomy_terms/nope",
            "/hsds/taxonomies/nope",
        ],
    )
    .await;
}

#[tokio::test]
async fn no_hsds_answer_shows_a_confidential_address() {
    let app = TestApp::spawn().await;
    // The demo's shelter: what staff see, and the public must not.
    let location = shelter_location(&app).await;
    let secrets = [
        location["address"]["street"].as_str().unwrap().to_owned(),
        format!("\"latitude\":{},\"longitude\":{}", location["latitude"], location["longitude"]),
    ];
    // With a token too: the HSDS API is the public's, whoever asks.
    let token = app.token(Who::Caw).await.unwrap();
    let mut answers = String::new();
    let (_, places) = get(&app, "/hsds/service_at_locations?per_page=100").await;
    for path in [
        "/hsds/services?per_page=100",
        "/hsds/services?per_page=100&full_service=true",
        "/hsds/service_at_locations?per_page=100",
        "/hsds/service_at_locations?per_page=100&full=true",
        "/hsds/services?search=vluchthuis&full_service=true",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(
        places["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("/hsds/service_at_locations/{}", p["id"].as_str().unwrap())),
    ) {
        let response =
            app.http.get(format!("http://{}{path}", app.addr)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        answers.push_str(&response.text().await.unwrap());
    }
    let (_, orgs) = get(&app, "/hsds/organizations?per_page=100").await;
    for org in orgs["contents"].as_array().unwrap() {
        let (_, one) =
            get(&app, &format!("/hsds/organizations/{}?full_service=true", org["id"].as_str().unwrap()))
                .await;
        answers.push_str(&one.to_string());
    }
    for secret in &secrets {
        assert!(!answers.contains(secret.as_str()), "{secret} must not be in any /hsds answer");
    }
    assert!(answers.contains("CONFIDENTIAL"), "the mark is shown, so an importer keeps it hidden too");
}

#[tokio::test]
async fn statements_per_hsds_request_do_not_grow_with_per_page() {
    let app = TestApp::spawn().await;
    for path in ["/hsds/services?full_service=true", "/hsds/services", "/hsds/service_at_locations"] {
        let mut counts = Vec::new();
        for per_page in [2, 100] {
            let before = app.db.statements();
            let (status, _) = get(
                &app,
                &format!("{path}{}per_page={per_page}", if path.contains('?') { '&' } else { '?' }),
            )
            .await;
            assert_eq!(status, 200);
            counts.push(app.db.statements() - before);
        }
        println!("{path}: {} statements for 2 per page, {} for 100", counts[0], counts[1]);
        assert_eq!(counts[0], counts[1], "{path}");
        assert!(counts[1] <= 12, "{path}: {}", counts[1]);
    }
}

/// The work the server's SQLite connections do, in virtual-machine instructions: a progress
/// handler on every connection of the pool the server shares with the test. Work, not time: the
/// same on any machine. `None` on PostgreSQL.
struct Work(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl Work {
    const EVERY: i32 = 10;

    async fn counted(app: &TestApp) -> Option<Work> {
        if app.database.is_postgres() {
            return None;
        }
        let steps = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let pool = app.db.conn.get_sqlite_connection_pool();
        // Every connection the pool may hold, at once: each gets the handler, and keeps it.
        let mut held = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            held.push(pool.acquire().await.expect("a connection"));
        }
        for connection in &mut held {
            let steps = steps.clone();
            let mut handle = connection.lock_handle().await.expect("the connection's handle");
            handle.set_progress_handler(Self::EVERY, move || {
                steps.fetch_add(Self::EVERY as u64, std::sync::atomic::Ordering::Relaxed);
                true
            });
        }
        Some(Work(steps))
    }

    /// The answer to `path` and the least work it took in three asks (a background task of the
    /// server may run a statement meanwhile).
    async fn of(work: &Option<Work>, app: &TestApp, path: &str) -> (Value, Option<u64>) {
        let mut least: Option<u64> = None;
        let mut answer = Value::Null;
        for _ in 0..3 {
            let before = work.as_ref().map(|w| w.0.load(std::sync::atomic::Ordering::Relaxed));
            let (status, body) = get(app, path).await;
            assert_eq!(status, 200, "{path}: {body}");
            if let (Some(w), Some(before)) = (work, before) {
                let took = w.0.load(std::sync::atomic::Ordering::Relaxed) - before;
                least = Some(least.map_or(took, |l| l.min(took)));
            }
            answer = body;
        }
        (answer, least)
    }
}

/// `n` services of one organisation, named `Proefwerkplek 0000` … with the life domain WORK,
/// each offered at one location in 9990 (all at the same one) and at one in 9991 (spread over
/// `spread` locations). Returns the WORK term's id.
pub(crate) async fn spread_map(app: &TestApp, n: usize, spread: usize) -> String {
    use entities::{LifeDomain, location, organisation, service, service_at_location, service_life_domain};
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let db = &app.db.conn;
    let org = organisation::Entity::find().one(db).await.unwrap().unwrap().id;
    let now = chrono::Utc::now();
    let location = |postcode: &str, i: usize| location::ActiveModel {
        id: Set(uuid::Uuid::new_v4()),
        organisation_id: Set(Some(org)),
        name: Set(Some(format!("Proefplek {postcode}/{i}"))),
        postcode: Set(postcode.to_owned()),
        municipality: Set("Proefdorp".into()),
        confidential: Set(false),
        ..Default::default()
    };
    let one = location("9990", 0);
    let many: Vec<location::ActiveModel> = (0..spread).map(|i| location("9991", i)).collect();
    let one_id = one.id.clone().unwrap();
    let many_ids: Vec<uuid::Uuid> = many.iter().map(|l| l.id.clone().unwrap()).collect();
    location::Entity::insert_many(std::iter::once(one).chain(many)).exec_without_returning(db).await.unwrap();
    let ids: Vec<uuid::Uuid> = (0..n).map(|_| uuid::Uuid::new_v4()).collect();
    for (c, chunk) in ids.chunks(200).enumerate() {
        service::Entity::insert_many(chunk.iter().enumerate().map(|(i, &id)| service::ActiveModel {
            id: Set(id),
            organisation_id: Set(org),
            name: Set(format!("Proefwerkplek {:04}", c * 200 + i)),
            description: Set(Some("Werk zoeken, met begeleiding".into())),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    for (c, chunk) in ids.chunks(200).enumerate() {
        let places = chunk.iter().enumerate().flat_map(|(i, &id)| {
            [one_id, many_ids[(c * 200 + i) % spread]].map(|location_id| service_at_location::ActiveModel {
                id: Set(uuid::Uuid::new_v4()),
                service_id: Set(id),
                location_id: Set(location_id),
            })
        });
        service_at_location::Entity::insert_many(places).exec_without_returning(db).await.unwrap();
        let domains = chunk.iter().map(|&id| service_life_domain::ActiveModel {
            service_id: Set(id),
            life_domain: Set(LifeDomain::Work),
        });
        service_life_domain::Entity::insert_many(domains).exec_without_returning(db).await.unwrap();
    }
    let (_, terms) = get(app, "/hsds/taxonomy_terms?per_page=50").await;
    let work = terms["contents"].as_array().unwrap().iter().find(|t| t["code"] == "WORK").unwrap();
    work["id"].as_str().unwrap().to_owned()
}

/// The tester's map, scaled down: many services sharing the locations of one postcode. The
/// old `/service_at_locations?postcode=…` looked up every pair of a location there and a
/// service with a place there (500 locations × 100,000 services: 45 s for one page). Now a
/// postcode's places cost the same whether they sit at one location or at sixty, with every
/// other filter too; counted in SQLite's instructions, not timed.
#[tokio::test]
async fn an_hsds_page_costs_no_more_when_a_postcodes_places_spread_over_its_locations() {
    const SERVICES: usize = 600;
    const SPREAD: usize = 60;
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let work_term = spread_map(&app, SERVICES, SPREAD).await;
    let work = Work::counted(&app).await;
    for query in [
        "".to_owned(),
        "&search=proefwerkplek".to_owned(),
        format!("&taxonomy_term_id={work_term}"),
        "&modified_after=2000-01-01".to_owned(),
        format!("&search=proefwerkplek&taxonomy_term_id={work_term}&modified_after=2000-01-01"),
    ] {
        for list in ["service_at_locations", "services"] {
            let path = |postcode| format!("/hsds/{list}?per_page=1&postcode={postcode}{query}");
            let (one, at_one) = Work::of(&work, &app, &path("9990")).await;
            let (spread, at_many) = Work::of(&work, &app, &path("9991")).await;
            assert_eq!(one["total_items"], SERVICES, "{}: {one}", path("9990"));
            assert_eq!(spread["total_items"], SERVICES, "{}", path("9991"));
            assert_eq!(spread["size"], 1);
            if list == "services" {
                assert_eq!(one["contents"][0]["name"], "Proefwerkplek 0000");
                assert_eq!(spread["contents"][0]["name"], "Proefwerkplek 0000");
            }
            let (Some(at_one), Some(at_many)) = (at_one, at_many) else { continue };
            println!("{}: {at_one} instructions at one location, {at_many} at {SPREAD}", path("…"));
            assert!(
                at_many < at_one * 2,
                "{}: {at_many} instructions, {at_one} at one location",
                path("9991")
            );
        }
    }
    if work.is_none() {
        println!("work is counted on SQLite only; PostgreSQL's plans: see the README");
    }
}

/// Every page of a filtered list, read one after the other, holds each match once and in the
/// list's order, whichever way the database read it (on SQLite the first pages walk the
/// list's index, the last ones sort the matches: `socialmap::api::walk_in_order`).
#[tokio::test]
async fn the_pages_of_a_filtered_hsds_list_hold_every_match_once_in_order() {
    const SERVICES: usize = 600;
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let work_term = spread_map(&app, SERVICES, 60).await;
    for postcode in ["9990", "9991"] {
        let mut names = Vec::new();
        for page in 1..=6 {
            let path = format!(
                "/hsds/services?postcode={postcode}&taxonomy_term_id={work_term}&per_page=100&page={page}"
            );
            let (status, body) = get(&app, &path).await;
            assert_eq!((status, body["total_items"].as_u64()), (200, Some(SERVICES as u64)), "{path}");
            names.extend(
                body["contents"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_owned()),
            );
        }
        let expected: Vec<String> = (0..SERVICES).map(|i| format!("Proefwerkplek {i:04}")).collect();
        assert_eq!(names, expected, "services in {postcode}, by name");
        let mut ids = Vec::new();
        for page in 1..=6 {
            let path = format!("/hsds/service_at_locations?postcode={postcode}&per_page=100&page={page}");
            let (status, body) = get(&app, &path).await;
            assert_eq!((status, body["total_items"].as_u64()), (200, Some(SERVICES as u64)), "{path}");
            ids.extend(
                body["contents"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()),
            );
        }
        assert_eq!(ids.len(), SERVICES, "places in {postcode}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "places in {postcode}: each once, by id");
    }
}

#[tokio::test]
async fn any_web_page_may_read_the_hsds_api_and_only_that() {
    let dashboard = "https://dashboard.welzijnshuis.test";
    let app = TestApp::spawn_with(|config| config.cors_origins = vec![dashboard.to_owned()]).await;
    let origin = "https://www.partner.example";
    let header = |response: &reqwest::Response, name: &str| {
        response.headers().get(name).map(|v| v.to_str().unwrap().to_lowercase())
    };
    let hsds = app
        .http
        .get(format!("http://{}/hsds/services", app.addr))
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&hsds, "access-control-allow-origin").as_deref(), Some("*"));
    // A browser's fetch from any page: the preflight allows it, with the headers it asks for,
    // and advertises reading only.
    for path in ["/hsds/services", "/hsds/service_at_locations", "/hsds/services/some-id", "/hsds/"] {
        let preflight = app
            .http
            .request(reqwest::Method::OPTIONS, format!("http://{}{path}", app.addr))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "content-type,x-request-id")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success(), "{path}: {}", preflight.status());
        assert_eq!(header(&preflight, "access-control-allow-origin").as_deref(), Some("*"), "{path}");
        let methods = header(&preflight, "access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains("get") && !methods.contains("post"), "{path}: {methods}");
        let headers = header(&preflight, "access-control-allow-headers").unwrap_or_default();
        assert!(headers.contains("content-type") && headers.contains("x-request-id"), "{path}: {headers}");
    }
    // GraphQL keeps its configured origins, for requests and preflights alike.
    let graphql = |origin: &'static str| {
        app.http
            .post(format!("http://{}/graphql", app.addr))
            .header("origin", origin)
            .json(&json!({ "query": "{ me { role } }" }))
            .send()
    };
    let graphql_preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("http://{}/graphql", app.addr))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };
    let response = graphql("https://www.partner.example").await.unwrap();
    assert_eq!(header(&response, "access-control-allow-origin"), None, "GraphQL keeps its origins");
    let response = graphql_preflight("https://www.partner.example").await.unwrap();
    assert_eq!(header(&response, "access-control-allow-origin"), None, "and its preflights");
    let response = graphql("https://dashboard.welzijnshuis.test").await.unwrap();
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some(dashboard));
    let response = graphql_preflight("https://dashboard.welzijnshuis.test").await.unwrap();
    assert_eq!(header(&response, "access-control-allow-origin").as_deref(), Some(dashboard));
    assert!(header(&response, "access-control-allow-methods").unwrap_or_default().contains("post"));
}

#[tokio::test]
async fn unknown_hsds_paths_and_methods_answer_the_apis_json_error() {
    let app = TestApp::spawn().await;
    assert_refused(
        &app,
        404,
        "NOT_FOUND",
        &[
            "/hsds/nonexistent",
            "/hsds/services/",
            "/hsds/services/some-id/more",
            "/hsds/organizations/",
            "/hsds//services",
        ],
    )
    .await;
    let response = app.http.post(format!("http://{}/hsds/services", app.addr)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert!(response.headers()["content-type"].to_str().unwrap().contains("json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_hsds_routes_pass_the_gate() {
    let app = TestApp::spawn_with(|config| {
        config.limits.rate_limit = 1;
        config.limits.rate_burst = 3;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = app.get("/hsds/services").await;
        let retry = response.headers().contains_key("retry-after");
        statuses.push((response.status().as_u16(), retry));
    }
    assert!(statuses.iter().filter(|(s, retry)| *s == 429 && *retry).count() >= 4, "{statuses:?}");
}

#[tokio::test]
async fn one_house_imports_anothers_social_map_over_http() {
    // Waregem serves its map (the demo); Roeselare starts with its house and nothing else.
    let waregem_db = TestDatabase::create().await;
    let db = welzijnshuis::db::Database::connect(&waregem_db.url).await.unwrap();
    db.migrate().await.unwrap();
    welzijnshuis::demo::load(&db.conn, chrono::Utc::now()).await.unwrap();
    let waregem = ServerProcess::start(&waregem_db.url, &[("WELZIJNSHUIS_RATE_LIMIT", "0")]).await;

    let roeselare_db = TestDatabase::create().await;
    let roeselare_conn = welzijnshuis::db::Database::connect(&roeselare_db.url).await.unwrap();
    roeselare_conn.migrate().await.unwrap();
    let import = |extra: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"));
        command
            .args(["user", "add", "admin@welzijnshuis-roeselare.test", "--name", "Beheer", "--role", "ADMIN"])
            .args(["--new-welfare-house", "Welzijnshuis Roeselare"]);
        if !extra.is_empty() {
            command = std::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"));
            command.args(extra);
        }
        command
            .env("DATABASE_URL", &roeselare_db.url)
            .env("WELZIJNSHUIS_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    };
    let house = import(&[]);
    assert!(house.status.success(), "{}", String::from_utf8_lossy(&house.stderr));
    let url = format!("http://{}/hsds", waregem.addr);
    // Seven a page: the import pages through all of them.
    let first = import(&["socialmap", "import", &url, "--per-page", "7"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let said = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(said.contains("45 new, 0 updated"), "{said}");
    let again = import(&["socialmap", "import", &format!("{url}/services")]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 new, 45 updated"), "idempotent");

    // Roeselare now serves the same services as Waregem does.
    let roeselare = ServerProcess::start(&roeselare_db.url, &[("WELZIJNSHUIS_RATE_LIMIT", "0")]).await;
    let http = reqwest::Client::new();
    let services = |addr: String| {
        let http = http.clone();
        async move {
            let page: Value = http
                .get(format!("http://{addr}/hsds/services?full_service=true&per_page=100"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let mut contents = page["contents"].as_array().unwrap().clone();
            for service in &mut contents {
                service.as_object_mut().unwrap().remove("last_modified");
            }
            contents
        }
    };
    let (theirs, ours) = (services(waregem.addr.clone()).await, services(roeselare.addr.clone()).await);
    assert_eq!(theirs.len(), 45);
    assert_eq!(ours, theirs, "the same ids, texts, places, hours and terms");
    drop((waregem, roeselare));
    drop(db);
}

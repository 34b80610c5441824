//! The HSDS API's remaining parameters (`schema/openapi.json`): `minimal`, `proximity` around a
//! postcode, `format=ndjson` (every list streamed whole), organizations nesting their services
//! in a list (`full`, `full_service`), and the taxonomies' and terms' filters. Each answer
//! validated against the official schema of its item, as the paged answers are.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{TestApp, Who};
use crate::hsds_api::{assert_page, assert_refused, get, shelter_location, spread_map, taxonomy_schemas};
use crate::hsds_standard::{Schemas, standard_json, strict, validator};

/// The ids of a list's items, paged through (100 a page).
async fn paged_ids(app: &TestApp, path: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for page in 1.. {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (status, body) = get(app, &format!("{path}{sep}per_page=100&page={page}")).await;
        assert_eq!(status, 200, "{path}: {body}");
        ids.extend(body["contents"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        if body["last_page"] == true {
            break;
        }
    }
    ids
}

/// A streamed list: its lines, each parsed.
async fn streamed(app: &TestApp, path: &str) -> Vec<Value> {
    let response = app.get(path).await;
    assert_eq!(response.status().as_u16(), 200, "{path}");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/x-ndjson", "{path}");
    assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    let text = response.text().await.expect("the whole stream");
    assert!(text.is_empty() || text.ends_with('\n'), "{path}: every line ends");
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{path}: {e}: {line}")))
        .collect()
}

fn ids_of(items: &[Value]) -> Vec<String> {
    items.iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

fn sorted(ids: Vec<String>) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "no item twice");
    set
}

/// The schema of a `minimal` service: `service_list.json`'s `id` and `last_modified`, nothing
/// else (strict: no other property), both required.
fn minimal_schemas() -> Schemas {
    let mut schema = standard_json("schema/compiled/service_list.json");
    let properties = schema["properties"].as_object_mut().unwrap();
    properties.retain(|key, _| key == "id" || key == "last_modified");
    schema["required"] = json!(["id", "last_modified"]);
    Schemas { published: validator(&schema), strict: validator(&strict(schema)) }
}

#[tokio::test]
async fn minimal_lists_every_service_by_id_and_time_in_one_answer() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    spread_map(&app, 230, 5).await;
    let (status, minimal) = get(&app, "/hsds/services?minimal=true").await;
    assert_eq!(status, 200, "{minimal}");
    assert_page(&minimal, &minimal_schemas(), "/hsds/services?minimal=true");
    assert_eq!(minimal["total_pages"], 1, "every service in one answer: {}", minimal["total_items"]);
    let all = paged_ids(&app, "/hsds/services").await;
    assert_eq!(sorted(ids_of(minimal["contents"].as_array().unwrap())), sorted(all.clone()));
    // The time is the service's own: the flat list says the same.
    let (_, flat) = get(&app, "/hsds/services?per_page=5").await;
    for service in flat["contents"].as_array().unwrap() {
        let same = minimal["contents"].as_array().unwrap().iter().find(|m| m["id"] == service["id"]).unwrap();
        assert_eq!(same["last_modified"], service["last_modified"]);
    }
    // Filters narrow it as they narrow the list.
    let (_, since) = get(&app, "/hsds/services?minimal=true&modified_after=2999-01-01").await;
    assert_eq!(since["total_items"], 0);
    let (_, paged) = get(&app, "/hsds/services?minimal=true&per_page=7&page=2").await;
    assert_eq!((paged["size"].as_u64(), paged["page_number"].as_u64()), (Some(7), Some(2)));
    assert_refused(
        &app,
        400,
        "BAD_USER_INPUT",
        &[
            "/hsds/services?minimal=true&full_service=true",
            "/hsds/services?minimal=true&full=true",
            "/hsds/services?minimal=yes",
            "/hsds/services?minimal=true&per_page=10001",
        ],
    )
    .await;
}

/// Kilometres between two points, as the social map measures them (equirectangular).
fn km(from: (f64, f64), to: (f64, f64)) -> f64 {
    let dx = (to.1 - from.1) * 111.320 * from.0.to_radians().cos();
    let dy = (to.0 - from.0) * 110.574;
    (dx * dx + dy * dy).sqrt()
}

fn point(location: &Value) -> Option<(f64, f64)> {
    Some((location["latitude"].as_f64()?, location["longitude"].as_f64()?))
}

#[tokio::test]
async fn proximity_finds_the_places_around_a_postcode_nearest_first_as_graphql_does() {
    let app = TestApp::spawn().await;
    // The centre of 8500 as the public sees it: its public locations (the shelter shows none).
    let (_, in_8500) = get(&app, "/hsds/service_at_locations?postcode=8500&per_page=100").await;
    let mut points: Vec<(String, (f64, f64))> = in_8500["contents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| Some((p["location"]["id"].as_str()?.to_owned(), point(&p["location"])?)))
        .collect();
    points.sort_by(|a, b| a.0.cmp(&b.0));
    points.dedup_by(|a, b| a.0 == b.0);
    let n = points.len() as f64;
    let centre =
        (points.iter().map(|p| p.1.0).sum::<f64>() / n, points.iter().map(|p| p.1.1).sum::<f64>() / n);

    let place_list = Schemas::compiled("service_at_location_list");
    for metres in [1500, 3000, 30000] {
        let path = format!("/hsds/service_at_locations?postcode=8500&proximity={metres}&per_page=100");
        let (status, near) = get(&app, &path).await;
        assert_eq!(status, 200, "{near}");
        assert_page(&near, &place_list, &path);
        let places = near["contents"].as_array().unwrap();
        assert!(!places.is_empty(), "{path}");
        let distances: Vec<f64> = places
            .iter()
            .map(|p| km(centre, point(&p["location"]).expect("a place found by distance has its point")))
            .collect();
        assert!(distances.iter().all(|&d| d <= metres as f64 / 1000.0 + 1e-6), "{path}: {distances:?}");
        assert!(distances.windows(2).all(|w| w[0] <= w[1] + 1e-9), "{path}: nearest first: {distances:?}");

        // The same circle through GraphQL, as the public: the same services.
        let graphql = app
            .query(
                Who::Public,
                "query($lat: Float!, $lon: Float!, $km: Float!) { services(first: 100, filter: { near: { latitude: $lat, longitude: $lon, radiusKm: $km } }) { totalCount edges { node { name } } } }",
                json!({ "lat": centre.0, "lon": centre.1, "km": metres as f64 / 1000.0 }),
            )
            .await;
        let by_graphql: BTreeSet<String> = graphql["data"]["services"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{graphql}"))
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect();
        let by_hsds: BTreeSet<String> =
            places.iter().map(|p| p["service"]["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(by_hsds, by_graphql, "{path}");
        // `/services` takes the circle too: the services with a place in it.
        let (_, services) =
            get(&app, &format!("/hsds/services?postcode=8500&proximity={metres}&per_page=100")).await;
        let services: BTreeSet<String> = services["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(services, by_graphql, "/hsds/services with proximity {metres}");
    }
    // The shelter is in 8500: no circle finds its place, however wide.
    let shelter = shelter_location(&app).await["id"].as_str().unwrap().to_owned();
    let (_, wide) = get(&app, "/hsds/service_at_locations?postcode=8500&proximity=200000&per_page=100").await;
    assert!(wide["total_items"].as_u64().unwrap() > 0);
    assert!(!wide.to_string().contains(&shelter), "the shelter's place is never found by distance");
    let (_, streamed_wide) =
        (0, streamed(&app, "/hsds/service_at_locations?postcode=8500&proximity=200000&format=ndjson").await);
    assert_eq!(streamed_wide.len() as u64, wide["total_items"].as_u64().unwrap());
    assert!(!Value::Array(streamed_wide).to_string().contains(&shelter));

    assert_refused(
        &app,
        400,
        "BAD_USER_INPUT",
        &[
            "/hsds/service_at_locations?proximity=1000",
            "/hsds/service_at_locations?postcode=8500&proximity=0",
            "/hsds/service_at_locations?postcode=8500&proximity=-5",
            "/hsds/service_at_locations?postcode=8500&proximity=NaN",
            "/hsds/service_at_locations?postcode=8500&proximity=far",
            "/hsds/service_at_locations?postcode=8500&proximity=200001",
            "/hsds/service_at_locations?postcode=1234&proximity=1000",
            "/hsds/service_at_locations?postcode=1234&proximity=1000&format=ndjson",
        ],
    )
    .await;
}

#[tokio::test]
async fn every_list_streams_whole_as_ndjson_each_line_valid() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    // More than two chunks of services and of places.
    let work_term = spread_map(&app, 230, 5).await;
    let service = Schemas::compiled("service");
    let service_list = Schemas::compiled("service_list");
    let organization = Schemas::compiled("organization");
    let organization_list = Schemas::compiled("organization_list");
    let place = Schemas::compiled("service_at_location");
    let place_list = Schemas::compiled("service_at_location_list");
    let (taxonomy, term) = taxonomy_schemas();
    let minimal = minimal_schemas();
    let lists: [(&str, &str, &Schemas); 13] = [
        ("/hsds/services", "/hsds/services", &service_list),
        ("/hsds/services?full_service=true", "/hsds/services", &service),
        ("/hsds/services?minimal=true", "/hsds/services", &minimal),
        ("/hsds/services?search=proefwerkplek", "/hsds/services?search=proefwerkplek", &service_list),
        (
            &format!("/hsds/services?taxonomy_term_id={work_term}&postcode=9991"),
            &format!("/hsds/services?taxonomy_term_id={work_term}&postcode=9991"),
            &service_list,
        ),
        ("/hsds/service_at_locations", "/hsds/service_at_locations", &place_list),
        ("/hsds/service_at_locations?full=true", "/hsds/service_at_locations", &place),
        ("/hsds/service_at_locations?postcode=9990", "/hsds/service_at_locations?postcode=9990", &place_list),
        ("/hsds/organizations", "/hsds/organizations", &organization_list),
        ("/hsds/organizations?full=true", "/hsds/organizations", &organization),
        ("/hsds/organizations?full_service=true", "/hsds/organizations", &organization),
        ("/hsds/taxonomies", "/hsds/taxonomies", &taxonomy),
        ("/hsds/taxonomy_terms", "/hsds/taxonomy_terms", &term),
    ];
    for (list, paged, schemas) in lists {
        let sep = if list.contains('?') { '&' } else { '?' };
        let path = format!("{list}{sep}format=ndjson");
        let lines = streamed(&app, &path).await;
        for (i, line) in lines.iter().enumerate() {
            schemas.assert_valid(line, &format!("{path}: line {i}"));
        }
        let expected = paged_ids(&app, paged).await;
        assert_eq!(sorted(ids_of(&lines)), sorted(expected), "{path}: every item once");
        println!("{path}: {} lines", lines.len());
    }
    let lines = streamed(&app, "/hsds/services?format=ndjson").await;
    assert!(lines.len() > 2 * 100, "the services span chunks: {}", lines.len());

    // A chunk costs what a page does: the stream's statements grow with its chunks, not its rows.
    let before = app.db.statements();
    let lines = streamed(&app, "/hsds/services?full_service=true&format=ndjson").await;
    let statements = app.db.statements() - before;
    let chunks = lines.len().div_ceil(100) as u64;
    println!("{} nested services streamed in {chunks} chunks: {statements} statements", lines.len());
    assert!(statements <= 10 * chunks, "{statements} statements for {chunks} chunks");

    // Bad parameters are refused before the stream begins, in JSON; one item is not a list.
    // An id that names nothing, however it is written, is the API's JSON 404.
    assert_refused(
        &app,
        404,
        "NOT_FOUND",
        &[
            "/hsds/services/%00",
            "/hsds/services/a%00b?full_service=true",
            "/hsds/organizations/x%00",
            "/hsds/services/%FF",
            "/hsds/organizations/%E2%82",
            "/hsds/service_at_locations/%C0",
            "/hsds/taxonomies/%FF",
            "/hsds/taxonomy_terms/%00",
        ],
    )
    .await;
    assert_refused(
        &app,
        400,
        "BAD_USER_INPUT",
        &[
            "/hsds/services?format=ndjson&per_page=0",
            "/hsds/services?format=ndjson&search=%20",
            "/hsds/services?format=xml",
            "/hsds/services?modified_after=%2B2024-01-01",
            "/hsds/services?modified_after=-0001-01-01",
            "/hsds/services?postcode=%00&format=ndjson",
            "/hsds/services?organization_id=%00",
            "/hsds/service_at_locations?postcode=8500%00&proximity=1000",
            "/hsds/organizations?search=a%00b",
            "/hsds/organizations?search=_",
            "/hsds/taxonomy_terms?search=%25",
            "/hsds/taxonomies?search=%5C",
            "/hsds/organizations?format=csv",
            "/hsds/services/3f1c2d4e-0000-4000-8000-000000000000?format=ndjson",
            "/hsds/organizations/3f1c2d4e-0000-4000-8000-000000000000?format=ndjson",
        ],
    )
    .await;
}

/// Every organization nests the same services wherever it is shown (its own answer, a page of
/// any size, a stream): its first 500 by name, as `/services?organization_id=` lists them.
#[tokio::test]
async fn an_organization_nests_its_services_alike_in_a_list_a_stream_and_alone() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    spread_map(&app, 40, 2).await;
    let organization = Schemas::compiled("organization");
    let mut most = 0;
    for (nest, services) in [
        ("full=true", Schemas::compiled("service_list")),
        ("full_service=true", Schemas::compiled("service")),
    ] {
        let mut shown: Vec<(String, Value)> = Vec::new();
        for per_page in [1, 10] {
            let path = format!("/hsds/organizations?{nest}&per_page={per_page}");
            let (status, orgs) = get(&app, &path).await;
            assert_eq!(status, 200, "{orgs}");
            assert_page(&orgs, &organization, &path);
            shown.extend(orgs["contents"].as_array().unwrap().iter().map(|o| (path.clone(), o.clone())));
        }
        let path = format!("/hsds/organizations?{nest}&format=ndjson");
        shown.extend(streamed(&app, &path).await.into_iter().map(|o| (path.clone(), o)));
        let (status, body) = get(&app, &format!("/hsds/organizations?{nest}&per_page=11")).await;
        assert_eq!(status, 400, "at most 10 nesting organizations a page: {body}");
        for (path, org) in &shown {
            let id = org["id"].as_str().unwrap();
            let nested = org["services"].as_array().unwrap();
            let all = paged_ids(&app, &format!("/hsds/services?organization_id={id}")).await;
            assert_eq!(ids_of(nested), all[..all.len().min(500)].to_vec(), "{path}: {id}");
            for (i, service) in nested.iter().enumerate() {
                services.assert_valid(service, &format!("{path}: {id}: services[{i}]"));
            }
            let (_, alone) =
                get(&app, &format!("/hsds/organizations/{id}?{}", nest.replace("full=", "full_service=")))
                    .await;
            assert_eq!(ids_of(alone["services"].as_array().unwrap()), ids_of(nested), "{path}: {id} alone");
            most = most.max(nested.len());
        }
    }
    assert!(most > 40, "one organization holds the 40 generated services: {most}");
    let (_, plain) = get(&app, "/hsds/organizations?per_page=100").await;
    assert!(plain["contents"].as_array().unwrap().iter().all(|o| o.get("services").is_none()));
}

#[tokio::test]
async fn the_taxonomies_and_terms_are_searched_and_narrowed() {
    let app = TestApp::spawn().await;
    let (_, all) = get(&app, "/hsds/taxonomy_terms?per_page=100").await;
    assert_eq!(all["total_items"], 11);
    let (_, housing) = get(&app, "/hsds/taxonomy_terms?search=wonen").await;
    assert_eq!(housing["total_items"], 1, "{housing}");
    assert_eq!(housing["contents"][0]["code"], "HOUSING");
    let (_, by_code) = get(&app, "/hsds/taxonomy_terms?search=confidential").await;
    assert_eq!(by_code["contents"][0]["code"], "CONFIDENTIAL");
    let (_, none) = get(&app, "/hsds/taxonomy_terms?search=zeppelin").await;
    assert_eq!((none["total_items"].as_u64(), none["empty"].as_bool()), (Some(0), Some(true)));
    // Our vocabularies are flat: every term is a top term, none has a parent.
    let (_, top) = get(&app, "/hsds/taxonomy_terms?top_only=true&per_page=100").await;
    assert_eq!(top["total_items"], 11);
    let id = housing["contents"][0]["id"].as_str().unwrap();
    let (_, children) = get(&app, &format!("/hsds/taxonomy_terms?parent_id={id}")).await;
    assert_eq!(children["total_items"], 0);
    let taxonomy_id = housing["contents"][0]["taxonomy_id"].as_str().unwrap();
    let (_, of_taxonomy) =
        get(&app, &format!("/hsds/taxonomy_terms?taxonomy_id={taxonomy_id}&search=werk")).await;
    assert_eq!(of_taxonomy["contents"][0]["code"], "WORK", "{of_taxonomy}");

    let (_, taxonomies) = get(&app, "/hsds/taxonomies").await;
    assert_eq!(taxonomies["total_items"], 2);
    let name = taxonomies["contents"][0]["name"].as_str().unwrap();
    let (_, found) = get(&app, &format!("/hsds/taxonomies?search={}", urlencode(name))).await;
    assert_eq!(found["total_items"], 1, "{found}");
    assert_eq!(found["contents"][0]["name"], name);
    let (status, body) = get(&app, "/hsds/taxonomy_terms?top_only=sometimes").await;
    assert_eq!(status, 400, "{body}");
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

use std::collections::HashSet;

use entities::{LifeDomain, location, service, service_at_location, service_language, service_life_domain};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, Who, assert_ok, codes, nodes};

const SERVICES: &str = "query($filter: ServiceFilter) { services(filter: $filter, first: 100) {
    totalCount edges { node { id name } } } }";

async fn ids(app: &TestApp, filter: Value) -> HashSet<Uuid> {
    let response = app.query(Who::Public, SERVICES, json!({ "filter": filter })).await;
    assert_ok(&response);
    let found: HashSet<Uuid> =
        nodes(&response, &["services"]).iter().map(|n| n["id"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(response["data"]["services"]["totalCount"].as_u64().unwrap() as usize, found.len());
    found
}

struct Map {
    services: Vec<service::Model>,
    domains: Vec<service_life_domain::Model>,
    languages: Vec<service_language::Model>,
    at: Vec<service_at_location::Model>,
    locations: Vec<location::Model>,
}

impl Map {
    async fn load(app: &TestApp) -> Map {
        let db = &app.db.conn;
        Map {
            services: service::Entity::find().all(db).await.unwrap(),
            domains: service_life_domain::Entity::find().all(db).await.unwrap(),
            languages: service_language::Entity::find().all(db).await.unwrap(),
            at: service_at_location::Entity::find().all(db).await.unwrap(),
            locations: location::Entity::find().all(db).await.unwrap(),
        }
    }

    fn located(&self, service: Uuid, pred: impl Fn(&location::Model) -> bool) -> bool {
        self.at.iter().any(|a| {
            a.service_id == service && self.locations.iter().any(|l| l.id == a.location_id && pred(l))
        })
    }

    fn matching(&self, pred: impl Fn(Uuid) -> bool) -> HashSet<Uuid> {
        self.services.iter().map(|s| s.id).filter(|&id| pred(id)).collect()
    }
}

#[tokio::test]
async fn service_filters_combine_with_and() {
    let app = TestApp::spawn().await;
    let map = Map::load(&app).await;
    let has_domain = |id: Uuid, domains: &[LifeDomain]| {
        map.domains.iter().any(|d| d.service_id == id && domains.contains(&d.life_domain))
    };

    let housing = ids(&app, json!({ "lifeDomains": ["HOUSING"] })).await;
    assert_eq!(housing, map.matching(|id| has_domain(id, &[LifeDomain::Housing])));
    assert!(housing.len() >= 5);

    let either = ids(&app, json!({ "lifeDomains": ["HOUSING", "MOBILITY"] })).await;
    assert_eq!(either, map.matching(|id| has_domain(id, &[LifeDomain::Housing, LifeDomain::Mobility])));

    let in_8500 = ids(&app, json!({ "postcode": "8500" })).await;
    assert_eq!(in_8500, map.matching(|id| map.located(id, |l| l.postcode == "8500")));
    assert!(!in_8500.is_empty());

    let waregem = ids(&app, json!({ "municipality": "wAREGEM" })).await;
    assert_eq!(waregem, map.matching(|id| map.located(id, |l| l.municipality == "Waregem")));

    let arabic = ids(&app, json!({ "language": "AR" })).await;
    assert_eq!(
        arabic,
        map.matching(|id| map.languages.iter().any(|l| l.service_id == id && l.language == "ar"))
    );
    assert!(!arabic.is_empty());

    let combined = ids(&app, json!({ "lifeDomains": ["HOUSING"], "municipality": "Waregem" })).await;
    assert_eq!(combined, housing.intersection(&waregem).copied().collect());
    assert!(!combined.is_empty() && combined.len() < housing.len());

    assert!(ids(&app, json!({ "postcode": "9999" })).await.is_empty());
}

#[tokio::test]
async fn organisations_filter_by_kind_and_partnership() {
    // Pages of 100 inside pages of 100, to see every row: far beyond the default complexity.
    let app = TestApp::spawn_with(|config| config.limits.max_complexity = 1_000_000).await;
    let query = "query($kind: OrganisationKind, $p: Boolean) { organisations(kind: $kind, networkPartnersOnly: $p, first: 100) {
        totalCount edges { node { name kind isNetworkPartner services(first: 100) { totalCount edges { node { organisation { name } } } } } } } }";
    let partners = app.query(Who::Public, query, json!({ "p": true })).await;
    assert_ok(&partners);
    let names: HashSet<&str> =
        nodes(&partners, &["organisations"]).iter().map(|n| n["name"].as_str().unwrap()).collect();
    for name in ["CAW Zuid-West-Vlaanderen", "Federale Pensioendienst", "dyzo", "Woonclub Waregem"] {
        assert!(names.contains(name), "{name}");
    }
    assert!(nodes(&partners, &["organisations"]).iter().all(|n| n["isNetworkPartner"] == true));

    let housing = app.query(Who::Public, query, json!({ "kind": "HOUSING" })).await;
    for org in nodes(&housing, &["organisations"]) {
        assert_eq!(org["kind"], "HOUSING");
        for service in org["services"]["edges"].as_array().unwrap() {
            assert_eq!(service["node"]["organisation"]["name"], org["name"]);
        }
    }
}

#[tokio::test]
async fn a_service_by_id_and_a_missing_one() {
    let app = TestApp::spawn().await;
    let map = Map::load(&app).await;
    let query = "query($id: ID!) { service(id: $id) { name organisation { name } lifeDomains languages
        locations { name address { street postcode municipality } latitude longitude }
        openingHours { weekday opens closes } } }";
    let one = &map.services[0];
    let response = app.query(Who::Public, query, json!({ "id": one.id.to_string() })).await;
    assert_ok(&response);
    assert_eq!(response["data"]["service"]["name"], one.name.as_str());
    assert!(!response["data"]["service"]["openingHours"].as_array().unwrap().is_empty());

    let missing = app.query(Who::Public, query, json!({ "id": Uuid::new_v4().to_string() })).await;
    assert_eq!(missing["data"]["service"], Value::Null);
    assert_eq!(codes(&missing), vec!["NOT_FOUND"]);
    let malformed = app.query(Who::Public, query, json!({ "id": "not-an-id" })).await;
    assert_eq!(codes(&malformed), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn nested_pages_hold_each_parents_own_rows() {
    let app = TestApp::spawn().await;
    let map = Map::load(&app).await;
    let query = "query($after: String) { organisations(first: 100) { edges { node { id
        services(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id name } } } } } } }";
    let response = app.query(Who::Public, query, json!({})).await;
    assert_ok(&response);
    for org in nodes(&response, &["organisations"]) {
        let id: Uuid = org["id"].as_str().unwrap().parse().unwrap();
        let mut own: Vec<&service::Model> = map.services.iter().filter(|s| s.organisation_id == id).collect();
        own.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        let page = &org["services"];
        assert_eq!(page["totalCount"].as_u64().unwrap() as usize, own.len());
        let names: Vec<&str> =
            page["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
        let expected: Vec<&str> = own.iter().take(2).map(|s| s.name.as_str()).collect();
        assert_eq!(names, expected, "first page of {id}");
        assert_eq!(page["pageInfo"]["hasNextPage"], own.len() > 2);
        if own.len() > 2 {
            // The cursor continues this organisation's list.
            let next = app.query(Who::Public, query, json!({ "after": page["pageInfo"]["endCursor"] })).await;
            let again =
                nodes(&next, &["organisations"]).into_iter().find(|o| o["id"] == org["id"]).unwrap().clone();
            let names: Vec<&str> = again["services"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap())
                .collect();
            let expected: Vec<&str> = own.iter().skip(2).take(2).map(|s| s.name.as_str()).collect();
            assert_eq!(names, expected, "second page of {id}");
        }
    }
}

#[tokio::test]
async fn a_confidential_address_is_kept_from_the_public() {
    let app = TestApp::spawn().await;
    let query = "{ services(first: 100) { edges { node { locations { name confidential address { street municipality } latitude longitude } } } } }";
    let find_shelter = |response: &Value| -> Value {
        nodes(response, &["services"])
            .iter()
            .flat_map(|s| s["locations"].as_array().unwrap().clone())
            .find(|l| l["confidential"] == true)
            .expect("the demo has a shelter")
    };
    // Not the public, and not a citizen signed in as themself: anyone can be a client, also
    // whoever looks for someone who fled.
    for who in [Who::Public, Who::Client] {
        let outside = app.query(who, query, json!({})).await;
        assert_ok(&outside);
        let shelter = find_shelter(&outside);
        assert_eq!(shelter["address"]["street"], Value::Null, "{who:?}");
        assert_eq!((shelter["latitude"].clone(), shelter["longitude"].clone()), (Value::Null, Value::Null));
        assert_eq!(shelter["address"]["municipality"], "Kortrijk");
    }
    let partner = app.query(Who::Caw, query, json!({})).await;
    let shelter = find_shelter(&partner);
    assert!(shelter["latitude"].is_f64() && shelter["address"]["street"].is_string());
}

#[tokio::test]
async fn open_at_reads_the_weekly_hours_on_the_brussels_clock() {
    use chrono::{Datelike, TimeZone, Timelike};
    use chrono_tz::Europe::Brussels;
    use entities::schedule;
    let app = TestApp::spawn().await;
    let map = Map::load(&app).await;
    let schedules = schedule::Entity::find().all(&app.db.conn).await.unwrap();
    let local = |y, m, d, h, min| {
        Brussels.with_ymd_and_hms(y, m, d, h, min, 0).earliest().unwrap().with_timezone(&chrono::Utc)
    };
    let names = |ids: &HashSet<Uuid>| -> HashSet<String> {
        map.services.iter().filter(|s| ids.contains(&s.id)).map(|s| s.name.clone()).collect()
    };
    for (label, moment) in [
        ("Friday 23:30", local(2027, 1, 8, 23, 30)),
        ("Saturday 00:10", local(2027, 1, 9, 0, 10)),
        ("Monday 10:00", local(2027, 1, 11, 10, 0)),
        ("Monday 07:59", local(2027, 1, 11, 7, 59)),
        (
            "Sunday 03:30, the night summer time starts",
            chrono::DateTime::parse_from_rfc3339("2027-03-28T01:30:00Z").unwrap().with_timezone(&chrono::Utc),
        ),
        (
            "Sunday 02:30, the night winter time returns",
            chrono::DateTime::parse_from_rfc3339("2027-10-31T00:30:00Z").unwrap().with_timezone(&chrono::Utc),
        ),
    ] {
        let at = moment.with_timezone(&Brussels);
        let (weekday, minute) =
            (at.weekday().number_from_monday() as i32, (at.hour() * 60 + at.minute()) as i32);
        let expected: HashSet<Uuid> = map.matching(|id| {
            schedules.iter().any(|s| {
                s.service_id == id
                    && s.weekday == weekday
                    && s.opens_minute <= minute
                    && minute < s.closes_minute
            })
        });
        let found = ids(&app, json!({ "openAt": moment })).await;
        assert_eq!(names(&found), names(&expected), "{label}");
        assert!(!found.is_empty(), "{label}: something is always open (crisis lines)");
    }
    let friday_night = names(&ids(&app, json!({ "openAt": local(2027, 1, 8, 23, 30) })).await);
    assert!(friday_night.contains("Huisarts van wacht"));
    assert!(!friday_night.contains("Onthaal Welzijnshuis"));
    let friday_evening = names(&ids(&app, json!({ "openAt": local(2027, 1, 8, 18, 0) })).await);
    assert!(!friday_evening.contains("Huisarts van wacht"), "the doctor on call starts at 19:00");
    // Combined with another filter, AND.
    let housing_now =
        ids(&app, json!({ "openAt": local(2027, 1, 11, 10, 0), "lifeDomains": ["HOUSING"] })).await;
    assert!(
        !housing_now.is_empty()
            && housing_now.len() < ids(&app, json!({ "lifeDomains": ["HOUSING"] })).await.len()
    );
}

fn km(lat0: f64, lon0: f64, lat: f64, lon: f64) -> f64 {
    // Haversine, as an independent check of the service's approximation.
    let (p1, p2) = (lat0.to_radians(), lat.to_radians());
    let (dp, dl) = ((lat - lat0).to_radians(), (lon - lon0).to_radians());
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    6371.0 * 2.0 * a.sqrt().asin()
}

#[tokio::test]
async fn near_finds_services_within_the_radius_nearest_first() {
    let app = TestApp::spawn().await;
    let map = Map::load(&app).await;
    let (lat, lon) = (50.8890, 3.4260); // Waregem, the market square
    let query = "query($filter: ServiceFilter, $first: Int, $after: String) { services(filter: $filter, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id name distanceKm } } } }";
    let filter = json!({ "near": { "latitude": lat, "longitude": lon, "radiusKm": 5.0 } });
    let response = app.query(Who::Public, query, json!({ "filter": filter, "first": 100 })).await;
    assert_ok(&response);
    let found = nodes(&response, &["services"]);
    let nearest = |id: Uuid| {
        map.at
            .iter()
            .filter(|a| a.service_id == id)
            .filter_map(|a| map.locations.iter().find(|l| l.id == a.location_id && !l.confidential))
            .filter_map(|l| Some(km(lat, lon, l.latitude?, l.longitude?)))
            .fold(f64::INFINITY, f64::min)
    };
    let expected: HashSet<Uuid> = map.matching(|id| nearest(id) <= 5.0);
    let got: HashSet<Uuid> = found.iter().map(|n| n["id"].as_str().unwrap().parse().unwrap()).collect();
    assert_eq!(got, expected);
    assert!(!got.is_empty() && got.len() < map.services.len());
    let distances: Vec<f64> = found.iter().map(|n| n["distanceKm"].as_f64().unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "nearest first: {distances:?}");
    for node in &found {
        let id: Uuid = node["id"].as_str().unwrap().parse().unwrap();
        assert!((node["distanceKm"].as_f64().unwrap() - nearest(id)).abs() < 0.05, "{node}");
    }
    assert_eq!(response["data"]["services"]["totalCount"].as_u64().unwrap() as usize, expected.len());

    // Paging walks the same order.
    let mut walked = Vec::new();
    let mut after = Value::Null;
    loop {
        let page =
            app.query(Who::Public, query, json!({ "filter": filter, "first": 3, "after": after })).await;
        assert_ok(&page);
        walked.extend(nodes(&page, &["services"]).iter().map(|n| n["id"].clone()));
        if page["data"]["services"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["data"]["services"]["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(walked, found.iter().map(|n| n["id"].clone()).collect::<Vec<_>>());

    // With another filter, AND; without near, no distance.
    let housing = app
        .query(
            Who::Public,
            query,
            json!({ "filter": { "near": filter["near"], "lifeDomains": ["HOUSING"] }, "first": 100 }),
        )
        .await;
    assert!(nodes(&housing, &["services"]).len() < found.len());
    let plain = app.query(Who::Public, query, json!({ "first": 1 })).await;
    assert_eq!(nodes(&plain, &["services"])[0]["distanceKm"], Value::Null);
}

#[tokio::test]
async fn near_never_points_the_public_at_a_shelter() {
    let app = TestApp::spawn().await;
    let query =
        "query($filter: ServiceFilter) { services(filter: $filter, first: 100) { edges { node { name } } } }";
    let at_shelter =
        json!({ "filter": { "near": { "latitude": 50.8300, "longitude": 3.2700, "radiusKm": 0.5 } } });
    let staff = app.query(Who::Caw, query, at_shelter.clone()).await;
    let names: Vec<&str> = nodes(&staff, &["services"]).iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Vluchthuis"), "{names:?}");
    let public = app.query(Who::Public, query, at_shelter).await;
    assert!(nodes(&public, &["services"]).iter().all(|n| n["name"] != "Vluchthuis"));
    for (near, field) in [
        (json!({ "latitude": 91.0, "longitude": 3.0, "radiusKm": 1.0 }), "filter.near.latitude"),
        (json!({ "latitude": 50.0, "longitude": 3.0, "radiusKm": 0.0 }), "filter.near.radiusKm"),
        (json!({ "latitude": 50.0, "longitude": 3.0, "radiusKm": 500.0 }), "filter.near.radiusKm"),
    ] {
        let response = app.query(Who::Public, query, json!({ "filter": { "near": near } })).await;
        assert_eq!(response["errors"][0]["extensions"]["field"], field);
    }
}

/// Lower case without accents, as both search engines fold words.
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        })
        .collect()
}

fn words(text: &str) -> Vec<String> {
    fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

#[tokio::test]
async fn search_finds_words_and_word_starts_whatever_the_accents_and_case() {
    use sea_orm::{ActiveModelTrait, Set};
    let app = TestApp::spawn().await;
    let org = app.user(Who::Intake).await.unwrap().organisation_id;
    let now = chrono::Utc::now();
    service::ActiveModel {
        id: Set(Uuid::now_v7()),
        organisation_id: Set(org),
        name: Set("Ontmoetingshuis Émile".into()),
        description: Set(Some("Koffie, kaarten en een praatje in de buurt.".into())),
        url: Set(None),
        email: Set(None),
        phone: Set(None),
        status: Set(entities::ServiceStatus::Active),
        eligibility: Set(None),
        fees: Set(None),
        application_process: Set(None),
        assured_date: Set(None),
        alert: Set(None),
        hsds_id: Set(None),
        imported_from: Set(None),
        import_digest: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db.conn)
    .await
    .unwrap();
    let map = Map::load(&app).await;
    let expect = |query: &str| -> HashSet<Uuid> {
        let wanted = words(query);
        map.matching(|id| {
            let s = map.services.iter().find(|s| s.id == id).unwrap();
            let have = words(&format!("{} {}", s.name, s.description.clone().unwrap_or_default()));
            wanted.iter().all(|w| have.iter().any(|h| h.starts_with(w.as_str())))
        })
    };
    for query in [
        "emile",
        "ÉMILE",
        "Emil",
        "schulden",
        "schuld",
        "SCHULD",
        "sociale huur",
        "huur",
        "geindividualiseerd",
        "e-mail",
        "pensioen",
        "kinderen",
    ] {
        let found = ids(&app, json!({ "search": query })).await;
        assert_eq!(found, expect(query), "search {query:?}");
        assert!(!found.is_empty(), "search {query:?} finds something in the demo");
    }
    assert!(ids(&app, json!({ "search": "xyzzy" })).await.is_empty());
    // Combined with other filters, AND.
    let in_waregem = ids(&app, json!({ "search": "huur", "municipality": "Waregem" })).await;
    assert!(in_waregem.len() < expect("huur").len());
    // Nothing to search for is a clear error; operators are just text.
    for bad in ["", "  ", "!!!"] {
        let response = app.query(Who::Public, SERVICES, json!({ "filter": { "search": bad } })).await;
        assert_eq!(response["errors"][0]["extensions"]["field"], "filter.search", "{bad:?}");
    }
    assert!(ids(&app, json!({ "search": "schuld' OR 1=1 --" })).await.len() <= expect("schuld").len());
}

#[tokio::test]
async fn search_ranks_name_hits_above_description_hits() {
    let app = TestApp::spawn().await;
    let map = Map::load(&app).await;
    let query =
        "query($filter: ServiceFilter, $after: String) { services(filter: $filter, first: 4, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { id name } } } }";
    let mut order = Vec::new();
    let mut after = Value::Null;
    loop {
        let page =
            app.query(Who::Public, query, json!({ "filter": { "search": "huur" }, "after": after })).await;
        assert_ok(&page);
        order.extend(nodes(&page, &["services"]).iter().map(|n| n["name"].as_str().unwrap().to_owned()));
        if page["data"]["services"]["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["data"]["services"]["pageInfo"]["endCursor"].clone();
    }
    let in_name = |name: &String| words(name).iter().any(|w| w.starts_with("huur"));
    let first_description_hit = order.iter().position(|n| !in_name(n)).unwrap_or(order.len());
    assert!(first_description_hit > 0, "{order:?}");
    assert!(order[first_description_hit..].iter().all(|n| !in_name(n)), "name hits first: {order:?}");
    assert_eq!(order.iter().collect::<HashSet<_>>().len(), order.len(), "paging repeats nothing");
    let _ = map;
}

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, assert_ok, codes, nodes};

const PAGE: &str = "query($first: Int, $after: String) { referrals(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id createdAt } } } }";

#[tokio::test]
async fn walking_the_pages_visits_every_row_once_in_order() {
    let app = TestApp::spawn().await;
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let mut created = Vec::new();
    let total = loop {
        let response = app.query(Who::Admin, PAGE, json!({ "first": 7, "after": after })).await;
        assert_ok(&response);
        let page = &response["data"]["referrals"];
        for node in nodes(&response, &["referrals"]) {
            seen.push(node["id"].as_str().unwrap().to_owned());
            created.push(chrono::DateTime::parse_from_rfc3339(node["createdAt"].as_str().unwrap()).unwrap());
        }
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break page["totalCount"].as_i64().unwrap();
        }
        assert_eq!(page["edges"].as_array().unwrap().len(), 7);
        after = page["pageInfo"]["endCursor"].clone();
    };
    assert_eq!(seen.len() as i64, total);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len(), "no row twice");
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
}

#[tokio::test]
async fn the_default_page_is_twenty_and_more_than_a_hundred_is_refused() {
    let app = TestApp::spawn().await;
    let response = app.query(Who::Admin, PAGE, json!({})).await;
    assert_eq!(response["data"]["referrals"]["edges"].as_array().unwrap().len(), 20);
    let response = app.query(Who::Admin, PAGE, json!({ "first": 100 })).await;
    assert_ok(&response);
    let response = app.query(Who::Admin, PAGE, json!({ "first": 101 })).await;
    assert_eq!(codes(&response), vec!["QUERY_TOO_COMPLEX"]);
    let response = app.query(Who::Admin, PAGE, json!({ "first": -1 })).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    let response = app.query(Who::Admin, PAGE, json!({ "first": 0 })).await;
    assert_ok(&response);
    assert!(response["data"]["referrals"]["edges"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn cursors_are_opaque_and_cannot_be_forged() {
    let app = TestApp::spawn().await;
    let response = app.query(Who::Admin, PAGE, json!({ "first": 3 })).await;
    let edges = response["data"]["referrals"]["edges"].as_array().unwrap().clone();
    for edge in &edges {
        let cursor = edge["cursor"].as_str().unwrap();
        let id = edge["node"]["id"].as_str().unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!cursor.contains(id) && !text.contains(id), "the cursor shows the row id");
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        assert!(!bytes.windows(16).any(|w| w == uuid.as_bytes()), "the cursor holds the raw id");
    }

    let cursor = edges[0]["cursor"].as_str().unwrap();
    let mut tampered = URL_SAFE_NO_PAD.decode(cursor).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    for bad in
        [URL_SAFE_NO_PAD.encode(tampered), "bm90IGEgY3Vyc29y".to_owned(), "%%%".to_owned(), String::new()]
    {
        let response = app.query(Who::Admin, PAGE, json!({ "after": bad })).await;
        assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{bad}");
    }

    // A cursor of one list does not page another.
    let services = app.query(Who::Admin, "{ services(first: 1) { edges { cursor } } }", json!({})).await;
    let foreign = services["data"]["services"]["edges"][0]["cursor"].clone();
    let response = app.query(Who::Admin, PAGE, json!({ "after": foreign })).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_partners_total_and_pages_agree() {
    let app = TestApp::spawn().await;
    let response = app.query(Who::Woonclub, PAGE, json!({ "first": 100 })).await;
    assert_ok(&response);
    let total = response["data"]["referrals"]["totalCount"].as_i64().unwrap();
    assert_eq!(total, response["data"]["referrals"]["edges"].as_array().unwrap().len() as i64);
    assert!(total > 0 && total < 64);
}

/// The end cursor of the first page of `query` (a connection at `field`) as `who`.
async fn end_cursor(app: &TestApp, who: Who, query: &str, field: &str) -> Value {
    let response = app.query(who, query, json!({ "first": 2 })).await;
    assert_ok(&response);
    let cursor = response["data"][field]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{response}");
    cursor
}

#[tokio::test]
async fn a_cursor_pages_only_for_the_role_and_organisation_it_was_given_to() {
    let app = TestApp::spawn().await;
    let referrals = "query($first: Int, $after: String) { referrals(first: $first, after: $after) {
        pageInfo { endCursor } edges { node { id } } } }";
    let services = "query($first: Int, $after: String) { services(first: $first, after: $after) {
        pageInfo { endCursor } edges { node { id } } } }";
    let nonsense = app.query(Who::Caw, referrals, json!({ "first": 2, "after": "bm90IGEgY3Vyc29y" })).await;
    let refusal = nonsense["errors"][0]["message"].clone();

    for (query, field, others) in [
        (referrals, "referrals", vec![Who::Pension, Who::Dyzo, Who::Admin, Who::Intake]),
        (services, "services", vec![Who::Pension, Who::Public, Who::Admin, Who::Analyst]),
    ] {
        let cursor = end_cursor(&app, Who::Caw, query, field).await;
        // The caller it was given to goes on with it.
        let again = app.query(Who::Caw, query, json!({ "first": 2, "after": cursor })).await;
        assert_ok(&again);
        assert!(!again["data"][field]["edges"].as_array().unwrap().is_empty());
        // Anyone else gets the answer a made-up cursor gets, which confirms nothing.
        for who in others {
            let response = app.query(who, query, json!({ "first": 2, "after": cursor })).await;
            assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{who:?} with CAW's {field} cursor");
            assert_eq!(response["errors"][0]["message"], refusal, "{who:?}");
        }
    }

    // Between the welfare house's roles too: INTAKE's cursor is not CASE_WORKER's.
    let cursor = end_cursor(&app, Who::Intake, referrals, "referrals").await;
    let response = app.query(Who::CaseWorker, referrals, json!({ "first": 2, "after": cursor })).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    assert_ok(&app.query(Who::Intake, referrals, json!({ "first": 2, "after": cursor })).await);

    // A nested list's cursor is bound the same way.
    let nested = "query($first: Int, $after: String) { organisations(first: 1) { edges { node {
        services(first: $first, after: $after) { pageInfo { endCursor } } } } } }";
    let response = app.query(Who::Caw, nested, json!({ "first": 1 })).await;
    let cursor =
        response["data"]["organisations"]["edges"][0]["node"]["services"]["pageInfo"]["endCursor"].clone();
    assert!(cursor.is_string(), "{response}");
    assert_ok(&app.query(Who::Caw, nested, json!({ "first": 1, "after": cursor })).await);
    let response = app.query(Who::Public, nested, json!({ "first": 1, "after": cursor })).await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{response}");
}

#[tokio::test]
async fn a_partner_without_identity_consent_cannot_learn_the_family_name_order() {
    use entities::{client, consent};
    use sea_orm::EntityTrait;
    let app = TestApp::spawn().await;
    let clients = client::Entity::find().all(&app.db.conn).await.unwrap();
    let consents = consent::Entity::find().all(&app.db.conn).await.unwrap();
    let query = "query($first: Int, $after: String) { clients(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { id } } } }";
    let mut checked_a_hidden_name = false;
    for who in Who::PARTNERS {
        let org = app.user(who).await.unwrap().organisation_id;
        // Walk every page: the partner's clients come by id, a field it may read.
        let mut seen: Vec<uuid::Uuid> = Vec::new();
        let mut after = Value::Null;
        loop {
            let response = app.query(who, query, json!({ "first": 3, "after": after })).await;
            assert_ok(&response);
            for node in nodes(&response, &["clients"]) {
                seen.push(node["id"].as_str().unwrap().parse().unwrap());
            }
            let page = &response["data"]["clients"]["pageInfo"];
            if page["hasNextPage"] != true {
                break;
            }
            after = page["endCursor"].clone();
        }
        let mut by_id = seen.clone();
        by_id.sort();
        assert_eq!(seen, by_id, "{who:?}: by id");
        let mut by_name: Vec<&client::Model> = clients.iter().filter(|c| seen.contains(&c.id)).collect();
        by_name.sort_by(|a, b| {
            (&a.family_name, &a.given_name, a.id).cmp(&(&b.family_name, &b.given_name, b.id))
        });
        let by_name: Vec<uuid::Uuid> = by_name.iter().map(|c| c.id).collect();
        let identity = |id: &uuid::Uuid| {
            consents.iter().any(|c| {
                c.client_id == *id && c.recipient_id == org && c.revoked_at.is_none() && c.scope_identity
            })
        };
        if seen.iter().any(|id| !identity(id)) && by_name != by_id {
            checked_a_hidden_name = true;
        }
    }
    assert!(checked_a_hidden_name, "the demo has a partner whose name order and id order differ");

    // The welfare house's staff keep the alphabetical list (in the database's collation).
    use sea_orm::{QueryOrder, QuerySelect};
    let alphabetical: Vec<String> = client::Entity::find()
        .order_by_asc(client::Column::FamilyName)
        .order_by_asc(client::Column::GivenName)
        .order_by_asc(client::Column::Id)
        .limit(50)
        .all(&app.db.conn)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    let staff = app.query(Who::Intake, "{ clients(first: 50) { edges { node { id } } } }", json!({})).await;
    assert_ok(&staff);
    let shown: Vec<String> =
        nodes(&staff, &["clients"]).iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(shown, alphabetical, "staff: by family name");
}

#[test]
fn a_sealed_cursor_opens_only_for_its_list_and_audience() {
    use resolvers::cursor::{Audience, CursorKey, KeyPart};
    let partner = |organisation: u128| {
        resolvers::Caller::user(entities::user::Model {
            id: uuid::Uuid::new_v4(),
            email: "medewerker@partner.test".into(),
            name: "Medewerker".into(),
            role: entities::Role::Partner,
            organisation_id: uuid::Uuid::from_u128(organisation),
            active: true,
            created_at: chrono::Utc::now(),
            oidc_subject: None,
        })
    };
    let key = CursorKey::derive(b"secret");
    let caw = Audience::of(&partner(1));
    let parts = vec![KeyPart::Text("Peeters".into()), KeyPart::Id(uuid::Uuid::from_u128(7))];
    let sealed = key.seal(&caw, "referral", &parts);
    assert_eq!(key.open(&caw, "referral", &sealed).unwrap(), parts);
    let made_up = key.open(&caw, "referral", "made up").unwrap_err();
    let mut admin = partner(1);
    admin.role = entities::Role::Admin;
    for (audience, kind) in [
        (caw.clone(), "client"),
        (Audience::of(&partner(2)), "referral"),
        (Audience::of(&admin), "referral"),
        (Audience::of(&resolvers::Caller::public()), "referral"),
    ] {
        assert_eq!(key.open(&audience, kind, &sealed).unwrap_err(), made_up, "{audience:?} {kind}");
    }
    assert!(CursorKey::derive(b"another secret").open(&caw, "referral", &sealed).is_err());
}

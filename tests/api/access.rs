//! The access rules this foundation must hold (the full matrix grows with the policy):
//! PUBLIC reads only the social map, ANALYST no client data, partners only the referrals sent to
//! or by their organisation, and a partner reads client fields only per consent.

use std::collections::{HashMap, HashSet};

use entities::{consent, referral};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, Who, assert_ok, codes, error_paths, nodes};

const REFERRALS: &str = "query($after: String) { referrals(first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id sender { id } recipient { id } client { id } } } } }";

async fn all_referral_nodes(app: &TestApp, who: Who) -> (i64, Vec<Value>) {
    let mut after = Value::Null;
    let mut all = Vec::new();
    loop {
        let response = app.query(who, REFERRALS, json!({ "after": after })).await;
        assert_ok(&response);
        all.extend(nodes(&response, &["referrals"]).into_iter().cloned());
        let page = &response["data"]["referrals"];
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return (page["totalCount"].as_i64().unwrap(), all);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::test]
async fn the_public_reads_the_social_map_and_nothing_else() {
    let app = TestApp::spawn().await;
    let map = app
        .query(Who::Public, "{ services(first: 5) { totalCount } organisations { totalCount } }", json!({}))
        .await;
    assert_ok(&map);
    assert!(map["data"]["services"]["totalCount"].as_i64().unwrap() >= 40);

    let any_client =
        app.query(Who::Admin, "{ clients(first: 1) { edges { node { id } } } }", json!({})).await;
    let client_id = nodes(&any_client, &["clients"])[0]["id"].clone();
    let any_referral =
        app.query(Who::Admin, "{ referrals(first: 1) { edges { node { id } } } }", json!({})).await;
    let referral_id = nodes(&any_referral, &["referrals"])[0]["id"].clone();

    for (query, variables) in [
        ("{ clients { totalCount } }", json!({})),
        ("{ referrals { totalCount } }", json!({})),
        ("query($id: ID!) { client(id: $id) { id givenName } }", json!({ "id": client_id })),
        ("query($id: ID!) { referral(id: $id) { id reason } }", json!({ "id": referral_id })),
    ] {
        for who in [Who::Public, Who::Analyst] {
            let response = app.query(who, query, variables.clone()).await;
            assert_eq!(crate::helpers::denied(&response), "HIDDEN", "{who:?} {query}");
            assert!(!response.to_string().contains("Welzijnshuis Waregem"), "{who:?} {query}: {response}");
        }
    }
}

#[tokio::test]
async fn staff_who_work_with_clients_see_every_referral() {
    let app = TestApp::spawn().await;
    let total = referral::Entity::find().all(&app.db.conn).await.unwrap().len() as i64;
    for who in [Who::Admin, Who::Intake, Who::CaseWorker] {
        let (count, all) = all_referral_nodes(&app, who).await;
        assert_eq!((count, all.len() as i64), (total, total), "{who:?}");
    }
}

#[tokio::test]
async fn a_partner_sees_only_referrals_sent_to_or_by_its_organisation() {
    let app = TestApp::spawn().await;
    let referrals = referral::Entity::find().all(&app.db.conn).await.unwrap();
    for who in Who::PARTNERS {
        let org = app.user(who).await.unwrap().organisation_id;
        let expected: HashSet<String> = referrals
            .iter()
            .filter(|r| r.sender_id == org || r.recipient_id == org)
            .map(|r| r.id.to_string())
            .collect();
        let (count, all) = all_referral_nodes(&app, who).await;
        let seen: HashSet<String> = all.iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(seen, expected, "{who:?}");
        assert_eq!(count as usize, expected.len(), "{who:?}: the total counts only its own");
        assert!(!expected.is_empty());

        // Another organisation's referral does not exist for it: the same answer as a made-up id.
        let foreign = referrals.iter().find(|r| r.sender_id != org && r.recipient_id != org).unwrap();
        let query = "query($id: ID!) { referral(id: $id) { id reason } }";
        let hidden = app.query(who, query, json!({ "id": foreign.id.to_string() })).await;
        let missing = app.query(who, query, json!({ "id": Uuid::new_v4().to_string() })).await;
        assert_eq!(hidden["data"]["referral"], Value::Null);
        assert_eq!(codes(&hidden), vec!["NOT_FOUND"]);
        assert_eq!(hidden["errors"][0]["message"], missing["errors"][0]["message"]);

        // Its client list holds the clients of those referrals and no one else.
        let clients =
            app.query(who, "{ clients(first: 100) { totalCount edges { node { id } } } }", json!({})).await;
        let client_ids: HashSet<String> =
            nodes(&clients, &["clients"]).iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect();
        let expected_clients: HashSet<String> = referrals
            .iter()
            .filter(|r| r.sender_id == org || r.recipient_id == org)
            .map(|r| r.client_id.to_string())
            .collect();
        assert_eq!(client_ids, expected_clients, "{who:?}");
        assert_eq!(
            clients["data"]["clients"]["totalCount"].as_u64().unwrap() as usize,
            expected_clients.len()
        );
    }
}

#[tokio::test]
async fn a_partner_reads_client_fields_only_as_far_as_consent_goes() {
    let app = TestApp::spawn().await;
    let consents = consent::Entity::find().all(&app.db.conn).await.unwrap();
    let query = "{ referrals(first: 100) { edges { node { client {
        id givenName familyName dateOfBirth nationalRegisterNumber phone email address { municipality }
        helpRequests { summary } } } } } }";
    let mut forbidden_seen = 0;
    for who in Who::PARTNERS {
        let org = app.user(who).await.unwrap().organisation_id;
        let mut scopes: HashMap<Uuid, HashSet<&str>> = HashMap::new();
        for c in consents.iter().filter(|c| c.recipient_id == org && c.revoked_at.is_none()) {
            let entry = scopes.entry(c.client_id).or_default();
            for (granted, scope) in [
                (c.scope_identity, "IDENTITY"),
                (c.scope_contact, "CONTACT"),
                (c.scope_national_number, "NATIONAL_NUMBER"),
                (c.scope_situation, "SITUATION"),
            ] {
                if granted {
                    entry.insert(scope);
                }
            }
        }
        let response = app.query(who, query, json!({})).await;
        let errors: HashSet<(String, String)> = error_paths(&response).into_iter().collect();
        for (i, node) in nodes(&response, &["referrals"]).iter().enumerate() {
            let client = &node["client"];
            let id: Uuid = client["id"].as_str().unwrap().parse().unwrap();
            let granted = scopes.get(&id).cloned().unwrap_or_default();
            for (field, scope) in [
                ("givenName", "IDENTITY"),
                ("familyName", "IDENTITY"),
                ("dateOfBirth", "IDENTITY"),
                ("nationalRegisterNumber", "NATIONAL_NUMBER"),
                ("phone", "CONTACT"),
                ("email", "CONTACT"),
                ("address", "CONTACT"),
            ] {
                let path = format!("referrals.edges.{i}.node.client.{field}");
                if granted.contains(scope) {
                    assert!(!errors.contains(&(path.clone(), "FORBIDDEN".into())), "{who:?} {path}");
                } else {
                    assert_eq!(client[field], Value::Null, "{who:?} {path}");
                    assert!(client.as_object().unwrap().contains_key(field), "{path} is present, as null");
                    assert!(errors.contains(&(path.clone(), "FORBIDDEN".into())), "{who:?} {path}");
                    forbidden_seen += 1;
                }
            }
            // Help requests exist for the partner only with SITUATION consent.
            let help = client["helpRequests"].as_array().unwrap();
            assert_eq!(!help.is_empty(), granted.contains("SITUATION"), "{who:?} client {id}");
        }
        // The rest of the response is intact.
        assert!(!nodes(&response, &["referrals"]).is_empty());
    }
    assert!(forbidden_seen > 0, "the demo has partners without every consent scope");
}

#[tokio::test]
async fn case_notes_are_never_shown_to_partners() {
    // Every client's help requests' notes: far beyond the default complexity (each list counts
    // every row it may return).
    let app = TestApp::spawn_with(|config| config.limits.max_complexity = 1_000_000).await;
    let query = "{ clients(first: 100) { edges { node { helpRequests { caseNotes { body } } } } } }";
    let staff = app.query(Who::CaseWorker, query, json!({})).await;
    assert_ok(&staff);
    assert!(staff.to_string().contains("body"));
    for who in Who::PARTNERS {
        let response = app.query(who, query, json!({})).await;
        assert!(!response.to_string().contains("\"body\""), "{who:?}");
        assert_eq!(crate::helpers::denied(&response), "HIDDEN", "{who:?}");
    }
}

#[tokio::test]
async fn only_staff_search_clients_by_personal_data() {
    let app = TestApp::spawn().await;
    let query =
        r#"{ clients(filter: { name: "ma" }) { totalCount edges { node { givenName familyName } } } }"#;
    let staff = app.query(Who::Intake, query, json!({})).await;
    assert_ok(&staff);
    for node in nodes(&staff, &["clients"]) {
        let given = node["givenName"].as_str().unwrap().to_lowercase();
        let family = node["familyName"].as_str().unwrap().to_lowercase();
        assert!(given.starts_with("ma") || family.starts_with("ma"), "{node}");
    }
    assert!(staff["data"]["clients"]["totalCount"].as_i64().unwrap() > 0);
    let partner = app.query(Who::Caw, query, json!({})).await;
    assert_eq!(codes(&partner), vec!["FORBIDDEN"]);
}

#[tokio::test]
async fn a_partner_cannot_reach_other_clients_through_nested_paths() {
    // Pages of 100 inside pages of 100, to see every row: far beyond the default complexity.
    let app = TestApp::spawn_with(|config| config.limits.max_complexity = 1_000_000).await;
    let referrals = referral::Entity::find().all(&app.db.conn).await.unwrap();
    for who in Who::PARTNERS {
        let org = app.user(who).await.unwrap().organisation_id;
        let query = "{ referrals(first: 100) { edges { node { client { id referrals(first: 100) {
            totalCount edges { node { id sender { id } recipient { id } events { referral { id } } } } } } } } } }";
        let response = app.query(who, query, json!({})).await;
        assert_ok(&response);
        for node in nodes(&response, &["referrals"]) {
            let nested = &node["client"]["referrals"];
            for inner in nested["edges"].as_array().unwrap() {
                let id: Uuid = inner["node"]["id"].as_str().unwrap().parse().unwrap();
                let r = referrals.iter().find(|r| r.id == id).unwrap();
                assert!(r.sender_id == org || r.recipient_id == org, "{who:?} reached {id}");
            }
            let client: Uuid =
                node["client"]["id"].as_str().unwrap_or_else(|| panic!("{node}")).parse().unwrap();
            let expected = referrals
                .iter()
                .filter(|r| r.client_id == client && (r.sender_id == org || r.recipient_id == org))
                .count();
            assert_eq!(nested["totalCount"].as_u64().unwrap() as usize, expected);
        }
    }
}

#[tokio::test]
async fn a_client_whose_every_selected_field_is_forbidden_is_still_an_object() {
    let app = TestApp::spawn().await;
    let response = app
        .query(Who::Caw, "{ referrals(first: 100) { edges { node { client { givenName } } } } }", json!({}))
        .await;
    let errors = error_paths(&response);
    assert!(!errors.is_empty(), "the demo has CAW referrals without IDENTITY consent");
    for (path, code) in errors {
        assert_eq!(code, "FORBIDDEN");
        let index: usize = path.split('.').nth(2).unwrap().parse().unwrap();
        let client = &response["data"]["referrals"]["edges"][index]["node"]["client"];
        assert_eq!(client, &json!({ "givenName": null }), "{path}");
    }
}

#[test]
fn the_committed_sdl_is_what_the_code_builds() {
    let built = schema::sdl();
    assert!(
        built == schema::COMMITTED_SDL,
        "schema/schema.graphql is out of date: run `bash schema/refresh.sh`"
    );
}

#[test]
fn the_sdl_has_the_contract_essentials() {
    let sdl = schema::sdl();
    for needle in [
        "enum Role",
        "enum LifeDomain",
        "enum ConsentScope",
        "enum ReferralStatus",
        "enum RejectionReason",
        "enum OrganisationKind",
        "type ReferralConnection",
        "totalCount: Int!",
        "pageInfo: PageInfo!",
        "type Me",
        "organisations(",
        "services(",
        "clients(",
        "referrals(",
        "nationalRegisterNumber: String",
    ] {
        assert!(sdl.contains(needle), "the SDL lacks `{needle}`");
    }
}

const ROLES: [entities::Role; 6] = [
    entities::Role::Public,
    entities::Role::Partner,
    entities::Role::Intake,
    entities::Role::CaseWorker,
    entities::Role::Analyst,
    entities::Role::Admin,
];

#[tokio::test]
async fn the_committed_sdl_of_each_role_is_what_introspection_shows_it() {
    for role in ROLES {
        let path = format!("{}/schema/schema.{}.graphql", env!("CARGO_MANIFEST_DIR"), role.as_str());
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == schema::sdl_for(role).await,
            "{path} is out of date: run `bash schema/refresh.sh`"
        );
    }
}

#[tokio::test]
async fn a_role_does_not_see_the_types_it_can_never_read() {
    for role in ROLES {
        let sdl = schema::sdl_for(role).await;
        let has = |needle: &str| sdl.contains(needle);
        let client_data = matches!(
            role,
            entities::Role::Partner
                | entities::Role::Intake
                | entities::Role::CaseWorker
                | entities::Role::Admin
        );
        for ty in [
            "type Client ",
            "type Referral ",
            "type Consent ",
            "type HelpRequest ",
            "type ReferralEvent ",
            "input ClientFilter",
        ] {
            assert_eq!(has(ty), client_data, "{role}: {ty}");
        }
        assert_eq!(has("type CaseNote "), client_data && role != entities::Role::Partner, "{role}: CaseNote");
        // Everyone sees the social map.
        for ty in ["type Service ", "type Organisation ", "input ServiceFilter", "type Me "] {
            assert!(has(ty), "{role}: {ty}");
        }
    }
}

#[tokio::test]
async fn introspection_over_http_is_shaped_by_the_callers_role() {
    use crate::helpers::{TestApp, Who};
    let app = TestApp::spawn().await;
    let query = r#"{ client: __type(name: "Client") { name } note: __type(name: "CaseNote") { name }
        __schema { queryType { fields { name } } } }"#;
    for (who, client, note) in [
        (Who::Public, false, false),
        (Who::Analyst, false, false),
        (Who::Dyzo, true, false),
        (Who::Intake, true, true),
    ] {
        let (_, body) = app.post_as(who, query, serde_json::json!({})).await;
        assert_eq!(!body["data"]["client"].is_null(), client, "{who:?}: {body}");
        assert_eq!(!body["data"]["note"].is_null(), note, "{who:?}");
        let fields: Vec<&str> = body["data"]["__schema"]["queryType"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(fields.contains(&"clients"), client, "{who:?}: {fields:?}");
        assert!(fields.contains(&"services"));
    }
}

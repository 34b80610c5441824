//! Running the network through the API: organisations and the people who sign in, added,
//! changed and deactivated by ADMIN, each change reaching the person at their next operation on
//! every transport; the last administrator kept; the house bootstrapped from the command line.

use entities::{audit_entry, organisation, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{SECRET, TestApp, TestDatabase, Transport, Who, assert_ok, codes, post_to, ws_query};

const CREATE_ORGANISATION: &str = "mutation($input: OrganisationInput!) { createOrganisation(input: $input) { id name kind kindLabel isNetworkPartner active } }";
const UPDATE_ORGANISATION: &str = "mutation($id: ID!, $input: OrganisationInput!) { updateOrganisation(id: $id, input: $input) { id name kind } }";
const DEACTIVATE_ORGANISATION: &str = "mutation($id: ID!) { deactivateOrganisation(id: $id) { id active } }";
const REACTIVATE_ORGANISATION: &str = "mutation($id: ID!) { reactivateOrganisation(id: $id) { id active } }";
const ADD_USER: &str = "mutation($input: AddUserInput!) { addUser(input: $input) { id email role active organisation { name } } }";
const CHANGE_ROLE: &str =
    "mutation($id: ID!, $role: Role!) { changeUserRole(id: $id, role: $role) { id role } }";
const DEACTIVATE_USER: &str = "mutation($id: ID!) { deactivateUser(id: $id) { id active } }";
const REACTIVATE_USER: &str = "mutation($id: ID!) { reactivateUser(id: $id) { id active } }";
const RESET_SIGN_IN: &str = "mutation($id: ID!) { resetUserSignIn(id: $id) { id signInLinked } }";
const USERS: &str = "query($org: ID) { users(organisationId: $org, first: 100) { totalCount edges { node { email role active } } } }";
const ME: &str = "{ me { role organisation { name kindLabel } } }";

fn integration() -> Value {
    json!({ "name": "Integratie en Inburgering", "kind": "OTHER", "kindLabel": "Integratie en Inburgering",
            "isNetworkPartner": true, "website": "https://www.integratie-inburgering.be", "email": "Info@Inburgering.be" })
}

fn first_code(response: &Value) -> String {
    codes(response).first().cloned().unwrap_or_else(|| "OK".into())
}

/// What `token` gets over HTTP and over a fresh WebSocket (a `connection_init` refused counts
/// as `UNAUTHENTICATED`: the protocol closes such a socket with 4403).
async fn over_both(app: &TestApp, token: &str, query: &str) -> [Value; 2] {
    let addr = app.addr.to_string();
    let websocket = match crate::subscriptions::connect(&addr, Some(token)).await {
        Ok(socket) => {
            drop(socket);
            ws_query(&addr, Some(token), query, json!({})).await
        }
        Err(_) => json!({ "errors": [{ "extensions": { "code": "UNAUTHENTICATED" } }] }),
    };
    [post_to(&app.http, &addr, Some(token), query, json!({})).await.1, websocket]
}

/// Sends `query` on an open socket; the close code it gets, or `None` when it is answered.
async fn close_code_after(socket: &mut crate::subscriptions::Socket, id: &str, query: &str) -> Option<u16> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let message = json!({ "id": id, "type": "subscribe", "payload": { "query": query } });
    socket.send(Message::text(message.to_string())).await.ok()?;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), socket.next()).await.ok()?? {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(Message::Text(text)) if text.contains("\"next\"") || text.contains("\"error\"") => {
                return None;
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn an_admin_onboards_a_partner_and_takes_access_away_again() {
    let app = TestApp::spawn().await;
    let created = app.query(Who::Admin, CREATE_ORGANISATION, json!({ "input": integration() })).await;
    assert_ok(&created);
    let org = created["data"]["createOrganisation"].clone();
    assert_eq!(
        (&org["kind"], &org["kindLabel"], &org["isNetworkPartner"], &org["active"]),
        (&json!("OTHER"), &json!("Integratie en Inburgering"), &json!(true), &json!(true))
    );
    let input = json!({ "name": "Sara Peeters", "email": " Sara.Peeters@Inburgering.be ", "role": "PARTNER", "organisationId": org["id"] });
    let added = app.query(Who::Admin, ADD_USER, json!({ "input": input })).await;
    assert_ok(&added);
    assert_eq!(added["data"]["addUser"]["email"], "sara.peeters@inburgering.be");
    let sara = Uuid::parse_str(added["data"]["addUser"]["id"].as_str().unwrap()).unwrap();
    let token = app.tokens.issue(sara, chrono::Duration::hours(1)).unwrap();

    // She works at once, on both doors, and the house can refer to her organisation.
    for response in over_both(&app, &token, ME).await {
        assert_eq!(
            response["data"]["me"]["organisation"]["kindLabel"], "Integratie en Inburgering",
            "{response}"
        );
        assert_eq!(response["data"]["me"]["role"], "PARTNER");
    }
    let users = app.query(Who::Admin, USERS, json!({ "org": org["id"] })).await;
    assert_eq!(users["data"]["users"]["totalCount"], 1, "{users}");

    // A partner organisation's people are partners.
    let staff = app.query(Who::Admin, CHANGE_ROLE, json!({ "id": sara, "role": "CASE_WORKER" })).await;
    assert_eq!(staff["errors"][0]["extensions"]["field"], "role", "{staff}");

    // Deactivated: refused at her next operation on every door; back when reactivated.
    assert_ok(&app.query(Who::Admin, DEACTIVATE_USER, json!({ "id": sara })).await);
    for response in over_both(&app, &token, ME).await {
        assert_eq!(first_code(&response), "UNAUTHENTICATED", "{response}");
    }
    assert_ok(&app.query(Who::Admin, REACTIVATE_USER, json!({ "id": sara })).await);
    for response in over_both(&app, &token, ME).await {
        assert_eq!(first_code(&response), "OK", "{response}");
    }

    // The organisation deactivated: its people are out (a socket open since before closes at its
    // next operation), it receives no new referral; its history stays. Reactivated: back.
    let mut open = crate::subscriptions::connect(&app.addr.to_string(), Some(&token)).await.unwrap();
    assert_eq!(close_code_after(&mut open, "1", ME).await, None, "answered while active");
    let deactivated = app.query(Who::Admin, DEACTIVATE_ORGANISATION, json!({ "id": org["id"] })).await;
    assert_eq!(deactivated["data"]["deactivateOrganisation"]["active"], false, "{deactivated}");
    for response in over_both(&app, &token, ME).await {
        assert_eq!(first_code(&response), "UNAUTHENTICATED", "{response}");
    }
    assert_eq!(close_code_after(&mut open, "2", ME).await, Some(4403));
    let client = app.query(Who::Intake, "{ clients(first: 1) { edges { node { id } } } }", json!({})).await;
    let client_id = client["data"]["clients"]["edges"][0]["node"]["id"].clone();
    let referral = app
        .query(
            Who::Intake,
            "mutation($c: ID!, $o: ID!) { createReferral(input: { clientId: $c, recipientId: $o, lifeDomain: PARTICIPATION, reason: \"Inburgering\" }) { id } }",
            json!({ "c": client_id, "o": org["id"] }),
        )
        .await;
    assert_eq!(referral["errors"][0]["extensions"]["field"], "input.recipientId", "{referral}");
    let consent = app
        .query(
            Who::Intake,
            "mutation($c: ID!, $o: ID!) { recordConsent(input: { clientId: $c, recipientId: $o, scopes: [IDENTITY] }) { id } }",
            json!({ "c": client_id, "o": org["id"] }),
        )
        .await;
    assert_eq!(consent["errors"][0]["extensions"]["field"], "input.recipientId", "{consent}");
    let partners = app
        .query(
            Who::Intake,
            "{ organisations(networkPartnersOnly: true, first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(!partners.to_string().contains(org["id"].as_str().unwrap()), "not offered as a partner");
    assert_ok(&app.query(Who::Admin, REACTIVATE_ORGANISATION, json!({ "id": org["id"] })).await);
    for response in over_both(&app, &token, ME).await {
        assert_eq!(first_code(&response), "OK", "{response}");
    }

    // A wrong link to an identity-provider account is undone without SQL.
    let mut linked: user::ActiveModel =
        user::Entity::find_by_id(sara).one(&app.db.conn).await.unwrap().unwrap().into();
    linked.oidc_subject = sea_orm::Set(Some("provider-sub-of-someone-else".into()));
    sea_orm::ActiveModelTrait::update(linked, &app.db.conn).await.unwrap();
    let reset = app.query(Who::Admin, RESET_SIGN_IN, json!({ "id": sara })).await;
    assert_eq!(reset["data"]["resetUserSignIn"]["signInLinked"], false, "{reset}");

    // Every change is in the audit log, by the administrator who made it.
    let admin = app.user(Who::Admin).await.unwrap().id;
    let entries = audit_entry::Entity::find()
        .filter(audit_entry::Column::UserId.eq(admin))
        .filter(audit_entry::Column::SubjectType.is_in(["Organisation", "User"]))
        .all(&app.db.conn)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["CREATE", "CREATE", "DEACTIVATE", "REACTIVATE", "DEACTIVATE", "REACTIVATE", "RESET_SIGN_IN"]
    );
}

#[tokio::test]
async fn bad_input_is_refused_naming_its_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let house = app.user(Who::Admin).await.unwrap().organisation_id;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let with = |field: &str, value: Value| {
        let mut input = integration();
        input[field] = value;
        json!({ "input": input })
    };
    let a_house = json!({ "name": "Tweede huis", "kind": "WELFARE_HOUSE", "isNetworkPartner": false });
    let user = |email: &str, role: &str, org: Uuid| json!({ "input": { "name": "Nieuw", "email": email, "role": role, "organisationId": org } });
    let cases = [
        (CREATE_ORGANISATION, with("name", json!(" ")), "BAD_USER_INPUT", Some("input.name")),
        (CREATE_ORGANISATION, with("email", json!("geen-adres")), "BAD_USER_INPUT", Some("input.email")),
        (
            CREATE_ORGANISATION,
            with("website", json!("javascript:alert(1)")),
            "BAD_USER_INPUT",
            Some("input.website"),
        ),
        (CREATE_ORGANISATION, with("kind", json!("CAW")), "BAD_USER_INPUT", Some("input.kindLabel")),
        (CREATE_ORGANISATION, json!({ "input": a_house.clone() }), "CONFLICT", None),
        (UPDATE_ORGANISATION, json!({ "id": caw, "input": a_house }), "CONFLICT", None),
        (UPDATE_ORGANISATION, json!({ "id": Uuid::new_v4(), "input": integration() }), "NOT_FOUND", None),
        (DEACTIVATE_ORGANISATION, json!({ "id": house }), "CONFLICT", None),
        (DEACTIVATE_ORGANISATION, json!({ "id": "not-an-id" }), "BAD_USER_INPUT", Some("id")),
        (ADD_USER, user("nieuw@caw.test", "PUBLIC", caw), "BAD_USER_INPUT", Some("input.role")),
        (ADD_USER, user("nieuw@caw.test", "INTAKE", caw), "BAD_USER_INPUT", Some("input.role")),
        (ADD_USER, user("nieuw@welzijnshuis.test", "PARTNER", house), "BAD_USER_INPUT", Some("input.role")),
        (ADD_USER, user("medewerker@CAW.test", "PARTNER", caw), "CONFLICT", None),
        (ADD_USER, user("twee@@caw.test", "PARTNER", caw), "BAD_USER_INPUT", Some("input.email")),
        (ADD_USER, user("nieuw1@caw.test\u{200b}", "PARTNER", caw), "BAD_USER_INPUT", Some("input.email")),
        (ADD_USER, user("ni\u{202e}euw@caw.test", "PARTNER", caw), "BAD_USER_INPUT", Some("input.email")),
        (
            ADD_USER,
            user("nieuw@caw.test", "PARTNER", Uuid::new_v4()),
            "BAD_USER_INPUT",
            Some("input.organisationId"),
        ),
        (CHANGE_ROLE, json!({ "id": Uuid::new_v4(), "role": "ADMIN" }), "NOT_FOUND", None),
        (DEACTIVATE_USER, json!({ "id": Uuid::new_v4() }), "NOT_FOUND", None),
    ];
    let before = counts(&app).await;
    for (query, variables, code, field) in cases {
        let response = app.query(Who::Admin, query, variables.clone()).await;
        assert_eq!(first_code(&response), code, "{variables}: {response}");
        if let Some(field) = field {
            assert_eq!(response["errors"][0]["extensions"]["field"], field, "{response}");
        }
    }
    assert_eq!(counts(&app).await, before);
}

/// How many organisations and users there are.
async fn counts(app: &TestApp) -> (u64, u64) {
    use sea_orm::PaginatorTrait;
    let organisations = organisation::Entity::find().count(&app.db.conn).await.unwrap();
    (organisations, user::Entity::find().count(&app.db.conn).await.unwrap())
}

#[tokio::test]
async fn the_last_active_admin_keeps_the_role() {
    let app = TestApp::spawn().await;
    let admin = app.user(Who::Admin).await.unwrap();
    for (query, variables) in [
        (DEACTIVATE_USER, json!({ "id": admin.id })),
        (CHANGE_ROLE, json!({ "id": admin.id, "role": "CASE_WORKER" })),
    ] {
        let response = app.query(Who::Admin, query, variables).await;
        assert_eq!(first_code(&response), "CONFLICT", "{response}");
        assert!(response["errors"][0]["message"].as_str().unwrap().contains("last active ADMIN"));
    }
    // With a second administrator, either may go, but not both, even at the same moment.
    let input = json!({ "name": "Tweede beheerder", "email": "beheer2@welzijnshuis.test", "role": "ADMIN", "organisationId": admin.organisation_id });
    let second = app.query(Who::Admin, ADD_USER, json!({ "input": input })).await;
    assert_ok(&second);
    let second = Uuid::parse_str(second["data"]["addUser"]["id"].as_str().unwrap()).unwrap();
    let second_token = app.tokens.issue(second, chrono::Duration::hours(1)).unwrap();
    let first_token = app.token(Who::Admin).await.unwrap();
    let addr = app.addr.to_string();
    let (a, b) = tokio::join!(
        post_to(&app.http, &addr, Some(&first_token), DEACTIVATE_USER, json!({ "id": second })),
        post_to(&app.http, &addr, Some(&second_token), DEACTIVATE_USER, json!({ "id": admin.id })),
    );
    let outcomes = [first_code(&a.1), first_code(&b.1)];
    assert!(outcomes.contains(&"OK".to_string()), "{outcomes:?}");
    let active_admins = user::Entity::find()
        .filter(user::Column::Role.eq(entities::Role::Admin))
        .filter(user::Column::Active.eq(true))
        .all(&app.db.conn)
        .await
        .unwrap();
    assert_eq!(active_admins.len(), 1, "{outcomes:?}: exactly one administrator left");
}

/// Every role against the administration paths, over both doors: only ADMIN sees them at all.
#[tokio::test]
async fn only_admin_sees_and_runs_the_administration() {
    let app = TestApp::spawn().await;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let made_up = Uuid::new_v4();
    let cases: [(&str, &str, Value, &str); 10] = [
        ("resetUserSignIn", RESET_SIGN_IN, json!({ "id": made_up }), "NOT_FOUND"),
        ("users", USERS, json!({}), "OK"),
        ("users(organisationId)", USERS, json!({ "org": caw }), "OK"),
        (
            "createOrganisation (bad input)",
            CREATE_ORGANISATION,
            json!({ "input": { "name": "", "kind": "OTHER", "isNetworkPartner": false } }),
            "BAD_USER_INPUT",
        ),
        (
            "updateOrganisation",
            UPDATE_ORGANISATION,
            json!({ "id": made_up, "input": integration() }),
            "NOT_FOUND",
        ),
        ("deactivateOrganisation", DEACTIVATE_ORGANISATION, json!({ "id": made_up }), "NOT_FOUND"),
        (
            "addUser (bad input)",
            ADD_USER,
            json!({ "input": { "name": "X", "email": "x", "role": "PARTNER", "organisationId": caw } }),
            "BAD_USER_INPUT",
        ),
        ("changeUserRole", CHANGE_ROLE, json!({ "id": made_up, "role": "INTAKE" }), "NOT_FOUND"),
        ("deactivateUser", DEACTIVATE_USER, json!({ "id": made_up }), "NOT_FOUND"),
        ("reactivateUser", REACTIVATE_USER, json!({ "id": made_up }), "NOT_FOUND"),
    ];
    for transport in Transport::BOTH {
        for who in Who::ALL {
            for (name, query, variables, admin_gets) in &cases {
                let response = app.query_over(transport, who, query, variables.clone()).await;
                let got = match first_code(&response) {
                    code if code != "OK" && crate::helpers::denied(&response) == "HIDDEN" => {
                        "HIDDEN".to_owned()
                    }
                    code => code,
                };
                let expected = if who == Who::Admin { *admin_gets } else { "HIDDEN" };
                assert_eq!(got, expected, "{transport:?} {who:?} {name}: {response}");
            }
        }
    }
    // The users list counts exactly the rows there are.
    let all = app.query(Who::Admin, USERS, json!({})).await;
    assert_eq!(all["data"]["users"]["totalCount"].as_u64().unwrap(), counts(&app).await.1);
}

#[tokio::test]
async fn the_command_line_bootstraps_the_house_and_its_first_administrator() {
    let database = TestDatabase::create().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"))
            .args(args)
            .env("DATABASE_URL", &database.url)
            .env("WELZIJNSHUIS_JWT_SECRET", SECRET)
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
    };
    let first = ["user", "add", "Beheer@Roeselare.be", "--name", "Eerste Beheerder", "--role", "ADMIN"];
    let refused = run(&first);
    assert!(!refused.status.success(), "an organisation is needed");
    let analyst =
        ["user", "add", "a@roeselare.be", "--name", "A", "--role", "ANALYST", "--new-welfare-house", "W"];
    assert!(!run(&analyst).status.success(), "a house is founded by its administrator");
    let mut bootstrap = first.to_vec();
    bootstrap.extend(["--new-welfare-house", "Welzijnshuis Roeselare"]);
    let added = run(&bootstrap);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    assert!(String::from_utf8_lossy(&added.stdout).contains("added beheer@roeselare.be (ADMIN)"));

    // One house only: a second bootstrap is refused and writes nothing.
    let mut again = bootstrap.clone();
    again[2] = "tweede@roeselare.be";
    let twice = run(&again);
    assert!(!twice.status.success());
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("welfare house already"),
        "{}",
        String::from_utf8_lossy(&twice.stderr)
    );

    // The administrator signs in and runs the network from there.
    let token = run(&["token", "beheer@roeselare.be"]);
    assert!(token.status.success(), "{}", String::from_utf8_lossy(&token.stderr));
    let db = sea_orm::Database::connect(&database.url).await.unwrap();
    let organisations = organisation::Entity::find().all(&db).await.unwrap();
    assert_eq!(organisations.len(), 1, "no demo data: only the house");
    assert_eq!(organisations[0].kind, entities::OrganisationKind::WelfareHouse);
    let house = organisations[0].id.to_string();
    let partner =
        run(&["user", "add", "x@caw.test", "--name", "X", "--role", "PARTNER", "--organisation", &house]);
    assert!(!partner.status.success(), "a partner does not belong to the house");
    let audit = audit_entry::Entity::find().all(&db).await.unwrap();
    let trail: Vec<(&str, &str, Option<&str>)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.subject_type.as_str(), e.operation_name.as_deref()))
        .collect();
    assert_eq!(
        trail,
        [
            ("CREATE", "Organisation", Some("welzijnshuis user add")),
            ("CREATE", "User", Some("welzijnshuis user add"))
        ]
    );
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_deactivated_partner_takes_no_bookings() {
    let app = TestApp::spawn().await;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id;
    let slots = app
        .query(Who::Intake, "{ officeHours(from: \"2030-01-07T00:00:00Z\", to: \"2030-01-21T00:00:00Z\") { startsAt free organisation { id } } }", json!({}))
        .await;
    let slot = slots["data"]["officeHours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["organisation"]["id"] == caw.to_string() && s["free"] == true)
        .expect("CAW holds office hours")["startsAt"]
        .clone();
    let client = app.query(Who::Intake, "{ clients(first: 1) { edges { node { id } } } }", json!({})).await;
    let client = client["data"]["clients"]["edges"][0]["node"]["id"].clone();
    let book = "mutation($c: ID!, $o: ID!, $s: DateTime!) { bookAppointment(input: { clientId: $c, organisationId: $o, startsAt: $s }) { id } }";
    assert_ok(&app.query(Who::Admin, DEACTIVATE_ORGANISATION, json!({ "id": caw })).await);
    let refused = app.query(Who::Intake, book, json!({ "c": client, "o": caw, "s": slot })).await;
    assert_eq!(
        refused["errors"][0]["message"], "input.organisationId: no such active organisation",
        "{refused}"
    );
    assert_ok(&app.query(Who::Admin, REACTIVATE_ORGANISATION, json!({ "id": caw })).await);
    assert_ok(&app.query(Who::Intake, book, json!({ "c": client, "o": caw, "s": slot })).await);
}

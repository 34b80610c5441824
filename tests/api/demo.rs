use std::collections::HashSet;

use chrono::{Duration, Utc};
use entities::*;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::TestApp;

#[tokio::test]
async fn the_demo_network_is_the_contracts() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let orgs = organisation::Entity::find().all(db).await.unwrap();
    let users = user::Entity::find().all(db).await.unwrap();
    for (org_name, kind, email, role) in [
        ("Welzijnshuis Waregem", OrganisationKind::WelfareHouse, "admin@welzijnshuis.test", Role::Admin),
        ("Welzijnshuis Waregem", OrganisationKind::WelfareHouse, "onthaal@welzijnshuis.test", Role::Intake),
        (
            "Welzijnshuis Waregem",
            OrganisationKind::WelfareHouse,
            "maatschappelijk.werker@welzijnshuis.test",
            Role::CaseWorker,
        ),
        ("Welzijnshuis Waregem", OrganisationKind::WelfareHouse, "analist@welzijnshuis.test", Role::Analyst),
        ("CAW Zuid-West-Vlaanderen", OrganisationKind::Caw, "medewerker@caw.test", Role::Partner),
        (
            "Federale Pensioendienst",
            OrganisationKind::PensionService,
            "medewerker@pensioendienst.test",
            Role::Partner,
        ),
        ("dyzo", OrganisationKind::Dyzo, "medewerker@dyzo.test", Role::Partner),
        ("Woonclub Waregem", OrganisationKind::Housing, "medewerker@woonclub.test", Role::Partner),
    ] {
        let org = orgs.iter().find(|o| o.name == org_name).unwrap_or_else(|| panic!("{org_name} missing"));
        assert_eq!(org.kind, kind);
        let user = users.iter().find(|u| u.email == email).unwrap_or_else(|| panic!("{email} missing"));
        assert_eq!((user.role, user.organisation_id, user.active), (role, org.id, true), "{email}");
    }
}

#[tokio::test]
async fn the_demo_social_map_has_forty_services_with_places_and_hours() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let services = service::Entity::find().all(db).await.unwrap();
    assert!(services.len() >= 40, "{} services", services.len());
    let located: HashSet<_> = service_at_location::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.service_id)
        .collect();
    let scheduled: HashSet<_> =
        schedule::Entity::find().all(db).await.unwrap().into_iter().map(|s| s.service_id).collect();
    let with_domain: HashSet<_> = service_life_domain::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.service_id)
        .collect();
    for service in &services {
        assert!(scheduled.contains(&service.id), "{} has no opening hours", service.name);
        assert!(with_domain.contains(&service.id), "{} has no life domain", service.name);
    }
    // All but phone lines have a place; every location has coordinates.
    assert!(located.len() >= services.len() - 2);
    for location in location::Entity::find().all(db).await.unwrap() {
        assert!(location.latitude.is_some() && location.longitude.is_some());
    }
    // Each of the four partners holds office hours at the welfare house.
    let hours = office_hour::Entity::find().all(db).await.unwrap();
    let partners = organisation::Entity::find()
        .filter(organisation::Column::Kind.is_in([
            OrganisationKind::Caw,
            OrganisationKind::PensionService,
            OrganisationKind::Dyzo,
            OrganisationKind::Housing,
        ]))
        .filter(organisation::Column::IsNetworkPartner.eq(true))
        .all(db)
        .await
        .unwrap();
    assert_eq!(partners.len(), 4);
    for partner in partners {
        assert!(
            hours.iter().any(|h| h.organisation_id == partner.id),
            "{} has no office hours",
            partner.name
        );
    }
}

#[tokio::test]
async fn the_demo_trajectories_cover_every_status_over_six_months() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let referrals = referral::Entity::find().all(db).await.unwrap();
    assert!(referrals.len() >= 50);
    let statuses: HashSet<_> = referrals.iter().map(|r| r.status).collect();
    assert_eq!(statuses.len(), ReferralStatus::ALL.len(), "every status: {statuses:?}");
    let recipients: HashSet<_> = referrals.iter().map(|r| r.recipient_id).collect();
    assert_eq!(recipients.len(), 4, "spread over the four partners");
    let now = Utc::now();
    let oldest = referrals.iter().map(|r| r.created_at).min().unwrap();
    assert!(now - oldest > Duration::days(120) && now - oldest <= Duration::days(200), "oldest {oldest}");

    let events = referral_event::Entity::find().all(db).await.unwrap();
    let consents = consent::Entity::find().all(db).await.unwrap();
    for referral in &referrals {
        let mine: Vec<_> = events.iter().filter(|e| e.referral_id == referral.id).collect();
        assert_eq!(mine.len() as i32, referral.version, "one event per version");
        assert!(mine.iter().any(|e| e.from_status.is_none() && e.to_status == ReferralStatus::Requested));
        assert!(mine.iter().any(|e| e.to_status == referral.status));
        if matches!(referral.status, ReferralStatus::Rejected | ReferralStatus::Completed) {
            assert!(referral.outcome_note.is_some(), "closing the loop needs a note");
        }
        assert!(
            consents
                .iter()
                .any(|c| c.client_id == referral.client_id && c.recipient_id == referral.recipient_id),
            "a referral rests on a consent"
        );
    }
    assert!(help_request::Entity::find().count(db).await.unwrap() > 0);
    assert!(case_note::Entity::find().count(db).await.unwrap() > 0);
}

#[tokio::test]
async fn the_demo_is_loaded_into_an_empty_database_only() {
    let app = TestApp::spawn().await;
    let before = referral::Entity::find().count(&app.db.conn).await.unwrap();
    let again = welzijnshuis::demo::load_if_empty(&app.db.conn).await.unwrap();
    assert!(again.is_none());
    assert_eq!(referral::Entity::find().count(&app.db.conn).await.unwrap(), before);
}

#[tokio::test]
async fn demo_national_register_numbers_are_valid() {
    let app = TestApp::spawn().await;
    for client in client::Entity::find().all(&app.db.conn).await.unwrap() {
        if let Some(number) = client.national_register_number {
            resolvers::national_number::NationalRegisterNumber::parse(&number)
                .unwrap_or_else(|e| panic!("{number}: {e}"));
        }
    }
}

const OWN_FILE: &str = "query MyFile { me { role client { id
    referrals(first: 50) { totalCount edges { node { status recipient { name } events { toStatus noteForClient } } } }
    consents { givenBy revokedBy active }
    caseNotes { body sharedWithClient }
    appointments { startsAt organisation { name } } } }
  myAccessLog(first: 50) { totalCount edges { node { action role categories organisation { name } } } } }";

#[tokio::test]
async fn each_demo_citizen_in_the_readme_gets_a_token_and_sees_their_own_file() {
    let app = TestApp::spawn().await;
    let readme = include_str!("../../README.md");
    assert!(welzijnshuis::demo::CITIZENS.len() >= 3);
    for citizen in welzijnshuis::demo::CITIZENS {
        let number = citizen.national_register_number();
        assert!(readme.contains(&number), "README lists {number}");
        // The token as the README says to get it: `welzijnshuis token --client <number>`.
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"))
            .args(["token", "--client", &number])
            .env("DATABASE_URL", &app.database.url)
            .env("WELZIJNSHUIS_JWT_SECRET", crate::helpers::SECRET)
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        assert!(output.status.success(), "{number}: {}", String::from_utf8_lossy(&output.stderr));
        let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        let (status, body) =
            app.post(Some(&format!("Bearer {token}")), OWN_FILE, serde_json::json!({})).await;
        assert_eq!(status, 200, "{number}: {body}");
        assert!(crate::helpers::codes(&body).is_empty(), "{number}: {body}");
        let me = &body["data"]["me"];
        assert_eq!(me["role"], "CLIENT");
        let client = &me["client"];
        let db_client = client::Entity::find()
            .filter(client::Column::NationalRegisterNumber.eq(number.as_str()))
            .one(&app.db.conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client["id"], db_client.id.to_string());

        let referrals: Vec<_> =
            client["referrals"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
        let partners: HashSet<_> =
            referrals.iter().map(|r| r["recipient"]["name"].as_str().unwrap()).collect();
        let statuses: HashSet<_> = referrals.iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert!(partners.len() >= 2 && statuses.len() >= 3, "{number}: {partners:?} {statuses:?}");
        let events = referrals.iter().flat_map(|r| r["events"].as_array().unwrap());
        assert!(
            events.clone().any(|e| e["noteForClient"].is_string()),
            "{number}: a word on an answered step"
        );

        let consents = client["consents"].as_array().unwrap();
        let given_by = |who: &str| consents.iter().any(|c| c["givenBy"] == who);
        assert!(given_by("CLIENT") && given_by("STAFF"), "{number}: {consents:?}");
        assert!(consents.iter().any(|c| c["revokedBy"] == "CLIENT" && c["active"] == false), "{number}");

        let notes = client["caseNotes"].as_array().unwrap();
        assert!(
            !notes.is_empty() && notes.iter().all(|n| n["sharedWithClient"] == true),
            "{number}: {notes:?}"
        );
        let hidden = case_note::Entity::find()
            .filter(case_note::Column::ClientId.eq(db_client.id))
            .filter(case_note::Column::SharedWithClient.eq(false))
            .count(&app.db.conn)
            .await
            .unwrap();
        assert!(hidden > 0, "{number}: a note not shared with them, which they do not see");
        assert!(!client["appointments"].as_array().unwrap().is_empty(), "{number}: an appointment");

        let log: Vec<_> =
            body["data"]["myAccessLog"]["edges"].as_array().unwrap().iter().map(|e| &e["node"]).collect();
        assert!(log.iter().any(|e| e["role"] == "PARTNER" && e["action"] == "READ"), "{number}: {log:?}");
        assert!(log.iter().any(|e| e["role"] == "INTAKE"), "{number}: {log:?}");
        assert!(log.iter().all(|e| e["categories"].as_array().is_some_and(|c| !c.is_empty())));
    }
}

#[tokio::test]
async fn a_demo_client_is_referred_to_two_partners() {
    let app = TestApp::spawn().await;
    let client = app.demo_client().await;
    let number = client.national_register_number.unwrap();
    assert!(welzijnshuis::demo::CITIZENS.iter().any(|c| c.national_register_number() == number));
}

//! Office hours ("zitdagen"): slots in Brussels time, booking without double booking.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Brussels;
use entities::office_hour;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, assert_ok, codes, nodes};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn hours(weekday: i32, from: i32, to: i32, slot: i32) -> office_hour::Model {
    office_hour::Model {
        id: uuid::Uuid::nil(),
        organisation_id: uuid::Uuid::nil(),
        location_id: uuid::Uuid::nil(),
        weekday,
        starts_minute: from,
        ends_minute: to,
        slot_minutes: slot,
        valid_from: None,
        valid_to: None,
    }
}

#[test]
fn slots_keep_to_the_wall_clock_across_daylight_saving() {
    use resolvers::office_hours::slots;
    // Tuesdays 9:00–10:00 in 30-minute slots; summer time starts on Sunday 28 March 2027.
    let tuesday = hours(2, 9 * 60, 10 * 60, 30);
    let found = slots(&[tuesday], utc("2027-03-22T00:00:00Z"), utc("2027-04-03T00:00:00Z"));
    let starts: Vec<String> = found.iter().map(|s| s.starts_at.to_rfc3339()).collect();
    assert_eq!(
        starts,
        vec![
            "2027-03-23T08:00:00+00:00",
            "2027-03-23T08:30:00+00:00", // CET, UTC+1
            "2027-03-30T07:00:00+00:00",
            "2027-03-30T07:30:00+00:00", // CEST, UTC+2
        ]
    );
    assert!(found.iter().all(|s| s.ends_at - s.starts_at == Duration::minutes(30)));
    // A local time that does not exist that night gives no slot; the doubled autumn hour one.
    let sunday_night = hours(7, 2 * 60, 3 * 60, 60);
    assert!(
        slots(&[sunday_night.clone()], utc("2027-03-27T00:00:00Z"), utc("2027-03-29T00:00:00Z")).is_empty()
    );
    let autumn = slots(&[sunday_night], utc("2027-10-30T00:00:00Z"), utc("2027-11-01T00:00:00Z"));
    assert_eq!(autumn.len(), 1);
    assert_eq!(autumn[0].starts_at, utc("2027-10-31T00:00:00Z"), "02:00 CEST, the first of the two");
    // A window bounds the slots exactly; a slot that would run past closing is not offered.
    let odd = hours(2, 9 * 60, 10 * 60 + 10, 20);
    assert_eq!(slots(&[odd], utc("2027-03-23T08:00:00Z"), utc("2027-03-23T09:10:00Z")).len(), 3);
}

/// The next Tuesday (after tomorrow) at 9:00 Brussels time, as UTC.
fn next_tuesday_nine() -> DateTime<Utc> {
    let mut day: NaiveDate = (Utc::now() + Duration::days(2)).with_timezone(&Brussels).date_naive();
    while day.weekday().number_from_monday() != 2 {
        day = day.succ_opt().unwrap();
    }
    Brussels.from_local_datetime(&day.and_hms_opt(9, 0, 0).unwrap()).earliest().unwrap().with_timezone(&Utc)
}

const SLOTS: &str = "query($org: ID, $from: DateTime!, $to: DateTime!) { officeHours(organisationId: $org, from: $from, to: $to) {
    startsAt endsAt free organisation { name } } }";
const BOOK: &str = "mutation($input: BookAppointmentInput!) { bookAppointment(input: $input) { id startsAt endsAt organisation { name } } }";

#[tokio::test]
async fn everyone_sees_the_slots_and_a_booking_takes_one() {
    let app = TestApp::spawn().await;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id.to_string();
    let nine = next_tuesday_nine();
    let window = json!({ "org": caw, "from": nine - Duration::hours(2), "to": nine + Duration::hours(4) });
    let before = app.query(Who::Public, SLOTS, window.clone()).await;
    assert_ok(&before);
    let slots = before["data"]["officeHours"].as_array().unwrap().clone();
    assert_eq!(slots.len(), 6, "Tuesday 9:00–12:00 in 30-minute slots: {slots:?}");
    assert!(
        slots.iter().all(|s| s["free"] == true && s["organisation"]["name"] == "CAW Zuid-West-Vlaanderen")
    );
    assert_eq!(utc(slots[0]["startsAt"].as_str().unwrap()), nine);

    let client = nodes(
        &app.query(Who::Intake, "{ clients(first: 1) { edges { node { id } } } }", json!({})).await,
        &["clients"],
    )[0]["id"]
        .clone();
    let booked = app
        .query(
            Who::Intake,
            BOOK,
            json!({ "input": { "clientId": client, "organisationId": caw, "startsAt": nine } }),
        )
        .await;
    assert_ok(&booked);
    let id = booked["data"]["bookAppointment"]["id"].clone();

    let after = app.query(Who::Public, SLOTS, window.clone()).await;
    let free: Vec<bool> = after["data"]["officeHours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["free"].as_bool().unwrap())
        .collect();
    assert_eq!(free, vec![false, true, true, true, true, true]);

    // Who booked: the partner whose hours they are sees it, another partner and the public do not.
    let who_booked = "query($org: ID, $from: DateTime!, $to: DateTime!) { officeHours(organisationId: $org, from: $from, to: $to) { free appointment { id client { id } } } }";
    let own = app.query(Who::Caw, who_booked, window.clone()).await;
    assert_ok(&own);
    assert_eq!(own["data"]["officeHours"][0]["appointment"]["id"], id);
    let other = app.query(Who::Dyzo, who_booked, window.clone()).await;
    assert_eq!(codes(&other), vec!["FORBIDDEN"]);
    assert_eq!(other["data"]["officeHours"][0]["appointment"], Value::Null);
    assert_eq!(other["data"]["officeHours"][1]["appointment"], Value::Null, "a free slot has no booking");
    // The public's schema has no bookings at all.
    assert_eq!(crate::helpers::denied(&app.query(Who::Public, who_booked, window.clone()).await), "HIDDEN");

    // Cancelling frees the slot; cancelling twice is a conflict.
    let cancel = "mutation($id: ID!) { cancelAppointment(id: $id) { cancelledAt } }";
    assert_ok(&app.query(Who::Caw, cancel, json!({ "id": id })).await);
    assert_eq!(codes(&app.query(Who::Caw, cancel, json!({ "id": id })).await), vec!["CONFLICT"]);
    let again = app.query(Who::Public, SLOTS, window).await;
    assert!(again["data"]["officeHours"].as_array().unwrap().iter().all(|s| s["free"] == true));
}

#[tokio::test]
async fn concurrent_bookings_of_one_slot_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let dyzo = app.user(Who::Dyzo).await.unwrap().organisation_id.to_string();
    // dyzo holds office hours on Mondays 9:00–12:00.
    let monday_nine = next_tuesday_nine() + Duration::days(6);
    let clients = app.query(Who::Intake, "{ clients(first: 6) { edges { node { id } } } }", json!({})).await;
    let token = format!("Bearer {}", app.token(Who::Intake).await.unwrap());
    let handles: Vec<_> = nodes(&clients, &["clients"])
        .into_iter()
        .map(|client| {
            let body = json!({ "query": BOOK, "variables": { "input": { "clientId": client["id"], "organisationId": dyzo, "startsAt": monday_nine } } });
            let (http, url, token) = (app.http.clone(), format!("http://{}/graphql", app.addr), token.clone());
            tokio::spawn(async move {
                http.post(url).header("Authorization", token).json(&body).send().await.unwrap().json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(codes(&handle.await.unwrap()));
    }
    assert_eq!(outcomes.iter().filter(|c| c.is_empty()).count(), 1, "{outcomes:?}");
    assert!(
        outcomes.iter().filter(|c| !c.is_empty()).all(|c| c == &vec!["CONFLICT".to_owned()]),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_booking_must_be_a_future_slot_of_ones_own_or_any_partner() {
    let app = TestApp::spawn().await;
    let caw = app.user(Who::Caw).await.unwrap().organisation_id.to_string();
    let pension = app.user(Who::Pension).await.unwrap().organisation_id.to_string();
    let client = nodes(
        &app.query(Who::Intake, "{ clients(first: 1) { edges { node { id } } } }", json!({})).await,
        &["clients"],
    )[0]["id"]
        .clone();
    let nine = next_tuesday_nine();
    let book = |who: Who, org: &str, at: DateTime<Utc>| {
        app.query(
            who,
            BOOK,
            json!({ "input": { "clientId": client, "organisationId": org, "startsAt": at } }),
        )
    };
    for (at, why) in [
        (nine + Duration::minutes(10), "not a slot start"),
        (nine + Duration::days(1), "no office hours on Wednesday"),
        (nine - Duration::days(14), "in the past"),
    ] {
        let response = book(Who::Intake, &caw, at).await;
        assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{why}");
        assert_eq!(response["errors"][0]["extensions"]["field"], "input.startsAt");
    }
    assert_eq!(
        codes(&book(Who::Caw, &pension, nine).await),
        vec!["FORBIDDEN"],
        "a partner books only its own hours"
    );
    assert_eq!(crate::helpers::denied(&book(Who::Analyst, &caw, nine).await), "HIDDEN");
    assert_eq!(crate::helpers::denied(&book(Who::Public, &caw, nine).await), "HIDDEN");
    let bad_window =
        app.query(Who::Public, SLOTS, json!({ "from": nine, "to": nine - Duration::hours(1) })).await;
    assert_eq!(codes(&bad_window), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn a_window_holding_more_slots_than_one_call_answers_is_refused() {
    use resolvers::office_hours::MAX_SLOTS;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
    let app = TestApp::spawn().await;
    let dyzo = app.user(Who::Dyzo).await.unwrap().organisation_id;
    let any = office_hour::Entity::find().one(&app.db.conn).await.unwrap().unwrap();
    // dyzo opens a walk-in desk: every day 8:00–20:00 in 5-minute slots (144 a day).
    for weekday in 1..=7 {
        let desk = office_hour::Model {
            id: uuid::Uuid::new_v4(),
            organisation_id: dyzo,
            location_id: any.location_id,
            weekday,
            starts_minute: 8 * 60,
            ends_minute: 20 * 60,
            slot_minutes: 5,
            valid_from: None,
            valid_to: None,
        };
        desk.into_active_model().insert(&app.db.conn).await.unwrap();
    }
    let from = next_tuesday_nine();
    let window =
        |days: i64| json!({ "org": dyzo.to_string(), "from": from, "to": from + Duration::days(days) });
    let two_months = app.query(Who::Public, SLOTS, window(62)).await;
    assert_eq!(codes(&two_months), vec!["QUERY_TOO_COMPLEX"], "{two_months}");
    let message = two_months["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(&MAX_SLOTS.to_string()), "the message names the limit: {message}");
    assert_eq!(two_months["data"]["officeHours"], Value::Null, "{two_months}");
    // A shorter window of the same partner is answered in full.
    let days = app.query(Who::Public, SLOTS, window(2)).await;
    assert_ok(&days);
    let slots = days["data"]["officeHours"].as_array().unwrap();
    assert!(slots.len() >= 2 * 144 && slots.len() <= MAX_SLOTS, "{}", slots.len());
}

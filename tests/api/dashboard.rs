//! Dashboards: counts checked against the data, small-cell suppression (primary and
//! secondary), and partner scoping.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entities::{ReferralStatus, help_request, help_request_life_domain, referral, referral_event};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, assert_ok, codes};

const DASHBOARD: &str = "query($from: DateTime, $to: DateTime) { dashboard(from: $from, to: $to) {
    totalReferrals
    referralsByStatus { status count suppressed }
    referralsByLifeDomain { lifeDomain count suppressed }
    helpRequestsByLifeDomain { lifeDomain count suppressed }
    referralsPerMonth { month count suppressed }
    rejections { lifeDomain reason count suppressed }
    partners { organisation { name } received accepted rejected completed stalled medianHoursToAccept suppressed } } }";

fn by_key(list: &Value, key: &str) -> HashMap<String, Value> {
    list.as_array().unwrap().iter().map(|row| (row[key].as_str().unwrap().to_owned(), row.clone())).collect()
}

#[tokio::test]
async fn admin_figures_match_the_data() {
    let app = TestApp::spawn().await;
    let db = &app.db.conn;
    let referrals = referral::Entity::find().all(db).await.unwrap();
    let response = app.query(Who::Admin, DASHBOARD, json!({})).await;
    assert_ok(&response);
    let d = &response["data"]["dashboard"];
    assert_eq!(d["totalReferrals"].as_u64().unwrap() as usize, referrals.len());
    let statuses = by_key(&d["referralsByStatus"], "status");
    assert_eq!(statuses.len(), 7, "every status, zeros included");
    for status in ReferralStatus::ALL {
        let expected = referrals.iter().filter(|r| r.status == *status).count();
        assert_eq!(statuses[status.as_str()]["count"].as_u64().unwrap() as usize, expected, "{status}");
        assert_eq!(statuses[status.as_str()]["suppressed"], false);
    }
    let domains = by_key(&d["referralsByLifeDomain"], "lifeDomain");
    for (domain, row) in &domains {
        let expected = referrals.iter().filter(|r| r.life_domain.as_str() == domain).count();
        assert_eq!(row["count"].as_u64().unwrap() as usize, expected, "{domain}");
    }
    let help = by_key(&d["helpRequestsByLifeDomain"], "lifeDomain");
    let domains_of_help = help_request_life_domain::Entity::find().all(db).await.unwrap();
    assert!(!help_request::Entity::find().all(db).await.unwrap().is_empty());
    for (domain, row) in &help {
        let expected = domains_of_help.iter().filter(|h| h.life_domain.as_str() == domain).count();
        assert_eq!(row["count"].as_u64().unwrap() as usize, expected, "{domain}");
    }
    let rejected: u64 =
        d["rejections"].as_array().unwrap().iter().map(|r| r["count"].as_u64().unwrap()).sum();
    assert_eq!(rejected as usize, referrals.iter().filter(|r| r.status == ReferralStatus::Rejected).count());

    // Per partner, against the rows; stalled = open and unchanged for 14 days.
    let events = referral_event::Entity::find().all(db).await.unwrap();
    let stalled_since = Utc::now() - Duration::days(14);
    let partners = by_key(
        &json!(
            d["partners"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let mut p = p.clone();
                    p["name"] = p["organisation"]["name"].clone();
                    p
                })
                .collect::<Vec<_>>()
        ),
        "name",
    );
    assert_eq!(partners.len(), 4, "the four partners: {partners:?}");
    for (who, name) in [
        (Who::Caw, "CAW Zuid-West-Vlaanderen"),
        (Who::Pension, "Federale Pensioendienst"),
        (Who::Dyzo, "dyzo"),
        (Who::Woonclub, "Woonclub Waregem"),
    ] {
        let org = app.user(who).await.unwrap().organisation_id;
        let mine: Vec<_> = referrals.iter().filter(|r| r.recipient_id == org).collect();
        let row = &partners[name];
        let count = |f: &dyn Fn(&&&referral::Model) -> bool| mine.iter().filter(f).count() as u64;
        assert_eq!(row["received"].as_u64().unwrap(), mine.len() as u64, "{name}");
        assert_eq!(
            row["accepted"].as_u64().unwrap(),
            count(&|r| matches!(
                r.status,
                ReferralStatus::Accepted | ReferralStatus::InProgress | ReferralStatus::Completed
            ))
        );
        assert_eq!(row["rejected"].as_u64().unwrap(), count(&|r| r.status == ReferralStatus::Rejected));
        assert_eq!(row["completed"].as_u64().unwrap(), count(&|r| r.status == ReferralStatus::Completed));
        assert_eq!(
            row["stalled"].as_u64().unwrap(),
            count(&|r| ReferralStatus::OPEN.contains(&r.status) && r.updated_at < stalled_since),
            "{name}"
        );
        let mut hours: Vec<f64> = mine
            .iter()
            .filter_map(|r| {
                events
                    .iter()
                    .find(|e| e.referral_id == r.id && e.to_status == ReferralStatus::Accepted)
                    .map(|e| (e.at - r.created_at).num_seconds() as f64 / 3600.0)
            })
            .collect();
        hours.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = match hours.len() {
            0 => None,
            n if n % 2 == 1 => Some(hours[n / 2]),
            n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
        };
        match (median, row["medianHoursToAccept"].as_f64()) {
            (Some(expected), Some(got)) => {
                assert!((expected - got).abs() < 0.1, "{name}: {expected} vs {got}")
            }
            (None, None) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_window_narrows_the_figures() {
    let app = TestApp::spawn().await;
    let referrals = referral::Entity::find().all(&app.db.conn).await.unwrap();
    let from = Utc::now() - Duration::days(60);
    let response = app.query(Who::Admin, DASHBOARD, json!({ "from": from })).await;
    let expected = referrals.iter().filter(|r| r.created_at >= from).count();
    assert_eq!(response["data"]["dashboard"]["totalReferrals"].as_u64().unwrap() as usize, expected);
    assert!(expected < referrals.len());
    let bad = app.query(Who::Admin, DASHBOARD, json!({ "from": from, "to": from - Duration::days(1) })).await;
    assert_eq!(codes(&bad), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn analysts_see_no_small_count_nor_one_they_could_work_back() {
    let app = TestApp::spawn().await;
    let admin = app.query(Who::Admin, DASHBOARD, json!({})).await;
    let analyst = app.query(Who::Analyst, DASHBOARD, json!({})).await;
    assert_ok(&analyst);
    let (full, shown) = (&admin["data"]["dashboard"], &analyst["data"]["dashboard"]);
    let mut suppressed = 0;
    for list in [
        "referralsByStatus",
        "referralsByLifeDomain",
        "helpRequestsByLifeDomain",
        "rejections",
        "referralsPerMonth",
    ] {
        for (a, s) in full[list].as_array().unwrap().iter().zip(shown[list].as_array().unwrap()) {
            let n = a["count"].as_i64().unwrap();
            if (1..=4).contains(&n) {
                assert_eq!(
                    (s["count"].clone(), s["suppressed"].clone()),
                    (Value::Null, json!(true)),
                    "{list}: {a}"
                );
            }
            if s["suppressed"] == true {
                suppressed += 1;
                assert_eq!(s["count"], Value::Null);
            } else {
                assert_eq!(s["count"], a["count"], "shown counts are true counts");
            }
        }
    }
    assert!(suppressed > 0, "the demo has small cells");
    // Secondary suppression: in each list that adds up to the shown total, never exactly one
    // withheld cell, so no withheld count is the total minus the others.
    let total = shown["totalReferrals"].as_i64();
    for list in ["referralsByStatus", "referralsByLifeDomain", "referralsPerMonth"] {
        let hidden = shown[list].as_array().unwrap().iter().filter(|c| c["suppressed"] == true).count();
        if total.is_some() {
            assert_ne!(hidden, 1, "{list}: one withheld cell is the total minus the rest");
        }
    }
    let partners = shown["partners"].as_array().unwrap();
    for field in ["received", "rejected", "completed"] {
        let hidden = partners.iter().filter(|p| p[field].is_null()).count();
        assert_ne!(hidden, 1, "partners.{field}");
    }
    for p in partners {
        let any_hidden =
            ["received", "accepted", "rejected", "completed", "stalled"].iter().any(|f| p[f].is_null());
        assert_eq!(p["suppressed"], any_hidden);
        if p["accepted"].is_null() {
            assert_eq!(p["medianHoursToAccept"], Value::Null);
        }
    }
}

#[test]
fn secondary_suppression_hides_a_second_cell_until_nothing_can_be_worked_back() {
    use resolvers::suppression::Table;
    let mut table = Table::default();
    let total = table.add(30);
    let parts = [table.add(2), table.add(10), table.add(18), table.add(0)];
    table.group(vec![total], parts.to_vec());
    table.suppress();
    let hidden: Vec<bool> = parts.iter().map(|&p| table.cells[p].suppressed).collect();
    assert_eq!(hidden, vec![true, true, false, false], "the 2, and the smallest non-zero other: the 10");
    assert!(!table.cells[total].suppressed);
    // A total that is itself withheld gives nothing away.
    let mut table = Table::default();
    let total = table.add(3);
    let parts = [table.add(3), table.add(0)];
    table.group(vec![total], parts.to_vec());
    table.suppress();
    assert!(
        table.cells[total].suppressed
            && table.cells[parts[0]].suppressed
            && !table.cells[parts[1]].suppressed
    );
}

#[test]
fn a_withheld_total_is_worked_back_from_its_shown_parts_unless_one_more_is_withheld() {
    use resolvers::suppression::Table;
    // Statuses: 40 = 3 rejected + 10 accepted + 12 in progress + 15 other; the partners' figures
    // split accepted and in progress again: 10 + 12 = 12 + 10. Withholding the 3 and the 10 (the
    // smallest other status) leaves the 10 as the partners' 22 minus the 12, and the 3 with it.
    let layout = || {
        let mut table = Table::default();
        let total = table.add(40);
        let [rejected, accepted, in_progress, other] = [3, 10, 12, 15].map(|n| table.add(n));
        let partners = [table.add(12), table.add(10)];
        table.group(vec![total], vec![rejected, accepted, in_progress, other]);
        table.group(vec![accepted, in_progress], partners.to_vec());
        (table, [rejected, accepted, in_progress, other])
    };
    let (mut table, [rejected, accepted, _, _]) = layout();
    table.cells[rejected].suppressed = true;
    table.cells[accepted].suppressed = true;
    assert_eq!(table.worked_back(), vec![rejected, accepted], "the audit sees through it");
    let (mut table, [rejected, accepted, in_progress, other]) = layout();
    table.suppress();
    let hidden: Vec<bool> =
        [rejected, accepted, in_progress, other].iter().map(|&c| table.cells[c].suppressed).collect();
    assert_eq!(hidden, vec![true, false, false, true], "the 15 goes with the 3: it splits no further");
    assert!(table.worked_back().is_empty());
}

#[test]
fn withheld_ones_that_add_up_to_their_number_are_given_away() {
    use resolvers::suppression::Table;
    // 20 = 1 + 1 + 18: two withheld cells adding up to 2 are both 1.
    let mut table = Table::default();
    let total = table.add(20);
    let parts = [table.add(1), table.add(1), table.add(18)];
    table.group(vec![total], parts.to_vec());
    table.suppress();
    assert!(parts.iter().all(|&p| table.cells[p].suppressed), "the 18 goes too");
    assert!(!table.cells[total].suppressed);
    assert!(table.worked_back().is_empty());
}

#[test]
fn a_withheld_count_pinned_between_two_shown_bounds_is_given_away() {
    use resolvers::suppression::Table;
    // 10 = 3 + 7, where the 7 is at least a shown 7 and at most a shown 7: withholding the 3
    // and the 7 still pins the 7, and with it the 3.
    let mut table = Table::default();
    let total = table.add(10);
    let (three, seven) = (table.add(3), table.add(7));
    let (below, above) = (table.add(7), table.add(7));
    table.group(vec![total], vec![three, seven]);
    table.within(vec![seven], vec![below]);
    table.within(vec![above], vec![seven]);
    table.cells[three].suppressed = true;
    table.cells[seven].suppressed = true;
    assert_eq!(table.worked_back(), vec![three, seven], "the audit propagates the bounds");
    table.suppress();
    assert!(table.cells[three].suppressed);
    assert!(table.worked_back().is_empty());
}

#[tokio::test]
async fn a_partner_sees_its_own_figures_and_others_none() {
    let app = TestApp::spawn().await;
    let response = app.query(Who::Dyzo, DASHBOARD, json!({})).await;
    assert_ok(&response);
    let d = &response["data"]["dashboard"];
    let partners = d["partners"].as_array().unwrap();
    assert_eq!(partners.len(), 1);
    assert_eq!(partners[0]["organisation"]["name"], "dyzo");
    let org = app.user(Who::Dyzo).await.unwrap().organisation_id;
    let referrals = referral::Entity::find().all(&app.db.conn).await.unwrap();
    let own = referrals.iter().filter(|r| r.sender_id == org || r.recipient_id == org).count();
    assert_eq!(d["totalReferrals"].as_u64().unwrap() as usize, own, "only referrals sent to or by dyzo");
    assert!(own < referrals.len());
    for who in [Who::Public, Who::Intake, Who::CaseWorker] {
        assert_eq!(codes(&app.query(who, DASHBOARD, json!({})).await), vec!["FORBIDDEN"], "{who:?}");
    }
}

//! Dashboards: counts checked against the data, small-cell suppression (primary and
//! secondary), the analysts' reporting periods and an attack on them, and partner scoping.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Duration, Months, TimeZone, Utc};
use entities::{
    LifeDomain, ReferralStatus, RejectionReason, help_request, help_request_life_domain, referral,
    referral_event,
};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who, assert_ok, codes};

const DASHBOARD: &str = "query($from: DateTime, $to: DateTime) { dashboard(from: $from, to: $to) {
    from to totalReferrals
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
    let d = &response["data"]["dashboard"];
    let expected = referrals.iter().filter(|r| r.created_at >= from).count();
    assert_eq!(d["totalReferrals"].as_u64().unwrap() as usize, expected);
    assert!(expected < referrals.len());
    assert_eq!(Window::of(d), Window { from: Some(from), to: None }, "ADMIN gets the window asked for");
    let bad = app.query(Who::Admin, DASHBOARD, json!({ "from": from, "to": from - Duration::days(1) })).await;
    assert_eq!(codes(&bad), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn an_analysts_window_is_one_calendar_quarter() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let this_quarter = quarter_of(now);
    let last_quarter = quarter_of(this_quarter.0 - Duration::days(1));
    let month = |q: (DateTime<Utc>, DateTime<Utc>), n: u32| q.0 + Months::new(n);
    let cases = [
        ("no window: the current quarter", json!({}), this_quarter),
        (
            "one month: widened to its quarter",
            json!({ "from": month(last_quarter, 1), "to": month(last_quarter, 2) }),
            last_quarter,
        ),
        (
            "a day inside it",
            json!({ "from": last_quarter.0 + Duration::days(40), "to": last_quarter.0 + Duration::days(41) }),
            last_quarter,
        ),
        ("only from", json!({ "from": last_quarter.0 + Duration::hours(5) }), last_quarter),
        ("only to, at a quarter's start: the quarter before", json!({ "to": this_quarter.0 }), last_quarter),
        ("exactly the quarter", json!({ "from": last_quarter.0, "to": last_quarter.1 }), last_quarter),
    ];
    for (case, variables, (start, end)) in cases {
        let analyst = app.post_as(Who::Analyst, DASHBOARD, variables).await.1;
        assert_ok(&analyst);
        let d = &analyst["data"]["dashboard"];
        assert_eq!(Window::of(d), Window { from: Some(start), to: Some(end) }, "{case}");
        // The same referrals as ADMIN counts for that quarter.
        let admin = app.post_as(Who::Admin, DASHBOARD, json!({ "from": start, "to": end })).await.1;
        let total = &admin["data"]["dashboard"]["totalReferrals"];
        assert!(d["totalReferrals"].is_null() || d["totalReferrals"] == *total, "{case}: {d} vs {total}");
    }
    for (case, variables) in [
        ("across two quarters", json!({ "from": last_quarter.0, "to": this_quarter.0 + Duration::days(1) })),
        (
            "from a year before to a quarter's start",
            json!({ "from": last_quarter.0 - Duration::days(400), "to": this_quarter.0 }),
        ),
        ("to before from", json!({ "from": this_quarter.0, "to": last_quarter.0 })),
    ] {
        let refused = app.post_as(Who::Analyst, DASHBOARD, variables).await.1;
        assert_eq!(codes(&refused), vec!["BAD_USER_INPUT"], "{case}: {refused}");
    }
    // A partner still chooses its window.
    let partner = app.post_as(Who::Dyzo, DASHBOARD, json!({ "from": month(last_quarter, 1) })).await.1;
    assert_eq!(
        Window::of(&partner["data"]["dashboard"]),
        Window { from: Some(month(last_quarter, 1)), to: None }
    );
}

#[tokio::test]
async fn analysts_see_no_small_count_nor_one_they_could_work_back() {
    let app = TestApp::spawn().await;
    let mut suppressed = 0;
    // Every quarter the demo's referrals fall in (six months back), compared with ADMIN's figures
    // for the same quarter.
    let mut quarter = quarter_of(Utc::now() - Duration::days(200));
    while quarter.0 < Utc::now() {
        let window = json!({ "from": quarter.0, "to": quarter.1 });
        let admin = app.query(Who::Admin, DASHBOARD, window.clone()).await;
        let analyst = app.query(Who::Analyst, DASHBOARD, window).await;
        assert_ok(&analyst);
        let (full, shown) = (&admin["data"]["dashboard"], &analyst["data"]["dashboard"]);
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
                    assert_ne!(n, 0, "{list}: a zero is never withheld");
                } else {
                    assert_eq!(s["count"], a["count"], "shown counts are true counts");
                }
            }
        }
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
        quarter = quarter_of(quarter.1);
    }
    assert!(suppressed > 0, "the demo has small cells");
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
        assert_eq!(crate::helpers::denied(&app.query(who, DASHBOARD, json!({})).await), "HIDDEN", "{who:?}");
    }
}

/// The attack the finding describes, made exhaustive: as ANALYST, ask for every window the old
/// `dashboard(from, to)` took on month boundaries (every pair, and the open ones), then combine
/// every pair of answers — the difference where one window lies inside the other, the sum where
/// they do not meet — and solve every answer's groupings against its totals. Nothing worked out
/// may be a withheld count: checked against the true counts, which ADMIN sees. The same attack on
/// what an analyst saw before (ADMIN's answers for the asked windows with 1 to 4 withheld) finds
/// counts from 1 to 4, so the attack is one that can fail.
#[tokio::test]
async fn analysts_cannot_work_a_withheld_count_back_from_any_two_answers() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let now = Utc::now();
    // A quarter of its own, a year before the demo's referrals, with small counts in every
    // grouping and months that differ by 1 to 4.
    let quarter = quarter_of(now - Duration::days(400));
    add_small_counts(&app, quarter.0).await;

    let mut boundaries = vec![quarter.0];
    while *boundaries.last().unwrap() <= now {
        boundaries.push(*boundaries.last().unwrap() + Months::new(1));
    }
    let mut windows = vec![Window { from: None, to: None }];
    for (i, &from) in boundaries.iter().enumerate() {
        windows.push(Window { from: Some(from), to: None });
        windows.push(Window { from: None, to: Some(from) });
        for &to in &boundaries[i + 1..] {
            windows.push(Window { from: Some(from), to: Some(to) });
        }
    }

    let mut analyst: BTreeMap<Window, Answer> = BTreeMap::new();
    let (mut answered, mut refused) = (0, 0);
    let mut before: Vec<(Answer, Answer)> = Vec::new();
    for window in &windows {
        let response = app.post_as(Who::Analyst, DASHBOARD, window.variables()).await.1;
        if response["data"]["dashboard"].is_null() {
            assert_eq!(codes(&response), vec!["BAD_USER_INPUT"], "{window:?}: {response}");
            refused += 1;
        } else {
            assert_ok(&response);
            let answer = Answer::of(&response["data"]["dashboard"]);
            let (from, to) = (answer.window.from.unwrap(), answer.window.to.unwrap());
            assert_eq!(quarter_of(from), (from, to), "{window:?} is answered for a calendar quarter");
            if let Some(earlier) = analyst.get(&answer.window) {
                assert_eq!(earlier, &answer, "the same quarter is answered the same way every time");
            }
            analyst.insert(answer.window, answer);
            answered += 1;
        }
        // What the analyst saw for this window before: ADMIN's figures with 1 to 4 withheld.
        let truth =
            Answer::of(&app.post_as(Who::Admin, DASHBOARD, window.variables()).await.1["data"]["dashboard"]);
        assert_eq!(truth.window, *window);
        let mut seen = truth.clone();
        seen.cells.values_mut().filter(|n| n.is_some_and(|n| (1..=4).contains(&n))).for_each(|n| *n = None);
        before.push((seen, truth));
    }
    assert!(answered > 0 && refused > 0, "{answered} answered, {refused} refused");

    let mut now_seen: Vec<(Answer, Answer)> = Vec::new();
    for answer in analyst.into_values() {
        let truth = Answer::of(
            &app.post_as(Who::Admin, DASHBOARD, answer.window.variables()).await.1["data"]["dashboard"],
        );
        now_seen.push((answer, truth));
    }
    let withheld: usize =
        now_seen.iter().map(|(seen, _)| seen.cells.values().filter(|n| n.is_none()).count()).sum();
    assert!(
        withheld > 10,
        "the analyst's answers withhold counts ({withheld}), so there is something to attack"
    );
    assert!(
        now_seen
            .iter()
            .any(|(seen, _)| seen.window.from == Some(quarter.0) && seen.cells["status/REQUESTED"].is_none()),
        "the added quarter's small counts are withheld"
    );

    let found = attack(&now_seen);
    assert!(found.within.is_empty(), "worked back inside one answer:{}", listed(&found.within));
    assert!(found.across.is_empty(), "worked back from two answers:{}", listed(&found.across));

    // The old behaviour, attacked the same way: two windows and a subtraction give counts from
    // 1 to 4 away, as the finding said.
    let old = attack(&before);
    assert!(
        old.across.iter().any(|leak| leak.cell == "status/COMPLETED" && leak.value == 3),
        "the attack finds the 3 completed referrals of the added quarter's first month:{}",
        listed(&old.across)
    );
    println!(
        "{} windows asked ({answered} answered in {} quarters, {refused} refused); \
         before: {} withheld counts worked back from pairs of answers, now none",
        windows.len(),
        now_seen.len(),
        old.across.len()
    );
}

/// The calendar quarter (UTC) holding `moment`, as `[start, end)`.
fn quarter_of(moment: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = Utc.with_ymd_and_hms(moment.year(), moment.month0() / 3 * 3 + 1, 1, 0, 0, 0).unwrap();
    (start, start + Months::new(3))
}

/// Referrals in the three months of the quarter starting at `start`, by (month, how many,
/// status, life domain, recipient):
/// the first month's 3 COMPLETED and 1 REJECTED are what `[month 1, month 3)` minus
/// `[month 2, month 3)` gave away before.
async fn add_small_counts(app: &TestApp, start: DateTime<Utc>) {
    use LifeDomain::*;
    use ReferralStatus::*;
    let db = &app.db.conn;
    let template = referral::Entity::find().all(db).await.unwrap().remove(0);
    let org = |who| async move { app.user(who).await.unwrap().organisation_id };
    let (caw, woonclub, dyzo, pension) =
        (org(Who::Caw).await, org(Who::Woonclub).await, org(Who::Dyzo).await, org(Who::Pension).await);
    let rows = [
        (0, 3, Completed, Housing, woonclub),
        (0, 1, Rejected, Finances, caw),
        (0, 2, Requested, Work, dyzo),
        (1, 5, Completed, Housing, woonclub),
        (1, 5, Rejected, Finances, caw),
        (1, 2, InProgress, AdministrationAndRights, pension),
        (2, 1, Completed, Housing, woonclub),
        (2, 3, Cancelled, Work, dyzo),
    ];
    for (month, n, status, life_domain, recipient) in rows {
        for i in 0..n {
            let created_at = start + Months::new(month) + Duration::days(2 + i) + Duration::hours(9);
            referral::Model {
                id: uuid::Uuid::new_v4(),
                status,
                life_domain,
                recipient_id: recipient,
                service_id: None,
                rejection_reason: (status == Rejected).then_some(RejectionReason::NoCapacity),
                outcome_note: None,
                idempotency_key: None,
                created_at,
                updated_at: created_at + Duration::days(1),
                ..template.clone()
            }
            .into_active_model()
            .reset_all()
            .insert(db)
            .await
            .unwrap();
        }
    }
}

/// A window `[from, to)`, open on a side that is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Window {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

impl Window {
    /// The window a dashboard answer says it covers.
    fn of(dashboard: &Value) -> Window {
        let at = |v: &Value| v.as_str().map(|s| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        Window { from: at(&dashboard["from"]), to: at(&dashboard["to"]) }
    }

    fn variables(&self) -> Value {
        json!({ "from": self.from, "to": self.to })
    }

    /// Whether `other` lies inside this window.
    fn holds(&self, other: &Window) -> bool {
        let starts_before = match (self.from, other.from) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a <= b,
        };
        let ends_after = match (self.to, other.to) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b <= a,
        };
        starts_before && ends_after
    }

    fn meets(&self, other: &Window) -> bool {
        let ends_before = |a: &Window, b: &Window| matches!((a.to, b.from), (Some(t), Some(f)) if t <= f);
        !ends_before(self, other) && !ends_before(other, self)
    }
}

/// One dashboard answer as an attacker holds it: its window, and every figure by a name that
/// means the same referrals (or help requests) in every window; `None` when withheld. A month or
/// rejection reason that is not listed is 0.
#[derive(Clone, Debug, PartialEq)]
struct Answer {
    window: Window,
    cells: BTreeMap<String, Option<i64>>,
}

impl Answer {
    fn of(d: &Value) -> Answer {
        let mut cells = BTreeMap::new();
        let rows = |list: &str| d[list].as_array().unwrap().clone();
        cells.insert("total".to_owned(), d["totalReferrals"].as_i64());
        for row in rows("referralsByStatus") {
            cells.insert(format!("status/{}", row["status"].as_str().unwrap()), row["count"].as_i64());
        }
        for row in rows("referralsByLifeDomain") {
            cells.insert(format!("domain/{}", row["lifeDomain"].as_str().unwrap()), row["count"].as_i64());
        }
        for row in rows("helpRequestsByLifeDomain") {
            cells.insert(format!("help/{}", row["lifeDomain"].as_str().unwrap()), row["count"].as_i64());
        }
        for row in rows("referralsPerMonth") {
            cells.insert(format!("month/{}", row["month"].as_str().unwrap()), row["count"].as_i64());
        }
        for row in rows("rejections") {
            let (domain, reason) = (row["lifeDomain"].as_str().unwrap(), row["reason"].as_str().unwrap());
            cells.insert(format!("rejection/{domain}/{reason}"), row["count"].as_i64());
        }
        for row in rows("partners") {
            let name = row["organisation"]["name"].as_str().unwrap();
            for field in ["received", "accepted", "rejected", "completed", "stalled"] {
                cells.insert(format!("partner/{name}/{field}"), row[field].as_i64());
            }
        }
        Answer { window: Window::of(d), cells }
    }

    /// A figure as shown (`None` when withheld); one not listed is 0.
    fn get(&self, cell: &str) -> Option<i64> {
        self.cells.get(cell).copied().unwrap_or(Some(0))
    }

    /// What adds up to what in one answer: `(left, right)` with equal sums.
    fn relations(&self) -> Vec<(Vec<String>, Vec<String>)> {
        let cells = |prefix: &str, suffix: &str| -> Vec<String> {
            self.cells.keys().filter(|k| k.starts_with(prefix) && k.ends_with(suffix)).cloned().collect()
        };
        let named = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        vec![
            (named(&["total"]), cells("status/", "")),
            (named(&["total"]), cells("domain/", "")),
            (named(&["total"]), cells("month/", "")),
            (named(&["total"]), cells("partner/", "/received")),
            (named(&["status/REJECTED"]), cells("rejection/", "")),
            (named(&["status/REJECTED"]), cells("partner/", "/rejected")),
            (named(&["status/COMPLETED"]), cells("partner/", "/completed")),
            (
                named(&["status/ACCEPTED", "status/IN_PROGRESS", "status/COMPLETED"]),
                cells("partner/", "/accepted"),
            ),
        ]
    }
}

/// A withheld count the attack worked out.
struct Leak {
    how: String,
    cell: String,
    value: i64,
}

/// The first leaks, one a line.
fn listed(leaks: &[Leak]) -> String {
    leaks.iter().take(20).map(|l| format!("\n  {}: {} = {}", l.how, l.cell, l.value)).collect()
}

#[derive(Default)]
struct Found {
    /// Withheld counts solved from the groupings and totals of one answer.
    within: Vec<Leak>,
    /// Counts from 1 to 4 worked out from two answers.
    across: Vec<Leak>,
}

/// Attacks `(seen, truth)` pairs: what an analyst saw, and ADMIN's answer for the same window.
/// Every value worked out is checked against the truth, so the attack cannot claim what is not so.
fn attack(answers: &[(Answer, Answer)]) -> Found {
    let mut found = Found::default();
    // Inside each answer: the relations that hold (the attacker is granted knowing which), solved.
    let mut known: Vec<BTreeMap<String, i64>> = Vec::new();
    for (seen, truth) in answers {
        let relations: Vec<_> = seen
            .relations()
            .into_iter()
            .filter(|(left, right)| {
                let sum = |cells: &[String]| cells.iter().map(|c| truth.get(c).unwrap()).sum::<i64>();
                sum(left) == sum(right)
            })
            .collect();
        let solved = solve(seen, &relations);
        for (cell, &value) in &solved {
            assert_eq!(Some(value), truth.get(cell), "the attack is sound: {cell} in {:?}", seen.window);
            found.within.push(Leak { how: format!("inside {:?}", seen.window), cell: cell.clone(), value });
        }
        let mut all: BTreeMap<String, i64> =
            seen.cells.iter().filter_map(|(c, n)| n.map(|n| (c.clone(), n))).collect();
        all.extend(solved);
        known.push(all);
    }
    // Across every pair: A − B over A \ B when B lies inside A; A + B over A ∪ B when they do not
    // meet. A window that overlaps another without holding it gives no count of anything.
    for (i, (a, truth_a)) in answers.iter().enumerate() {
        for (j, (b, truth_b)) in answers.iter().enumerate() {
            if a.window == b.window {
                continue;
            }
            let sign = if a.window.holds(&b.window) {
                -1
            } else if !a.window.meets(&b.window) && i < j {
                1
            } else {
                continue;
            };
            let cells: BTreeSet<&String> = a.cells.keys().chain(b.cells.keys()).collect();
            for cell in cells {
                let value = |known: &BTreeMap<String, i64>, answer: &Answer| match answer.cells.get(cell) {
                    None => Some(0),
                    Some(_) => known.get(cell).copied(),
                };
                let (Some(x), Some(y)) = (value(&known[i], a), value(&known[j], b)) else {
                    continue;
                };
                let worked_out = x + sign * y;
                let truth = truth_a.get(cell).unwrap() + sign * truth_b.get(cell).unwrap();
                assert_eq!(worked_out, truth, "the attack is sound: {cell}");
                if (1..=4).contains(&truth) {
                    let how =
                        format!("{:?} {} {:?}", a.window, if sign < 0 { "minus" } else { "plus" }, b.window);
                    found.across.push(Leak { how, cell: cell.clone(), value: worked_out });
                }
            }
        }
    }
    found
}

/// The withheld counts of one answer that its relations fix: exact elimination over the
/// withheld cells, and withheld cells that add up to their own number (each is at least 1, so
/// each is 1), repeated until nothing more follows.
fn solve(answer: &Answer, relations: &[(Vec<String>, Vec<String>)]) -> BTreeMap<String, i64> {
    let mut solved: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        let value = |c: &String| answer.get(c).or_else(|| solved.get(c).copied());
        let unknowns: Vec<&String> = answer.cells.keys().filter(|c| value(c).is_none()).collect();
        if unknowns.is_empty() {
            return solved;
        }
        // Each relation as coefficients over the unknowns and what the known cells add up to.
        let rows: Vec<(Vec<Fraction>, Fraction)> = relations
            .iter()
            .map(|(left, right)| {
                let mut row = vec![Fraction::ZERO; unknowns.len()];
                let mut rest = 0;
                for (cells, sign) in [(left, 1), (right, -1)] {
                    for cell in cells {
                        match (value(cell), unknowns.iter().position(|u| *u == cell)) {
                            (Some(n), _) => rest -= sign * n,
                            (None, Some(k)) => row[k] = row[k].plus(Fraction::whole(sign)),
                            (None, None) => unreachable!(),
                        }
                    }
                }
                (row, Fraction::whole(rest))
            })
            .collect();
        let mut new: BTreeMap<String, i64> = BTreeMap::new();
        // Withheld cells that add up to their number: all 1.
        for (row, rest) in &rows {
            let involved: Vec<usize> = (0..unknowns.len()).filter(|&k| !row[k].is_zero()).collect();
            let same_sign = involved.iter().all(|&k| row[k] == row[involved[0]]);
            if !involved.is_empty()
                && same_sign
                && rest.over(row[involved[0]]) == Fraction::whole(involved.len() as i64)
            {
                new.extend(involved.iter().map(|&k| (unknowns[k].clone(), 1)));
            }
        }
        // Elimination: a row left with one unknown fixes it.
        for (row, rest) in reduce(rows) {
            let involved: Vec<usize> = (0..unknowns.len()).filter(|&k| !row[k].is_zero()).collect();
            if let [k] = involved[..] {
                let x = rest.over(row[k]);
                assert_eq!(x.1, 1, "a count is a whole number");
                new.insert(unknowns[k].clone(), x.0 as i64);
            }
        }
        if new.is_empty() {
            return solved;
        }
        solved.extend(new);
    }
}

/// Reduced row echelon form of `coefficients · x = rest`.
fn reduce(mut rows: Vec<(Vec<Fraction>, Fraction)>) -> Vec<(Vec<Fraction>, Fraction)> {
    let width = rows.first().map_or(0, |(row, _)| row.len());
    let mut top = 0;
    for column in 0..width {
        let Some(pivot) = (top..rows.len()).find(|&r| !rows[r].0[column].is_zero()) else {
            continue;
        };
        rows.swap(top, pivot);
        let p = rows[top].0[column];
        let (row, rest) = &mut rows[top];
        row.iter_mut().for_each(|v| *v = v.over(p));
        *rest = rest.over(p);
        let (pivot_row, pivot_rest) = rows[top].clone();
        for (r, (row, rest)) in rows.iter_mut().enumerate() {
            let factor = row[column];
            if r != top && !factor.is_zero() {
                row.iter_mut().zip(&pivot_row).for_each(|(v, p)| *v = v.minus(factor.times(*p)));
                *rest = rest.minus(factor.times(pivot_rest));
            }
        }
        top += 1;
    }
    rows
}

/// An exact fraction `numerator / denominator`, the denominator positive and the two coprime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fraction(i128, i128);

impl Fraction {
    const ZERO: Fraction = Fraction(0, 1);

    fn whole(n: i64) -> Fraction {
        Fraction(n as i128, 1)
    }

    fn new(n: i128, d: i128) -> Fraction {
        fn gcd(a: i128, b: i128) -> i128 {
            if b == 0 { a.abs() } else { gcd(b, a % b) }
        }
        let g = gcd(n, d).max(1) * d.signum();
        Fraction(n / g, d / g)
    }

    fn is_zero(self) -> bool {
        self.0 == 0
    }

    fn plus(self, o: Fraction) -> Fraction {
        Fraction::new(self.0 * o.1 + o.0 * self.1, self.1 * o.1)
    }

    fn minus(self, o: Fraction) -> Fraction {
        self.plus(Fraction(-o.0, o.1))
    }

    fn times(self, o: Fraction) -> Fraction {
        Fraction::new(self.0 * o.0, self.1 * o.1)
    }

    fn over(self, o: Fraction) -> Fraction {
        Fraction::new(self.0 * o.1, self.1 * o.0)
    }
}

//! A request costs a bounded number of SQL statements whatever its page size: nested relations
//! go through per-request DataLoaders.

use serde_json::json;

use crate::helpers::{TestApp, Who, assert_ok};

const INBOX: &str = "query($first: Int) { referrals(first: $first) { totalCount edges { node {
    id status client { givenName familyName phone helpRequests { summary lifeDomains } }
    sender { name } recipient { name } service { name lifeDomains }
    events { toStatus at note organisation { name } } } } } }";

async fn statements_for(app: &TestApp, who: Who, first: i64) -> u64 {
    let before = app.db.statements();
    let response = app.query(who, INBOX, json!({ "first": first })).await;
    assert_ok_or_forbidden(&response);
    app.db.statements() - before
}

fn assert_ok_or_forbidden(response: &serde_json::Value) {
    let codes = crate::helpers::codes(response);
    assert!(codes.iter().all(|c| c == "FORBIDDEN"), "{response}");
}

#[tokio::test]
async fn statement_count_does_not_grow_with_the_page_size() {
    let app = TestApp::spawn().await;
    for who in [Who::Admin, Who::Caw] {
        let small = statements_for(&app, who, 5).await;
        let large = statements_for(&app, who, 100).await;
        println!("{who:?}: referrals(first: 5) ran {small} statements, referrals(first: 100) ran {large}");
        assert_eq!(small, large, "{who:?}");
        assert!(large <= 12, "{who:?}: {large} statements");
    }
}

#[tokio::test]
async fn the_public_social_map_is_cheap_too() {
    let app = TestApp::spawn().await;
    let query = "query($first: Int) { services(first: $first) { totalCount edges { node {
        name organisation { name } lifeDomains languages locations { name } openingHours { weekday } } } } }";
    let mut counts = Vec::new();
    for first in [3, 50] {
        let before = app.db.statements();
        let response = app.query(Who::Public, query, json!({ "first": first })).await;
        assert_ok(&response);
        counts.push(app.db.statements() - before);
    }
    assert_eq!(counts[0], counts[1]);
}

#[tokio::test]
async fn nested_lists_are_fetched_for_all_parents_at_once() {
    let app = TestApp::spawn().await;
    let cases = [
        (Who::Public, "query($first: Int) { organisations(first: $first) { edges { node { name
            services(first: 2) { totalCount pageInfo { hasNextPage } edges { node { name lifeDomains } } } } } } }"),
        (Who::Admin, "query($first: Int) { clients(first: $first) { edges { node { id
            referrals(first: 2) { totalCount edges { node { status sender { name } events { toStatus } } } } } } } }"),
        (Who::Dyzo, "query($first: Int) { clients(first: $first) { edges { node { id
            referrals(first: 2) { totalCount edges { node { status recipient { name } } } } } } } }"),
    ];
    for (who, query) in cases {
        let mut counts = Vec::new();
        for first in [2, 60] {
            let before = app.db.statements();
            let response = app.query(who, query, json!({ "first": first })).await;
            assert_ok(&response);
            counts.push(app.db.statements() - before);
        }
        println!("{who:?}: nested lists ran {} statements for 2 parents, {} for 60", counts[0], counts[1]);
        assert_eq!(counts[0], counts[1], "{who:?}: {query}");
    }
}

/// SQLite plans a statement once, not again at each execution because of the values bound to
/// it (`db::plan_once`): otherwise every page query, whose `LIMIT ?` SQLite treats as such a
/// value, is compiled anew at every request. Seen from outside: a bound value never steers the
/// plan — `kind = ?` with 'WELFARE_HOUSE' bound does not use the partial index made for
/// exactly that value (with a literal it does, and so would SQLite's default for the binding).
#[tokio::test]
async fn sqlite_plans_a_statement_once_whatever_its_values() {
    use sea_orm::{ConnectionTrait, Statement};
    let database = crate::helpers::TestDatabase::create().await;
    if database.is_postgres() {
        return; // PostgreSQL plans prepared statements generically on its own terms.
    }
    let db = welzijnshuis::db::Database::connect(&database.url).await.unwrap();
    db.migrate().await.unwrap();
    let plan = |sql: &str, values: Vec<sea_orm::Value>| {
        let statement = Statement::from_sql_and_values(sea_orm::DbBackend::Sqlite, sql, values);
        let conn = db.conn.clone();
        async move {
            let rows = conn.query_all_raw(statement).await.unwrap();
            rows.iter().map(|r| r.try_get::<String>("", "detail").unwrap()).collect::<Vec<_>>().join("; ")
        }
    };
    let literal =
        plan("EXPLAIN QUERY PLAN SELECT id FROM organisations WHERE kind = 'WELFARE_HOUSE'", vec![]).await;
    assert!(literal.contains("organisations_one_welfare_house"), "{literal}");
    for _ in 0..3 {
        // Each time on whichever of the pool's connections is free: every one is set up so.
        let bound = plan(
            "EXPLAIN QUERY PLAN SELECT id FROM organisations WHERE kind = ?",
            vec!["WELFARE_HOUSE".into()],
        )
        .await;
        assert!(!bound.contains("organisations_one_welfare_house"), "planned for the bound value: {bound}");
        assert!(bound.contains("organisations_kind"), "{bound}");
    }
}

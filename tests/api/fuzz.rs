//! Property-based fuzzing of the HTTP handler (proptest): arbitrary bodies, near-valid GraphQL,
//! random JSON variables and extensions, random media types, methods and tokens, sent to the real
//! server. Whatever comes in: no panic, no dropped connection, a JSON answer whose errors carry
//! a known code, and no 5xx but an `INTERNAL` (or unavailable) error with a request id.
//! `PROPTEST_CASES` sets the number of cases (default 1,000).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Who};

const SEEDS: [&str; 6] = [
    "{ me { role } }",
    "query Inbox($n: Int) { referrals(first: $n) { totalCount edges { node { id client { givenName } } } } }",
    "{ services(filter: { search: \"schuld\" }, first: 3) { edges { node { name locations { street } } } } }",
    "mutation($i: RegisterClientInput!) { registerClient(input: $i) { id } }",
    "{ organisations { edges { node { services { totalCount } } } } __schema { types { name } } }",
    "query($id: ID!) { client(id: $id) { id referrals { edges { cursor } } } }",
];

const CODES: [&str; 8] = [
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "RATE_LIMITED",
    "QUERY_TOO_COMPLEX",
    "INTERNAL",
];

/// One fuzzed request.
#[derive(Debug, Clone)]
struct Fuzzed {
    /// Sent as GET with this query (and no body) when set.
    get: Option<String>,
    content_type: Option<&'static str>,
    authorization: u8,
    body: Vec<u8>,
}

/// A valid query with a few characters changed, inserted or removed.
fn near_valid_query() -> impl Strategy<Value = String> {
    (0..SEEDS.len(), prop::collection::vec((any::<u16>(), any::<char>(), 0u8..3), 0..3)).prop_map(
        |(seed, edits)| {
            let mut chars: Vec<char> = SEEDS[seed].chars().collect();
            for (at, c, kind) in edits {
                let at = at as usize % (chars.len() + 1);
                match kind {
                    0 => chars.insert(at, c),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ if at < chars.len() => chars[at] = c,
                    _ => {}
                }
            }
            chars.into_iter().collect()
        },
    )
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(json!("00000000-0000-0000-0000-000000000000")),
        Just(json!("85073003328")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::hash_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Mostly an object (as variables are), sometimes anything.
fn variables() -> impl Strategy<Value = Value> {
    let object =
        prop::collection::hash_map(prop::sample::select(vec!["n", "i", "id", "x"]), json_value(), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    prop_oneof![3 => object, 1 => json_value()]
}

fn extensions() -> impl Strategy<Value = Value> {
    prop_oneof![4 => Just(Value::Null), 1 => json_value()]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
            // Bytes, anything at all.
            1 => prop::collection::vec(any::<u8>(), 0..512),
            // A GraphQL request in JSON, its parts random.
            4 =>
    (near_valid_query(), variables(), prop::option::weighted(0.2, ".{0,10}"), extensions()).prop_map(
                |(query, variables, operation, extensions)| {
                    json!({ "query": query, "variables": variables, "operationName": operation, "extensions": extensions })
                        .to_string()
                        .into_bytes()
                }
            ),
            // Any JSON at all.
            1 => json_value().prop_map(|v| v.to_string().into_bytes()),
            // A persisted query by a random hash.
            1 => "[0-9a-f]{64}".prop_map(|hash| {
                json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } }).to_string().into_bytes()
            }),
        ]
}

fn fuzzed() -> impl Strategy<Value = Fuzzed> {
    let content_types = prop::sample::select(vec![
        None,
        Some("application/json"),
        Some("application/json"),
        Some("application/graphql"),
        Some("text/plain"),
        Some("application/json; charset=utf-8"),
    ]);
    (prop::option::weighted(0.3, near_valid_query()), content_types, 0u8..4, body()).prop_map(
        |(get, content_type, authorization, body)| Fuzzed { get, content_type, authorization, body },
    )
}

fn check(status: u16, text: &str) -> Result<(), TestCaseError> {
    let body: Value =
        serde_json::from_str(text).map_err(|_| TestCaseError::fail(format!("{status}: not JSON: {text}")))?;
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    prop_assert!(
        body.get("data").is_some() || !errors.is_empty(),
        "{status}: neither data nor errors: {text}"
    );
    for error in &errors {
        let code = error["extensions"]["code"].as_str().unwrap_or("<none>");
        prop_assert!(CODES.contains(&code), "{status}: unknown code {code}: {text}");
        if code == "INTERNAL" {
            prop_assert!(
                error["extensions"]["requestId"].is_string(),
                "INTERNAL without a request id: {text}"
            );
        }
    }
    if status >= 500 {
        prop_assert!(
            errors.iter().any(|e| e["extensions"]["code"] == "INTERNAL"),
            "{status} that is not INTERNAL: {text}"
        );
    }
    Ok(())
}

#[test]
fn whatever_arrives_the_answer_is_a_coded_graphql_response() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(TestApp::spawn_with(|config| config.limits.rate_limit = 0));
    let tokens = runtime
        .block_on(async { [app.token(Who::Caw).await.unwrap(), app.token(Who::Admin).await.unwrap()] });
    let url = format!("http://{}/graphql", app.addr);
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1_000);
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let result = runner.run(&fuzzed(), |case| {
        runtime.block_on(async {
            let mut request = if let Some(query) = &case.get {
                app.http.get(&url).query(&[("query", query)])
            } else {
                app.http.post(&url).body(case.body.clone())
            };
            if let Some(content_type) = case.content_type {
                request = request.header("Content-Type", content_type);
            }
            request = match case.authorization {
                0 => request,
                1 => request.bearer_auth(&tokens[0]),
                2 => request.bearer_auth(&tokens[1]),
                _ => request.header("Authorization", "Bearer not.a.token"),
            };
            let response =
                request.send().await.map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
            let status = response.status().as_u16();
            *statuses.lock().unwrap().entry(status).or_default() += 1;
            let text = response.text().await.map_err(|e| TestCaseError::fail(e.to_string()))?;
            check(status, &text)
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let statuses = statuses.into_inner().unwrap();
    println!("answers by status: {statuses:?}");
    assert!(
        statuses.contains_key(&200) && statuses.contains_key(&400),
        "the cases reach execution and refusal"
    );
    // And the server is still there.
    let health = runtime.block_on(app.get("/healthz"));
    assert_eq!(health.status(), 200);
    drop(app);
}

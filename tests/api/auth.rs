//! Tokens over the real HTTP server: a bad token is refused, never downgraded to PUBLIC.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entities::user;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde_json::json;

use crate::helpers::{SECRET, TestApp, Who, codes};

const ME: &str = "{ me { role user { email } organisation { name } } }";

fn token_with(secret: &str, claims: serde_json::Value) -> String {
    encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn without_a_token_the_caller_is_public() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post(None, ME, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"], json!({ "role": "PUBLIC", "user": null, "organisation": null }));
}

#[tokio::test]
async fn a_valid_token_carries_the_users_role_and_organisation() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post_as(Who::Caw, ME, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["me"]["role"], "PARTNER");
    assert_eq!(body["data"]["me"]["organisation"]["name"], "CAW Zuid-West-Vlaanderen");
    let (_, body) = app.post_as(Who::Intake, ME, json!({})).await;
    assert_eq!(body["data"]["me"]["role"], "INTAKE");
}

#[tokio::test]
async fn bad_tokens_are_refused_not_downgraded() {
    let app = TestApp::spawn().await;
    let user = app.user(Who::Admin).await.unwrap();
    let sub = user.id.to_string();
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(json!({ "sub": sub, "exp": now() + 3600 }).to_string())
    );
    let cases = [
        ("expired", format!("Bearer {}", token_with(SECRET, json!({ "sub": sub, "exp": now() - 3600 })))),
        (
            "not yet valid",
            format!(
                "Bearer {}",
                token_with(SECRET, json!({ "sub": sub, "exp": now() + 7200, "nbf": now() + 3600 }))
            ),
        ),
        (
            "wrong key",
            format!(
                "Bearer {}",
                token_with(
                    "another-secret-that-is-long-enough-too!!",
                    json!({ "sub": sub, "exp": now() + 3600 })
                )
            ),
        ),
        ("no exp", format!("Bearer {}", token_with(SECRET, json!({ "sub": sub })))),
        ("alg none", format!("Bearer {unsigned}")),
        (
            "unknown user",
            format!(
                "Bearer {}",
                token_with(SECRET, json!({ "sub": uuid::Uuid::new_v4().to_string(), "exp": now() + 3600 }))
            ),
        ),
        (
            "not a uuid",
            format!("Bearer {}", token_with(SECRET, json!({ "sub": "admin", "exp": now() + 3600 }))),
        ),
        ("garbage", "Bearer not.a.token".to_owned()),
        ("no scheme", token_with(SECRET, json!({ "sub": sub, "exp": now() + 3600 }))),
        ("empty", "".to_owned()),
    ];
    for (case, header) in cases {
        let (status, body) = app.post(Some(&header), ME, json!({})).await;
        assert_eq!(status, 401, "{case}: {body}");
        assert_eq!(codes(&body), vec!["UNAUTHENTICATED"], "{case}");
        assert!(body["data"].is_null(), "{case}: nothing is answered");
    }
}

#[tokio::test]
async fn a_deactivated_user_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let header = format!("Bearer {}", app.token(Who::Caw).await.unwrap());
    let (status, _) = app.post(Some(&header), ME, json!({})).await;
    assert_eq!(status, 200);

    let mut caw: user::ActiveModel = app.user(Who::Caw).await.unwrap().into_active_model();
    caw.active = Set(false);
    caw.update(&app.db.conn).await.unwrap();

    let (status, body) = app.post(Some(&header), ME, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(codes(&body), vec!["UNAUTHENTICATED"]);
}

#[tokio::test]
async fn a_role_change_applies_to_the_next_request() {
    let app = TestApp::spawn().await;
    let header = format!("Bearer {}", app.token(Who::Analyst).await.unwrap());
    let query = "{ clients(first: 1) { totalCount } }";
    let (_, body) = app.post(Some(&header), query, json!({})).await;
    assert_eq!(crate::helpers::denied(&body), "HIDDEN");

    let mut analyst: user::ActiveModel = app.user(Who::Analyst).await.unwrap().into_active_model();
    analyst.role = Set(entities::Role::CaseWorker);
    analyst.update(&app.db.conn).await.unwrap();

    let (_, body) = app.post(Some(&header), query, json!({})).await;
    assert!(body["data"]["clients"]["totalCount"].as_i64().unwrap() > 0, "{body}");
}

#[test]
fn token_lifetimes_parse() {
    use welzijnshuis::auth::parse_ttl;
    assert_eq!(parse_ttl("8h").unwrap(), chrono::Duration::hours(8));
    assert_eq!(parse_ttl("30m").unwrap(), chrono::Duration::minutes(30));
    assert_eq!(parse_ttl("2d").unwrap(), chrono::Duration::days(2));
    for bad in ["", "h", "8x", "0h", "90d", "-1h"] {
        assert!(parse_ttl(bad).is_err(), "{bad}");
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn signed(algorithm: Algorithm, private_pem: &str, claims: serde_json::Value) -> String {
    let pem = std::fs::read(fixture(private_pem)).unwrap();
    let key = match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
        _ => EncodingKey::from_ec_pem(&pem).unwrap(),
    };
    encode(&Header::new(algorithm), &claims, &key).unwrap()
}

#[tokio::test]
async fn tokens_of_an_external_identity_provider_are_accepted_with_its_key() {
    for (algorithm, name, private, other_private) in [
        (Algorithm::RS256, "RS256", "rs256-private.pem", "es256-private.pem"),
        (Algorithm::ES256, "ES256", "es256-private.pem", "rs256-private.pem"),
    ] {
        let public = fixture(&format!("{}-public.pem", name.to_lowercase()));
        let app = TestApp::spawn_with(|config| {
            config.jwt_public_key = Some(public);
            config.jwt_algorithm = name.into();
        })
        .await;
        let sub = app.user(Who::Dyzo).await.unwrap().id.to_string();
        let good = signed(algorithm, private, json!({ "sub": sub, "exp": now() + 600 }));
        let (status, body) = app.post(Some(&format!("Bearer {good}")), ME, json!({})).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["data"]["me"]["organisation"]["name"], "dyzo");

        // The service's own HS256 tokens still work beside it.
        let (status, _) = app.post_as(Who::Dyzo, ME, json!({})).await;
        assert_eq!(status, 200);

        let other_alg = if algorithm == Algorithm::RS256 { Algorithm::ES256 } else { Algorithm::RS256 };
        for (case, token) in [
            ("expired", signed(algorithm, private, json!({ "sub": sub, "exp": now() - 600 }))),
            (
                "another key, another algorithm",
                signed(other_alg, other_private, json!({ "sub": sub, "exp": now() + 600 })),
            ),
            (
                "unknown user",
                signed(
                    algorithm,
                    private,
                    json!({ "sub": uuid::Uuid::new_v4().to_string(), "exp": now() + 600 }),
                ),
            ),
        ] {
            let (status, body) = app.post(Some(&format!("Bearer {token}")), ME, json!({})).await;
            assert_eq!((status, codes(&body)), (401, vec!["UNAUTHENTICATED".to_owned()]), "{name}: {case}");
        }
    }
}

#[tokio::test]
async fn without_a_configured_key_rs256_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let sub = app.user(Who::Dyzo).await.unwrap().id.to_string();
    let token = signed(Algorithm::RS256, "rs256-private.pem", json!({ "sub": sub, "exp": now() + 600 }));
    let (status, body) = app.post(Some(&format!("Bearer {token}")), ME, json!({})).await;
    assert_eq!((status, codes(&body)), (401, vec!["UNAUTHENTICATED".to_owned()]));
}

#[test]
fn a_bad_key_configuration_is_refused_at_start() {
    use welzijnshuis::auth::Tokens;
    let pem = std::fs::read(fixture("rs256-public.pem")).unwrap();
    assert!(Tokens::hs256(b"secret").with_public_key("HS512", &pem, &Default::default()).is_err());
    assert!(
        Tokens::hs256(b"secret").with_public_key("ES256", &pem, &Default::default()).is_err(),
        "an RSA key is no EC key"
    );
    assert!(Tokens::hs256(b"secret").with_public_key("RS256", b"not a pem", &Default::default()).is_err());
    assert!(Tokens::hs256(b"secret").with_public_key("rs256", &pem, &Default::default()).is_ok());
}

#[tokio::test]
async fn an_external_key_checks_issuer_audience_and_lifetime() {
    let app = TestApp::spawn_with(|config| {
        config.jwt_public_key = Some(fixture("rs256-public.pem"));
        config.jwt_algorithm = "RS256".into();
        config.jwt_issuer = Some("https://login.roeselare.test".into());
        config.jwt_audience = Some("welzijnshuis".into());
    })
    .await;
    let sub = app.user(Who::Dyzo).await.unwrap().id.to_string();
    let (iss, aud) = ("https://login.roeselare.test", "welzijnshuis");
    let token = |claims: serde_json::Value| signed(Algorithm::RS256, "rs256-private.pem", claims);
    // As identity providers issue them: an issuer, an audience (a list, even), an hour to live.
    for claims in [
        json!({ "sub": sub, "iss": iss, "aud": aud, "iat": now(), "exp": now() + 3600 }),
        json!({ "sub": sub, "iss": iss, "aud": ["account", aud], "iat": now(), "exp": now() + 3600 }),
    ] {
        let (status, body) =
            app.post(Some(&format!("Bearer {}", token(claims.clone()))), ME, json!({})).await;
        assert_eq!(status, 200, "{claims}: {body}");
    }
    for (case, claims) in [
        (
            "a foreign issuer",
            json!({ "sub": sub, "iss": "https://evil.test", "aud": aud, "iat": now(), "exp": now() + 3600 }),
        ),
        ("no issuer", json!({ "sub": sub, "aud": aud, "iat": now(), "exp": now() + 3600 })),
        (
            "a foreign audience",
            json!({ "sub": sub, "iss": iss, "aud": "another-app", "iat": now(), "exp": now() + 3600 }),
        ),
        ("no audience", json!({ "sub": sub, "iss": iss, "iat": now(), "exp": now() + 3600 })),
        (
            "a hundred years",
            json!({ "sub": sub, "iss": iss, "aud": aud, "iat": now(), "exp": now() + 100 * 365 * 86_400 }),
        ),
        (
            "a hundred years, no iat",
            json!({ "sub": sub, "iss": iss, "aud": aud, "exp": now() + 100 * 365 * 86_400 }),
        ),
    ] {
        let (status, body) = app.post(Some(&format!("Bearer {}", token(claims))), ME, json!({})).await;
        assert_eq!((status, codes(&body)), (401, vec!["UNAUTHENTICATED".to_owned()]), "{case}: {body}");
    }
    // Nor can a token say it was issued in the future to stretch its life.
    let future = json!({ "sub": sub, "iss": iss, "aud": aud, "iat": now() + 300 * 86_400, "exp": now() + 300 * 86_400 + 3600 });
    let (status, _) = app.post(Some(&format!("Bearer {}", token(future))), ME, json!({})).await;
    assert_eq!(status, 401, "issued in the future");
    // The same bound for our own tokens: a forged long-lived HS256 token is refused too.
    let long = token_with(SECRET, json!({ "sub": sub, "iat": now(), "exp": now() + 30 * 86_400 }));
    let (status, _) = app.post(Some(&format!("Bearer {long}")), ME, json!({})).await;
    assert_eq!(status, 401, "longer than WELZIJNSHUIS_JWT_MAX_TTL");
}

#[tokio::test]
async fn the_authorization_header_is_read_as_http_says() {
    let app = TestApp::spawn().await;
    let token = app.token(Who::Caw).await.unwrap();
    for scheme in ["Bearer", "bearer", "BEARER", "BeArEr"] {
        let (status, body) = app.post(Some(&format!("{scheme} {token}")), ME, json!({})).await;
        assert_eq!(status, 200, "{scheme}: {body}");
        assert_eq!(body["data"]["me"]["role"], "PARTNER");
    }
    // Two headers: refused, not one of them picked.
    let response = app
        .http
        .post(format!("http://{}/graphql", app.addr))
        .header("Authorization", format!("Bearer {token}"))
        .header("Authorization", "Bearer another")
        .json(&json!({ "query": ME }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(codes(&body), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn guessing_tokens_costs_the_guessers_rate() {
    let app = TestApp::spawn_with(|config| {
        config.limits.rate_limit = 1;
        config.limits.rate_burst = 3;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let (status, _) = app.post(Some(&format!("Bearer guess-{i}")), ME, json!({})).await;
        statuses.push(status);
    }
    assert_eq!(&statuses[..3], &[401, 401, 401], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "bad tokens count against the address: {statuses:?}");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_caller_has_its_own_bucket() {
    async fn status(app: &TestApp, forwarded: &str) -> u16 {
        let response = app
            .http
            .post(format!("http://{}/graphql", app.addr))
            .header("X-Forwarded-For", forwarded)
            .json(&json!({ "query": ME }))
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    }
    // Without a trusted proxy, X-Forwarded-For is the caller's own word: one bucket for all.
    let plain = TestApp::spawn_with(|config| {
        config.limits.rate_limit = 1;
        config.limits.rate_burst = 2;
    })
    .await;
    let got = [
        status(&plain, "192.0.2.1").await,
        status(&plain, "192.0.2.2").await,
        status(&plain, "192.0.2.3").await,
    ];
    assert_eq!(got, [200, 200, 429], "a forged header buys no bucket");
    // Behind a trusted proxy (loopback here): each forwarded address its bucket; IPv6 by /64.
    let proxied = TestApp::spawn_with(|config| {
        config.limits.rate_limit = 1;
        config.limits.rate_burst = 2;
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
    })
    .await;
    assert_eq!(status(&proxied, "192.0.2.1").await, 200);
    assert_eq!(status(&proxied, "192.0.2.1").await, 200);
    assert_eq!(status(&proxied, "192.0.2.1").await, 429);
    assert_eq!(status(&proxied, "192.0.2.2").await, 200, "another caller, another bucket");
    // What stands left of the last untrusted hop is the caller's own word.
    assert_eq!(status(&proxied, "198.51.100.7, 192.0.2.1, 10.1.2.3").await, 429, "192.0.2.1 is the caller");
    assert_eq!(status(&proxied, "2001:db8:1:2::1").await, 200);
    assert_eq!(status(&proxied, "2001:db8:1:2::ffff").await, 200);
    assert_eq!(status(&proxied, "2001:db8:1:2:abcd::9").await, 429, "one /64, one bucket");
    assert_eq!(status(&proxied, "2001:db8:1:3::1").await, 200, "another /64");
    // A hop the proxy wrote that does not read as an address is no reason to believe what stands
    // left of it: such callers fall back to the proxy's own bucket.
    let mut odd = Vec::new();
    for i in 0..4 {
        odd.push(status(&proxied, &format!("203.0.113.{i}, unknown")).await);
    }
    assert!(odd.contains(&429), "spoofed entries left of an unreadable hop buy no buckets: {odd:?}");
}

#[test]
fn configuration_and_commands_refuse_clearly_and_never_panic() {
    let binary = env!("CARGO_BIN_EXE_welzijnshuis");
    let dir = std::env::temp_dir().join(format!("wzh-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/c.db?mode=rwc", dir.display());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(binary);
        command.args(args).env("DATABASE_URL", &db).env("WELZIJNSHUIS_ADDR", "127.0.0.1:0");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().unwrap()
    };
    for (case, args, env, says) in [
        (
            "a huge ttl",
            vec!["token", "admin@welzijnshuis.test", "--ttl", "99999999999999999d"],
            vec![],
            "30 days",
        ),
        (
            "a ttl past the maximum",
            vec!["token", "admin@welzijnshuis.test", "--ttl", "2d"],
            vec![],
            "WELZIJNSHUIS_JWT_MAX_TTL",
        ),
        ("CORS *", vec!["serve"], vec![("WELZIJNSHUIS_CORS_ORIGINS", "*")], "'*'"),
        (
            "CORS with a path",
            vec!["serve"],
            vec![("WELZIJNSHUIS_CORS_ORIGINS", "https://a.test/dash")],
            "not an origin",
        ),
        ("CORS nonsense", vec!["serve"], vec![("WELZIJNSHUIS_CORS_ORIGINS", "not a url")], "not an origin"),
        (
            "init timeout",
            vec!["serve"],
            vec![("WELZIJNSHUIS_WS_INIT_TIMEOUT_SECS", "18446744073709551615")],
            "WELZIJNSHUIS_WS_INIT_TIMEOUT_SECS",
        ),
        (
            "no executions",
            vec!["serve"],
            vec![("WELZIJNSHUIS_MAX_CONCURRENT_REQUESTS", "0")],
            "WELZIJNSHUIS_MAX_CONCURRENT_REQUESTS",
        ),
        ("depth", vec!["serve"], vec![("WELZIJNSHUIS_MAX_DEPTH", "100000")], "WELZIJNSHUIS_MAX_DEPTH"),
        (
            "a proxy that is no address",
            vec!["serve"],
            vec![("WELZIJNSHUIS_TRUSTED_PROXIES", "proxy.example")],
            "CIDR",
        ),
    ] {
        let output = run(&args, &env);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{case}: refused");
        assert!(!stderr.contains("panicked"), "{case}: {stderr}");
        assert!(stderr.contains(says), "{case}: says why: {stderr}");
    }
    // A trailing slash on an origin is normalised, not refused.
    assert!(welzijnshuis::config::cors_origins(&["https://dashboard.test/".into()]).is_ok());
    let ok = run(&["token", "admin@welzijnshuis.test", "--ttl", "12h"], &[]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

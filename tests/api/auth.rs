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
    assert!(Tokens::hs256(b"secret").with_public_key("HS512", &pem).is_err());
    assert!(Tokens::hs256(b"secret").with_public_key("ES256", &pem).is_err(), "an RSA key is no EC key");
    assert!(Tokens::hs256(b"secret").with_public_key("RS256", b"not a pem").is_err());
    assert!(Tokens::hs256(b"secret").with_public_key("rs256", &pem).is_ok());
}

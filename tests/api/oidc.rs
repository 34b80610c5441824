//! Sign-in through a real OpenID Connect provider: the `oidc-provider` package, run by Node.js on
//! a loopback port (`tests/oidc-provider/server.mjs`), issuing its tokens through the whole
//! authorization code flow with PKCE, publishing and rotating its keys while our server runs.
//! Every token is tried at every door: POST, GET, the WebSocket's `connection_init` and its
//! upgrade request.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entities::{client, referral, user};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use welzijnshuis::config::OidcConfig;

use crate::helpers::{SECRET, TestApp, Who, codes};

/// The audience our API's access tokens carry (the provider's resource indicator for us).
const AUDIENCE: &str = "https://api.welzijnshuis.test";
const ME: &str = "{ me { role user { email } organisation { name } } }";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The provider, a Node.js process of its own; killed when dropped (a panicking test too), and
/// it exits by itself when our end of its standard input closes (a test process killed outright).
struct Provider {
    child: tokio::process::Child,
    issuer: String,
    http: reqwest::Client,
    log: Arc<Mutex<Vec<String>>>,
}

/// What the provider's token endpoint answered at the end of a sign-in.
struct SignedIn {
    access_token: String,
    id_token: String,
}

impl Provider {
    async fn start() -> Provider {
        let folder = provider_folder();
        install_once(&folder).await;
        let mut child = tokio::process::Command::new("node")
            .arg("server.mjs")
            .arg(AUDIENCE)
            .current_dir(&folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("Node.js runs tests/oidc-provider/server.mjs (install Node.js 20 or later)");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (sink, mut errors) = (log.clone(), BufReader::new(child.stderr.take().unwrap()).lines());
        tokio::spawn(async move {
            while let Ok(Some(line)) = errors.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(issuer) = line.strip_prefix("issuer ") {
                    return Some(issuer.to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten();
        let issuer =
            issuer.unwrap_or_else(|| panic!("the provider did not start: {:?}", log.lock().unwrap()));
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Provider { child, issuer, http: reqwest::Client::new(), log }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("the provider answers");
        let status = response.status();
        let body: Value = response.json().await.expect("the provider answers JSON");
        assert!(status.is_success(), "{path}: {status} {body}; its log: {:?}", self.log.lock().unwrap());
        body
    }

    /// Signs in at the provider as a front end does (code flow with PKCE) for an account with
    /// these claims, asking an access token for `resource`.
    async fn sign_in_for(&self, resource: &str, sub: &str, email: &str, verified: bool) -> SignedIn {
        let body = json!({ "sub": sub, "email": email, "email_verified": verified, "resource": resource });
        let answer = self.call(reqwest::Method::POST, "/test/sign-in", body).await;
        SignedIn {
            access_token: answer["access_token"].as_str().expect("an access token").to_owned(),
            id_token: answer["id_token"].as_str().expect("an ID token").to_owned(),
        }
    }

    /// An access token for our API.
    async fn sign_in(&self, sub: &str, email: &str, verified: bool) -> String {
        self.sign_in_for(AUDIENCE, sub, email, verified).await.access_token
    }

    /// An access token for our API of a citizen's account, whose `rrn` claim is `rrn`; the
    /// account has a verified e-mail address too.
    async fn sign_in_citizen(&self, sub: &str, email: &str, rrn: Value) -> String {
        let body = json!({ "sub": sub, "email": email, "email_verified": true, "rrn": rrn });
        let answer = self.call(reqwest::Method::POST, "/test/sign-in", body).await;
        answer["access_token"].as_str().expect("an access token").to_owned()
    }

    /// `payload` signed with the provider's current key (`"current"`) or one it never published
    /// (`"foreign"`), under its own kid or `kid`.
    async fn sign(&self, payload: Value, key: &str, kid: Option<&str>) -> String {
        let body = json!({ "payload": payload, "key": key, "kid": kid });
        let answer = self.call(reqwest::Method::POST, "/test/sign", body).await;
        answer["token"].as_str().expect("a token").to_owned()
    }

    /// A new signing key, first in the published set; its kid.
    async fn rotate(&self) -> String {
        let answer = self.call(reqwest::Method::POST, "/test/rotate", json!({})).await;
        answer["kid"].as_str().expect("a kid").to_owned()
    }

    /// How often the provider's key set was fetched.
    async fn jwks_fetches(&self) -> u64 {
        let answer = self.call(reqwest::Method::GET, "/test/jwks-fetches", json!({})).await;
        answer["count"].as_u64().expect("a count")
    }

    /// Claims as the provider puts them in its access tokens for us, for a crafted token.
    fn claims(&self, sub: &str, email: &str) -> Value {
        json!({ "iss": self.issuer, "aud": AUDIENCE, "sub": sub, "email": email, "email_verified": true,
                "iat": now(), "exp": now() + 600 })
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            eprintln!("the OpenID provider's log: {:#?}", self.log.lock().unwrap());
        }
    }
}

fn provider_folder() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider")
}

/// `npm ci` in the provider's folder when its packages are missing (a fresh clone), once for
/// all the tests running at once.
async fn install_once(folder: &std::path::Path) {
    static INSTALLED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    INSTALLED
        .get_or_init(|| async {
            if folder.join("node_modules/oidc-provider/package.json").exists() {
                return;
            }
            let status = tokio::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(folder)
                .status()
                .await
                .expect("npm installs the provider's packages (install Node.js 20 or later and npm)");
            assert!(status.success(), "npm ci in tests/oidc-provider failed");
        })
        .await;
}

/// Our server, signing in through `provider`.
async fn app_for(provider: &Provider) -> TestApp {
    let issuer = provider.issuer.clone();
    TestApp::spawn_with(|config| {
        config.oidc =
            OidcConfig { issuer: Some(issuer), audience: Some(AUDIENCE.into()), ..Default::default() };
        // Refused tokens count against the address; these tests send a hundred on purpose.
        config.limits.rate_limit = 0;
    })
    .await
}

/// Our server, letting citizens sign in through `provider` with their national register number
/// in the claim `rrn`.
async fn app_for_citizens(provider: &Provider) -> TestApp {
    let issuer = provider.issuer.clone();
    TestApp::spawn_with(|config| {
        config.oidc = OidcConfig {
            issuer: Some(issuer),
            audience: Some(AUDIENCE.into()),
            client_claim: Some("rrn".into()),
        };
        config.limits.rate_limit = 0;
    })
    .await
}

/// What one door answered: the `me` data, or the refusal's status (HTTP) or close code
/// (WebSocket) and message.
#[derive(Debug)]
enum Answer {
    Me(Value),
    Refused { status: u16, code: String, message: String },
}

const DOORS: [&str; 4] = ["POST", "GET", "connection_init", "upgrade"];

async fn knock(app: &TestApp, door: &str, token: &str) -> Answer {
    match knock_with(app, door, token, ME).await {
        Answer::Me(data) => Answer::Me(data["me"].clone()),
        refused => refused,
    }
}

/// `query` through `door`: its `data`, or the refusal.
async fn knock_with(app: &TestApp, door: &str, token: &str, query: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    match door {
        "POST" => http_answer(app.post(Some(&bearer), query, json!({})).await),
        "GET" => {
            let response = app
                .http
                .get(format!("http://{}/graphql", app.addr))
                .query(&[("query", query)])
                .header("Authorization", &bearer)
                .send()
                .await
                .expect("the server answers");
            let status = response.status().as_u16();
            http_answer((status, response.json().await.expect("a JSON body")))
        }
        "connection_init" => socket_answer(app, Some(&bearer), None, query).await,
        _ => socket_answer(app, None, Some(&bearer), query).await,
    }
}

fn http_answer((status, body): (u16, Value)) -> Answer {
    if status == 200 && codes(&body).is_empty() {
        return Answer::Me(body["data"].clone());
    }
    let code = codes(&body).join(",");
    Answer::Refused { status, code, message: body["errors"][0]["message"].as_str().unwrap_or("").to_owned() }
}

/// `query` over a fresh socket, the token in `connection_init` or on the upgrade request.
async fn socket_answer(app: &TestApp, init: Option<&str>, upgrade: Option<&str>, query: &str) -> Answer {
    let mut request = format!("ws://{}/graphql/ws", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    if let Some(bearer) = upgrade {
        request.headers_mut().insert("Authorization", bearer.parse().unwrap());
    }
    let mut socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap_or(b"{}")).unwrap();
            return http_answer((response.status().as_u16(), body));
        }
        Err(other) => panic!("the upgrade failed: {other}"),
    };
    let payload = init.map(|bearer| json!({ "Authorization": bearer })).unwrap_or(json!({}));
    send(&mut socket, json!({ "type": "connection_init", "payload": payload })).await;
    let acknowledged = match next(&mut socket).await {
        Message::Text(text) => serde_json::from_str::<Value>(&text).unwrap()["type"] == "connection_ack",
        Message::Close(Some(frame)) => {
            let reason = frame.reason.to_string();
            let message = reason.strip_prefix("Forbidden: ").unwrap_or(&reason).to_owned();
            return Answer::Refused {
                status: u16::from(frame.code),
                code: "UNAUTHENTICATED".into(),
                message,
            };
        }
        other => panic!("unexpected {other:?}"),
    };
    assert!(acknowledged);
    send(&mut socket, json!({ "id": "me", "type": "subscribe", "payload": { "query": query } })).await;
    let Message::Text(text) = next(&mut socket).await else { panic!("no answer") };
    let answer: Value = serde_json::from_str(&text).unwrap();
    let _ = socket.close(None).await;
    match answer["type"].as_str() {
        Some("next") => Answer::Me(answer["payload"]["data"].clone()),
        _ => panic!("unexpected {answer}"),
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.expect("sent");
}

async fn next(socket: &mut Socket) -> Message {
    let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
    message.expect("an answer in time").expect("an open socket").expect("a message")
}

/// Asserts every door lets `token` in as the user with `email`.
async fn admitted_everywhere(app: &TestApp, token: &str, email: &str) {
    for door in DOORS {
        match knock(app, door, token).await {
            Answer::Me(me) => assert_eq!(me["user"]["email"], email, "{door}: {me}"),
            refused => panic!("{door}: {refused:?}"),
        }
    }
}

/// Asserts every door refuses `token` as UNAUTHENTICATED (401 over HTTP, 4403 on the socket),
/// saying `why`.
async fn refused_everywhere(app: &TestApp, token: &str, why: &str) {
    for door in DOORS {
        match knock(app, door, token).await {
            Answer::Refused { status, code, message } => {
                let expected = if door == "connection_init" { 4403 } else { 401 };
                assert_eq!((status, code.as_str()), (expected, "UNAUTHENTICATED"), "{door}: {message}");
                assert!(message.contains(why), "{door}: '{message}' says '{why}'");
            }
            Answer::Me(me) => panic!("{door}: let in as {me} (expected refused: {why})"),
        }
    }
}

async fn subject_of(app: &TestApp, who: Who) -> Option<String> {
    app.user(who).await.unwrap().oidc_subject
}

#[tokio::test]
async fn a_first_sign_in_pins_the_user_by_the_verified_email_and_then_by_sub() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    assert_eq!(subject_of(&app, Who::Caw).await, None);

    let token = provider.sign_in("caw-medewerker-1", "medewerker@caw.test", true).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "an access token for our API, as a front end sends");
    admitted_everywhere(&app, &token, "medewerker@caw.test").await;
    assert_eq!(subject_of(&app, Who::Caw).await.as_deref(), Some("caw-medewerker-1"));
    let Answer::Me(me) = knock(&app, "POST", &token).await else { panic!() };
    assert_eq!(me["role"], "PARTNER", "role and organisation from our database: {me}");
    assert_eq!(me["organisation"]["name"], "CAW Zuid-West-Vlaanderen");

    // Pinned: the address at the provider may change (or go unverified); the sub is who it is.
    let moved = provider.sign_in("caw-medewerker-1", "nieuw.adres@caw.test", false).await;
    admitted_everywhere(&app, &moved, "medewerker@caw.test").await;

    // An address is matched whatever its case; our own HS256 tokens still work beside it.
    let shouting = provider.sign_in("dyzo-1", "MEDEWERKER@Dyzo.test", true).await;
    admitted_everywhere(&app, &shouting, "medewerker@dyzo.test").await;
    let (status, _) = app.post_as(Who::Admin, ME, json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_sign_in_without_a_verified_email_links_no_one() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let unverified = provider.sign_in("caw-2", "medewerker@caw.test", false).await;
    refused_everywhere(&app, &unverified, "no e-mail address confirmed (email_verified)").await;
    assert_eq!(subject_of(&app, Who::Caw).await, None, "nothing was pinned");

    let stranger = provider.sign_in("stranger", "iemand@elders.test", true).await;
    refused_everywhere(&app, &stranger, "no active user has this confirmed e-mail address").await;
}

#[tokio::test]
async fn a_second_sub_with_the_address_of_a_pinned_user_does_not_get_in() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let first = provider.sign_in("intake-1", "onthaal@welzijnshuis.test", true).await;
    admitted_everywhere(&app, &first, "onthaal@welzijnshuis.test").await;

    let second = provider.sign_in("intake-impostor", "onthaal@welzijnshuis.test", true).await;
    refused_everywhere(&app, &second, "linked to another sign-in already").await;
    assert_eq!(subject_of(&app, Who::Intake).await.as_deref(), Some("intake-1"));
    admitted_everywhere(&app, &first, "onthaal@welzijnshuis.test").await;
}

#[tokio::test]
async fn tokens_not_meant_for_us_or_not_right_now_are_refused() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let email = "medewerker@woonclub.test";
    // Real tokens of the provider, through the same sign-in, that are not ours to take.
    let other_api = provider.sign_in_for("https://andere-dienst.test", "woonclub-1", email, true).await;
    refused_everywhere(&app, &other_api.access_token, "not meant for this service (aud)").await;
    let ours = provider.sign_in("woonclub-1", email, true).await;
    let signed_in = provider.sign_in_for(AUDIENCE, "woonclub-1", email, true).await;
    refused_everywhere(&app, &signed_in.id_token, "not meant for this service (aud)").await;
    assert_eq!(subject_of(&app, Who::Woonclub).await, None, "none of them pinned anyone");

    let claims = provider.claims("woonclub-1", email);
    let with = |changes: Value| {
        let mut claims = claims.clone();
        claims.as_object_mut().unwrap().extend(changes.as_object().unwrap().clone());
        claims
    };
    let without = |claim: &str| {
        let mut claims = claims.clone();
        claims.as_object_mut().unwrap().remove(claim);
        claims
    };
    let signed = |payload: Value| provider.sign(payload, "current", None);
    let cases = [
        ("expired", signed(with(json!({ "iat": now() - 900, "exp": now() - 300 }))).await, "has expired"),
        ("not yet valid", signed(with(json!({ "nbf": now() + 600 }))).await, "not valid yet (nbf)"),
        ("another audience", signed(with(json!({ "aud": "https://andere-dienst.test" }))).await, "(aud)"),
        ("no audience", signed(without("aud")).await, "lacks a required claim"),
        ("no exp", signed(without("exp")).await, "lacks a required claim"),
        ("a hundred days", signed(with(json!({ "exp": now() + 100 * 86_400 }))).await, "lives longer"),
        ("issued in the future", signed(with(json!({ "iat": now() + 3600 }))).await, "in the future"),
        (
            "a key it never published",
            provider.sign(claims.clone(), "foreign", None).await,
            "a key the identity provider does not publish",
        ),
    ];
    for (case, token, why) in cases {
        println!("{case}");
        refused_everywhere(&app, &token, why).await;
    }
    // Its own kid on a foreign key: the kid is known, the signature is not the provider's.
    let current_kid = jsonwebtoken::decode_header(&ours).unwrap().kid.unwrap();
    let forged = provider.sign(claims.clone(), "foreign", Some(&current_kid)).await;
    refused_everywhere(&app, &forged, "signature does not hold").await;
    // Another issuer, signed with the provider's own key: not taken for the provider's token.
    let elsewhere = signed(with(json!({ "iss": "https://login.elders.test" }))).await;
    refused_everywhere(&app, &elsewhere, "invalid or expired token").await;
    assert_eq!(subject_of(&app, Who::Woonclub).await, None);
    // The right one, last: it was the claims.
    admitted_everywhere(&app, &ours, email).await;
}

#[tokio::test]
async fn symmetric_and_unsigned_tokens_naming_the_provider_are_refused() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let claims = provider.claims("analist-1", "analist@welzijnshuis.test");
    // HS256 with our own secret, or with the provider's public key as the "secret": neither is a
    // signature of the provider's.
    let hs256 = |secret: &[u8]| {
        let header = jsonwebtoken::Header { kid: Some("k".into()), ..Default::default() };
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(secret)).unwrap()
    };
    let jwks = reqwest::get(format!("{}/jwks", provider.issuer)).await.unwrap().text().await.unwrap();
    refused_everywhere(&app, &hs256(SECRET.as_bytes()), "algorithm is not accepted").await;
    refused_everywhere(&app, &hs256(jwks.as_bytes()), "algorithm is not accepted").await;
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    refused_everywhere(&app, &unsigned, "invalid token").await;
    assert_eq!(subject_of(&app, Who::Analyst).await, None);
}

#[tokio::test]
async fn a_rotated_key_is_taken_without_a_restart() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let before = provider.sign_in("admin-1", "admin@welzijnshuis.test", true).await;
    admitted_everywhere(&app, &before, "admin@welzijnshuis.test").await;
    let fetched = provider.jwks_fetches().await;
    assert_eq!(fetched, 1, "the keys were read once, at start");

    let new_kid = provider.rotate().await;
    let after = provider.sign_in("admin-1", "admin@welzijnshuis.test", true).await;
    assert_eq!(jsonwebtoken::decode_header(&after).unwrap().kid.as_deref(), Some(new_kid.as_str()));
    admitted_everywhere(&app, &after, "admin@welzijnshuis.test").await;
    assert_eq!(provider.jwks_fetches().await, fetched + 1, "one fetch for the new kid, then cached");
    // The old key is still published: its tokens stay good until they expire.
    admitted_everywhere(&app, &before, "admin@welzijnshuis.test").await;
    assert_eq!(provider.jwks_fetches().await, fetched + 1);
}

#[tokio::test]
async fn made_up_kids_cost_the_provider_at_most_one_fetch_a_minute() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let at_start = provider.jwks_fetches().await;
    let claims = provider.claims("caseworker-1", "maatschappelijk.werker@welzijnshuis.test");
    let mut tokens = Vec::new();
    for i in 0..20 {
        tokens.push(provider.sign(claims.clone(), "foreign", Some(&format!("made-up-{i}"))).await);
    }
    // Twenty at once, then twenty after each other, at every door.
    let at_once = tokens.iter().map(|token| knock(&app, "POST", token));
    for answer in futures_util::future::join_all(at_once).await {
        assert!(matches!(answer, Answer::Refused { status: 401, .. }), "{answer:?}");
    }
    for token in &tokens {
        refused_everywhere(&app, token, "a key the identity provider does not publish").await;
    }
    assert_eq!(provider.jwks_fetches().await, at_start + 1, "one fetch for a hundred made-up kids");

    // The price of the bound: a key rotated within that minute is fetched only after it.
    let new_kid = provider.rotate().await;
    let token = provider.sign_in("caseworker-1", "maatschappelijk.werker@welzijnshuis.test", true).await;
    assert_eq!(jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(), Some(new_kid.as_str()));
    refused_everywhere(&app, &token, "does not publish").await;
    assert_eq!(provider.jwks_fetches().await, at_start + 1);
}

#[tokio::test]
async fn a_deactivated_user_is_refused_with_a_valid_token() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let token = provider.sign_in("pension-1", "medewerker@pensioendienst.test", true).await;
    admitted_everywhere(&app, &token, "medewerker@pensioendienst.test").await;

    let mut row: user::ActiveModel = app.user(Who::Pension).await.unwrap().into_active_model();
    row.active = Set(false);
    row.update(&app.db.conn).await.unwrap();
    refused_everywhere(&app, &token, "unknown or inactive user").await;

    // Nor is a deactivated user pinned on a first sign-in.
    let caw = user::Entity::find().filter(user::Column::Email.eq("medewerker@caw.test"));
    let mut row: user::ActiveModel = caw.one(&app.db.conn).await.unwrap().unwrap().into_active_model();
    row.active = Set(false);
    row.update(&app.db.conn).await.unwrap();
    let first = provider.sign_in("caw-3", "medewerker@caw.test", true).await;
    refused_everywhere(&app, &first, "no active user").await;
    assert_eq!(subject_of(&app, Who::Caw).await, None);
}

#[test]
fn the_issuer_must_be_https_except_on_this_machine() {
    let check = |issuer: &str| {
        OidcConfig { issuer: Some(issuer.into()), audience: Some(AUDIENCE.into()), ..Default::default() }
            .check()
            .map(|_| ())
    };
    for good in [
        "https://login.welzijnshuis.be/realms/roeselare",
        "http://127.0.0.1:8081",
        "http://localhost:8081/",
        "http://[::1]:8081",
    ] {
        assert!(check(good).is_ok(), "{good}: {:?}", check(good));
    }
    for (bad, says) in [
        ("http://login.welzijnshuis.be", "must be https"),
        ("http://localhost.evil.test", "must be https"),
        ("http://127.0.0.1@evil.test", "must be https"),
        ("ftp://login.welzijnshuis.be", "https"),
        ("login.welzijnshuis.be", "not a URL"),
        ("https://login.welzijnshuis.be/?realm=a", "query"),
        ("https://admin:geheim@login.welzijnshuis.be", "user name or password"),
    ] {
        let refused = check(bad).expect_err(bad).to_string();
        assert!(refused.contains("WELZIJNSHUIS_OIDC_ISSUER") && refused.contains(says), "{bad}: {refused}");
    }
    let half = OidcConfig { issuer: Some("https://login.welzijnshuis.be".into()), ..Default::default() };
    assert!(half.check().unwrap_err().to_string().contains("WELZIJNSHUIS_OIDC_AUDIENCE"));
    let other_half = OidcConfig { audience: Some(AUDIENCE.into()), ..Default::default() };
    assert!(other_half.check().unwrap_err().to_string().contains("WELZIJNSHUIS_OIDC_ISSUER"));
}

#[tokio::test]
async fn the_server_refuses_to_start_on_an_insecure_unreachable_or_wrongly_named_provider() {
    let provider = Provider::start().await;
    let dir = std::env::temp_dir().join(format!("wzh-oidc-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/o.db?mode=rwc", dir.display());
    let with_slash = format!("{}/", provider.issuer);
    let renamed = provider.issuer.replace("127.0.0.1", "localhost");
    for (issuer, says) in [
        ("http://login.welzijnshuis.be", "must be https"),
        ("http://127.0.0.1:9", "could not read the provider's discovery document"),
        (renamed.as_str(), "the provider calls itself"),
    ] {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_welzijnshuis"))
            .arg("serve")
            .env("DATABASE_URL", &db)
            .env("WELZIJNSHUIS_ADDR", "127.0.0.1:0")
            .env("WELZIJNSHUIS_JWT_SECRET", SECRET)
            .env("WELZIJNSHUIS_OIDC_ISSUER", issuer)
            .env("WELZIJNSHUIS_OIDC_AUDIENCE", AUDIENCE)
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(60), output).await.expect("it stops").unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{issuer}: refused");
        assert!(stderr.contains(says) && !stderr.contains("panicked"), "{issuer}: {stderr}");
    }
    // The issuer as configured with a trailing slash is the same issuer.
    let app = TestApp::spawn_with(|config| {
        config.oidc =
            OidcConfig { issuer: Some(with_slash), audience: Some(AUDIENCE.into()), ..Default::default() };
    })
    .await;
    let token = provider.sign_in("analist-2", "analist@welzijnshuis.test", true).await;
    admitted_everywhere(&app, &token, "analist@welzijnshuis.test").await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// The demo client with a national register number who has the most referrals.
async fn client_with_referrals(app: &TestApp) -> (client::Model, usize) {
    let db = &app.db.conn;
    let referrals = referral::Entity::find().all(db).await.unwrap();
    let clients = client::Entity::find().filter(client::Column::NationalRegisterNumber.is_not_null());
    let counted = clients.all(db).await.unwrap().into_iter().map(|client| {
        let count = referrals.iter().filter(|r| r.client_id == client.id).count();
        (client, count)
    });
    counted.max_by_key(|(client, count)| (*count, client.id)).expect("demo clients with a number")
}

/// The number with dots and a dash, as it is printed on an eID.
fn printed(number: &str) -> String {
    format!("{}.{}.{}-{}.{}", &number[..2], &number[2..4], &number[4..6], &number[6..9], &number[9..])
}

const AS_CLIENT: &str =
    "{ me { role client { id givenName } } clients { totalCount } referrals { totalCount } }";

#[tokio::test]
async fn a_citizen_whose_token_carries_the_claim_signs_in_as_that_client_and_sees_only_themself() {
    let provider = Provider::start().await;
    let app = app_for_citizens(&provider).await;
    let (client, referrals) = client_with_referrals(&app).await;
    assert!(referrals > 0);
    let number = client.national_register_number.clone().unwrap();
    // The claim wins: the account's confirmed address is the administrator's, and yet this is the
    // citizen's sign-in, which links no user.
    let token =
        provider.sign_in_citizen("burger-1", "admin@welzijnshuis.test", json!(printed(&number))).await;
    for door in DOORS {
        let Answer::Me(data) = knock_with(&app, door, &token, AS_CLIENT).await else {
            panic!("{door}: refused")
        };
        assert_eq!(data["me"]["role"], "CLIENT", "{door}: {data}");
        assert_eq!(
            data["me"]["client"],
            json!({ "id": client.id, "givenName": client.given_name }),
            "{door}"
        );
        assert_eq!(data["clients"]["totalCount"], 1, "{door}: only themself");
        assert_eq!(data["referrals"]["totalCount"], referrals, "{door}: only their own referrals");
    }
    assert_eq!(subject_of(&app, Who::Admin).await, None, "no user was linked");
    // A staff token of the same provider, without the claim, is a staff sign-in as before.
    let staff = provider.sign_in("admin-1", "admin@welzijnshuis.test", true).await;
    admitted_everywhere(&app, &staff, "admin@welzijnshuis.test").await;
}

#[tokio::test]
async fn a_citizen_with_an_invalid_or_unknown_number_is_refused() {
    let provider = Provider::start().await;
    let app = app_for_citizens(&provider).await;
    let (client, _) = client_with_referrals(&app).await;
    let number = client.national_register_number.unwrap();
    let mut wrong_check = number.clone();
    wrong_check.replace_range(9.., if &number[9..] == "00" { "01" } else { "00" });
    for (case, claim) in [
        ("check digits", json!(wrong_check)),
        ("too short", json!("8507300332")),
        ("letters", json!("abcdefghijk")),
        ("empty", json!("")),
        ("an object", json!({ "number": number })),
    ] {
        println!("{case}");
        let token = provider.sign_in_citizen(&format!("burger-{case}"), "iemand@voorbeeld.be", claim).await;
        refused_everywhere(&app, &token, "national register number is not valid").await;
    }
    let nobody = resolvers::national_number::NationalRegisterNumber::for_birth(
        chrono::NaiveDate::from_ymd_opt(1931, 2, 3).unwrap(),
        997,
    );
    let unknown =
        provider.sign_in_citizen("burger-onbekend", "iemand@voorbeeld.be", json!(nobody.as_str())).await;
    refused_everywhere(&app, &unknown, "no client file with this national register number").await;
}

#[tokio::test]
async fn without_the_setting_the_claim_is_ignored_and_the_sign_in_is_a_staff_one() {
    let provider = Provider::start().await;
    let app = app_for(&provider).await;
    let (client, _) = client_with_referrals(&app).await;
    let number = client.national_register_number.unwrap();
    let staff = provider.sign_in_citizen("caw-rrn", "medewerker@caw.test", json!(number)).await;
    admitted_everywhere(&app, &staff, "medewerker@caw.test").await;
    let Answer::Me(me) = knock(&app, "POST", &staff).await else { panic!() };
    assert_eq!(me["role"], "PARTNER");
    let citizen = provider.sign_in_citizen("burger-2", "burger@voorbeeld.be", json!(number)).await;
    refused_everywhere(&app, &citizen, "no active user has this confirmed e-mail address").await;
}

#[tokio::test]
async fn an_erased_client_is_refused_at_once() {
    let provider = Provider::start().await;
    let app = app_for_citizens(&provider).await;
    let (client, _) = client_with_referrals(&app).await;
    let token = provider
        .sign_in_citizen("burger-3", "burger@voorbeeld.be", json!(client.national_register_number.clone()))
        .await;
    let Answer::Me(data) = knock_with(&app, "POST", &token, AS_CLIENT).await else { panic!("refused") };
    assert_eq!(data["me"]["client"]["id"], json!(client.id));

    let mut open = crate::subscriptions::connect(&app.addr.to_string(), Some(&token)).await.unwrap();
    assert_eq!(close_code_after(&mut open, "1").await, None, "answered before the erasure");

    let mut row = client.into_active_model();
    row.erased_at = Set(Some(chrono::Utc::now()));
    row.update(&app.db.conn).await.unwrap();
    refused_everywhere(&app, &token, "no client file with this national register number").await;
    assert_eq!(close_code_after(&mut open, "2").await, Some(4403), "the open socket's next operation");
}

/// Sends `AS_CLIENT` on an open socket: the close code it gets, or `None` when it is answered.
async fn close_code_after(socket: &mut Socket, id: &str) -> Option<u16> {
    send(socket, json!({ "id": id, "type": "subscribe", "payload": { "query": AS_CLIENT } })).await;
    loop {
        match next(socket).await {
            Message::Close(frame) => return frame.map(|f| u16::from(f.code)),
            Message::Text(text) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                if message["id"] == id && message["type"] == "next" {
                    assert_eq!(message["payload"]["data"]["me"]["role"], "CLIENT", "{message}");
                    return None;
                }
            }
            _ => continue,
        }
    }
}

#[test]
fn the_client_claim_needs_the_provider_and_is_no_standard_claim() {
    let with_claim = |claim: &str| OidcConfig {
        issuer: Some("https://login.welzijnshuis.be".into()),
        audience: Some(AUDIENCE.into()),
        client_claim: Some(claim.into()),
    };
    assert!(with_claim("rrn").check().is_ok());
    for standard in ["sub", "email"] {
        let refused = with_claim(standard).check().unwrap_err().to_string();
        assert!(refused.contains("WELZIJNSHUIS_OIDC_CLIENT_CLAIM"), "{refused}");
    }
    let alone = OidcConfig { client_claim: Some("rrn".into()), ..Default::default() };
    assert!(alone.check().unwrap_err().to_string().contains("without WELZIJNSHUIS_OIDC_ISSUER"));
}

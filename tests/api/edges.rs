//! The edges hold: no request, connection or header can crash, exhaust or blind the service.
//! HTTP semantics (`HEAD`, `/readyz`), what `/metrics` lets callers write, and the bounds on
//! connections: header, body and idle timeouts, and caps a flood cannot lock everyone out with.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use entities::client;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{TestApp, Who, test_config};

const REGISTER: &str =
    r#"mutation { registerClient(input: { givenName: "Kop", familyName: "Loos" }) { id } }"#;

async fn clients(app: &TestApp) -> u64 {
    client::Entity::find().count(&app.db.conn).await.unwrap()
}

#[tokio::test]
async fn head_never_runs_a_mutation() {
    let app = TestApp::spawn().await;
    let token = app.token(Who::Intake).await.unwrap();
    let before = clients(&app).await;
    let url = format!("http://{}/graphql", app.addr);
    // A mutation in the query string, as a GET would carry it: refused as GET refuses it.
    let response =
        app.http.head(&url).bearer_auth(&token).query(&[("query", REGISTER)]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405, "HEAD is GET without a body: no mutation");
    assert_eq!(response.headers()["allow"], "POST");
    // In a JSON body, as a POST would carry it: HEAD reads its request from the query string, as
    // GET does, so there is no request at all.
    let response = app
        .http
        .head(&url)
        .bearer_auth(&token)
        .header("Accept", "application/graphql-response+json")
        .json(&json!({ "query": REGISTER }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400, "a HEAD's body is not a request");
    assert_eq!(clients(&app).await, before, "no client was registered");
    // A query over HEAD answers as GET would (without the body).
    let response = app.http.head(&url).query(&[("query", "{ me { role } }")]).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn readyz_checks_the_database_at_most_once_a_second() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let before = app.db.statements();
    for _ in 0..20 {
        assert_eq!(app.get("/readyz").await.status(), 200);
    }
    let ran = app.db.statements() - before;
    assert!(ran <= 1, "20 hits within a second ran {ran} database checks");
    // After a second, the next hit checks again.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let before = app.db.statements();
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.db.statements() - before, 1, "a stale check is run again");
}

/// Checks a scrape line by line as a Prometheus/OpenMetrics parser reads it: comments, samples
/// `name{label="value",…} number`, label values with only `\\`, `\"` and `\n` escapes, and one
/// `# EOF` that ends it.
fn assert_parseable(text: &str) {
    let body = text.strip_suffix("# EOF\n").unwrap_or_else(|| panic!("no final # EOF:\n{text}"));
    let is_name = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    for line in body.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap_or("");
            assert!(["HELP", "TYPE", "UNIT"].contains(&kind), "a stray comment line: {line:?}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line:?}"));
        assert!(value.parse::<f64>().is_ok(), "not a number in {line:?}");
        let Some((name, labels)) = series.split_once('{') else {
            assert!(is_name(series), "not a metric name: {line:?}");
            continue;
        };
        assert!(is_name(name), "not a metric name: {line:?}");
        let mut rest = labels.strip_suffix('}').unwrap_or_else(|| panic!("labels not closed: {line:?}"));
        while !rest.is_empty() {
            let (label, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("a bad label in {line:?}"));
            assert!(is_name(label), "not a label name {label:?} in {line:?}");
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => {
                        let escaped = chars.next().map(|(_, c)| c);
                        assert!(matches!(escaped, Some('\\' | '"' | 'n')), "a bad escape in {line:?}");
                    }
                    Some((at, '"')) => break at,
                    Some(_) => {}
                    None => panic!("a label value not closed in {line:?}"),
                }
            };
            rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
        }
    }
}

/// The operation labels of `welzijnshuis_graphql_requests_total`.
fn operation_labels(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("welzijnshuis_graphql_requests_total{operation=\""))
        .filter_map(|l| l.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn operation_names_cannot_write_into_metrics() {
    let app = TestApp::spawn().await;
    let forged = [
        "x\"} 1\n# EOF\n",
        "Forged\nwelzijnshuis_graphql_requests_total{operation=\"Inbox\",outcome=\"ok\"} 1000000",
        "quote\"d",
        "# EOF",
        "with space",
    ];
    let url = format!("http://{}/graphql", app.addr);
    for name in forged {
        // Named by the caller over a document that has no such operation (it is anonymous) …
        let body = json!({ "query": "{ me { role } }", "operationName": name });
        app.http.post(&url).json(&body).send().await.unwrap();
        // … over GET …
        let query = [("query", "{ me { role } }"), ("operationName", name)];
        app.http.get(&url).query(&query).send().await.unwrap();
        // … and over the WebSocket.
        let socket = crate::subscriptions::connect(&app.addr.to_string(), None).await;
        let mut socket = socket.unwrap();
        let message = json!({ "id": "1", "type": "subscribe",
            "payload": { "query": "{ me { role } }", "operationName": name } });
        use futures_util::SinkExt;
        socket.send(tokio_tungstenite::tungstenite::Message::text(message.to_string())).await.unwrap();
        crate::subscriptions::next_message(&mut socket, std::time::Duration::from_secs(10)).await.unwrap();
    }
    // A real named operation is still counted under its name.
    app.post(None, "query Kaart { services(first: 1) { totalCount } }", json!({})).await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_parseable(&text);
    let before_the_end = text.strip_suffix("# EOF\n").unwrap();
    for name in forged {
        assert!(!before_the_end.contains(name), "{name:?} reached /metrics:\n{text}");
    }
    let labels = operation_labels(&text);
    assert!(labels.contains("Kaart"), "{labels:?}");
    for label in &labels {
        let mut chars = label.chars();
        let graphql_name = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        assert!(graphql_name, "{label:?} is not a GraphQL name");
    }
}

#[tokio::test]
async fn a_flood_of_operation_names_does_not_take_a_partners_place_in_metrics() {
    let app = TestApp::spawn_with(|config| config.limits.rate_limit = 0).await;
    let url = format!("http://{}/graphql", app.addr);
    for n in 0..300 {
        let body = json!({ "query": format!("query Flood{n} {{ me {{ role }} }}") });
        let response = app.http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let (status, body) =
        app.post_as(Who::Caw, "query PartnerInbox { referrals(first: 1) { totalCount } }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let text = app.get("/metrics").await.text().await.unwrap();
    assert_parseable(&text);
    let labels = operation_labels(&text);
    assert!(labels.contains("PartnerInbox"), "the partner's operation has its own series: {labels:?}");
    let flood = labels.iter().filter(|l| l.starts_with("Flood")).count();
    assert!(flood <= 16, "one public caller took {flood} names");
    assert!(labels.contains("other"), "the rest of the flood is counted, as other: {labels:?}");
}

#[tokio::test]
async fn metrics_can_be_served_on_an_address_of_their_own() {
    let app = TestApp::spawn().await;
    let mut config = test_config(&app.database.url);
    config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let db = welzijnshuis::db::Database::connect(&app.database.url).await.unwrap();
    let service = welzijnshuis::startup::Application::with_database(&config, db).await.unwrap();
    let (addr, metrics_addr) = (service.local_addr(), service.metrics_addr().expect("a metrics address"));
    let server = tokio::spawn(service.run_until(std::future::pending()));
    let get = |addr: std::net::SocketAddr, path: &'static str| {
        let http = app.http.clone();
        async move { http.get(format!("http://{addr}{path}")).send().await.unwrap() }
    };
    assert_eq!(get(addr, "/healthz").await.status(), 200);
    assert_eq!(get(addr, "/metrics").await.status(), 404, "not on the public address");
    let metrics = get(metrics_addr, "/metrics").await;
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("welzijnshuis_sql_statements_total"));
    assert_eq!(get(metrics_addr, "/graphql").await.status(), 404, "only the metrics there");
    server.abort();
}

/// A TCP connection to `addr` from the loopback address `source` (127.0.0.x: Linux answers on
/// all of 127/8, so a test can be many addresses).
async fn connect_from(source: Ipv4Addr, addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    socket.connect(addr).await.unwrap()
}

/// How long until the server closes `stream` (whatever it says first), if within `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    loop {
        let left = limit.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

/// Reads one HTTP/1.1 response (head and `Content-Length` body) off `stream`: (status, body).
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&received[..end]).to_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |n| n.trim().parse::<usize>().unwrap());
                if received.len() >= end + 4 + length {
                    let status = head[9..12].parse().unwrap();
                    return (status, String::from_utf8_lossy(&received[end + 4..end + 4 + length]).into());
                }
            }
            let n = stream.read(&mut buffer).await.expect("reading a response");
            assert!(n > 0, "the connection closed before a whole response");
            received.extend_from_slice(&buffer[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("a response in time")
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: welzijnshuis\r\n\r\n";

#[tokio::test]
async fn connections_that_send_half_a_request_or_nothing_are_closed_after_the_header_timeout() {
    let app = TestApp::spawn_with(|config| config.limits.header_timeout_secs = 1).await;
    let mut connections = Vec::new();
    for n in 0..20 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        if n % 2 == 0 {
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
        }
        connections.push(stream);
    }
    // A slow sender: a byte every 300 ms, never the whole head.
    let mut dripping = TcpStream::connect(app.addr).await.unwrap();
    let drip = async {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: welzijnshuis\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa" {
            if dripping.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let dripped = tokio::time::timeout(Duration::from_secs(5), drip).await;
    assert!(dripped.is_ok(), "the drip ended: the server closed the connection");
    for mut stream in connections {
        let closed = closed_within(&mut stream, Duration::from_secs(4)).await;
        let closed = closed.expect("closed after the header timeout");
        assert!(closed < Duration::from_secs(4), "{closed:?}");
    }
    // A whole request in time is answered as ever.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_slow_body_is_cut_off() {
    let app = TestApp::spawn_with(|config| config.limits.body_timeout_secs = 1).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /graphql HTTP/1.1\r\nHost: welzijnshuis\r\nContent-Type: application/json\r\n\
                Content-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"query\": \"{ me").await.unwrap();
    let started = Instant::now();
    let (status, body) = read_response(&mut stream).await;
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("BAD_USER_INPUT"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(closed_within(&mut stream, Duration::from_secs(2)).await.is_some(), "and the connection closes");
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout() {
    let app = TestApp::spawn_with(|config| {
        config.limits.header_timeout_secs = 1;
        config.limits.idle_timeout_secs = 3;
    })
    .await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut stream).await, (200, "ok".into()));
    // Idle longer than the header timeout: a kept-alive connection waits for its next request
    // for the idle timeout, not the header timeout.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stream.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut stream).await, (200, "ok".into()));
    let closed = closed_within(&mut stream, Duration::from_secs(6)).await.expect("closed when idle");
    assert!(closed > Duration::from_secs(2), "not before the idle timeout: {closed:?}");
}

#[tokio::test]
async fn a_flood_of_silent_connections_does_not_stop_healthz_or_a_partner() {
    let app = TestApp::spawn_with(|config| {
        config.limits.max_connections = 40;
        config.limits.max_connections_per_address = 16;
    })
    .await;
    // 300 silent connections from six addresses, and 50 from the address the checks come from.
    let mut flood = Vec::new();
    for n in 0..300u16 {
        flood.push(connect_from(Ipv4Addr::new(127, 0, 0, 2 + (n % 6) as u8), app.addr).await);
    }
    for _ in 0..50 {
        flood.push(connect_from(Ipv4Addr::LOCALHOST, app.addr).await);
    }
    let started = Instant::now();
    assert_eq!(app.get("/healthz").await.status(), 200);
    let (status, body) = app.post_as(Who::Caw, "{ me { role } }", json!({})).await;
    assert_eq!((status, body["data"]["me"]["role"].as_str()), (200, Some("PARTNER")), "{body}");
    assert!(started.elapsed() < Duration::from_secs(3), "answered at once: {:?}", started.elapsed());
    // The server kept no more than its cap open: the rest of the flood was closed.
    let mut open = 0;
    for stream in &mut flood {
        if closed_within(stream, Duration::from_millis(20)).await.is_none() {
            open += 1;
        }
    }
    assert!(open <= 40, "{open} of the flood are still open");
}

/// Opens a graphql-transport-ws socket, sends `connection_init` without a token, and returns
/// the code the server closes it with (`None`: acknowledged, or no close in time).
async fn public_socket_closed_with(addr: &str) -> Option<u16> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": {} });
    socket.send(Message::text(init.to_string())).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.ok()?? {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(Message::Text(text)) if text.contains("connection_ack") => return None,
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn unauthenticated_websockets_are_capped_and_authenticated_ones_still_connect() {
    use crate::subscriptions::connect;
    let app = TestApp::spawn_with(|config| config.limits.max_public_sockets = 2).await;
    let addr = app.addr.to_string();
    let _first = connect(&addr, None).await.expect("a public socket");
    let _second = connect(&addr, None).await.expect("a second public socket");
    assert_eq!(public_socket_closed_with(&addr).await, Some(1013), "a third public socket is refused");
    let token = app.token(Who::Caw).await;
    connect(&addr, token.as_deref()).await.expect("a partner's socket is accepted");
}

#[tokio::test]
async fn shutdown_does_not_wait_for_connections_with_no_request_in_flight() {
    let app = TestApp::spawn().await;
    let mut config = test_config(&app.database.url);
    config.shutdown_grace_secs = 10;
    let db = welzijnshuis::db::Database::connect(&app.database.url).await.unwrap();
    let service = welzijnshuis::startup::Application::with_database(&config, db).await.unwrap();
    let addr = service.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service.run_until(async move {
        let _ = stopped.await;
    }));
    let _silent = TcpStream::connect(addr).await.unwrap();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHo").await.unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(HEALTHZ).await.unwrap();
    assert_eq!(read_response(&mut idle).await.0, 200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    stop.send(()).unwrap();
    let exited = tokio::time::timeout(Duration::from_secs(5), server).await;
    assert!(exited.is_ok(), "the server waited for connections with nothing in flight");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

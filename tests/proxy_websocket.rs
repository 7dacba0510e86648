//! WebSocket through `scopegate proxy`: a real WebSocket client and echo
//! server (tokio-tungstenite) on loopback, a real issuer's tokens. The
//! upgrade is verified like any request; then bytes are relayed both ways
//! until a side closes, the idle timeout, or the token's `exp`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// tungstenite's handshake callback returns its (large) `ErrorResponse`.
#![allow(clippy::result_large_err)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use http::HeaderMap;
use scopegate::local::LocalIssuer;
use support::proxy::{ProxyToml, RunningProxy, admin_metrics, start_proxy};
use support::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the upstream does with a session.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    /// Sends every message back.
    Echo,
    /// Sends binary messages of 64 KiB as fast as it can while reading
    /// (and dropping) what it is sent; reports how many bytes it got
    /// written before its writes stopped.
    Flood,
}

/// A WebSocket server on loopback: the headers of every upgrade request it
/// accepted, and (for `Flood`) the bytes each session wrote.
struct Upstream {
    url: String,
    handshakes: Arc<Mutex<Vec<HeaderMap>>>,
    flooded: mpsc::UnboundedReceiver<u64>,
}

async fn upstream(behaviour: Behaviour) -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handshakes = Arc::new(Mutex::new(Vec::new()));
    let (flood_tx, flooded) = mpsc::unbounded_channel();
    let seen = Arc::clone(&handshakes);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            let flood_tx = flood_tx.clone();
            tokio::spawn(async move {
                // Records the upgrade request; refuses it with 409 when it
                // carries `x-refuse`.
                let record = |request: &Request, response: Response| {
                    seen.lock().unwrap().push(request.headers().clone());
                    if request.headers().contains_key("x-refuse") {
                        let mut refusal = ErrorResponse::new(Some("refused".into()));
                        *refusal.status_mut() = http::StatusCode::CONFLICT;
                        return Err(refusal);
                    }
                    Ok(response)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, record).await else {
                    return;
                };
                match behaviour {
                    Behaviour::Echo => echo(ws).await,
                    Behaviour::Flood => {
                        let _ = flood_tx.send(flood(ws).await);
                    }
                }
            });
        }
    });
    Upstream {
        url,
        handshakes,
        flooded,
    }
}

async fn echo(mut ws: WebSocketStream<TcpStream>) {
    while let Some(Ok(message)) = ws.next().await {
        if message.is_close() {
            break;
        }
        if ws.send(message).await.is_err() {
            break;
        }
    }
}

/// Writes until a write fails or stalls for 30 s, reading all the while;
/// the bytes written.
async fn flood(ws: WebSocketStream<TcpStream>) -> u64 {
    let (mut ws, mut incoming) = ws.split();
    tokio::spawn(async move { while let Some(Ok(_)) = incoming.next().await {} });
    let chunk = vec![7u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        let sent = tokio::time::timeout(
            Duration::from_secs(30),
            ws.send(Message::binary(chunk.clone())),
        )
        .await;
        match sent {
            Ok(Ok(())) => written += chunk.len() as u64,
            _ => return written,
        }
    }
}

/// The proxy in front of `upstream`: `/live` needs READ, `/closed` refuses
/// upgrades, `/lobby` is public.
async fn proxy(issuer: &LocalIssuer, upstream: &str, idle: &str) -> RunningProxy {
    let text = ProxyToml::for_issuer(issuer, upstream)
        .admin(true)
        .setting("websocket_idle_timeout", &format!("{idle:?}"))
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            r#"
[[routes]]
path = "/live"
require = ["{READ}"]

[[routes]]
path = "/closed"
require = ["{READ}"]
websocket = false

[[routes]]
path = "/lobby"
public = true

[forward]
claims = {{ sub = "x-auth-sub" }}
strip_authorization = true
"#
        ))
        .render();
    start_proxy(&text).await
}

/// Opens a WebSocket to `path` through the proxy, with `token` if given
/// and any extra headers.
async fn connect(
    proxy: &RunningProxy,
    path: &str,
    token: Option<&str>,
    extra: &[(&str, &str)],
) -> Result<Client, WsError> {
    let mut request = format!("ws://{}{path}", proxy.addr)
        .into_client_request()
        .unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    for (name, value) in extra {
        let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
        request.headers_mut().insert(name, value.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

/// The HTTP status the proxy refused an upgrade with; `None` if it was
/// accepted or failed otherwise.
fn refused(result: Result<Client, WsError>) -> Option<u16> {
    match result {
        Err(WsError::Http(response)) => Some(response.status().as_u16()),
        _ => None,
    }
}

/// Sends `text` and waits (at most 5 s) for it to come back.
async fn round_trip(ws: &mut Client, message: Message) -> Message {
    ws.send(message).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("an answer within 5 s")
        .expect("the session is open")
        .expect("a message")
}

/// How long until the session is closed by the far end (reading, at most
/// `limit`); `None` if it is still open then.
async fn closed_within(ws: &mut Client, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    let ended = tokio::time::timeout(limit, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(message)) if message.is_close() => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    ended.ok().map(|()| started.elapsed())
}

#[tokio::test]
async fn a_verified_upgrade_is_relayed_both_ways_with_the_claims_and_without_the_token() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Echo).await;
    let proxy = proxy(&issuer, &upstream.url, "5m").await;
    let token = token(&issuer, &[READ]);

    let mut ws = connect(
        &proxy,
        "/live",
        Some(&token),
        &[("x-auth-sub", "forged"), ("x-forwarded-uri", "/admin")],
    )
    .await
    .expect("the upgrade is accepted");
    for message in [
        Message::text("hello"),
        Message::binary(vec![0u8, 1, 2, 255]),
        Message::binary(vec![9u8; 200_000]),
    ] {
        assert_eq!(round_trip(&mut ws, message.clone()).await, message);
    }
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    drop(ws);

    let handshakes = upstream.handshakes.lock().unwrap().clone();
    assert_eq!(handshakes.len(), 1);
    let seen = &handshakes[0];
    assert!(seen.get("authorization").is_none(), "the token stays here");
    assert_eq!(seen["x-auth-sub"], issuer_subject(&token));
    assert!(seen.get("x-forwarded-uri").is_none());
    assert!(seen["sec-websocket-key"].len() > 10);
    assert_eq!(
        seen["upgrade"].to_str().unwrap().to_ascii_lowercase(),
        "websocket"
    );

    shows(
        &proxy,
        "scopegate_websocket_sessions_ended_total{end=\"closed\"} 1",
    )
    .await;
    shows(&proxy, "scopegate_websocket_sessions_open 0").await;
}

/// Waits (at most 5 s) until the proxy's metrics hold `line`.
async fn shows(proxy: &RunningProxy, line: &str) {
    let started = Instant::now();
    loop {
        let metrics = admin_metrics(&proxy.admin).await;
        if metrics.lines().any(|l| l == line) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never {line:?}: {metrics}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `sub` the local issuer put in `token`.
fn issuer_subject(token: &str) -> String {
    let (_, payload, _) = segments(token);
    let bytes = base64_url(&payload);
    let claims: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    claims["sub"].as_str().unwrap().to_string()
}

fn base64_url(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}

#[tokio::test]
async fn upgrades_without_a_good_token_or_on_a_refusing_route_never_reach_the_upstream() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Echo).await;
    let proxy = proxy(&issuer, &upstream.url, "5m").await;
    let read = token(&issuer, &[READ]);
    let write_only = token(&issuer, &[WRITE]);

    assert_eq!(
        refused(connect(&proxy, "/live", None, &[]).await),
        Some(401)
    );
    assert_eq!(
        refused(connect(&proxy, "/live", Some("not.a.token"), &[]).await),
        Some(401)
    );
    assert_eq!(
        refused(connect(&proxy, "/live", Some(&write_only), &[]).await),
        Some(403)
    );
    assert_eq!(
        refused(connect(&proxy, "/closed", Some(&read), &[]).await),
        Some(403)
    );
    assert_eq!(
        refused(connect(&proxy, "/nowhere", Some(&read), &[]).await),
        Some(404)
    );
    assert!(upstream.handshakes.lock().unwrap().is_empty());

    // Positive controls: the same token on the open route, and a public route.
    let mut ws = connect(&proxy, "/live", Some(&read), &[]).await.unwrap();
    assert_eq!(
        round_trip(&mut ws, Message::text("ok")).await,
        Message::text("ok")
    );
    let mut lobby = connect(&proxy, "/lobby", None, &[]).await.unwrap();
    assert_eq!(
        round_trip(&mut lobby, Message::text("hi")).await,
        Message::text("hi")
    );
    assert_eq!(upstream.handshakes.lock().unwrap().len(), 2);
    // The upstream's own refusal reaches the client as it is.
    assert_eq!(
        refused(connect(&proxy, "/lobby", None, &[("x-refuse", "1")]).await),
        Some(409)
    );
}

#[tokio::test]
async fn a_quiet_session_is_closed_at_the_idle_timeout_and_a_busy_one_is_not() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Echo).await;
    let proxy = proxy(&issuer, &upstream.url, "1s").await;
    let token = token(&issuer, &[READ]);

    // Busy: a message every 300 ms for 2.4 s keeps it open.
    let mut busy = connect(&proxy, "/live", Some(&token), &[]).await.unwrap();
    for i in 0..8 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let message = Message::text(format!("{i}"));
        assert_eq!(round_trip(&mut busy, message.clone()).await, message);
    }
    // Quiet: closed about a second after the last message.
    let took = closed_within(&mut busy, Duration::from_secs(10))
        .await
        .expect("closed at the idle timeout");
    assert!(took >= Duration::from_millis(800), "closed after {took:?}");

    shows(
        &proxy,
        "scopegate_websocket_sessions_ended_total{end=\"idle\"} 1",
    )
    .await;
    shows(&proxy, "scopegate_websocket_sessions_open 0").await;
}

#[tokio::test]
async fn a_session_is_closed_when_its_token_expires() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Echo).await;
    let proxy = proxy(&issuer, &upstream.url, "5m").await;
    let token = issuer
        .token()
        .client_id(CLIENT)
        .scopes([READ])
        .expires_in(Duration::from_secs(3))
        .mint();

    let mut ws = connect(&proxy, "/live", Some(&token), &[]).await.unwrap();
    assert_eq!(
        round_trip(&mut ws, Message::text("before")).await,
        Message::text("before")
    );
    // `exp` is whole seconds, at most 3 s from now.
    let took = closed_within(&mut ws, Duration::from_secs(10))
        .await
        .expect("closed when the token expired");
    assert!(took <= Duration::from_secs(4), "closed after {took:?}");
    shows(
        &proxy,
        "scopegate_websocket_sessions_ended_total{end=\"expired\"} 1",
    )
    .await;
}

#[tokio::test]
async fn a_client_that_never_reads_holds_bounded_buffers_and_is_closed_at_the_idle_timeout() {
    let issuer = issuer().await;
    let mut upstream = upstream(Behaviour::Flood).await;
    let proxy = proxy(&issuer, &upstream.url, "1s").await;
    let token = token(&issuer, &[READ]);

    let ws = connect(&proxy, "/live", Some(&token), &[]).await.unwrap();
    // The client reads nothing. The upstream's writes stall once the
    // socket buffers on the way are full, and the proxy closes the session
    // a second later, which ends the upstream's writes.
    let written = tokio::time::timeout(Duration::from_secs(20), upstream.flooded.recv())
        .await
        .expect("the upstream's session ended")
        .unwrap();
    // Kernel socket buffers on loopback (both connections, both ends) plus
    // the proxy's 16 KiB; far below what 20 s of flooding would write.
    assert!(written < 64 * 1024 * 1024, "{written} bytes written");
    eprintln!("the upstream wrote {written} bytes before its writes stalled");
    assert!(written > 0);
    shows(
        &proxy,
        "scopegate_websocket_sessions_ended_total{end=\"idle\"} 1",
    )
    .await;
    drop(ws);
}

#[tokio::test]
async fn shutdown_closes_open_sessions() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Echo).await;
    let mut proxy = proxy(&issuer, &upstream.url, "5m").await;
    let token = token(&issuer, &[READ]);
    let mut ws = connect(&proxy, "/live", Some(&token), &[]).await.unwrap();
    assert_eq!(
        round_trip(&mut ws, Message::text("up")).await,
        Message::text("up")
    );
    let _ = proxy.stop.take().unwrap().send(());
    closed_within(&mut ws, Duration::from_secs(10))
        .await
        .expect("closed at shutdown");
}

#[tokio::test]
async fn a_session_keeps_its_connection_slot_until_it_ends() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Echo).await;
    let text = ProxyToml::for_issuer(&issuer, &upstream.url)
        .setting("max_connections", "1")
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail("\n[[routes]]\npath = \"/lobby\"\npublic = true\n")
        .render();
    let proxy = start_proxy(&text).await;
    let mut ws = connect(&proxy, "/lobby", None, &[]).await.unwrap();
    assert_eq!(
        round_trip(&mut ws, Message::text("one")).await,
        Message::text("one")
    );
    // The only slot is the session's: a second client waits in the backlog.
    let url = format!("{}/lobby", proxy.url);
    let second = tokio::spawn(async move { http().get(url).send().await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !second.is_finished(),
        "served while the session held the slot"
    );
    ws.close(None).await.unwrap();
    while let Some(Ok(_)) = ws.next().await {}
    drop(ws);
    let status = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("served once the session ended")
        .unwrap()
        .unwrap();
    // The echo server answers a plain GET with an error status; what
    // matters is that the proxy served it.
    assert!(status.as_u16() >= 400, "{status}");
}

#[tokio::test]
async fn a_client_that_writes_but_never_reads_is_closed_at_the_idle_timeout() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Flood).await;
    let proxy = proxy(&issuer, &upstream.url, "1s").await;
    let token = token(&issuer, &[READ]);
    let mut ws = connect(&proxy, "/live", Some(&token), &[]).await.unwrap();
    // A message every 100 ms keeps the client-to-upstream direction busy;
    // the upstream-to-client one stalls, since the client never reads.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(15) {
        if ws.send(Message::text("still here")).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shows(
        &proxy,
        "scopegate_websocket_sessions_ended_total{end=\"idle\"} 1",
    )
    .await;
}

/// A WebSocket upstream on a raw socket that answers every upgrade with a
/// 101 to `h2c`.
async fn switching_to_h2c() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                let mut buf = [0u8; 4096];
                if matches!(stream.read(&mut buf).await, Ok(1..)) {
                    let _ = stream
                        .write_all(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n")
                        .await;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            });
        }
    });
    url
}

/// A raw upgrade request with this `Upgrade` value; the status line.
async fn raw_upgrade(proxy: &RunningProxy, upgrade: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = TcpStream::connect(proxy.addr).await.unwrap();
    let request = format!(
        "GET /lobby HTTP/1.1\r\nHost: localhost\r\nConnection: upgrade\r\nUpgrade: {upgrade}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn only_websocket_is_asked_of_and_accepted_from_the_upstream() {
    let issuer = issuer().await;
    let upstream = upstream(Behaviour::Echo).await;
    let front = proxy(&issuer, &upstream.url, "5m").await;
    // A client listing another protocol first: the upstream is asked for
    // WebSocket alone.
    let status = raw_upgrade(&front, "h2c, websocket").await;
    assert!(status.contains(" 101 "), "{status}");
    let handshakes = upstream.handshakes.lock().unwrap().clone();
    assert_eq!(handshakes.len(), 1);
    assert_eq!(handshakes[0].get_all("upgrade").iter().count(), 1);
    assert_eq!(handshakes[0]["upgrade"], "websocket");

    // An upstream that switches to anything else: 502, nothing relayed.
    let h2c = switching_to_h2c().await;
    let other = proxy(&issuer, &h2c, "5m").await;
    let status = raw_upgrade(&other, "websocket").await;
    assert!(status.contains(" 502 "), "{status}");
}

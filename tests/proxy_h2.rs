//! `scopegate proxy` over HTTP/2: gRPC end to end (a real tonic client, the
//! proxy, a real tonic service over h2c: unary calls, trailers, streams both
//! ways), HTTP/2 requests held to the HTTP/1.1 rules, and HTTP/2's limits.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

mod support;

#[path = "../examples/grpc_api.rs"]
#[allow(dead_code)]
mod grpc_api;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::post;
use futures_util::StreamExt as _;
use grpc_api::photos::{self, PhotosClient, UploadReply, UploadRequest};
use grpc_api::{READ, WRITE};
use http::uri::PathAndQuery;
use scopegate::local::LocalIssuer;
use support::proxy::{ProxyToml, RunningProxy, start_proxy};
use support::{Api, serve};
use tonic::Code;
use tonic_prost::ProstCodec;

const CLIENT: &str = "photo-client";
const CHAT: &str = "/photos.Photos/Chat";

fn token(issuer: &LocalIssuer, scopes: &[&str]) -> String {
    issuer
        .token()
        .client_id(CLIENT)
        .scopes(scopes.iter().copied())
        .mint()
}

/// The metadata each upstream call carried, in order.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<http::HeaderMap>>>);

/// The photo service with no layer of its own (the proxy guards it):
/// List, Upload (an empty name is `INVALID_ARGUMENT`, in the trailers), and
/// Chat, which echoes each uploaded name as it comes.
fn upstream_app(seen: Seen) -> Router {
    async fn list(request: Request) -> Response {
        let method = tower::service_fn(|_: tonic::Request<photos::ListRequest>| async move {
            Ok::<_, tonic::Status>(tonic::Response::new(photos::ListReply {
                names: vec!["beach.jpg".into()],
                caller: String::new(),
            }))
        });
        let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
        grpc.unary(method, request).await.map(Body::new)
    }
    async fn upload(request: Request) -> Response {
        let method = tower::service_fn(|request: tonic::Request<UploadRequest>| async move {
            let caller = header(request.metadata().as_ref(), "x-auth-client-id");
            match request.into_inner().name {
                name if name.is_empty() => Err(tonic::Status::invalid_argument("a name, please")),
                name => Ok(tonic::Response::new(UploadReply { name, caller })),
            }
        });
        let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
        grpc.unary(method, request).await.map(Body::new)
    }
    async fn chat(request: Request) -> Response {
        let method = tower::service_fn(
            |request: tonic::Request<tonic::Streaming<UploadRequest>>| async move {
                let echoes = request.into_inner().map(|message| {
                    message.map(|m| UploadReply {
                        name: m.name,
                        caller: "echo".into(),
                    })
                });
                Ok::<_, tonic::Status>(tonic::Response::new(echoes))
            },
        );
        let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
        grpc.streaming(method, request).await.map(Body::new)
    }
    Router::new()
        .route(photos::LIST, post(list))
        .route(photos::UPLOAD, post(upload))
        .route(CHAT, post(chat))
        .layer(axum::middleware::from_fn(
            move |request: Request, next: axum::middleware::Next| {
                let seen = seen.clone();
                async move {
                    seen.0.lock().unwrap().push(request.headers().clone());
                    next.run(request).await
                }
            },
        ))
}

fn header(headers: &http::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The proxy in front of the gRPC service, over h2c.
async fn grpc_setup() -> (LocalIssuer, Api, Seen, RunningProxy) {
    let issuer = LocalIssuer::start().await.unwrap();
    let seen = Seen::default();
    let api = serve(upstream_app(seen.clone())).await;
    let text = ProxyToml::for_issuer(&issuer, &api.url)
        .setting("upstream_protocol", r#""h2c""#)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            r#"
[[routes]]
methods = ["POST"]
path = "{}"
require = ["{READ}"]

[[routes]]
methods = ["POST"]
path = "{}"
require = ["{WRITE}"]

[[routes]]
methods = ["POST"]
path = "{CHAT}"
require = ["{READ}"]

[forward]
claims = {{ client_id = "x-auth-client-id" }}
"#,
            photos::LIST,
            photos::UPLOAD
        ))
        .render();
    let proxy = start_proxy(&text).await;
    (issuer, api, seen, proxy)
}

#[tokio::test]
async fn grpc_unary_calls_pass_with_their_trailers_and_refusals_are_grpc_statuses() {
    let (issuer, _api, seen, proxy) = grpc_setup().await;
    let mut client = PhotosClient::connect(proxy.url.clone()).await.unwrap();
    let reader = token(&issuer, &[READ]);
    let writer = token(&issuer, &[READ, WRITE]);

    // Success needs the upstream's trailers (grpc-status 0) to arrive.
    let listed = client.list(Some(&reader)).await.unwrap();
    assert_eq!(listed.names, ["beach.jpg"]);
    let uploaded = client.upload("x.jpg", Some(&writer)).await.unwrap();
    assert_eq!(
        uploaded.caller, CLIENT,
        "the claim header reached the service"
    );
    // The upstream's own error status travels in its trailers.
    let invalid = client.upload("", Some(&writer)).await.unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument, "{invalid:?}");
    assert_eq!(invalid.message(), "a name, please");

    // Refused by the proxy, the gRPC way, and never forwarded.
    let before = seen.0.lock().unwrap().len();
    let denied = client.upload("x.jpg", Some(&reader)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    assert!(header(denied.metadata().as_ref(), "www-authenticate").contains("insufficient_scope"));
    let missing = client.list(None).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated, "{missing:?}");
    assert_eq!(seen.0.lock().unwrap().len(), before);

    let headers = seen.0.lock().unwrap()[0].clone();
    assert_eq!(header(&headers, "te"), "trailers");
    assert_eq!(header(&headers, "content-type"), "application/grpc");
    assert_eq!(header(&headers, "x-forwarded-proto"), "http");
    assert!(
        !headers.contains_key("host"),
        ":authority is the upstream's own"
    );
}

#[tokio::test]
async fn grpc_streams_flow_both_ways_message_by_message() {
    let (issuer, _api, _seen, proxy) = grpc_setup().await;
    let channel = tonic::transport::Channel::from_shared(proxy.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    let (send, receive) = tokio::sync::mpsc::channel::<UploadRequest>(1);
    let outgoing = futures_util::stream::unfold(receive, |mut receive| async move {
        receive.recv().await.map(|m| (m, receive))
    });
    let mut request = tonic::Request::new(outgoing);
    let bearer = format!("Bearer {}", token(&issuer, &[READ]));
    request
        .metadata_mut()
        .insert("authorization", bearer.parse().unwrap());
    grpc.ready().await.unwrap();
    let codec = ProstCodec::<UploadRequest, UploadReply>::default();
    let call = tokio::spawn(async move {
        grpc.streaming(request, PathAndQuery::from_static(CHAT), codec)
            .await
    });
    // Each echo comes back before the next message is sent: the request
    // and the response stream at once, not buffered whole.
    send.send(UploadRequest { name: "0".into() }).await.unwrap();
    let mut replies = call.await.unwrap().unwrap().into_inner();
    for i in 0..5 {
        let reply = tokio::time::timeout(Duration::from_secs(5), replies.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(reply.name, i.to_string());
        send.send(UploadRequest {
            name: (i + 1).to_string(),
        })
        .await
        .unwrap();
    }
    drop(send);
    assert_eq!(replies.message().await.unwrap().unwrap().name, "5");
    assert!(replies.message().await.unwrap().is_none(), "ends with OK");
}

/// An HTTP/1.1 upstream that records each request's URI and headers.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<(String, http::HeaderMap)>>>);

async fn recording_upstream() -> (Api, Recorded) {
    let recorded = Recorded::default();
    let kept = recorded.clone();
    let router = Router::new().fallback(move |request: Request| {
        let kept = kept.clone();
        async move {
            let uri = request.uri().to_string();
            kept.0
                .lock()
                .unwrap()
                .push((uri, request.headers().clone()));
            "ok"
        }
    });
    (serve(router).await, recorded)
}

/// The photo routes in front of `upstream` (HTTP/1.1).
async fn photo_proxy(issuer: &LocalIssuer, upstream: &str) -> RunningProxy {
    let text = ProxyToml::for_issuer(issuer, upstream)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            r#"
[[routes]]
methods = ["GET"]
path = "/photos"
require = ["{READ}"]

[forward]
claims = {{ sub = "x-auth-sub" }}
"#
        ))
        .render();
    start_proxy(&text).await
}

/// One HTTP/2 (prior knowledge) connection to `addr`.
async fn h2_connect(
    addr: std::net::SocketAddr,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<bytes::Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    send
}

/// Status of an HTTP/2 GET of `uri` (absolute: its authority is
/// `:authority`) with extra headers.
async fn h2_get(addr: std::net::SocketAddr, uri: &str, headers: &[(&str, &str)]) -> u16 {
    let mut send = h2_connect(addr).await;
    let mut request = http::Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(http_body_util::Empty::new()).unwrap();
    let response = send.send_request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    response.status().as_u16()
}

#[tokio::test]
async fn http2_requests_are_held_to_the_http1_rules() {
    let issuer = LocalIssuer::start().await.unwrap();
    let (api, recorded) = recording_upstream().await;
    let proxy = photo_proxy(&issuer, &api.url).await;
    let bearer = format!("Bearer {}", token(&issuer, &[READ]));
    let auth = ("authorization", bearer.as_str());
    let addr = proxy.addr;

    let ok = h2_get(
        addr,
        "http://api.example.com/photos?q=1",
        &[
            auth,
            ("x-auth-sub", "admin"),
            ("x-original-url", "/admin"),
            ("x-forwarded-uri", "/admin"),
        ],
    )
    .await;
    assert_eq!(ok, 200);
    let (uri, headers) = recorded.0.lock().unwrap()[0].clone();
    assert_eq!(uri, "/photos?q=1");
    assert_eq!(
        header(&headers, "host"),
        "api.example.com",
        ":authority became Host"
    );
    assert_eq!(
        header(&headers, "x-auth-sub"),
        CLIENT,
        "the claim, not the client's value"
    );
    assert_eq!(header(&headers, "x-forwarded-proto"), "http");
    for removed in ["x-original-url", "x-forwarded-uri"] {
        assert!(!headers.contains_key(removed), "{removed} forwarded");
    }

    let refused = [
        (
            "http://api.example.com/photos",
            vec![auth, ("host", "evil.example.com")],
        ),
        ("http://api.example.com/photos/../admin", vec![auth]),
        ("http://api.example.com/photos/%2e%2e/admin", vec![auth]),
        ("http://api.example.com/PHOTOS", vec![auth]),
        ("http://api.example.com/photos/", vec![auth]),
    ];
    for (uri, headers) in &refused {
        assert_eq!(h2_get(addr, uri, headers).await, 400, "{uri} {headers:?}");
    }
    assert_eq!(
        h2_get(addr, "http://api.example.com/photos", &[]).await,
        401
    );
    assert_eq!(
        h2_get(addr, "http://api.example.com/other", &[auth]).await,
        404
    );
    assert_eq!(
        recorded.0.lock().unwrap().len(),
        1,
        "only the good request went on"
    );
}

/// Raw HTTP/2 frames, for what a well-behaved client library will not send.
mod raw {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    pub(crate) const HEADERS: u8 = 1;
    pub(crate) const RST_STREAM: u8 = 3;
    pub(crate) const SETTINGS: u8 = 4;
    pub(crate) const GOAWAY: u8 = 7;
    pub(crate) const CONTINUATION: u8 = 9;
    pub(crate) const END_STREAM: u8 = 1;
    pub(crate) const END_HEADERS: u8 = 4;

    pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
        let mut out = vec![len[1], len[2], len[3], kind, flags];
        out.extend_from_slice(&stream.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// An HPACK integer with a 7-bit prefix (RFC 7541 §5.1).
    fn integer(out: &mut Vec<u8>, mut n: usize) {
        if n < 127 {
            out.push(u8::try_from(n).unwrap());
            return;
        }
        out.push(127);
        n -= 127;
        while n >= 128 {
            out.push(u8::try_from(n % 128).unwrap() | 0x80);
            n /= 128;
        }
        out.push(u8::try_from(n).unwrap());
    }

    /// A literal header field without indexing, new name (RFC 7541 §6.2.2).
    pub(crate) fn literal(name: &str, value: &str) -> Vec<u8> {
        let mut out = vec![0];
        integer(&mut out, name.len());
        out.extend_from_slice(name.as_bytes());
        integer(&mut out, value.len());
        out.extend_from_slice(value.as_bytes());
        out
    }

    /// The header block of `GET path`.
    pub(crate) fn get(path: &str, token: &str) -> Vec<u8> {
        let mut block = literal(":method", "GET");
        block.extend(literal(":scheme", "http"));
        block.extend(literal(":authority", "api.example.com"));
        block.extend(literal(":path", path));
        block.extend(literal("authorization", &format!("Bearer {token}")));
        block
    }

    /// A connection with the preface and an empty SETTINGS sent.
    pub(crate) async fn connect(addr: std::net::SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            .await
            .unwrap();
        stream.write_all(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
        stream
    }

    /// Reads frames until the server closes: the GOAWAY error code, if one
    /// came.
    pub(crate) async fn goaway(stream: &mut TcpStream) -> Option<u32> {
        let mut code = None;
        loop {
            let mut head = [0u8; 9];
            if stream.read_exact(&mut head).await.is_err() {
                return code;
            }
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut payload = vec![0u8; len];
            if stream.read_exact(&mut payload).await.is_err() {
                return code;
            }
            if head[3] == GOAWAY && payload.len() >= 8 {
                code = Some(u32::from_be_bytes([
                    payload[4], payload[5], payload[6], payload[7],
                ]));
            }
        }
    }
}

/// What HTTP/2's GOAWAY codes mean here (RFC 9113 §7).
const ENHANCE_YOUR_CALM: u32 = 0xb;

#[tokio::test]
async fn http2_limits_streams_header_lists_resets_and_continuation_floods() {
    use tokio::io::AsyncWriteExt as _;
    let issuer = LocalIssuer::start().await.unwrap();
    let (api, recorded) = recording_upstream().await;
    let proxy = photo_proxy(&issuer, &api.url).await;
    let reader = token(&issuer, &[READ]);

    // Concurrent streams are capped in the server's SETTINGS.
    let mut h2 = {
        let stream = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
        let (client, connection) = h2::client::handshake(stream).await.unwrap();
        tokio::spawn(connection);
        client.ready().await.unwrap()
    };
    let (response, _) = h2
        .send_request(
            http::Request::get("http://api.example.com/photos")
                .header("authorization", format!("Bearer {reader}"))
                .body(())
                .unwrap(),
            true,
        )
        .unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
    assert_eq!(h2.current_max_send_streams(), 128);

    // Rapid reset (CVE-2023-44487): streams opened and cancelled at once.
    let mut flood = raw::connect(proxy.addr).await;
    let mut burst = Vec::new();
    for i in 0..1000u32 {
        let id = 2 * i + 1;
        burst.extend(raw::frame(
            raw::HEADERS,
            raw::END_STREAM | raw::END_HEADERS,
            id,
            &raw::get("/photos", &reader),
        ));
        burst.extend(raw::frame(raw::RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    let _ = flood.write_all(&burst).await;
    let code = tokio::time::timeout(Duration::from_secs(10), raw::goaway(&mut flood))
        .await
        .unwrap();
    assert_eq!(
        code,
        Some(ENHANCE_YOUR_CALM),
        "the flood ends the connection"
    );
    let forwarded = recorded.0.lock().unwrap().len();
    assert!(
        forwarded < 1000,
        "{forwarded} of 1000 cancelled streams forwarded"
    );

    // A header list over 16 KiB, in CONTINUATION frames that never end.
    let mut continuation = raw::connect(proxy.addr).await;
    let _ = continuation
        .write_all(&raw::frame(
            raw::HEADERS,
            0,
            1,
            &raw::get("/photos", &reader),
        ))
        .await;
    let filler = raw::literal("x-filler", &"a".repeat(100));
    for _ in 0..2000 {
        if continuation
            .write_all(&raw::frame(raw::CONTINUATION, 0, 1, &filler))
            .await
            .is_err()
        {
            break;
        }
    }
    let code = tokio::time::timeout(Duration::from_secs(10), raw::goaway(&mut continuation))
        .await
        .unwrap();
    assert!(code.is_some(), "the connection was closed with a GOAWAY");
    assert_eq!(
        recorded.0.lock().unwrap().len(),
        forwarded,
        "nothing more forwarded"
    );

    // The proxy still serves.
    let bearer = format!("Bearer {reader}");
    assert_eq!(
        h2_get(
            proxy.addr,
            "http://api.example.com/photos",
            &[("authorization", &bearer)]
        )
        .await,
        200
    );
}

/// An h2c upstream (the `h2` crate): `/reset` is answered with
/// RST_STREAM(INTERNAL_ERROR), `/slow` after 500 ms, the rest with 200.
/// Counts its connections and its `/slow` requests.
async fn resetting_upstream() -> (
    String,
    Arc<std::sync::atomic::AtomicUsize>,
    Arc<std::sync::atomic::AtomicUsize>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let slow = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (counted, slow_seen) = (Arc::clone(&connections), Arc::clone(&slow));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let slow_seen = Arc::clone(&slow_seen);
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(stream).await else {
                    return;
                };
                while let Some(Ok((request, mut respond))) = connection.accept().await {
                    let slow_seen = Arc::clone(&slow_seen);
                    tokio::spawn(async move {
                        match request.uri().path() {
                            "/reset" => respond.send_reset(h2::Reason::INTERNAL_ERROR),
                            path => {
                                if path == "/slow" {
                                    slow_seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    tokio::time::sleep(Duration::from_millis(500)).await;
                                }
                                let response = http::Response::new(());
                                if let Ok(mut body) = respond.send_response(response, false) {
                                    let _ = body.send_data(bytes::Bytes::from_static(b"ok"), true);
                                }
                            }
                        }
                    });
                }
            });
        }
    });
    (url, connections, slow)
}

/// A public-route proxy in front of `upstream`, over h2c.
async fn h2c_proxy(upstream: &str) -> RunningProxy {
    let issuer = LocalIssuer::start().await.unwrap();
    let text = ProxyToml::for_issuer(&issuer, upstream)
        .setting("upstream_protocol", r#""h2c""#)
        .setting("upstream_timeout", r#""2s""#)
        .setting("connect_timeout", r#""1s""#)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail("\n[[routes]]\npath = \"/{*rest}\"\npublic = true\n")
        .render();
    start_proxy(&text).await
}

async fn status_of(
    send: &mut hyper::client::conn::http2::SendRequest<http_body_util::Empty<bytes::Bytes>>,
    uri: String,
) -> u16 {
    let request = http::Request::get(uri)
        .body(http_body_util::Empty::new())
        .unwrap();
    send.send_request(request).await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_upstream_stream_reset_is_a_502_for_that_stream_only() {
    let (upstream, connections, slow_seen) = resetting_upstream().await;
    let proxy = h2c_proxy(&upstream).await;
    let mut send = h2_connect(proxy.addr).await;
    let base = proxy.url.clone();
    assert_eq!(status_of(&mut send, format!("{base}/ok")).await, 200);
    // (The proxy's start-up probe may be a connection too.)
    let before = connections.load(std::sync::atomic::Ordering::SeqCst);
    // A slow stream in flight on the same client connection while another
    // is reset upstream.
    let slow = tokio::spawn({
        let mut send = send.clone();
        let uri = format!("{base}/slow");
        async move { status_of(&mut send, uri).await }
    });
    let started = std::time::Instant::now();
    while slow_seen.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "/slow never arrived"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status_of(&mut send, format!("{base}/reset")).await, 502);
    assert_eq!(status_of(&mut send, format!("{base}/ok")).await, 200);
    assert_eq!(slow.await.unwrap(), 200, "the other stream finished");
    assert_eq!(status_of(&mut send, format!("{base}/reset")).await, 502);
    assert_eq!(status_of(&mut send, format!("{base}/ok")).await, 200);
    // A reset ends one stream, not the upstream connection.
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        before
    );
}

#[tokio::test]
async fn an_upstream_that_does_not_speak_http2_is_a_502() {
    // Answers HTTP/1.1 to the HTTP/2 preface, then closes.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = [0u8; 64];
            let _ = stream.read(&mut buffer).await;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await;
        }
    });
    let proxy = h2c_proxy(&upstream).await;
    let mut send = h2_connect(proxy.addr).await;
    assert_eq!(status_of(&mut send, format!("{}/ok", proxy.url)).await, 502);
    // The client's connection is still good.
    assert_eq!(
        status_of(&mut send, format!("{}/again", proxy.url)).await,
        502
    );
}

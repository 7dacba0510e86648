//! TLS in `scopegate proxy`, over real sockets with a test CA generated
//! here (rcgen): the client listener (`[tls]`, TLS 1.2 and 1.3, ALPN `h2`
//! and `http/1.1`), its certificate replaced by a reload, handshake
//! garbage, and `https` upstreams verified against a CA file or the system
//! roots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use scopegate::local::LocalIssuer;
use scopegate::proxy::ProxyConfig;
use support::proxy::{ProxyToml, RunningProxy, start_proxy};
use support::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// A certificate authority made for one test.
struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
    der: CertificateDer<'static>,
}

/// A certificate and its key, as PEM, and the certificate as DER.
struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        TestCa {
            issuer: Issuer::new(params, key),
            pem: cert.pem(),
            der: cert.der().clone(),
        }
    }

    /// A server certificate for `localhost` and 127.0.0.1.
    fn leaf(&self) -> Leaf {
        let params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }
}

/// A fresh directory for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scopegate-tls-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `leaf` as `cert.pem` and `key.pem` in `dir`.
fn write_leaf(dir: &Path, leaf: &Leaf) {
    std::fs::write(dir.join("cert.pem"), &leaf.cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), &leaf.key_pem).unwrap();
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A TLS client trusting `ca`, with these versions and ALPN protocols.
fn client_config(
    ca: &TestCa,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Every connection a full handshake, so that it shows the certificate
    // served now (a resumed session keeps the one it was made with).
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

async fn tls_connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("the TLS handshake succeeds")
}

/// An upstream that answers with the `X-Forwarded-Proto` it was sent.
async fn upstream() -> Api {
    serve(Router::new().fallback(|request: Request| async move {
        let proto = request.headers().get("x-forwarded-proto").cloned();
        proto.map_or_else(String::new, |p| p.to_str().unwrap().to_string())
    }))
    .await
}

/// `GET path` with `token` on one HTTP/1.1 or HTTP/2 connection over
/// `stream`; the status and body.
async fn get_over<S>(stream: S, http2: bool, path: &str, token: Option<&str>) -> (u16, String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut request = hyper::Request::get(format!("https://localhost{path}"));
    if !http2 {
        request = hyper::Request::get(path).header("host", "localhost");
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Empty::<Bytes>::new()).unwrap();
    let response = if http2 {
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        send.send_request(request).await.unwrap()
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        send.send_request(request).await.unwrap()
    };
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The proxy with `[tls]` from `dir`'s files in front of `upstream`.
fn tls_config(issuer: &LocalIssuer, upstream: &str, dir: &Path) -> ProxyToml {
    ProxyToml::for_issuer(issuer, upstream)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            "\n[[routes]]\npath = \"/photos\"\nrequire = [{READ:?}]\n\n[[routes]]\npath = \"/lobby\"\npublic = true\n\n[tls]\ncert = {:?}\nkey = {:?}\n",
            dir.join("cert.pem"),
            dir.join("key.pem"),
        ))
}

#[tokio::test]
async fn clients_speak_tls_1_3_or_1_2_with_alpn_h2_or_http1_and_the_upstream_hears_https() {
    let issuer = issuer().await;
    let api = upstream().await;
    let ca = TestCa::new("scopegate test CA");
    let leaf = ca.leaf();
    let dir = temp_dir("versions");
    write_leaf(&dir, &leaf);
    let proxy = start_proxy(&tls_config(&issuer, &api.url, &dir).render()).await;
    let token = token(&issuer, &[READ]);

    // TLS 1.3, ALPN h2: HTTP/2.
    let stream = tls_connect(
        proxy.addr,
        client_config(&ca, &[&rustls::version::TLS13], &[b"h2", b"http/1.1"]),
    )
    .await;
    let (_, session) = stream.get_ref();
    assert_eq!(session.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(session.peer_certificates().unwrap()[0], leaf.der);
    assert_eq!(
        get_over(stream, true, "/photos", Some(&token)).await,
        (200, "https".into())
    );

    // TLS 1.2, ALPN http/1.1: HTTP/1.1; and no token is still 401.
    let config = client_config(&ca, &[&rustls::version::TLS12], &[b"http/1.1"]);
    let stream = tls_connect(proxy.addr, Arc::clone(&config)).await;
    assert_eq!(
        stream.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        get_over(stream, false, "/photos", Some(&token)).await,
        (200, "https".into())
    );
    let stream = tls_connect(proxy.addr, config).await;
    assert_eq!(get_over(stream, false, "/photos", None).await.0, 401);

    // A real client library, trusting the test CA only.
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem.as_bytes()).unwrap()])
        .resolve("localhost", proxy.addr)
        .build()
        .unwrap();
    let response = client
        .get(format!("https://localhost:{}/photos", proxy.addr.port()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "https");
}

#[tokio::test]
async fn a_reload_serves_the_new_certificate_to_new_handshakes_and_keeps_open_connections() {
    let issuer = issuer().await;
    let api = upstream().await;
    let ca = TestCa::new("scopegate test CA");
    let (first, second) = (ca.leaf(), ca.leaf());
    let dir = temp_dir("reload");
    write_leaf(&dir, &first);
    let text = tls_config(&issuer, &api.url, &dir).render();
    let path = dir.join("proxy.toml");
    std::fs::write(&path, &text).unwrap();
    let proxy = start_proxy(&text).await;
    let config = client_config(&ca, &[&rustls::version::TLS13], &[b"http/1.1"]);
    let peer =
        |stream: &TlsStream<TcpStream>| stream.get_ref().1.peer_certificates().unwrap()[0].clone();

    let open = tls_connect(proxy.addr, Arc::clone(&config)).await;
    assert_eq!(peer(&open), first.der);
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(open))
        .await
        .unwrap();
    tokio::spawn(conn);

    write_leaf(&dir, &second);
    proxy
        .handle
        .reload(&path)
        .expect("the new certificate loads");
    let fresh = tls_connect(proxy.addr, Arc::clone(&config)).await;
    assert_eq!(peer(&fresh), second.der);
    // The connection opened before the reload still serves.
    let request = hyper::Request::get("/lobby")
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    assert_eq!(send.send_request(request).await.unwrap().status(), 200);

    // A broken certificate or a key of another certificate: not reloaded,
    // named by key, and the second certificate keeps serving.
    std::fs::write(dir.join("cert.pem"), "not a certificate").unwrap();
    let error = proxy.handle.reload(&path).unwrap_err().to_string();
    assert!(error.contains("tls.cert"), "{error}");
    write_leaf(&dir, &second);
    std::fs::write(dir.join("key.pem"), &first.key_pem).unwrap();
    let error = proxy.handle.reload(&path).unwrap_err().to_string();
    assert!(error.contains("tls.key"), "{error}");
    let after = tls_connect(proxy.addr, config).await;
    assert_eq!(peer(&after), second.der);
}

/// Sends `bytes` on a new connection; whether the proxy closed it within
/// 5 s (reading EOF or a reset, after any alert it sent).
async fn closes_after(addr: SocketAddr, bytes: &[u8]) -> bool {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(bytes).await.unwrap();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.is_ok()
}

/// What does not start a TLS handshake: plain HTTP, random bytes, and an
/// application-data record before any handshake.
const GARBAGE: [&[u8]; 3] = [
    b"GET /photos HTTP/1.1\r\nHost: localhost\r\n\r\n",
    &[
        0x8f, 0x00, 0x13, 0x37, 0xff, 0xfe, 0x01, 0x02, 0x99, 0x42, 0x00, 0x00,
    ],
    &[0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5],
];

#[tokio::test]
async fn handshake_garbage_closes_the_connection_and_the_proxy_keeps_serving() {
    let issuer = issuer().await;
    let api = upstream().await;
    let ca = TestCa::new("scopegate test CA");
    let dir = temp_dir("garbage");
    write_leaf(&dir, &ca.leaf());
    let proxy = start_proxy(&tls_config(&issuer, &api.url, &dir).render()).await;
    for garbage in GARBAGE {
        assert!(closes_after(proxy.addr, garbage).await, "{garbage:?}");
    }
    // A client that does not trust the certificate fails its handshake.
    let other = TestCa::new("another CA");
    let tcp = TcpStream::connect(proxy.addr).await.unwrap();
    let refused =
        tokio_rustls::TlsConnector::from(client_config(&other, &[&rustls::version::TLS13], &[]))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await;
    assert!(refused.is_err());
    // And the proxy serves a good client afterwards.
    let stream = tls_connect(
        proxy.addr,
        client_config(&ca, &[&rustls::version::TLS13], &[b"http/1.1"]),
    )
    .await;
    assert_eq!(get_over(stream, false, "/lobby", None).await.0, 200);
}

/// The proxy binary with this config text, logging at `log`, with
/// `env` set; its stderr piped.
async fn binary(
    dir: &Path,
    text: &str,
    log: &str,
    env: &[(&str, &Path)],
) -> (tokio::process::Child, u16) {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let path = dir.join("binary.toml");
    let text = text.replace(
        "listen = \"127.0.0.1:0\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    std::fs::write(&path, text).unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_scopegate"));
    command
        .args(["proxy", "--config"])
        .arg(&path)
        .env("RUST_LOG", log)
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let child = command.spawn().unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the proxy never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, port)
}

/// Stops the binary; what it wrote to stderr.
async fn stderr_of(mut child: tokio::process::Child) -> String {
    let _ = child.start_kill();
    let output = child.wait_with_output().await.unwrap();
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn handshake_garbage_is_one_debug_line_per_connection_and_nothing_at_info() {
    let issuer = issuer().await;
    let api = upstream().await;
    let ca = TestCa::new("scopegate test CA");
    let dir = temp_dir("garbage-logs");
    write_leaf(&dir, &ca.leaf());
    let text = tls_config(&issuer, &api.url, &dir).render();
    for (level, expected) in [("debug", GARBAGE.len()), ("info", 0)] {
        let (child, port) = binary(&dir, &text, level, &[]).await;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        for garbage in GARBAGE {
            assert!(closes_after(addr, garbage).await);
        }
        let stderr = stderr_of(child).await;
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("TLS handshake"))
            .collect();
        assert_eq!(lines.len(), expected, "at {level}: {stderr}");
        assert!(lines.iter().all(|l| l.contains("DEBUG")), "{lines:?}");
    }
}

/// An HTTPS upstream with `leaf`: HTTP/1.1 and HTTP/2 by ALPN, answering
/// with the HTTP version it heard; or, for upgrades, a WebSocket echo.
async fn tls_upstream(leaf: &Leaf) -> String {
    let cert = leaf.der.clone();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(leaf.key_der.clone()).into();
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service =
                    hyper::service::service_fn(|mut request: hyper::Request<_>| async move {
                        if request.headers().contains_key("sec-websocket-key") {
                            return Ok::<_, hyper::Error>(websocket_echo(&mut request));
                        }
                        let version = format!("{:?}", request.version());
                        Ok(hyper::Response::new(Full::new(Bytes::from(version))))
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    url
}

/// Accepts a WebSocket upgrade and echoes its messages.
fn websocket_echo<B>(request: &mut hyper::Request<B>) -> hyper::Response<Full<Bytes>> {
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    use tokio_tungstenite::tungstenite::protocol::Role;
    let key = request.headers()["sec-websocket-key"].as_bytes().to_vec();
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() || ws.send(message).await.is_err() {
                break;
            }
        }
    });
    hyper::Response::builder()
        .status(101)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", derive_accept_key(&key))
        .body(Full::new(Bytes::new()))
        .unwrap()
}

/// A public proxy in front of the HTTPS upstream at `url`; `extra` are
/// top-level settings.
fn https_upstream_config(issuer: &LocalIssuer, url: &str, extra: &[(&str, String)]) -> String {
    let mut toml =
        ProxyToml::for_issuer(issuer, url).issuer_key(&format!("client_ids = [{CLIENT:?}]"));
    for (key, value) in extra {
        toml = toml.setting(key, value);
    }
    toml.tail("\n[[routes]]\npath = \"/{*rest}\"\npublic = true\n")
        .render()
}

async fn body_of(proxy: &RunningProxy, path: &str) -> (u16, String) {
    let response = http()
        .get(format!("{}{path}", proxy.url))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn https_upstreams_are_verified_against_the_ca_file_and_speak_http1_h2_and_websocket() {
    let issuer = issuer().await;
    let ca = TestCa::new("scopegate test CA");
    let url = tls_upstream(&ca.leaf()).await;
    let dir = temp_dir("https-upstream");
    std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
    std::fs::write(dir.join("other.pem"), TestCa::new("another CA").pem).unwrap();
    let ca_file = format!("{:?}", dir.join("ca.pem"));

    let proxy = start_proxy(&https_upstream_config(
        &issuer,
        &url,
        &[("upstream_ca_file", ca_file.clone())],
    ))
    .await;
    assert_eq!(body_of(&proxy, "/x").await, (200, "HTTP/1.1".into()));
    // WebSocket to an https upstream: the upgrade goes over TLS too.
    let request = format!("ws://{}/live", proxy.addr)
        .into_client_request()
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws.send(Message::text("over tls")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("over tls"));

    let h2 = start_proxy(&https_upstream_config(
        &issuer,
        &url,
        &[
            ("upstream_ca_file", ca_file),
            ("upstream_protocol", "\"h2\"".into()),
        ],
    ))
    .await;
    assert_eq!(body_of(&h2, "/x").await, (200, "HTTP/2.0".into()));

    // A CA that did not sign the upstream's certificate: 502.
    let other = start_proxy(&https_upstream_config(
        &issuer,
        &url,
        &[("upstream_ca_file", format!("{:?}", dir.join("other.pem")))],
    ))
    .await;
    assert_eq!(body_of(&other, "/x").await.0, 502);
}

#[tokio::test]
async fn without_a_ca_file_https_upstreams_are_verified_against_the_system_roots() {
    let issuer = issuer().await;
    let ca = TestCa::new("scopegate test CA");
    let url = tls_upstream(&ca.leaf()).await;
    let dir = temp_dir("system-roots");
    std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
    std::fs::write(dir.join("other.pem"), TestCa::new("another CA").pem).unwrap();
    let text = https_upstream_config(&issuer, &url, &[]);
    // SSL_CERT_FILE is where the system roots are read from (as OpenSSL).
    for (roots, expected) in [("ca.pem", 200), ("other.pem", 502)] {
        let (child, port) =
            binary(&dir, &text, "error", &[("SSL_CERT_FILE", &dir.join(roots))]).await;
        let status = http()
            .get(format!("http://127.0.0.1:{port}/x"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), expected, "roots from {roots}");
        drop(stderr_of(child).await);
    }
}

#[test]
fn tls_mistakes_are_one_line_naming_the_key() {
    let dir = temp_dir("config-errors");
    let ca = TestCa::new("scopegate test CA");
    write_leaf(&dir, &ca.leaf());
    std::fs::write(dir.join("other-key.pem"), ca.leaf().key_pem).unwrap();
    std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
    let base = "listen = \"127.0.0.1:8080\"\nupstream = \"http://127.0.0.1:9000\"\n\n[issuer]\nurl = \"https://issuer.example.com/pool\"\njwks_url = \"https://issuer.example.com/pool/jwks.json\"\nclient_ids = [\"c\"]\n\n[[routes]]\npath = \"/photos\"\n";
    let https = base.replace("http://127.0.0.1:9000", "https://127.0.0.1:9000");
    let with =
        |text: &str, top: &str| text.replacen("\n\n[issuer]", &format!("\n{top}\n\n[issuer]"), 1);
    let tls = |cert: &str, key: &str| format!("{base}\n[tls]\ncert = {cert:?}\nkey = {key:?}\n");
    let cases = [
        (tls("missing.pem", "key.pem"), "tls.cert"),
        (tls("key.pem", "key.pem"), "tls.cert"),
        (tls("cert.pem", "cert.pem"), "tls.key"),
        (tls("cert.pem", "other-key.pem"), "tls.key"),
        // A missing key is named by serde, at the table's line.
        (
            format!("{base}\n[tls]\ncert = \"cert.pem\"\n"),
            "missing field `key`",
        ),
        (
            with(base, "upstream_ca_file = \"ca.pem\""),
            "upstream_ca_file",
        ),
        (
            with(&https, "upstream_ca_file = \"missing.pem\""),
            "upstream_ca_file",
        ),
        (
            with(&https, "upstream_ca_file = \"key.pem\""),
            "upstream_ca_file",
        ),
        (
            with(&https, "upstream_protocol = \"h2c\""),
            "upstream_protocol",
        ),
        (
            with(base, "upstream_protocol = \"h2\""),
            "upstream_protocol",
        ),
    ];
    for (text, key) in cases {
        let path = dir.join("proxy.toml");
        std::fs::write(&path, &text).unwrap();
        let error = ProxyConfig::from_file(&path).unwrap_err().to_string();
        assert!(error.contains(key), "{key}: {error}\n{text}");
        assert_eq!(error.lines().count(), 1, "{error}");
    }
    // Positive controls: relative paths are read beside the config file.
    for text in [
        tls("cert.pem", "key.pem"),
        with(
            &https,
            "upstream_ca_file = \"ca.pem\"\nupstream_protocol = \"h2\"",
        ),
    ] {
        let path = dir.join("proxy.toml");
        std::fs::write(&path, &text).unwrap();
        ProxyConfig::from_file(&path).expect("valid");
    }
}

#[tokio::test]
async fn wss_through_the_tls_listener_to_an_https_upstream() {
    let issuer = issuer().await;
    let ca = TestCa::new("scopegate test CA");
    let url = tls_upstream(&ca.leaf()).await;
    let dir = temp_dir("wss");
    write_leaf(&dir, &ca.leaf());
    std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
    let text = tls_config(&issuer, &url, &dir)
        .setting("upstream_ca_file", &format!("{:?}", dir.join("ca.pem")))
        .tail("\n[[routes]]\npath = \"/live\"\nrequire = [\"https://photos.example.com/photos.read\"]\n")
        .render();
    let proxy = start_proxy(&text).await;
    let config = client_config(&ca, &[&rustls::version::TLS13], &[b"http/1.1"]);
    let stream = tls_connect(proxy.addr, config).await;
    let mut request = "wss://localhost/live".into_client_request().unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", token(&issuer, &[READ]))
            .parse()
            .unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    ws.send(Message::text("end to end")).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::text("end to end")
    );
}

#[tokio::test]
async fn a_reload_that_adds_tls_changes_neither_the_listener_nor_x_forwarded_proto() {
    let issuer = issuer().await;
    let api = upstream().await;
    let ca = TestCa::new("scopegate test CA");
    let dir = temp_dir("tls-toggle");
    write_leaf(&dir, &ca.leaf());
    let plain = ProxyToml::for_issuer(&issuer, &api.url)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail("\n[[routes]]\npath = \"/lobby\"\npublic = true\n")
        .render();
    let path = dir.join("proxy.toml");
    std::fs::write(&path, &plain).unwrap();
    let proxy = start_proxy(&plain).await;
    std::fs::write(&path, tls_config(&issuer, &api.url, &dir).render()).unwrap();
    proxy
        .handle
        .reload(&path)
        .expect("valid; [tls] itself waits for a restart");
    // Still plain HTTP, and the upstream is still told so.
    assert_eq!(body_of(&proxy, "/lobby").await, (200, "http".into()));
}

//! Servers and tools for `bench/run.sh`:
//!
//! - `serve --mode bare|gate|gate-nocache --port P --issuer URL --jwks URL --client ID`:
//!   `GET /hello` bare, or behind scopegate (verified-token cache on or off);
//! - `mint --state FILE --pool ID --issuer URL --client ID --scope S --count N --out FILE`:
//!   N distinct Cognito-shaped tokens signed with the pool's key, one per line;
//!   `bare` also speaks HTTP/2 (h2c) and echoes WebSocket messages at `/ws`;
//! - `serve --mode grpc --port P`: a unary gRPC echo over h2c (any `POST`:
//!   the request's message back, then `grpc-status: 0` in the trailers);
//! - `ws-load --url ws://... --connections C --seconds S [--token T]`: C
//!   WebSocket connections, each sending a 64-byte message and waiting for
//!   its echo, as fast as they can; prints messages per second;
//! - `serve --mode gate-dpop|gate-dpop-redis [--redis URL]`: `gate` with DPoP
//!   for `http://127.0.0.1:P` (proofs an hour old at most), its used proof
//!   ids in process or in Redis;
//! - `dpop-mint --state FILE --pool ID --issuer URL --client ID --scope S
//!   --htu URL --count N --out-token FILE --out-proofs FILE`: one token bound
//!   to a fresh P-256 key, and N proofs of that key for `GET htu`;
//! - `chart --csv FILE --out FILE.svg`: requests/s per configuration.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use scopegate::local::SigningKey;
use scopegate::{Algorithm, Issuer, ResourceServer, Verifier};
use serde_json::{Value, json};

const READ: &str = "https://photos.example.com/photos.read";

fn args() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut it = std::env::args().skip(2);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        out.insert(flag.trim_start_matches("--").to_string(), value);
    }
    out
}

fn arg(args: &BTreeMap<String, String>, name: &str) -> String {
    args.get(name)
        .cloned()
        .unwrap_or_else(|| panic!("--{name} is required"))
}

fn main() {
    let command = std::env::args().nth(1).unwrap_or_default();
    let args = args();
    match command.as_str() {
        "serve" => serve(&args),
        "mint" => mint(&args),
        "dpop-mint" => dpop_mint(&args),
        "chart" => chart(&args),
        "ws-load" => ws_load(&args),
        _ => {
            eprintln!("usage: scopegate-bench serve|mint|chart ...");
            std::process::exit(2);
        }
    }
}

fn serve(args: &BTreeMap<String, String>) {
    let mode = arg(args, "mode");
    let port: u16 = arg(args, "port").parse().unwrap();
    if mode == "grpc" {
        return serve_grpc(port);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let app = Router::new()
            .route("/hello", get(|| async { "hello" }))
            .route("/ws", get(echo));
        let app = match mode.as_str() {
            "bare" => app,
            "gate" | "gate-nocache" => {
                let verifier = Verifier::builder(Issuer::with_jwks_url(arg(args, "issuer"), arg(args, "jwks")))
                    .token_use("access")
                    .client_ids([arg(args, "client")])
                    .resource_server(
                        ResourceServer::new("https://photos.example.com", "Photo API").scope("photos.read", "Read"),
                    )
                    .token_cache_capacity(if mode == "gate" { 10_000 } else { 0 })
                    .build()
                    .unwrap();
                verifier.load_keys().await.unwrap();
                app.route_layer(verifier.require(READ).unwrap())
            }
            "gate-dpop" | "gate-dpop-redis" => {
                let origin = format!("http://127.0.0.1:{port}");
                let mut dpop = scopegate::Dpop::new(&origin).unwrap().max_age(std::time::Duration::from_secs(3600));
                let mut builder = Verifier::builder(Issuer::with_jwks_url(arg(args, "issuer"), arg(args, "jwks")))
                    .token_use("access")
                    .client_ids([arg(args, "client")])
                    .resource_server(
                        ResourceServer::new("https://photos.example.com", "Photo API").scope("photos.read", "Read"),
                    );
                if mode == "gate-dpop-redis" {
                    let store = scopegate::shared::RedisStore::open(&arg(args, "redis"), Default::default()).unwrap();
                    store.connect().await.unwrap();
                    dpop = dpop.one_time_ids(store.clone());
                    builder = builder.revocations(store);
                }
                let verifier = builder.dpop(dpop).build().unwrap();
                verifier.load_keys().await.unwrap();
                app.route_layer(verifier.require(READ).unwrap())
            }
            other => panic!("unknown mode {other}"),
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        axum::serve(listener, app).await.unwrap();
    });
}

/// A unary gRPC echo over h2c, with the trailers a gRPC client expects.
fn serve_grpc(port: u16) {
    use http_body_util::{BodyExt as _, StreamBody};
    use hyper::body::Frame;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                    let message = request.into_body().collect().await?.to_bytes();
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
                    let frames: Vec<Result<Frame<bytes::Bytes>, std::convert::Infallible>> =
                        vec![Ok(Frame::data(message)), Ok(Frame::trailers(trailers))];
                    let body = StreamBody::new(futures_util::stream::iter(frames));
                    let response = hyper::Response::builder()
                        .header("content-type", "application/grpc")
                        .body(body)
                        .unwrap();
                    Ok::<_, hyper::Error>(response)
                });
                let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .http2_only()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// A WebSocket echo.
async fn echo(upgrade: axum::extract::ws::WebSocketUpgrade) -> axum::response::Response {
    upgrade.on_upgrade(|mut socket| async move {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, axum::extract::ws::Message::Close(_)) || socket.send(message).await.is_err() {
                break;
            }
        }
    })
}

fn ws_load(args: &BTreeMap<String, String>) {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest as _};
    let url = arg(args, "url");
    let connections: usize = arg(args, "connections").parse().unwrap();
    let seconds: u64 = arg(args, "seconds").parse().unwrap();
    let token = args.get("token").cloned();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let total: u64 = runtime.block_on(async move {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let mut request = url.as_str().into_client_request().unwrap();
            if let Some(token) = &token {
                request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
            }
            tasks.push(tokio::spawn(async move {
                let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("the upgrade is accepted");
                let payload = vec![b'x'; 64];
                let mut n = 0u64;
                while tokio::time::Instant::now() < deadline {
                    ws.send(Message::binary(payload.clone())).await.unwrap();
                    match ws.next().await {
                        Some(Ok(_)) => n += 1,
                        other => panic!("echo lost: {other:?}"),
                    }
                }
                n
            }));
        }
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total
    });
    println!("{:.0}", total as f64 / seconds as f64);
}

/// The signing key of `--pool` in the issuer's `--state` file.
fn pool_key(args: &BTreeMap<String, String>) -> SigningKey {
    let state: Value = serde_json::from_slice(&std::fs::read(arg(args, "state")).unwrap()).unwrap();
    let pool_id = arg(args, "pool");
    let pool = state["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == pool_id.as_str())
        .expect("the pool is in the state file");
    let kid = pool["signing_kid"].as_str().unwrap().to_string();
    let stored = pool["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap();
    let alg: Algorithm = stored["alg"].as_str().unwrap().parse().unwrap();
    let der = STANDARD.decode(stored["pkcs8"].as_str().unwrap()).unwrap();
    SigningKey::from_pkcs8(kid, alg, der).unwrap()
}

/// One token bound to a fresh P-256 key, and `count` proofs of that key.
fn dpop_mint(args: &BTreeMap<String, String>) {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..]));
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    let jkt = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()));
    let key = pool_key(args);
    let (issuer, client, scope) = (arg(args, "issuer"), arg(args, "client"), arg(args, "scope"));
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({
        "sub": client, "token_use": "access", "scope": scope, "iss": issuer, "exp": iat + 86_400,
        "iat": iat, "jti": "dpop-bench", "client_id": client, "cnf": {"jkt": jkt},
    });
    let header = URL_SAFE_NO_PAD.encode(json!({"kid": key.kid(), "alg": key.algorithm().as_str()}).to_string());
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let token = format!("{input}.{}", key.sign(input.as_bytes()).unwrap());
    std::fs::write(arg(args, "out-token"), &token).unwrap();
    let ath = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()));
    let proof_header = URL_SAFE_NO_PAD.encode(
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": {"kty": "EC", "crv": "P-256", "x": x, "y": y}}).to_string(),
    );
    let (htu, count): (String, usize) = (arg(args, "htu"), arg(args, "count").parse().unwrap());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (pair, proof_header, htu, ath) = (&pair, &proof_header, &htu, &ath);
                s.spawn(move || {
                    let rng = aws_lc_rs::rand::SystemRandom::new();
                    (t..count)
                        .step_by(threads)
                        .map(|i| {
                            let claims = json!({"jti": format!("{i:x}"), "htm": "GET", "htu": htu, "iat": iat, "ath": ath});
                            let input = format!("{proof_header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
                            let signature = pair.sign(&rng, input.as_bytes()).unwrap();
                            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut out = std::io::BufWriter::new(std::fs::File::create(arg(args, "out-proofs")).unwrap());
    for proof in chunks.into_iter().flatten() {
        writeln!(out, "{proof}").unwrap();
    }
}

fn mint(args: &BTreeMap<String, String>) {
    let key = pool_key(args);
    let (kid, alg) = (key.kid().to_string(), key.algorithm());
    let (issuer, client, scope) = (arg(args, "issuer"), arg(args, "client"), arg(args, "scope"));
    let audience = args.get("audience").cloned();
    let count: usize = arg(args, "count").parse().unwrap();
    let iat = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let header = URL_SAFE_NO_PAD.encode(json!({"kid": kid, "alg": alg.as_str()}).to_string());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (key, header, issuer, client, scope) = (&key, &header, &issuer, &client, &scope);
                let audience = &audience;
                s.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|i| {
                            let mut claims = json!({
                                "sub": client, "token_use": "access", "scope": scope, "auth_time": iat,
                                "iss": issuer, "exp": iat + 86_400, "iat": iat, "version": 2,
                                "jti": format!("{i:032x}"), "client_id": client,
                            });
                            if let Some(audience) = audience {
                                claims["aud"] = json!(audience);
                            }
                            let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
                            let signature = key.sign(input.as_bytes()).unwrap();
                            format!("{input}.{signature}")
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut out = std::io::BufWriter::new(std::fs::File::create(arg(args, "out")).unwrap());
    for token in chunks.into_iter().flatten() {
        writeln!(out, "{token}").unwrap();
    }
}

fn chart(args: &BTreeMap<String, String>) {
    use plotters::prelude::*;
    let csv = std::fs::read_to_string(arg(args, "csv")).unwrap();
    // config,round,rps,p50_ms,p99_ms; the median requests/s of each config.
    let mut by_config: Vec<(String, Vec<f64>)> = Vec::new();
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let rps: f64 = fields[2].parse().unwrap();
        match by_config.iter_mut().find(|(c, _)| c == fields[0]) {
            Some((_, values)) => values.push(rps),
            None => by_config.push((fields[0].to_string(), vec![rps])),
        }
    }
    let medians: Vec<(String, f64)> = by_config
        .into_iter()
        .map(|(c, mut v)| {
            v.sort_by(f64::total_cmp);
            (c, v[v.len() / 2])
        })
        .collect();
    let out = arg(args, "out");
    let height = 80 + 36 * medians.len() as u32;
    let root = SVGBackend::new(&out, (960, height)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let max = medians.iter().map(|(_, v)| *v).fold(1.0, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption("requests/s (median of interleaved rounds)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(330)
        .build_cartesian_2d(0.0..max, (0..medians.len()).into_segmented())
        .unwrap();
    let labels: Vec<String> = medians.iter().map(|(c, _)| c.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(medians.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
        .draw()
        .unwrap();
    chart
        .draw_series(medians.iter().enumerate().map(|(i, (c, v))| {
            let color = if c.starts_with("scopegate") { RGBColor(30, 110, 200) } else if c.starts_with("bare") { RGBColor(90, 90, 90) } else { RGBColor(230, 140, 40) };
            Rectangle::new([(0.0, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))], color.filled())
        }))
        .unwrap();
    chart
        .draw_series(medians.iter().enumerate().map(|(i, (_, v))| {
            Text::new(format!("{:.0}", v), (*v + max * 0.01, SegmentValue::CenterOf(i)), ("sans-serif", 14))
        }))
        .unwrap();
    root.present().unwrap();
}

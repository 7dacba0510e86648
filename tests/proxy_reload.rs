//! `scopegate proxy` reloads its configuration: through the library
//! (`ProxyHandle::reload`) and through the binary on SIGHUP, over real
//! sockets, with a real issuer and upstream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use scopegate::local::LocalIssuer;
use support::proxy::{ProxyToml, start_proxy};
use support::*;

/// An upstream that answers `ok`, after a second for `/slow`; counts the
/// `/slow` requests that arrived.
async fn upstream_counting_slow() -> (Api, Arc<AtomicU64>) {
    let slow = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&slow);
    let router = Router::new().fallback(move |request: axum::extract::Request| {
        let seen = Arc::clone(&seen);
        async move {
            if request.uri().path() == "/slow" {
                seen.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            "ok"
        }
    });
    (serve(router).await, slow)
}

async fn upstream() -> Api {
    upstream_counting_slow().await.0
}

/// Waits (at most 5 s) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(5), "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A config file for the photo routes: `GET /photos` needs `photos_scope`;
/// `extra` is appended (more routes, more issuers).
fn config(issuer: &LocalIssuer, upstream: &str, photos_scope: &str, extra: &str) -> ProxyToml {
    ProxyToml::for_issuer(issuer, upstream)
        .admin(true)
        .issuer_key(&format!("client_ids = [{CLIENT:?}]"))
        .tail(&format!(
            "\n[[routes]]\nmethods = [\"GET\"]\npath = \"/photos\"\nrequire = [{photos_scope:?}]\n\n[[routes]]\npath = \"/slow\"\npublic = true\n{extra}"
        ))
}

/// A fresh directory for this test's config file.
fn temp_config(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scopegate-reload-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("proxy.toml")
}

/// One HTTP/1.1 connection, kept open across requests.
struct Connection(hyper::client::conn::http1::SendRequest<Empty<Bytes>>);

impl Connection {
    async fn open(addr: std::net::SocketAddr) -> Connection {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        Connection(send)
    }

    async fn get(&mut self, path: &str, token: &str) -> u16 {
        let request = http::Request::get(path)
            .header("host", "proxy")
            .header("authorization", format!("Bearer {token}"))
            .body(Empty::new())
            .unwrap();
        let response = self.0.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let _ = response.into_body().collect().await;
        status
    }
}

async fn metrics(admin: &str) -> String {
    support::proxy::admin_metrics(admin).await
}

fn reloads(metrics: &str, result: &str) -> u64 {
    let prefix = format!("scopegate_config_reloads_total{{result=\"{result}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| unreachable!("no {prefix} in {metrics}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_reload_serves_the_next_request_of_an_open_connection_with_the_new_routes() {
    let (first, second) = (issuer().await, issuer().await);
    let (api, slow_arrived) = upstream_counting_slow().await;
    let path = temp_config("routes");
    let v1 = config(&first, &api.url, READ, "").render();
    std::fs::write(&path, &v1).unwrap();
    let proxy = start_proxy(&v1).await;
    let read = token(&first, &[READ]);
    let write = token(&first, &[WRITE]);
    let mut connection = Connection::open(proxy.addr).await;
    assert_eq!(connection.get("/photos", &read).await, 200);
    assert_eq!(connection.get("/photos", &write).await, 403);
    let fetched_before = first.jwks_requests();

    // A request in flight when the reload lands finishes, with a route the
    // new configuration no longer has.
    let slow = tokio::spawn({
        let url = format!("{}/slow", proxy.url);
        async move { status_of(&url).await }
    });
    until("/slow reached the upstream", || {
        slow_arrived.load(Ordering::SeqCst) == 1
    })
    .await;
    let second_issuer = format!(
        "\n[[issuers]]\nurl = {:?}\njwks_url = {:?}\ntoken_use = \"access\"\nclient_ids = [{CLIENT:?}]\n",
        second.url(),
        second.jwks_url()
    );
    // The first issuer's table is the same; a second one is added, and the
    // photos route now needs the write scope.
    let v2 = config(&first, &api.url, WRITE, "")
        .render()
        .replace("[issuer]", "[[issuers]]")
        .replace("\n[[routes]]\npath = \"/slow\"\npublic = true\n", "")
        + &second_issuer;
    std::fs::write(&path, &v2).unwrap();
    proxy.handle.reload(&path).unwrap();

    assert_eq!(connection.get("/photos", &read).await, 403);
    assert_eq!(connection.get("/photos", &write).await, 200);
    assert_eq!(
        connection.get("/photos", &token(&second, &[WRITE])).await,
        200
    );
    assert_eq!(connection.get("/slow", &write).await, 404);
    assert_eq!(slow.await.unwrap(), 200, "the request in flight finished");
    // The unchanged issuer's key set was kept: no fetch since the reload.
    assert_eq!(first.jwks_requests(), fetched_before);
    assert!(second.jwks_requests() >= 1);
    let metrics = metrics(&proxy.admin).await;
    assert_eq!(reloads(&metrics, "ok"), 1);
    assert_eq!(reloads(&metrics, "error"), 0);
    for pool in [first.url(), second.url()] {
        let line = format!("scopegate_issuer_key_set_loaded{{issuer=\"{pool}\"}} 1");
        assert!(metrics.contains(&line), "{line} not in {metrics}");
    }
}

#[tokio::test]
async fn an_invalid_config_is_one_located_line_and_the_old_one_keeps_serving() {
    let issuer = issuer().await;
    let api = upstream().await;
    let path = temp_config("invalid");
    let good = config(&issuer, &api.url, READ, "").render();
    std::fs::write(&path, &good).unwrap();
    let proxy = start_proxy(&good).await;
    let read = token(&issuer, &[READ]);
    let mut connection = Connection::open(proxy.addr).await;
    assert_eq!(connection.get("/photos", &read).await, 200);

    let file = path.display().to_string();
    let unparsable = good.replace("[[routes]]", "[[routes]");
    let bad_value = good.replace("upstream = ", "upstream_timeout = \"soon\"\nupstream = ");
    let cases = [
        (unparsable, format!("{file}:")),
        (bad_value, format!("{file}:")),
    ];
    for (text, starts) in &cases {
        std::fs::write(&path, text).unwrap();
        let error = proxy.handle.reload(&path).expect_err(text).to_string();
        assert!(error.starts_with(starts), "{error}");
        assert!(!error.contains('\n'), "one line: {error}");
        assert!(
            error
                .split(':')
                .nth(1)
                .unwrap()
                .trim()
                .parse::<u32>()
                .is_ok(),
            "{error}"
        );
        assert_eq!(connection.get("/photos", &read).await, 200);
    }
    std::fs::remove_file(&path).unwrap();
    let missing = proxy.handle.reload(&path).unwrap_err().to_string();
    assert!(
        missing.starts_with(&file) && missing.contains("cannot be read"),
        "{missing}"
    );
    assert_eq!(connection.get("/photos", &read).await, 200);
    let metrics = metrics(&proxy.admin).await;
    assert_eq!(reloads(&metrics, "error"), 3);
    assert_eq!(reloads(&metrics, "ok"), 0);
}

/// The status of a GET of `url`, without a token.
async fn status_of(url: &str) -> u16 {
    http().get(url).send().await.unwrap().status().as_u16()
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn hang_up(child: &tokio::process::Child) {
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Requests `url` from `workers` tasks until `stop`, counting what is not
/// 200 (statuses and errors alike).
fn load(url: String, token: String, stop: Arc<AtomicBool>) -> (Arc<AtomicU64>, Arc<AtomicU64>) {
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    for _ in 0..8 {
        let (url, token, stop) = (url.clone(), token.clone(), Arc::clone(&stop));
        let (done, failed) = (Arc::clone(&done), Arc::clone(&failed));
        tokio::spawn(async move {
            let client = http();
            while !stop.load(Ordering::Relaxed) {
                let sent = client.get(&url).bearer_auth(&token).send().await;
                let ok = sent.is_ok_and(|r| r.status() == 200);
                done.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    (done, failed)
}

async fn wait_for(url: &str) {
    let started = Instant::now();
    while http().get(url).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{url} never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The config file of the binary, with a fixed `listen` and `admin_listen`.
fn write_binary_config(path: &Path, text: &str, listen: u16, admin: u16) {
    let text = text
        .replace(
            "admin_listen = \"127.0.0.1:0\"",
            &format!("admin_listen = \"127.0.0.1:{admin}\""),
        )
        .replace(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{listen}\""),
        );
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn sighup_reloads_the_binary_ten_times_under_load_without_a_failed_request() {
    let issuer = issuer().await;
    let api = upstream().await;
    let path = temp_config("sighup");
    let (port, admin_port) = (free_port(), free_port());
    let with_extra = |n: usize| {
        let extra = format!("\n[[routes]]\npath = \"/extra-{n}\"\npublic = true\n");
        config(&issuer, &api.url, READ, &extra).render()
    };
    write_binary_config(&path, &with_extra(0), port, admin_port);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(["proxy", "--config"])
        .arg(&path)
        .env("RUST_LOG", "error")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (url, admin) = (
        format!("http://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{admin_port}"),
    );
    wait_for(&format!("{url}/extra-0")).await;
    let stop = Arc::new(AtomicBool::new(false));
    let (done, failed) = load(
        format!("{url}/photos"),
        token(&issuer, &[READ]),
        Arc::clone(&stop),
    );
    for n in 1..=10 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        write_binary_config(&path, &with_extra(n), port, admin_port);
        hang_up(&child);
        let started = Instant::now();
        let extra = format!("{url}/extra-{n}");
        while status_of(&extra).await != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "reload {n} not seen"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // A file that no longer parses: the last good one keeps serving.
    std::fs::write(&path, "listen = \n").unwrap();
    hang_up(&child);
    let started = Instant::now();
    while reloads(&metrics(&admin).await, "error") != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the bad reload not counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(status_of(&format!("{url}/extra-10")).await, 200);
    assert_eq!(status_of(&format!("{url}/extra-9")).await, 404);
    let metrics = metrics(&admin).await;
    assert_eq!(reloads(&metrics, "ok"), 10);
    assert_eq!(reloads(&metrics, "error"), 1);
    let (done, failed) = (done.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    println!("10 reloads under load: {done} requests, {failed} failed");
    assert!(done > 100, "the load ran");
    assert_eq!(failed, 0, "failed requests during reloads");

    child.start_kill().unwrap();
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("not reloaded"))
        .collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains(&format!("{}:1", path.display())),
        "{stderr}"
    );
}

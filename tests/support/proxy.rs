//! The one proxy harness: a `scopegate proxy` config written from a small
//! builder, and the proxy started in process on loopback.

use scopegate::local::LocalIssuer;
use scopegate::proxy::{Proxy, ProxyConfig, ProxyHandle};
use tokio::sync::oneshot;

/// A proxy config: `listen`, `upstream`, an optional admin listener,
/// top-level settings, the `[issuer]` table, then routes and the rest.
#[derive(Clone, Debug)]
pub struct ProxyToml {
    listen: String,
    upstream: String,
    admin: bool,
    settings: Vec<(String, String)>,
    issuer: Vec<String>,
    tail: String,
}

impl ProxyToml {
    /// A proxy on a free loopback port in front of `upstream`, with an empty
    /// `[issuer]` table.
    pub fn new(upstream: &str) -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            upstream: upstream.into(),
            admin: false,
            settings: Vec::new(),
            issuer: Vec::new(),
            tail: String::new(),
        }
    }

    /// In front of `upstream`, verifying access tokens of the local `issuer`.
    pub fn for_issuer(issuer: &LocalIssuer, upstream: &str) -> Self {
        Self::new(upstream)
            .issuer_key(&format!("url = {:?}", issuer.url()))
            .issuer_key(&format!("jwks_url = {:?}", issuer.jwks_url()))
            .issuer_key(r#"token_use = "access""#)
    }

    pub fn listen(mut self, addr: &str) -> Self {
        self.listen = addr.into();
        self
    }

    /// With (or without) an admin listener on a free loopback port.
    pub fn admin(mut self, on: bool) -> Self {
        self.admin = on;
        self
    }

    /// A top-level setting, such as `("upstream_timeout", "\"1s\"")`; a
    /// second one with the same key replaces the first.
    pub fn setting(mut self, key: &str, value: &str) -> Self {
        self.settings.retain(|(k, _)| k != key);
        self.settings.push((key.into(), value.into()));
        self
    }

    /// One `key = value` line of the `[issuer]` table.
    pub fn issuer_key(mut self, line: &str) -> Self {
        self.issuer.push(line.into());
        self
    }

    /// Text after the `[issuer]` table: `[[routes]]`, `[forward]`, ...
    pub fn tail(mut self, text: &str) -> Self {
        self.tail.push_str(text);
        self
    }

    pub fn render(&self) -> String {
        let mut text = format!(
            "listen = {:?}\nupstream = {:?}\n",
            self.listen, self.upstream
        );
        if self.admin {
            text.push_str("admin_listen = \"127.0.0.1:0\"\n");
        }
        for (key, value) in &self.settings {
            text.push_str(&format!("{key} = {value}\n"));
        }
        text.push_str("\n[issuer]\n");
        for line in &self.issuer {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&self.tail);
        text
    }
}

/// A proxy running in process; stops when dropped.
pub struct RunningProxy {
    pub url: String,
    pub addr: std::net::SocketAddr,
    /// The admin listener's URL (empty without one).
    pub admin: String,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<()>,
    pub handle: ProxyHandle,
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds and runs the proxy for this config text.
pub async fn start_proxy(text: &str) -> RunningProxy {
    let config = ProxyConfig::from_toml(text, "test.toml").expect("the test config is valid");
    let proxy = Proxy::bind(config).await.expect("the proxy binds");
    let addr = proxy.local_addr().expect("a local address");
    let admin = proxy
        .admin_addr()
        .map(|a| format!("http://{a}"))
        .unwrap_or_default();
    let handle = proxy.handle();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(proxy.run(async move {
        let _ = stopped.await;
    }));
    RunningProxy {
        url: format!("http://{addr}"),
        addr,
        admin,
        stop: Some(stop),
        task,
        handle,
    }
}

/// The text of `GET {admin}/metrics`.
pub async fn admin_metrics(admin: &str) -> String {
    super::http()
        .get(format!("{admin}/metrics"))
        .send()
        .await
        .expect("the admin listener answers")
        .text()
        .await
        .expect("a metrics body")
}

//! The configuration file as written: serde types with the span of every
//! value that an error may point at. Nothing here checks meaning.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) listen: Spanned<String>,
    pub(super) upstream: Spanned<String>,
    pub(super) admin_listen: Option<Spanned<String>>,
    pub(super) upstream_timeout: Option<Spanned<String>>,
    pub(super) upstream_protocol: Option<Spanned<String>>,
    pub(super) websocket_idle_timeout: Option<Spanned<String>>,
    pub(super) token_cache_capacity: Option<Spanned<i64>>,
    pub(super) max_connections: Option<Spanned<i64>>,
    pub(super) token_cache_ttl: Option<Spanned<String>>,
    pub(super) connect_timeout: Option<Spanned<String>>,
    pub(super) shutdown_timeout: Option<Spanned<String>>,
    pub(super) log_format: Option<Spanned<String>>,
    pub(super) realm: Option<Spanned<String>>,
    pub(super) token_cookie: Option<Spanned<String>>,
    pub(super) token_cookie_origins: Option<Spanned<Vec<String>>>,
    pub(super) issuer: Option<Spanned<RawIssuer>>,
    pub(super) issuers: Option<Spanned<Vec<Spanned<RawIssuer>>>>,
    #[serde(default)]
    pub(super) resource_servers: Vec<Spanned<RawResourceServer>>,
    #[serde(default)]
    pub(super) routes: Vec<Spanned<RawRoute>>,
    #[serde(default)]
    pub(super) forward: RawForward,
    pub(super) resource_metadata: Option<Spanned<RawResourceMetadata>>,
    pub(super) tls: Option<Spanned<RawTls>>,
    pub(super) upstream_ca_file: Option<Spanned<String>>,
    pub(super) dpop: Option<Spanned<RawDpop>>,
    pub(super) shared: Option<Spanned<RawShared>>,
}

/// `[shared]`: the state replicas share, in Redis.
#[derive(Deserialize)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
#[serde(deny_unknown_fields)]
pub(super) struct RawShared {
    pub(super) redis_url: Spanned<String>,
    pub(super) key_prefix: Option<Spanned<String>>,
    pub(super) timeout: Option<Spanned<String>>,
    pub(super) revocations_max_stale: Option<Spanned<String>>,
    pub(super) revocations_when_stale: Option<Spanned<String>>,
}

/// `[dpop]`: DPoP (RFC 9449) for every route.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDpop {
    pub(super) origin: Option<Spanned<String>>,
    pub(super) mode: Option<Spanned<String>>,
    pub(super) algorithms: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) max_age: Option<Spanned<String>>,
    pub(super) nonce: Option<bool>,
    pub(super) nonce_secret_file: Option<Spanned<String>>,
}

/// `[tls]`: the client listener's certificate chain and key, PEM files.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub(super) cert: Spanned<String>,
    pub(super) key: Spanned<String>,
}

/// `[resource_metadata]`: RFC 9728 protected-resource metadata.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResourceMetadata {
    pub(super) resource: String,
    pub(super) authorization_servers: Option<Vec<String>>,
    pub(super) scopes_supported: Option<Vec<String>>,
    pub(super) resource_name: Option<String>,
    pub(super) resource_documentation: Option<String>,
}

/// `[issuer]`, or one `[[issuers]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIssuer {
    pub(super) url: Option<Spanned<String>>,
    pub(super) jwks_url: Option<Spanned<String>>,
    pub(super) cognito: Option<Spanned<RawCognito>>,
    pub(super) token_use: Option<Spanned<String>>,
    pub(super) client_ids: Option<Spanned<Vec<String>>>,
    pub(super) audiences: Option<Spanned<Vec<String>>>,
    pub(super) algorithms: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) leeway: Option<Spanned<String>>,
    pub(super) require_at_jwt: Option<bool>,
    pub(super) allow_any_audience: Option<bool>,
    pub(super) key_set_ttl: Option<Spanned<String>>,
    pub(super) key_set_max_stale: Option<Spanned<String>>,
    pub(super) unknown_kid_cooldown: Option<Spanned<String>>,
}

/// `issuer.cognito = { region, user_pool_id }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCognito {
    pub(super) region: String,
    pub(super) user_pool_id: String,
}

/// One `[[resource_servers]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawResourceServer {
    pub(super) identifier: String,
    pub(super) name: Option<String>,
    pub(super) scopes: Vec<String>,
}

/// One `[[routes]]` entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub(super) methods: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) path: Spanned<String>,
    pub(super) require: Option<Spanned<Vec<String>>>,
    pub(super) any_of: Option<Spanned<Vec<String>>>,
    pub(super) public: Option<Spanned<bool>>,
    pub(super) groups: Option<Spanned<Vec<String>>>,
    pub(super) max_token_age: Option<Spanned<String>>,
    pub(super) websocket: Option<Spanned<bool>>,
    pub(super) dpop: Option<Spanned<String>>,
}

/// `[forward]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawForward {
    pub(super) claims: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    #[serde(default)]
    pub(super) strip_authorization: bool,
    #[serde(default)]
    pub(super) trust_x_forwarded_for: bool,
    pub(super) trusted_headers: Option<Spanned<Vec<Spanned<String>>>>,
}

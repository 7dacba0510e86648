//! Background tasks started with the proxy: loading the key set, and one
//! look at whether the upstream accepts connections; and the start-up
//! warning about unchecked audiences.

use std::time::Duration;

use super::config::ProxyConfig;
use crate::{Verifier, VerifyError};

/// Says, at start and at each reload, that no audience is checked.
pub(super) fn warn_if_any_audience(config: &ProxyConfig) {
    if config.any_audience {
        tracing::warn!(
            "issuer: no client_ids or audiences configured: tokens of any client of the issuer are accepted (scopes still apply)"
        );
    }
}

/// Loads the key sets in the background until every issuer's is loaded, so
/// that the proxy becomes ready without waiting for a first request.
pub(super) async fn load_keys(verifier: Verifier) {
    let mut warned = false;
    loop {
        match verifier.load_keys().await {
            Ok(()) => {
                tracing::info!(issuers = verifier.issuers().len(), "key sets loaded: ready");
                return;
            }
            Err(VerifyError::KeySetUnavailable { retry_after }) => {
                if !warned {
                    warn_not_ready(&verifier);
                    warned = true;
                }
                tokio::time::sleep(retry_after.max(Duration::from_millis(200))).await;
            }
            Err(_) => return,
        }
    }
}

fn warn_not_ready(verifier: &Verifier) {
    const NOT_READY: &str =
        "issuer key set not loaded yet: answering 503 to its tokens until it loads";
    for issuer in verifier.issuers().filter(|issuer| !issuer.has_keys()) {
        match issuer.last_fetch_error() {
            Some(cause) => tracing::warn!(issuer = issuer.issuer(), cause = %cause, "{NOT_READY}"),
            None => tracing::warn!(issuer = issuer.issuer(), "{NOT_READY}"),
        }
    }
}

/// Says once, at start, whether the upstream accepts connections.
pub(super) async fn probe_upstream(upstream: http::Uri, timeout: Duration) {
    let Some(authority) = upstream.authority() else {
        return;
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let default_port = if upstream.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let port = authority.port_u16().unwrap_or(default_port);
    let connect = tokio::net::TcpStream::connect((host, port));
    match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(_)) => tracing::info!(upstream = %authority, "upstream reachable"),
        Ok(Err(e)) => {
            tracing::warn!(upstream = %authority, error = %e, "upstream unreachable: answering 502 until it is up")
        }
        Err(_) => {
            tracing::warn!(upstream = %authority, "upstream did not accept a connection in time: answering 502 until it is up")
        }
    }
}

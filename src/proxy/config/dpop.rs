//! `[dpop]` (DPoP, RFC 9449, for every route) and a route's own `dpop`
//! mode.

use std::net::SocketAddr;
use std::time::Duration;

use toml::Spanned;

use super::issuer::algorithms;
use super::locate::{ConfigFileError, Source};
use super::schema::RawConfig;
use super::values::bounded_duration;
use crate::{Dpop, DpopMode};

/// The DPoP policy of `[dpop]`, if given. Its origin defaults to the
/// listener's own: `http://` + `listen`, `https://` with `[tls]`.
pub(super) fn policy(
    src: &Source<'_>,
    raw: &RawConfig,
    listen: SocketAddr,
) -> Result<Option<Dpop>, ConfigFileError> {
    let Some(table) = &raw.dpop else {
        return Ok(None);
    };
    let dpop = table.get_ref();
    let scheme = if raw.tls.is_some() { "https" } else { "http" };
    if dpop.origin.is_none() && (listen.ip().is_unspecified() || listen.port() == 0) {
        return Err(src.error(
            Some(&table.span()),
            "dpop.origin",
            "is required when listen is a wildcard address or port 0: give the origin clients address",
        ));
    }
    let origin = dpop
        .origin
        .as_ref()
        .map_or_else(|| format!("{scheme}://{listen}"), |o| o.get_ref().clone());
    let span = dpop
        .origin
        .as_ref()
        .map_or_else(|| table.span(), Spanned::span);
    let mut policy = Dpop::new(&origin).map_err(|e| src.config_error(&span, "dpop.origin", e))?;
    if let Some(value) = &dpop.mode {
        policy = policy.mode(mode(src, "dpop.mode", value)?);
    }
    if let Some(names) = &dpop.algorithms {
        let list = algorithms(src, "dpop.algorithms", names)?;
        if list.is_empty() {
            return Err(src.error(Some(&names.span()), "dpop.algorithms", "is empty"));
        }
        policy = policy.algorithms(list);
    }
    if let Some(age) = &dpop.max_age {
        let max = bounded_duration(
            src,
            "dpop.max_age",
            age,
            Duration::from_secs(1),
            Duration::from_secs(3600),
        )?;
        if max.subsec_nanos() != 0 {
            return Err(src.error(Some(&age.span()), "dpop.max_age", "must be whole seconds"));
        }
        policy = policy.max_age(max);
    }
    match (dpop.nonce, &dpop.nonce_secret_file) {
        (Some(true), None) => policy = policy.with_nonces(),
        (Some(true), Some(file)) => policy = policy.nonce_secret(&nonce_secret(src, file)?),
        (_, Some(file)) => {
            return Err(src.error(
                Some(&file.span()),
                "dpop.nonce_secret_file",
                "needs nonce = true",
            ));
        }
        (_, None) => {}
    }
    Ok(Some(policy))
}

/// The nonce secret every replica shares: the file's bytes, 32 at least.
fn nonce_secret(src: &Source<'_>, file: &Spanned<String>) -> Result<Vec<u8>, ConfigFileError> {
    let path = super::tls::beside_config(src, file.get_ref());
    let key = "dpop.nonce_secret_file";
    let secret = std::fs::read(&path)
        .map_err(|e| src.error(Some(&file.span()), key, format!("cannot be read: {e}")))?;
    if secret.len() < 32 {
        return Err(src.error(Some(&file.span()), key, "must hold at least 32 bytes"));
    }
    Ok(secret)
}

/// `"allowed"` or `"required"`, at `key`.
pub(super) fn mode(
    src: &Source<'_>,
    key: &str,
    value: &Spanned<String>,
) -> Result<DpopMode, ConfigFileError> {
    match value.get_ref().as_str() {
        "allowed" => Ok(DpopMode::Allowed),
        "required" => Ok(DpopMode::Required),
        other => Err(src.error(
            Some(&value.span()),
            key,
            format!("{other:?} is not \"allowed\" or \"required\""),
        )),
    }
}

//! `[tls]` (the client listener's certificate and key) and the trust roots
//! of an `https` upstream (`upstream_ca_file`, else the system's). Relative
//! paths are read from the configuration file's directory.

use std::path::{Path, PathBuf};

use http::Uri;
use toml::Spanned;

use super::locate::{ConfigFileError, Source};
use super::schema::RawConfig;
use crate::proxy::tls::{ServerCertificate, upstream_client};

/// `path` as written, or beside the configuration file if relative.
pub(super) fn beside_config(src: &Source<'_>, path: &str) -> PathBuf {
    let path = Path::new(path);
    match Path::new(src.file).parent() {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

/// The listener's certificate, if `[tls]` is given.
pub(super) fn listener(
    src: &Source<'_>,
    raw: &RawConfig,
) -> Result<Option<ServerCertificate>, ConfigFileError> {
    let Some(tls) = &raw.tls else {
        return Ok(None);
    };
    let tls = tls.get_ref();
    let cert = beside_config(src, tls.cert.get_ref());
    let key = beside_config(src, tls.key.get_ref());
    ServerCertificate::load(&cert, &key).map(Some).map_err(|e| {
        let value = if e.key == "cert" { &tls.cert } else { &tls.key };
        src.error(Some(&value.span()), format!("tls.{}", e.key), e.message)
    })
}

/// The TLS client configuration for an `https` upstream; none for `http`.
pub(super) fn upstream(
    src: &Source<'_>,
    raw: &RawConfig,
    upstream: &Uri,
) -> Result<Option<rustls::ClientConfig>, ConfigFileError> {
    let ca_file = raw.upstream_ca_file.as_ref();
    if upstream.scheme_str() != Some("https") {
        return match ca_file {
            Some(file) => Err(src.error(
                Some(&file.span()),
                "upstream_ca_file",
                "is for an https:// upstream",
            )),
            None => Ok(None),
        };
    }
    let path = ca_file.map(|f| beside_config(src, f.get_ref()));
    upstream_client(path.as_deref()).map(Some).map_err(|e| {
        let span = ca_file
            .map(Spanned::span)
            .unwrap_or_else(|| raw.upstream.span());
        src.error(Some(&span), e.key, e.message)
    })
}

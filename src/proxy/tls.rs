//! TLS with rustls (aws-lc-rs, TLS 1.2 and 1.3): the client listener's
//! certificate (`[tls] cert`, `key`), which a reload replaces for the
//! handshakes that follow, and the trust roots for `https` upstreams.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The one crypto provider: aws-lc-rs, as everywhere in scopegate.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A certificate chain and its private key, read from PEM files and
/// checked to belong together.
#[derive(Clone)]
pub(crate) struct ServerCertificate(Arc<CertifiedKey>);

impl fmt::Debug for ServerCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCertificate")
            .field("chain", &self.0.cert.len())
            .finish_non_exhaustive()
    }
}

/// Why a certificate, key or CA file cannot be used; names the file's key.
#[derive(Debug)]
pub(crate) struct TlsFileError {
    /// `cert`, `key` or `upstream_ca_file`.
    pub(crate) key: &'static str,
    pub(crate) message: String,
}

impl ServerCertificate {
    /// Reads the chain (leaf first) and the key (PKCS#8, PKCS#1 or SEC1).
    pub(crate) fn load(cert: &Path, key: &Path) -> Result<ServerCertificate, TlsFileError> {
        let chain = certificates(cert).map_err(|message| TlsFileError {
            key: "cert",
            message,
        })?;
        let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsFileError {
            key: "key",
            message: format!("{}: no private key in PEM ({e})", key.display()),
        })?;
        let certified =
            CertifiedKey::from_der(chain, private, &provider()).map_err(|e| TlsFileError {
                key: "key",
                message: format!("{}: does not match the certificate ({e})", key.display()),
            })?;
        Ok(ServerCertificate(Arc::new(certified)))
    }
}

/// Every certificate of a PEM file; at least one.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            format!(
                "{}: cannot be read as PEM certificates ({e})",
                path.display()
            )
        })?;
    if chain.is_empty() {
        return Err(format!("{}: holds no certificate", path.display()));
    }
    Ok(chain)
}

/// The certificate in use, replaced by a reload; new handshakes use the
/// new one, open connections keep theirs.
#[derive(Debug)]
pub(crate) struct CertificateSlot(ArcSwap<CertifiedKey>);

impl CertificateSlot {
    pub(crate) fn new(certificate: &ServerCertificate) -> CertificateSlot {
        CertificateSlot(ArcSwap::new(Arc::clone(&certificate.0)))
    }

    pub(crate) fn replace(&self, certificate: &ServerCertificate) {
        self.0.store(Arc::clone(&certificate.0));
    }
}

impl ResolvesServerCert for CertificateSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// The client listener's configuration: TLS 1.2 and 1.3, the slot's
/// certificate, ALPN `h2` then `http/1.1`.
pub(crate) fn acceptor(
    slot: Arc<CertificateSlot>,
) -> Result<tokio_rustls::TlsAcceptor, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)?
        .with_no_client_auth()
        .with_cert_resolver(slot);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// TLS 1.3 and 1.2; nothing older.
const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The roots an `https` upstream's certificate must chain to: the PEM
/// file's certificates if one is given, else the system's.
fn upstream_roots(ca_file: Option<&Path>) -> Result<Arc<RootCertStore>, TlsFileError> {
    let error = |message| TlsFileError {
        key: "upstream_ca_file",
        message,
    };
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in certificates(path).map_err(error)? {
                roots.add(cert).map_err(|e| {
                    error(format!(
                        "{}: not a usable CA certificate ({e})",
                        path.display()
                    ))
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(error(
                    "no system root certificates were found; give upstream_ca_file".into(),
                ));
            }
        }
    }
    Ok(Arc::new(roots))
}

/// The client configuration for `https` upstreams, without ALPN (the
/// connector sets it for the protocol it speaks).
pub(crate) fn upstream_client(
    ca_file: Option<&Path>,
) -> Result<rustls::ClientConfig, TlsFileError> {
    let roots = upstream_roots(ca_file)?;
    Ok(rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(VERSIONS)
        .map_err(|e| TlsFileError {
            key: "upstream_ca_file",
            message: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

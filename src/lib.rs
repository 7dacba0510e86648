//! OAuth 2.0 resource-server middleware for [tower]: verifies access tokens and
//! enforces [Amazon Cognito resource-server scopes][cognito] on each route.
//!
//! A request passes only if it carries a bearer token whose signature and
//! expiry hold (checked before any other claim is read), whose issuer,
//! `token_use` and client are the configured ones, and whose `scope` claim
//! holds the route's `resourceServerIdentifier/scopeName` scopes, matched
//! exactly. Everything else is answered as RFC 6750 says: 401, 400 or 403
//! with a `WWW-Authenticate` challenge, or 503 when the issuer's keys cannot
//! be had; a gRPC call gets the matching gRPC status instead
//! ([`GrpcRejection`], `examples/grpc_api.rs`).
//!
//! # Example
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use scopegate::{Claims, Issuer, ResourceServer, Verifier};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
//!         .client_ids(["1example23456789"])
//!         .resource_server(
//!             ResourceServer::new("https://photos.example.com", "Photo API")
//!                 .scope("photos.read", "Read your photos")
//!                 .scope("photos.write", "Add and delete your photos"),
//!         )
//!         .build()?;
//!
//!     let app = Router::new()
//!         .route("/photos", get(list_photos))
//!         .route_layer(verifier.require("https://photos.example.com/photos.read")?);
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//!
//! async fn list_photos(claims: Claims) -> String {
//!     format!("photos of {}", claims.subject().unwrap_or("?"))
//! }
//! ```
//!
//! # How a token is verified
//!
//! Signature and lifetime first, then the other claims, then the route's
//! scopes: the full order, step by step, is written once, in
//! [`Verifier`'s documentation](Verifier#how-a-token-is-verified).
//!
//! Keys come from the issuer's JWK Set, fetched once, shared by all requests,
//! refreshed in the background before they expire, and kept (for a bounded
//! time) when the issuer is down. Each key is checked when the set is read:
//! only asymmetric signature keys of sufficient strength are kept.
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `axum` | [`Claims`] and `Option<Claims>` as axum extractors; `IntoResponse` for [`Rejection`] |
//! | `issuer` | [`local`]: a local Cognito-compatible issuer (management API, token endpoint, JWKS) for tests, examples and development |
//! | `proxy` | [`proxy`]: the layer as a reverse proxy in front of any HTTP upstream, configured by TOML |
//! | `cli` | the `scopegate` command (`scopegate issuer`, `scopegate proxy`) |
//!
//! # Security considerations
//!
//! - **Algorithms.** The verifier picks the algorithm, never the token. Only
//!   asymmetric algorithms can be named ([`Algorithm`]), so HMAC key confusion
//!   (an RSA public key used as an HMAC secret) and `alg: none` are impossible.
//! - **Keys.** Only keys from the configured key set are used; `jku`, `jwk`,
//!   `x5u` and `x5c` in a token are refused, never followed. Keys with `use:
//!   enc`, private material, short RSA moduli, bad curve points or a
//!   mismatched `alg` are dropped.
//! - **Leeway.** `exp` and `nbf` accept a clock skew of 60 s by default, at
//!   most 5 minutes.
//! - **Audience.** Building a verifier without a `client_id` or `aud`
//!   allow-list is an error unless you call
//!   [`with_insecure_any_audience`](VerifierBuilder::with_insecure_any_audience).
//! - **HTTPS.** Key sets and discovery documents are fetched over `https`
//!   only (plain `http` is allowed for loopback hosts), without following
//!   redirects, with timeouts and a body cap.
//! - **Revocation.** A token stays valid until `exp`: a signed JWT cannot be
//!   revoked by the resource server. Keep access tokens short-lived.
//! - **Proxies.** Only the `Authorization` header is read (and a cookie, if
//!   you name one with [`token_cookie`](VerifierBuilder::token_cookie); on
//!   unsafe methods only from the same origin). If a proxy in front of your
//!   service rewrites or strips it, tokens will look missing; the
//!   query-string `access_token` is never accepted.
//! - **Nothing echoed.** Responses and logs never contain the token, a claim
//!   or a `kid` value from a request.
//!
//! [tower]: https://docs.rs/tower
//! [cognito]: https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-define-resource-servers.html

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(rustdoc::broken_intra_doc_links)]

mod algorithm;
mod bearer;
mod claims;
mod clock;
mod cookie;
mod dpop;
mod error;
mod issuer;
mod json;
mod jwk;
mod jws;
mod keys;
mod layer;
mod log_safe;
mod naming;
mod resource_metadata;
mod scope;
pub mod shared;
mod sync;
mod token_cache;
mod token_error;
mod verifier;

#[cfg(test)]
mod test_strategies;

#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "issuer")]
pub mod local;
#[cfg(feature = "proxy")]
pub mod proxy;

/// Internals that benchmarks, conformance tests, property tests and fuzz
/// targets reach directly. Not an API: no stability, not documented.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod __internals {
    use crate::{Algorithm, Claims, TokenError, Verifier};

    /// Reads one `Authorization` header value, as raw bytes.
    pub fn authorization(value: &[u8]) -> Result<Option<&str>, crate::MalformedReason> {
        match crate::bearer::parse(value) {
            crate::bearer::Credentials::Bearer(token) => Ok(Some(token)),
            crate::bearer::Credentials::Missing | crate::bearer::Credentials::Dpop(_) => Ok(None),
            crate::bearer::Credentials::Malformed(reason) => Err(reason),
        }
    }

    /// Reads the bearer token of a request's headers.
    pub fn bearer(headers: &http::HeaderMap) -> Result<Option<&str>, crate::MalformedReason> {
        match crate::bearer::credentials(headers) {
            crate::bearer::Credentials::Bearer(token) => Ok(Some(token)),
            crate::bearer::Credentials::Missing | crate::bearer::Credentials::Dpop(_) => Ok(None),
            crate::bearer::Credentials::Malformed(reason) => Err(reason),
        }
    }

    /// Whether the space-delimited `granted` holds every one of `required`.
    pub fn scopes_met(granted: &str, required: &[crate::Scope]) -> bool {
        crate::scope::Requirement::AllOf(required.into()).is_met_by(granted)
    }

    /// Verifies with the keys at hand (they must be loaded), without async.
    pub fn verify_now(verifier: &Verifier, token: &str) -> Result<Claims, TokenError> {
        match verifier.verify_now(token) {
            crate::verifier::Immediate::Done(Ok(claims)) => Ok(claims),
            crate::verifier::Immediate::Done(Err(crate::VerifyError::InvalidToken(e))) => Err(e),
            crate::verifier::Immediate::Done(Err(_)) => Err(TokenError::UnknownKeyId),
            crate::verifier::Immediate::NeedsKeys => Err(TokenError::UnknownKeyId),
        }
    }

    /// The keys of a key set that pass every check, for any algorithm.
    #[derive(Debug)]
    pub struct KeySet(crate::jwk::KeySet);

    impl KeySet {
        /// Reads a JWK Set document (`{"keys":[...]}`); `None` if it is not one.
        pub fn parse(json: &[u8]) -> Option<KeySet> {
            let all = Algorithm::ALL.into_iter().collect();
            crate::jwk::KeySet::parse(json, all).ok().map(KeySet)
        }

        /// How many `(kid, alg)` keys were kept.
        pub fn len(&self) -> usize {
            self.0.len()
        }

        /// Whether no key was kept.
        pub fn is_empty(&self) -> bool {
            self.0.is_empty()
        }

        /// The `kid`s of the kept keys.
        pub fn kids(&self) -> Vec<&str> {
            self.0.kids()
        }

        /// Checks a signature with the key `kid` for `alg`; `None` if there is
        /// no such key.
        pub fn verify(
            &self,
            kid: &str,
            alg: Algorithm,
            message: &[u8],
            signature: &[u8],
        ) -> Option<bool> {
            match self.0.lookup(kid, alg) {
                crate::jwk::Lookup::Found(key) => Some(key.verify(message, signature)),
                _ => None,
            }
        }

        /// Verifies a compact JWS (header, algorithm, key, signature; no
        /// claims) and returns its decoded payload.
        pub fn verify_jws(&self, token: &str) -> Result<Vec<u8>, TokenError> {
            let all = Algorithm::ALL.into_iter().collect();
            let jws = crate::jws::verify(token, &self.0, all)?;
            crate::jws::b64_decode(jws.payload_b64)
        }
    }

    /// Checks the claims of a payload against a Cognito-like policy, as the
    /// verifier does after the signature.
    pub fn check_claims(payload: &[u8], issuer: &str, now: u64) -> Result<Claims, TokenError> {
        let policy = crate::claims::ClaimPolicy {
            issuer: issuer.to_string(),
            token_use: Some("access".into()),
            client_ids: None,
            audiences: None,
            require_at_jwt: false,
            leeway: 60,
        };
        crate::claims::verify(payload, &policy, false, now, 0)
    }
}

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use bearer::MalformedReason;
pub use claims::Claims;
pub use dpop::{DEFAULT_PROOF_MAX_AGE, Dpop, DpopError, DpopMode};
pub use error::{ConfigError, ConfigErrorKind};
pub use issuer::Issuer;
pub use keys::{FetchError, KeySetFetches};
pub use layer::future;
pub use layer::{
    DefaultRejection, Denied, GrpcRejection, OnRejection, Rejection, RejectionKind, ScopeGate,
    ScopeGateLayer,
};
pub use resource_metadata::{ProtectedResource, ResourceMetadata};
pub use scope::{ResourceServer, Scope, ScopeDefinition};
pub use shared::Revocation;
pub use token_cache::TokenCacheStats;
pub use token_error::TokenError;
pub use verifier::{
    DEFAULT_LEEWAY, DEFAULT_MAX_TOKEN_BYTES, IssuerKeys, TrustedIssuer, Verifier, VerifierBuilder,
    VerifyError,
};

#[cfg(feature = "axum")]
pub use crate::axum::ClaimsRejection;

/// The README's Rust snippets, compiled as doc tests so that the README
/// cannot drift from the API (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

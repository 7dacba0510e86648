//! The adversarial suite: every rule of the project's security floor, every
//! MUST and MUST NOT that RFC 8725, RFC 7515, RFC 7517, RFC 7518, RFC 8037,
//! RFC 6750 and RFC 9068 put on a verifier, and the attacks of the advisories
//! filed against JWT libraries, each as a named rule.
//!
//! Each rule runs twice, over real HTTP with real keys:
//!
//! - `layer::<rule>`: the tower layer in front of an axum handler;
//! - `proxy::<rule>`: `scopegate proxy` in front of a real upstream.
//!
//! Both count what reaches the handler or the upstream: a rejected request
//! must reach nothing, an accepted one exactly once. Requests are written
//! byte for byte on a TCP socket, so that header case, repetition and odd
//! bytes are what the rule says.

#![allow(clippy::unwrap_used)] // tests state their expectations with unwrap

#[path = "../support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use craft::*;
use gate::*;
use scopegate::local::{Fault, LocalIssuer};
use scopegate::{Algorithm, Issuer, Verifier};
use serde_json::{Value, json};
use support::proxy::{ProxyToml, RunningProxy, start_proxy};
use support::{Api, CLIENT, Counter, READ, WRITE, counting_server, other_api, photo_api, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod bearer;
mod claims;
mod craft;
mod gate;
mod jws;
mod key_set;
mod key_set_endpoint;
mod scopes;
mod signatures;

/// Each rule, a function of the gate in its topic module, becomes two
/// tests: `layer::<rule>` and `proxy::<rule>`.
macro_rules! rules {
    ($($module:ident { $($(#[doc = $doc:literal])* $rule:ident,)* })*) => {
        /// The rules against the tower layer.
        mod layer {
            $($(
                $(#[doc = $doc])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $rule() {
                    crate::$module::$rule(crate::Target::Layer).await;
                }
            )*)*
        }
        /// The rules against `scopegate proxy`.
        mod proxy {
            $($(
                $(#[doc = $doc])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $rule() {
                    crate::$module::$rule(crate::Target::Proxy).await;
                }
            )*)*
        }
    };
}

rules! {
    // RFC 6750: how the token travels, and how refusals read.
    bearer {
        /// RFC 6750 §3.1: no credentials, no error code.
        no_credentials_is_401_with_a_bare_challenge,
        /// RFC 6750 §3.1, RFC 7235: another scheme is not bearer credentials.
        another_scheme_is_401_with_a_bare_challenge,
        /// RFC 7235 §2.1: the scheme is case-insensitive; RFC 6750 §2.1: 1*SP.
        bearer_scheme_is_case_insensitive,
        /// RFC 6750 §3.1: repeated credentials are an invalid request.
        two_authorization_headers_are_400,
        /// RFC 6750 §2.1: `b64token` syntax.
        malformed_bearer_credentials_are_400,
        /// RFC 7230 §3.2: header values are visible ASCII.
        control_and_non_ascii_bytes_are_400,
        /// RFC 6750 §2.3, RFC 9700 §2.5: never from the query.
        token_in_the_query_is_never_accepted,
        /// RFC 6750 §3.1: more than one method is an invalid request.
        header_and_query_token_together_are_400,
        /// RFC 6750 §3.1: `insufficient_scope` names the scope.
        missing_scope_is_403_naming_the_scope,
        /// Project rule 9: nothing from the token is echoed.
        nothing_from_the_token_is_echoed,
    }

    // RFC 7515 / RFC 8725: the JWS itself.
    jws {
        /// RFC 8725 §3.1, CVE-2015-9235: `alg: none` in every spelling.
        alg_none_in_any_spelling_is_refused,
        /// RFC 7515 §5.2: the signature is verified; an empty one is not one.
        empty_or_stripped_signature_is_refused,
        /// RFC 8725 §2.1, §3.1, CVE-2016-10555: HMAC with the public key.
        hs256_signed_with_the_public_key_is_refused,
        /// RFC 7515 §4.1.1: `alg` names are case-sensitive.
        alg_names_are_case_sensitive,
        /// RFC 8725 §3.1: the verifier's allow-list decides.
        algorithm_outside_the_allow_list_is_refused,
        /// RFC 7517 §4.4, RFC 8725 §3.1: a key serves its one algorithm.
        header_alg_that_does_not_fit_the_key_is_refused,
        /// RFC 7515 §4: the header is a JSON object.
        header_that_is_not_a_json_object_is_refused,
        /// RFC 7515 §4: header parameter names are unique.
        duplicate_header_parameters_are_refused,
        /// RFC 7515 §5.2, RFC 8725 §3.7: JSON and UTF-8 tricks in the header.
        header_json_tricks_are_refused,
        /// RFC 7515 §4.1.11, RFC 7797: unknown critical extensions.
        crit_and_unencoded_payload_are_refused,
        /// RFC 8725 §3.10, CVE-2018-0114: `jku`, `x5u`, `jwk`, `x5c`.
        key_pointing_header_parameters_are_never_followed,
        /// Project rule 8: a hostile `kid` is one lookup, then a refusal.
        kid_missing_or_hostile_is_refused,
        /// RFC 7515 §7.1, §2: compact form, strict base64url.
        malformed_compact_serialization_is_refused,
        /// RFC 7516, RFC 8725 §2.3: encrypted tokens are not signed tokens.
        encrypted_tokens_are_refused,
        /// RFC 7515 §5.2: another token's signature or payload.
        transplanted_or_modified_parts_are_refused,
        /// Project rule 8: the size cap comes before any decoding.
        oversized_token_is_refused,
        /// RFC 7519 §7.2: a signed empty payload is not a claims set.
        signed_empty_payload_is_refused,
        /// RFC 7519 §7.2, RFC 8725 §3.3: a nested JWT is not unwrapped.
        nested_jwt_is_not_unwrapped,
        /// RFC 8725 §3.7, RFC 7519 §7.2: UTF-8, one complete JSON object.
        claims_that_are_not_one_utf8_json_object_are_refused,
    }

    // RFC 7518 §3.4, RFC 8037: signature forms.
    signatures {
        /// RFC 7518 §3.4, CVE-2022-21449: R || S only; no zero signatures.
        ecdsa_der_zero_and_wrong_length_signatures_are_refused,
        /// RFC 8037 §3.1: EdDSA with Ed25519 keys only.
        eddsa_needs_an_ed25519_key,
        /// Every supported algorithm verifies when allowed (the control).
        every_supported_algorithm_is_accepted,
    }

    // RFC 7517: the key set.
    key_set {
        /// RFC 7517 §4.2, §4.3: keys for encryption are never used.
        keys_not_for_signatures_are_never_used,
        /// RFC 8725 §3.2: symmetric keys in the set are never used.
        symmetric_keys_in_the_set_are_never_used,
        /// A key set that publishes private material has lost that key.
        keys_with_private_material_are_never_used,
        /// RFC 7517 §4.5: a `kid` that names two keys names none.
        ambiguous_kid_in_the_set_is_refused,
        /// RFC 7518 §3.3, §6.3: weak or malformed RSA keys are never used.
        weak_or_malformed_rsa_keys_are_never_used,
        /// RFC 8032 §5.1.3: a small-order Ed25519 key takes a fixed forgery.
        small_order_ed25519_keys_are_never_used,
        /// RFC 8725 §3.1: a key without `alg` still serves one algorithm.
        key_without_alg_serves_one_algorithm,
    }

    // RFC 7519, RFC 9068, Cognito: the claims.
    claims {
        /// RFC 7519 §4.1.4: `exp` required, a number, in the future.
        exp_missing_mistyped_or_past_is_refused,
        /// RFC 7519 §4.1.5: `nbf` in the future, beyond the leeway.
        nbf_in_the_future_is_refused,
        /// RFC 8725 §3.8: `iss` matches exactly.
        issuer_must_match_exactly,
        /// RFC 8725 §3.11, §2.8: an ID token is not an access token.
        id_tokens_are_refused,
        /// RFC 8725 §3.9: the client or audience allow-list.
        other_clients_are_refused,
        /// RFC 8725 §3.9 (project rule 5): claims are checked for type.
        claims_of_the_wrong_type_are_refused,
        /// Repeated claim names (parser differentials) are refused.
        repeated_claim_names_are_refused,
        /// RFC 9068 §2.1, §2.2, §4: `typ`, `aud` and the required claims.
        rfc9068_profile_is_enforced,
    }

    // Scopes (Cognito resource servers).
    scopes {
        /// Project rule 6: exact, whole, case-sensitive scope matching.
        scopes_match_exactly,
        /// The same scope name on another resource server is another scope.
        scope_of_another_resource_server_is_403,
    }

    // The key-set endpoint.
    key_set_endpoint {
        /// Project rule 8: a flood of unknown `kid`s makes no extra fetch.
        unknown_kid_flood_makes_no_extra_fetch,
        /// 500 concurrent requests on a cold cache: one fetch.
        cold_cache_under_concurrency_makes_one_fetch,
        /// Project rule 7: no keys at a cold start is 503, never 200.
        key_set_down_at_a_cold_start_is_503,
        /// Known keys keep working while the endpoint fails.
        known_keys_keep_working_while_the_key_set_is_down,
        /// A redirect of the key-set endpoint is not followed.
        key_set_redirect_is_not_followed,
        /// A slow, endless or huge key-set answer fails fast and closed.
        slow_or_endless_key_set_fails_fast_and_closed,
        /// Rotation: the new key after one refetch; the removed key refused.
        key_rotation_is_followed,
    }
}

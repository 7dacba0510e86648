//! Whole-token verification against a fixed key set (`fuzz/keys.json`), by
//! a verifier of one issuer and by one of two (the same keys under another
//! `iss` too, so that choosing by `iss` is fuzzed), and the claims check on
//! the same bytes taken as a payload.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scopegate::{__internals, Issuer, TrustedIssuer, Verifier};

const ISSUER: &str = "https://issuer.example/pool";
/// 2023-11-14: the seed tokens were issued then and expire in 2100.
const NOW: u64 = 1_700_000_000;
/// The only correctly signed tokens whose claims pass.
const SIGNED: [&str; 2] = [
    include_str!("../corpus/token/seed-ed-valid"),
    include_str!("../corpus/token/seed-ec-valid"),
];

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::builder(Issuer::with_static_jwks(
        ISSUER,
        include_str!("../keys.json"),
    ))
    .token_use("access")
    .client_ids(["fuzz-client"])
    .build()
    .expect("the fixed key set is valid")
});

static SEVERAL: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::builder(
        TrustedIssuer::new(Issuer::with_static_jwks(
            "https://other.example/pool",
            include_str!("../keys.json"),
        ))
        .client_ids(["fuzz-client"]),
    )
    .trust(
        TrustedIssuer::new(Issuer::with_static_jwks(ISSUER, include_str!("../keys.json")))
            .token_use("access")
            .client_ids(["fuzz-client"]),
    )
    .build()
    .expect("the fixed key sets are valid")
});

/// `header.payload`: what a signature covers.
fn signing_input(token: &str) -> &str {
    token.rsplit_once('.').map_or(token, |(input, _)| input)
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        let _ = __internals::check_claims(data, ISSUER, NOW);
        return;
    };
    let several = __internals::verify_now(&SEVERAL, token);
    if let Ok(claims) = &several {
        assert_eq!(claims.issuer(), ISSUER, "only the seeds' issuer signs");
    }
    if __internals::verify_now(&VERIFIER, token).is_ok() || several.is_ok() {
        // Without the private keys, the fuzzer can only have kept a seed's
        // signed header and payload (an ECDSA signature has a second valid
        // form, so only the signing input is compared).
        assert!(
            SIGNED
                .iter()
                .any(|seed| signing_input(seed) == signing_input(token)),
            "an unsigned header or payload was accepted"
        );
    }
    let _ = __internals::check_claims(data, ISSUER, NOW);
});

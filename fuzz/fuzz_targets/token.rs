//! Whole-token verification against a fixed key set (`fuzz/keys.json`), and
//! the claims check on the same bytes taken as a payload.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scopegate::{__internals, Issuer, Verifier};

const ISSUER: &str = "https://issuer.example/pool";
/// 2023-11-14: the seed tokens were issued then and expire in 2100.
const NOW: u64 = 1_700_000_000;

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

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        if let Ok(claims) = __internals::verify_now(&VERIFIER, token) {
            // Only a correctly signed token gets here: its claims are the
            // issuer's, whatever the fuzzer did around them.
            assert_eq!(claims.issuer(), ISSUER);
            assert_eq!(claims.client_id(), Some("fuzz-client"));
        }
    }
    let _ = __internals::check_claims(data, ISSUER, NOW);
});

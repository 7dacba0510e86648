//! The key-set (JWK Set) parser, on any bytes; every key it keeps is then
//! tried with signatures that no sound key accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate::__internals::KeySet;
use scopegate::Algorithm;

const TOKEN: &str = include_str!("../corpus/token/seed-ed-valid");

fuzz_target!(|data: &[u8]| {
    if let Some(keys) = KeySet::parse(data) {
        // `1 || 0^63` is R = identity, S = 0: valid under a small-order
        // Ed25519 key for every message.
        let mut identity_forgery = [0u8; 64];
        identity_forgery[0] = 1;
        let forgeries: [&[u8]; 5] = [
            &[0u8; 64],
            &identity_forgery,
            &[0u8; 96],
            &[0u8; 256],
            &[1u8; 1],
        ];
        for kid in keys.kids() {
            for alg in Algorithm::ALL {
                for signature in forgeries {
                    assert_ne!(
                        keys.verify(kid, alg, b"any message", signature),
                        Some(true),
                        "a kept key accepts a forged signature"
                    );
                }
            }
        }
        let _ = keys.verify_jws(TOKEN);
    }
});

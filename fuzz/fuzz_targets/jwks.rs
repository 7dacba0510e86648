//! The key-set (JWK Set) parser, on any bytes; every key it keeps is then
//! used once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate::__internals::KeySet;
use scopegate::Algorithm;

const TOKEN: &str = include_str!("../corpus/token/seed-ed-valid");

fuzz_target!(|data: &[u8]| {
    if let Some(keys) = KeySet::parse(data) {
        let _ = keys.is_empty();
        for alg in Algorithm::ALL {
            let _ = keys.verify("ed", alg, b"message", &[0u8; 64]);
        }
        let _ = keys.verify_jws(TOKEN);
    }
});

//! The `Authorization` header parser, on any bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate::__internals::authorization;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(token)) = authorization(data) {
        // A token is the end of the header value, non-empty, and made of
        // RFC 6750 b64token characters only.
        assert!(!token.is_empty());
        assert!(data.ends_with(token.as_bytes()));
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
        );
    }
});

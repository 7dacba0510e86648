//! Server-provided nonces (RFC 9449 §8, §9), stateless: a nonce is a time
//! window's number and an HMAC of it, so every verifier with the same secret
//! accepts the same nonces and none has to remember them. A nonce is good in
//! its window and the next one.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The part of the HMAC kept in a nonce: 128 bits.
const TAG_BYTES: usize = 16;

pub(crate) struct Nonces {
    key: hmac::Key,
    window_secs: u64,
}

impl Nonces {
    /// Nonces keyed with `secret`, each window `window_secs` long.
    pub(crate) fn new(secret: &[u8], window_secs: u64) -> Nonces {
        Nonces {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            window_secs: window_secs.max(1),
        }
    }

    /// The nonce to hand out at `now` (Unix seconds).
    pub(crate) fn current(&self, now: u64) -> String {
        self.of_window(now / self.window_secs)
    }

    /// Whether `nonce` was handed out in this window or the one before.
    pub(crate) fn is_valid(&self, nonce: &str, now: u64) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return false;
        };
        let Some((window, tag)) = bytes.split_first_chunk::<8>() else {
            return false;
        };
        let window = u64::from_be_bytes(*window);
        let current = now / self.window_secs;
        if window != current && window.saturating_add(1) != current {
            return false;
        }
        let expected = hmac::sign(&self.key, &window.to_be_bytes());
        tag.len() == TAG_BYTES
            && aws_lc_rs::constant_time::verify_slices_are_equal(
                tag,
                &expected.as_ref()[..TAG_BYTES],
            )
            .is_ok()
    }

    fn of_window(&self, window: u64) -> String {
        let tag = hmac::sign(&self.key, &window.to_be_bytes());
        let mut bytes = window.to_be_bytes().to_vec();
        bytes.extend_from_slice(&tag.as_ref()[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_holds_for_its_window_and_the_next_only() {
        let nonces = Nonces::new(b"secret", 300);
        let nonce = nonces.current(1_000_000);
        assert!(nonces.is_valid(&nonce, 1_000_000));
        assert!(nonces.is_valid(&nonce, 1_000_000 + 300));
        assert!(!nonces.is_valid(&nonce, 1_000_000 + 600));
        assert!(!Nonces::new(b"other", 300).is_valid(&nonce, 1_000_000));
        for bad in ["", "x", "AAAAAAAAAAA", &nonce[..nonce.len() - 1]] {
            assert!(!nonces.is_valid(bad, 1_000_000), "{bad}");
        }
    }
}

//! Passwords: the pool's password policy, in Cognito's words, and how a
//! password is kept: a slow salted hash (PBKDF2-HMAC-SHA512) and, for
//! `USER_SRP_AUTH`, the SRP verifier. The password itself is never stored or
//! logged.

use std::fmt;
use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::error::ApiError;

/// OWASP's figure for PBKDF2-HMAC-SHA512.
const ITERATIONS: u32 = 210_000;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 64;
/// Longer passwords are refused (Cognito allows at most 256 characters).
pub(crate) const MAX_PASSWORD_LEN: usize = 256;

/// Cognito's symbol characters (a space counts too, but not at either end).
const SYMBOLS: &str = "^$*.[]{}()?-\"!@#%&/\\,><':;|_~`+= ";

/// `Policies.PasswordPolicy` of a pool; Cognito's defaults otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PasswordPolicy {
    pub(crate) minimum_length: u32,
    pub(crate) require_uppercase: bool,
    pub(crate) require_lowercase: bool,
    pub(crate) require_numbers: bool,
    pub(crate) require_symbols: bool,
    pub(crate) temporary_password_validity_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

impl PasswordPolicy {
    /// Checks a password, with Cognito's `InvalidPasswordException`
    /// messages (the first rule broken).
    pub(crate) fn check(&self, password: &str) -> Result<(), ApiError> {
        let chars = password.chars().count();
        let fail = |what: &str| {
            Err(ApiError::new(
                "InvalidPasswordException",
                format!("Password did not conform with policy: {what}"),
            ))
        };
        if chars < self.minimum_length as usize {
            return fail("Password not long enough");
        }
        if chars > MAX_PASSWORD_LEN {
            return fail("Password is too long");
        }
        if password.starts_with(' ') || password.ends_with(' ') {
            return fail("Password must not begin or end with a space");
        }
        if self.require_lowercase && !password.chars().any(|c| c.is_ascii_lowercase()) {
            return fail("Password must have lowercase characters");
        }
        if self.require_uppercase && !password.chars().any(|c| c.is_ascii_uppercase()) {
            return fail("Password must have uppercase characters");
        }
        if self.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
            return fail("Password must have numeric characters");
        }
        if self.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c)) {
            return fail("Password must have symbol characters");
        }
        Ok(())
    }
}

/// How a user's password is kept.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct StoredSecret {
    /// `pbkdf2-sha512$<iterations>$<salt>$<hash>` (unpadded base64).
    pub(crate) hash: String,
    /// The SRP salt and verifier (`USER_SRP_AUTH`), big-endian bytes.
    pub(crate) srp_salt: Vec<u8>,
    pub(crate) srp_verifier: Vec<u8>,
}

impl fmt::Debug for StoredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredSecret(..)")
    }
}

impl StoredSecret {
    /// Hashes a password of user `username` in pool `pool_id` (the SRP
    /// verifier depends on both). Slow on purpose: call it outside any lock.
    pub(crate) fn new(pool_id: &str, username: &str, password: &str) -> StoredSecret {
        let mut salt = [0u8; SALT_LEN];
        let _ = aws_lc_rs::rand::fill(&mut salt);
        let hash = derive(password, &salt, ITERATIONS);
        let (srp_salt, srp_verifier) = srp_verifier(pool_id, username, password);
        StoredSecret {
            hash: format!(
                "pbkdf2-sha512${ITERATIONS}${}${}",
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(hash)
            ),
            srp_salt,
            srp_verifier,
        }
    }

    /// Whether `password` is the one hashed (constant time in the hash).
    /// Slow on purpose: call it outside any lock.
    pub(crate) fn verify(&self, password: &str) -> bool {
        let Some((iterations, salt, expected)) = parse(&self.hash) else {
            return false;
        };
        let Some(iterations) = NonZeroU32::new(iterations) else {
            return false;
        };
        pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA512,
            iterations,
            &salt,
            password.as_bytes(),
            &expected,
        )
        .is_ok()
    }
}

fn derive(password: &str, salt: &[u8], iterations: u32) -> [u8; HASH_LEN] {
    let mut out = [0u8; HASH_LEN];
    let iterations = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA512,
        iterations,
        salt,
        password.as_bytes(),
        &mut out,
    );
    out
}

fn parse(hash: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let mut parts = hash.split('$');
    if parts.next()? != "pbkdf2-sha512" {
        return None;
    }
    let iterations = parts.next()?.parse().ok()?;
    let salt = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
    let expected = STANDARD_NO_PAD.decode(parts.next()?).ok()?;
    if parts.next().is_some() || iterations > 10_000_000 {
        return None;
    }
    Some((iterations, salt, expected))
}

/// The SRP salt and verifier of a password (`srp.rs`).
fn srp_verifier(pool_id: &str, username: &str, password: &str) -> (Vec<u8>, Vec<u8>) {
    let v = super::srp::make_verifier(pool_id, username, password);
    (v.salt, v.verifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let secret = StoredSecret::new("eu-west-1_abc", "alice", "Correct-h0rse");
        assert!(secret.verify("Correct-h0rse"));
        assert!(!secret.verify("Correct-h0rsE"));
        assert!(!secret.verify(""));
        assert!(!secret.hash.contains("Correct"));
        let again = StoredSecret::new("eu-west-1_abc", "alice", "Correct-h0rse");
        assert_ne!(secret.hash, again.hash, "salted");
    }

    #[test]
    fn a_damaged_hash_verifies_nothing() {
        for hash in [
            "",
            "pbkdf2-sha512$0$AA$AA",
            "md5$1$AA$AA",
            "pbkdf2-sha512$x$AA$AA",
        ] {
            let secret = StoredSecret {
                hash: hash.into(),
                srp_salt: vec![],
                srp_verifier: vec![],
            };
            assert!(!secret.verify(""));
        }
    }

    #[test]
    fn the_default_policy_is_cognitos() {
        let policy = PasswordPolicy::default();
        assert!(policy.check("Passw0rd!").is_ok());
        for (password, message) in [
            ("Pa0!", "Password not long enough"),
            ("PASSWORD0!", "Password must have lowercase characters"),
            ("password0!", "Password must have uppercase characters"),
            ("Password!!", "Password must have numeric characters"),
            ("Password00", "Password must have symbol characters"),
            (" Passw0rd!", "Password must not begin or end with a space"),
        ] {
            let e = policy.check(password).unwrap_err();
            assert_eq!(e.kind(), "InvalidPasswordException");
            assert!(e.message().ends_with(message), "{password}: {e}");
        }
        let lenient = PasswordPolicy {
            minimum_length: 6,
            require_uppercase: false,
            require_lowercase: false,
            require_numbers: false,
            require_symbols: false,
            temporary_password_validity_days: 7,
        };
        assert!(lenient.check("aaaaaa").is_ok());
    }
}

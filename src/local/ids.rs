//! Random identifiers: key ids, user pool and app client ids, client
//! secrets, `jti`s and request ids.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A random key id: 16 bytes, base64url.
pub(crate) fn new_kid() -> String {
    random_b64(16)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The system RNG does not fail on supported platforms; a zeroed id would
    // only make ids collide, never weaken a key (keys use their own RNG call).
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    bytes
}

/// `len` random letters and digits; lower case only unless `mixed_case`.
pub(crate) fn random_alnum(len: usize, mixed_case: bool) -> String {
    const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let alphabet = if mixed_case { MIXED } else { LOWER };
    // Rejection sampling: bytes at or above the largest multiple of the
    // alphabet's size are skipped, so every character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut bytes = [0u8; 64];
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        for b in bytes {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    out
}

fn random_b64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new user pool id: `{region}_{9 letters and digits}`.
pub(crate) fn new_pool_id(region: &str) -> String {
    format!("{region}_{}", random_alnum(9, true))
}

/// A new app client id: 26 lower-case letters and digits.
pub(crate) fn new_client_id() -> String {
    random_alnum(26, false)
}

/// A new client secret: 52 lower-case letters and digits.
pub(crate) fn new_client_secret() -> String {
    random_alnum(52, false)
}

/// A request id for `x-amzn-requestid`: 32 lower-case letters and digits.
pub(crate) fn new_request_id() -> String {
    random_alnum(32, false)
}

/// A random UUID (version 4), as Cognito's `jti`.
pub(crate) fn uuid_v4() -> String {
    uuid_from(random_bytes())
}

/// 16 bytes as a version-4 UUID (the version and variant bits set).
pub(crate) fn uuid_from(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An opaque random token (32 bytes, base64url): session ids, CSRF tokens.
pub(crate) fn new_opaque_token() -> String {
    random_b64(32)
}

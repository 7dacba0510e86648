//! Bearer-token extraction from the `Authorization` header (RFC 6750 §2.1).
//!
//! Only the header is read here (a configured token cookie is read by
//! `cookie.rs`). A token in the query string (`?access_token=`) or
//! in a form body is never used: RFC 6750 §2.3 and RFC 9700 advise against
//! it, and a URL ends up in logs. A request that sends a bearer header *and*
//! an `access_token` query parameter uses two methods at once, which RFC 6750
//! §3.1 calls an invalid request.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// What the `Authorization` header of a request holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Credentials<'a> {
    /// No `Authorization` header, or one with another scheme (`Basic ...`):
    /// the client sent no bearer credentials (RFC 6750 §3.1: no error code).
    Missing,
    /// A syntactically valid bearer token. Not yet verified.
    Bearer(&'a str),
    /// A syntactically valid token under the `DPoP` scheme (RFC 9449 §7.1),
    /// to be proven with a `DPoP` proof header. Not yet verified.
    Dpop(&'a str),
    /// The request is malformed (RFC 6750 §3.1 `invalid_request`).
    Malformed(MalformedReason),
}

/// Why an `Authorization` header is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MalformedReason {
    /// More than one `Authorization` header line.
    MultipleHeaders,
    /// A bearer header and an `access_token` query parameter: more than one
    /// method of sending a token (RFC 6750 §3.1).
    MultipleMethods,
    /// The header is empty or not visible ASCII.
    InvalidHeader,
    /// `Bearer` with no token after it.
    EmptyToken,
    /// The token holds characters outside RFC 6750's `b64token` (a space, a
    /// tab, a quote, ...).
    TokenSyntax,
    /// A token in the `Authorization` header and in the token cookie: more
    /// than one method of sending a token.
    HeaderAndCookie,
    /// The token cookie appears more than once.
    MultipleCookies,
    /// A token cookie on a request with an unsafe method (not `GET`, `HEAD`
    /// or `OPTIONS`) that does not show it is same-origin: a browser sends
    /// cookies on cross-site requests too (CSRF).
    CrossSiteCookie,
}

impl MalformedReason {
    /// A short, fixed description, safe for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedReason::MultipleHeaders => "more than one Authorization header",
            MalformedReason::MultipleMethods => {
                "access token in both the Authorization header and the query"
            }
            MalformedReason::InvalidHeader => "Authorization header is empty or not visible ASCII",
            MalformedReason::EmptyToken => "Bearer or DPoP scheme without a token",
            MalformedReason::TokenSyntax => "bearer token has characters outside b64token",
            MalformedReason::HeaderAndCookie => {
                "access token in both the Authorization header and a cookie"
            }
            MalformedReason::MultipleCookies => "more than one token cookie",
            MalformedReason::CrossSiteCookie => {
                "token cookie on an unsafe request that is not shown to be same-origin"
            }
        }
    }
}

impl std::fmt::Display for MalformedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for MalformedReason {}

/// RFC 7230 `tchar`, the characters of an auth-scheme.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// How each byte may appear in a bearer token.
const NOT_VISIBLE: u8 = 0;
const VISIBLE: u8 = 1;
const B64TOKEN: u8 = 2;

/// RFC 6750 `b64token` characters: `ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/"`, and `=`. The grammar puts `=` only at the end; here it may
/// appear anywhere, so that a padded base64 segment inside a JWT is refused by
/// the verifier as an invalid token (401) rather than as a malformed request.
/// Other visible ASCII (a space, a quote) makes the request malformed, and
/// anything else (a tab, a control byte, non-ASCII) makes the header invalid.
static CLASS: [u8; 256] = {
    let mut table = [NOT_VISIBLE; 256];
    let mut b = 0x20;
    while b <= 0x7e {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
        {
            B64TOKEN
        } else {
            VISIBLE
        };
        b += 1;
    }
    table
};

/// Whether a byte is a `b64token` byte, in branch-free steps the compiler
/// turns into vector code.
#[inline]
fn is_b64token_byte(b: u8) -> bool {
    let lower = b | 0x20;
    (lower.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
        | (b == b'=')
}

/// Classifies a token: the lowest class of any of its bytes. The common
/// case, a well-formed token, is checked with one vectorised pass.
fn token_class(token: &[u8]) -> u8 {
    // `&` without short-circuit: this form vectorises (about 0.1 ns a byte).
    if token.iter().fold(true, |ok, b| ok & is_b64token_byte(*b)) {
        return B64TOKEN;
    }
    token
        .iter()
        .fold(B64TOKEN, |class, b| class.min(CLASS[usize::from(*b)]))
}

/// Reads the bearer credentials of a request. Every `Authorization` value is
/// looked at, not just the first.
pub(crate) fn credentials(headers: &HeaderMap) -> Credentials<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Credentials::Missing;
    };
    if values.next().is_some() {
        return Credentials::Malformed(MalformedReason::MultipleHeaders);
    }
    parse(value.as_bytes())
}

/// Whether a query string has an `access_token` parameter (RFC 6750 §2.3),
/// however its name is percent-encoded.
pub(crate) fn query_has_access_token(query: &str) -> bool {
    const NAME: &[u8] = b"access_token";
    query.split('&').any(|pair| {
        let name = pair
            .split_once('=')
            .map_or(pair, |(name, _)| name)
            .as_bytes();
        let mut decoded = NAME.iter();
        let mut i = 0;
        while i < name.len() {
            let byte = match name[i] {
                b'%' => match name.get(i + 1..i + 3) {
                    Some(&[high, low]) if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() => {
                        i += 2;
                        hex_value(high) << 4 | hex_value(low)
                    }
                    _ => return false,
                },
                b => b,
            };
            if decoded.next() != Some(&byte) {
                return false;
            }
            i += 1;
        }
        decoded.next().is_none()
    })
}

/// The value of an ASCII hex digit (checked by the caller).
fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        _ => (digit | 0x20) - b'a' + 10,
    }
}

/// Reads one `Authorization` header value.
pub(crate) fn parse(value: &[u8]) -> Credentials<'_> {
    let (scheme, rest) = match value.iter().position(|b| *b == b' ') {
        Some(space) => (&value[..space], &value[space..]),
        None => (value, &b""[..]),
    };
    if scheme.is_empty() || !scheme.iter().all(|b| is_tchar(*b)) {
        return Credentials::Malformed(MalformedReason::InvalidHeader);
    }
    let dpop = scheme.eq_ignore_ascii_case(b"dpop");
    if !dpop && !scheme.eq_ignore_ascii_case(b"bearer") {
        // Another scheme: no bearer credentials, if the header is well-formed.
        return if rest.iter().all(|b| CLASS[usize::from(*b)] != NOT_VISIBLE) {
            Credentials::Missing
        } else {
            Credentials::Malformed(MalformedReason::InvalidHeader)
        };
    }
    // RFC 6750 §2.1: `Bearer 1*SP b64token`; spaces only, no tabs. RFC
    // 9449 §7.1 gives `DPoP` the same syntax.
    let token = &rest[rest.iter().take_while(|b| **b == b' ').count()..];
    match token_credentials(token) {
        Credentials::Bearer(token) if dpop => Credentials::Dpop(token),
        other => other,
    }
}

/// A token as sent (in the header after `Bearer `, or a cookie's value):
/// `b64token` bytes, not empty, not only `=`.
pub(crate) fn token_credentials(token: &[u8]) -> Credentials<'_> {
    match token_class(token) {
        NOT_VISIBLE => return Credentials::Malformed(MalformedReason::InvalidHeader),
        VISIBLE => return Credentials::Malformed(MalformedReason::TokenSyntax),
        _ => {}
    }
    if token.is_empty() {
        return Credentials::Malformed(MalformedReason::EmptyToken);
    }
    if token.iter().all(|b| *b == b'=') {
        return Credentials::Malformed(MalformedReason::TokenSyntax);
    }
    // Checked above: every byte is visible ASCII, so this is valid UTF-8.
    match std::str::from_utf8(token) {
        Ok(token) => Credentials::Bearer(token),
        Err(_) => Credentials::Malformed(MalformedReason::InvalidHeader),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::bearer;
    use crate::test_strategies::{b64token, bearer_scheme};
    use http::HeaderValue;

    fn of(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for v in [
            "Bearer abc.def.ghi",
            "bearer abc.def.ghi",
            "BEARER abc.def.ghi",
            "bEaReR   abc.def.ghi",
        ] {
            assert_eq!(
                credentials(&of(&[v])),
                Credentials::Bearer("abc.def.ghi"),
                "{v}"
            );
        }
    }

    #[test]
    fn missing_or_other_scheme_is_missing() {
        assert_eq!(credentials(&of(&[])), Credentials::Missing);
        assert_eq!(
            credentials(&of(&["Basic dXNlcjpwYXNz"])),
            Credentials::Missing
        );
        assert_eq!(credentials(&of(&["Negotiate"])), Credentials::Missing);
        assert_eq!(credentials(&of(&["Bearerx abc"])), Credentials::Missing);
    }

    #[test]
    fn access_token_query_parameter_is_found() {
        for query in [
            "access_token=x",
            "a=1&access_token=x",
            "access_token",
            "a=1&access_token=&b=2",
            "access%5Ftoken=x",
            "%61ccess_token=x",
            "access_tok%65n",
            "%61%63%63%65%73%73%5f%74%6f%6b%65%6e=",
        ] {
            assert!(query_has_access_token(query), "{query}");
        }
        for query in [
            "",
            "a=1",
            "my_access_token=x",
            "access_tokens=x",
            "x=access_token",
            "ACCESS_TOKEN=x",
            "access_token%",
            "access_token%2",
            "%zzaccess_token=x",
            "access_token[]=x",
        ] {
            assert!(!query_has_access_token(query), "{query}");
        }
    }

    #[test]
    fn malformed_requests() {
        use MalformedReason::*;
        let cases: &[(&[&str], MalformedReason)] = &[
            (&["Bearer a", "Bearer b"], MultipleHeaders),
            (&["Bearer a", "Basic b"], MultipleHeaders),
            (&["Bearer"], EmptyToken),
            (&["Bearer    "], EmptyToken),
            (&["Bearer a b"], TokenSyntax),
            (&["Bearer a\tb"], InvalidHeader),
            (&["Bearer \tabc"], InvalidHeader),
            (&["Bearer\tabc"], InvalidHeader),
            (&["Bearer \"abc\""], TokenSyntax),
            (&["Bearer ==="], TokenSyntax),
            (&[""], InvalidHeader),
            (&["Bea\"rer abc"], InvalidHeader),
        ];
        for (values, reason) in cases {
            assert_eq!(
                credentials(&of(values)),
                Credentials::Malformed(*reason),
                "{values:?}"
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        assert_eq!(credentials(&headers), Credentials::Malformed(InvalidHeader));
    }

    #[test]
    fn the_fast_byte_check_agrees_with_the_table() {
        for b in 0..=255u8 {
            assert_eq!(
                is_b64token_byte(b),
                CLASS[usize::from(b)] == B64TOKEN,
                "{b:#x}"
            );
        }
    }

    #[test]
    fn b64token_allows_its_whole_alphabet() {
        assert_eq!(
            credentials(&of(&["Bearer a=.b"])),
            Credentials::Bearer("a=.b")
        );
        assert_eq!(
            credentials(&of(&["Bearer a+/~-._=="])),
            Credentials::Bearer("a+/~-._==")
        );
    }

    // ----- Property tests (proptest): the parser never panics, and round-trips.

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn bearer_parser_never_panics(value in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = bearer::parse(&value);
        }

        #[test]
        fn bearer_token_round_trips(scheme in bearer_scheme(), spaces in 1..5usize, token in b64token()) {
            prop_assume!(!token.chars().all(|c| c == '='));
            let value = format!("{scheme}{}{token}", " ".repeat(spaces));
            prop_assert_eq!(bearer::parse(value.as_bytes()), Credentials::Bearer(&token));
        }

        #[test]
        fn bearer_token_with_a_foreign_visible_byte_is_malformed(
            token in b64token(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(b" \"',;:<>()[]{}@\\?!#$%&*|^`".as_slice()),
        ) {
            let mut bytes = token.into_bytes();
            let at = at.index(bytes.len() + 1);
            bytes.insert(at, byte);
            let value = [b"Bearer ".as_slice(), &bytes].concat();
            // A space at the start is only more separation: skip that case.
            prop_assume!(!(byte == b' ' && at == 0));
            let parsed = bearer::parse(&value);
            let is_malformed = matches!(parsed, Credentials::Malformed(_));
            prop_assert!(is_malformed, "{:?}", parsed);
        }

        #[test]
        fn bearer_token_with_a_control_or_non_ascii_byte_is_an_invalid_header(
            token in b64token(),
            at in any::<prop::sample::Index>(),
            byte in prop_oneof![0u8..0x20, 0x7fu8..=0xff],
        ) {
            let mut bytes = token.into_bytes();
            let at = at.index(bytes.len() + 1);
            bytes.insert(at, byte);
            let value = [b"Bearer ".as_slice(), &bytes].concat();
            prop_assert_eq!(
                bearer::parse(&value),
                Credentials::Malformed(MalformedReason::InvalidHeader)
            );
        }

        #[test]
        fn other_schemes_are_never_bearer_credentials(
            scheme in "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
            rest in "[ -~]{0,60}",
        ) {
            prop_assume!(!scheme.eq_ignore_ascii_case("bearer"));
            let value = format!("{scheme} {rest}");
            let parsed = bearer::parse(value.as_bytes());
            let not_bearer = !matches!(parsed, Credentials::Bearer(_));
            prop_assert!(not_bearer, "{:?}", parsed);
        }
    }
}

//! The claims of a verified token, and the checks that run on them once the
//! signature holds.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::log_safe::log_safe;
use crate::scope::{Requirement, has_scope};
use crate::token_error::TokenError;

/// The latest `NumericDate` accepted: 9999-12-31T23:59:59Z. Anything later is
/// an absurd value, not a long-lived token.
const MAX_NUMERIC_DATE: u64 = 253_402_300_799;

/// The verified claims of an access token.
///
/// The layer puts a `Claims` into the request's extensions once the token's
/// signature, lifetime, issuer, audience and scopes have all been checked. It
/// is cheap to clone. Standard claims have typed accessors; every claim,
/// standard or not, is reachable through [`Claims::get`].
#[derive(Clone)]
pub struct Claims(Arc<Inner>);

struct Inner {
    issuer: String,
    subject: Option<String>,
    client_id: Option<String>,
    token_use: Option<String>,
    scope: String,
    audience: Vec<String>,
    expires_at: u64,
    not_before: Option<u64>,
    issued_at: Option<u64>,
    auth_time: Option<u64>,
    jwt_id: Option<String>,
    origin_jti: Option<String>,
    /// `cnf.jkt`: the thumbprint of the key the token is bound to.
    dpop_jkt: Option<String>,
    username: Option<String>,
    groups: Vec<String>,
    all: Map<String, Value>,
    verifier_id: u64,
}

impl Claims {
    /// `iss`: the issuer that verified the token, exactly as configured
    /// (with several issuers, this tells them apart).
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }

    /// `sub`: the subject. For Cognito client-credentials tokens, the client id.
    pub fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }

    /// `client_id`: the OAuth client the token was issued to.
    pub fn client_id(&self) -> Option<&str> {
        self.0.client_id.as_deref()
    }

    /// `token_use`: `access` for Cognito access tokens.
    pub fn token_use(&self) -> Option<&str> {
        self.0.token_use.as_deref()
    }

    /// `aud`: the audiences, empty if the token has none (Cognito access
    /// tokens have none).
    pub fn audience(&self) -> &[String] {
        &self.0.audience
    }

    /// The `scope` claim as it was sent: space-delimited scopes, or `""`.
    pub fn scope(&self) -> &str {
        &self.0.scope
    }

    /// The granted scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.0.scope.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether the token grants this full scope (exact, case-sensitive).
    pub fn has_scope(&self, scope: &str) -> bool {
        has_scope(&self.0.scope, scope)
    }

    /// `exp`: when the token expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.expires_at)
    }

    /// `nbf`: when the token starts to be valid, if it says.
    pub fn not_before(&self) -> Option<SystemTime> {
        self.0
            .not_before
            .map(|t| UNIX_EPOCH + Duration::from_secs(t))
    }

    /// `iat`: when the token was issued, if it says.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.0
            .issued_at
            .map(|t| UNIX_EPOCH + Duration::from_secs(t))
    }

    /// `auth_time`: when the user (or client) authenticated, if it says.
    pub fn auth_time(&self) -> Option<SystemTime> {
        self.0
            .auth_time
            .map(|t| UNIX_EPOCH + Duration::from_secs(t))
    }

    /// `jti`: the token's unique identifier.
    pub fn jwt_id(&self) -> Option<&str> {
        self.0.jwt_id.as_deref()
    }

    /// `origin_jti`: Cognito's id of the sign-in this token came from,
    /// shared by every token refreshed from it.
    pub fn origin_jti(&self) -> Option<&str> {
        self.0.origin_jti.as_deref()
    }

    /// `cnf.jkt`: the RFC 7638 thumbprint of the key this token is bound to
    /// (DPoP, RFC 9449 §6.1), if it is bound.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.0.dpop_jkt.as_deref()
    }

    /// `cognito:groups`: the Cognito groups the user is in (empty for
    /// machine tokens). A token whose `cognito:groups` is not a list of
    /// strings is refused as an invalid claim.
    ///
    /// ```
    /// # fn show(claims: scopegate::Claims) {
    /// if claims.groups().iter().any(|g| g == "editors") {
    ///     // ...
    /// }
    /// # }
    /// ```
    pub fn groups(&self) -> &[String] {
        &self.0.groups
    }

    /// `username`: Cognito's user name, present on user tokens.
    pub fn username(&self) -> Option<&str> {
        self.0.username.as_deref()
    }

    /// Any claim by name, standard or custom (e.g. `cognito:groups`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.all.get(name)
    }

    /// Every claim of the token.
    pub fn all(&self) -> &Map<String, Value> {
        &self.0.all
    }

    pub(crate) fn verifier_id(&self) -> u64 {
        self.0.verifier_id
    }

    pub(crate) fn meets(&self, requirement: &Requirement) -> bool {
        requirement.is_met_by(&self.0.scope)
    }

    pub(crate) fn expires_at_secs(&self) -> u64 {
        self.0.expires_at
    }

    pub(crate) fn not_before_secs(&self) -> Option<u64> {
        self.0.not_before
    }

    pub(crate) fn issued_at_secs(&self) -> Option<u64> {
        self.0.issued_at
    }

    /// `auth_time`, else `iat`, in seconds: when the authentication that
    /// led to this token happened, as far as the token says.
    pub(crate) fn authenticated_at_secs(&self) -> Option<u64> {
        self.0.auth_time.or(self.0.issued_at)
    }
}

impl fmt::Debug for Claims {
    /// Shows the identifying claims only, escaped and truncated, never the
    /// whole token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let safe = |v: &Option<String>| v.as_deref().map(log_safe);
        f.debug_struct("Claims")
            .field("iss", &log_safe(&self.0.issuer))
            .field("sub", &safe(&self.0.subject))
            .field("client_id", &safe(&self.0.client_id))
            .field("scope", &log_safe(&self.0.scope))
            .field("exp", &self.0.expires_at)
            .finish_non_exhaustive()
    }
}

/// The checks on claims that a verifier is configured with.
#[derive(Clone, Debug)]
pub(crate) struct ClaimPolicy {
    pub(crate) issuer: String,
    pub(crate) token_use: Option<String>,
    pub(crate) client_ids: Option<Vec<String>>,
    pub(crate) audiences: Option<Vec<String>>,
    pub(crate) require_at_jwt: bool,
    pub(crate) leeway: u64,
}

/// Checks `exp` and `nbf` against `now`, with the leeway.
pub(crate) fn check_lifetime(
    expires_at: u64,
    not_before: Option<u64>,
    now: u64,
    leeway: u64,
) -> Result<(), TokenError> {
    // RFC 7519 §4.1.4: the current time MUST be before `exp`.
    if now >= expires_at.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    // RFC 7519 §4.1.5: the current time MUST be after or equal to `nbf`.
    if not_before.is_some_and(|nbf| now.saturating_add(leeway) < nbf) {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

fn numeric_date(map: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, TokenError> {
    let Some(value) = map.get(name) else {
        return Ok(None);
    };
    let invalid = TokenError::InvalidClaim(name);
    let secs = match value {
        Value::Number(n) => match n.as_u64() {
            Some(secs) => secs,
            // RFC 7519 §2: a NumericDate may be non-integer; seconds suffice here.
            None => match n.as_f64() {
                Some(f) if f.is_finite() && f >= 0.0 && f <= MAX_NUMERIC_DATE as f64 => f as u64,
                _ => return Err(invalid),
            },
        },
        _ => return Err(invalid),
    };
    if secs > MAX_NUMERIC_DATE {
        return Err(invalid);
    }
    Ok(Some(secs))
}

fn string(map: &Map<String, Value>, name: &'static str) -> Result<Option<String>, TokenError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(TokenError::InvalidClaim(name)),
    }
}

/// `cognito:groups`: a list of strings, or absent.
fn groups(map: &Map<String, Value>) -> Result<Vec<String>, TokenError> {
    let invalid = TokenError::InvalidClaim("cognito:groups");
    match map.get("cognito:groups") {
        None => Ok(Vec::new()),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or(invalid))
            .collect(),
        Some(_) => Err(invalid),
    }
}

fn audience(map: &Map<String, Value>) -> Result<Vec<String>, TokenError> {
    let invalid = TokenError::InvalidClaim("aud");
    match map.get("aud") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or(invalid))
            .collect(),
        Some(_) => Err(invalid),
    }
}

/// Decodes and checks the claims of a token whose signature has been
/// verified: steps 6 and 7 of
/// [the verification order](crate::Verifier#how-a-token-is-verified), then
/// the RFC 9068 profile if the policy wants it.
pub(crate) fn verify(
    payload: &[u8],
    policy: &ClaimPolicy,
    typ_is_at_jwt: bool,
    now: u64,
    verifier_id: u64,
) -> Result<Claims, TokenError> {
    // RFC 7519 §4: claim names are unique; repeated names are refused (at
    // every depth), never resolved by "last one wins".
    let all = crate::json::unique_object(payload).ok_or(TokenError::MalformedClaims)?;
    let (expires_at, not_before) = lifetime(&all, now, policy.leeway)?;
    let issuer = issuer(&all, policy)?;
    let token_use = token_use(&all, policy)?;
    let client_id = client_id(&all, policy)?;
    let audience = allowed_audience(&all, policy)?;

    let inner = Inner {
        issuer,
        subject: string(&all, "sub")?,
        client_id,
        token_use,
        scope: string(&all, "scope")?.unwrap_or_default(),
        audience,
        expires_at,
        not_before,
        issued_at: numeric_date(&all, "iat")?,
        auth_time: numeric_date(&all, "auth_time")?,
        jwt_id: string(&all, "jti")?,
        origin_jti: string(&all, "origin_jti")?,
        dpop_jkt: dpop_binding(&all)?,
        username: string(&all, "username")?,
        groups: groups(&all)?,
        all,
        verifier_id,
    };
    if policy.require_at_jwt {
        check_at_jwt_profile(&inner, typ_is_at_jwt)?;
    }
    Ok(Claims(Arc::new(inner)))
}

/// `cnf` (RFC 7800): absent, or `{"jkt": "..."}` for a DPoP binding (RFC
/// 9449 §6.1). Any other confirmation method (an mTLS certificate's
/// `x5t#S256`, RFC 8705, ...) cannot be checked here, so it is refused
/// rather than ignored: ignoring it would accept a stolen bound token.
fn dpop_binding(all: &Map<String, Value>) -> Result<Option<String>, TokenError> {
    let Some(cnf) = all.get("cnf") else {
        return Ok(None);
    };
    match cnf.as_object().map(|cnf| (cnf.len(), cnf.get("jkt"))) {
        Some((1, Some(Value::String(jkt)))) if !jkt.is_empty() => Ok(Some(jkt.clone())),
        _ => Err(TokenError::InvalidClaim("cnf")),
    }
}

/// `exp` (required) and `nbf`, checked against `now` with the leeway.
fn lifetime(
    all: &Map<String, Value>,
    now: u64,
    leeway: u64,
) -> Result<(u64, Option<u64>), TokenError> {
    let expires_at = numeric_date(all, "exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    let not_before = numeric_date(all, "nbf")?;
    check_lifetime(expires_at, not_before, now, leeway)?;
    Ok((expires_at, not_before))
}

/// `iss`, required and equal to the configured issuer.
fn issuer(all: &Map<String, Value>, policy: &ClaimPolicy) -> Result<String, TokenError> {
    let issuer = string(all, "iss")?.ok_or(TokenError::MissingClaim("iss"))?;
    if issuer != policy.issuer {
        return Err(TokenError::IssuerMismatch);
    }
    Ok(issuer)
}

/// `token_use`, required and equal to the configured one if there is one.
fn token_use(all: &Map<String, Value>, policy: &ClaimPolicy) -> Result<Option<String>, TokenError> {
    let rule = policy
        .token_use
        .as_deref()
        .map(|required| move |value: &str| value == required);
    checked_string(all, "token_use", rule, TokenError::TokenUseMismatch)
}

/// `client_id`, required and on the allow-list if there is one.
fn client_id(all: &Map<String, Value>, policy: &ClaimPolicy) -> Result<Option<String>, TokenError> {
    let rule = policy
        .client_ids
        .as_deref()
        .map(|allowed| move |value: &str| allowed.iter().any(|id| id == value));
    checked_string(all, "client_id", rule, TokenError::ClientNotAllowed)
}

/// A string claim that, if the policy has a `rule` for it, must be present
/// and pass the rule (or the token fails with `mismatch`).
fn checked_string(
    all: &Map<String, Value>,
    name: &'static str,
    rule: Option<impl Fn(&str) -> bool>,
    mismatch: TokenError,
) -> Result<Option<String>, TokenError> {
    let value = string(all, name)?;
    if let Some(rule) = rule {
        match &value {
            None => return Err(TokenError::MissingClaim(name)),
            Some(value) if !rule(value) => return Err(mismatch),
            Some(_) => {}
        }
    }
    Ok(value)
}

/// `aud`, with at least one value on the allow-list if there is one.
fn allowed_audience(
    all: &Map<String, Value>,
    policy: &ClaimPolicy,
) -> Result<Vec<String>, TokenError> {
    let audience = audience(all)?;
    if let Some(allowed) = &policy.audiences {
        if audience.is_empty() {
            return Err(TokenError::MissingClaim("aud"));
        }
        if !audience.iter().any(|aud| allowed.contains(aud)) {
            return Err(TokenError::AudienceNotAllowed);
        }
    }
    Ok(audience)
}

/// RFC 9068 §2.1 and §2.2: the header says `at+jwt` and these claims exist.
fn check_at_jwt_profile(claims: &Inner, typ_is_at_jwt: bool) -> Result<(), TokenError> {
    if !typ_is_at_jwt {
        return Err(TokenError::TypeMismatch);
    }
    if claims.audience.is_empty() {
        return Err(TokenError::MissingClaim("aud"));
    }
    for (name, present) in [
        ("sub", claims.subject.is_some()),
        ("client_id", claims.client_id.is_some()),
        ("iat", claims.issued_at.is_some()),
        ("jti", claims.jwt_id.is_some()),
    ] {
        if !present {
            return Err(TokenError::MissingClaim(name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ClaimPolicy {
        ClaimPolicy {
            issuer: "https://issuer.example".into(),
            token_use: Some("access".into()),
            client_ids: Some(vec!["client-1".into()]),
            audiences: None,
            require_at_jwt: false,
            leeway: 10,
        }
    }

    const NOW: u64 = 1_800_000_000;

    fn check(payload: &str) -> Result<Claims, TokenError> {
        verify(payload.as_bytes(), &policy(), false, NOW, 1)
    }

    fn payload(extra: &str) -> String {
        format!(
            r#"{{"iss":"https://issuer.example","token_use":"access","client_id":"client-1","exp":{}{extra}}}"#,
            NOW + 60
        )
    }

    #[test]
    fn a_good_payload_passes() {
        let claims = check(&payload(r#","scope":"a/b c/d","sub":"s","iat":1.5"#)).unwrap();
        assert_eq!(claims.scopes().collect::<Vec<_>>(), ["a/b", "c/d"]);
        assert!(claims.has_scope("c/d"));
        assert!(!claims.has_scope(""));
        assert_eq!(claims.subject(), Some("s"));
    }

    #[test]
    fn exp_must_be_present_numeric_and_sane() {
        let base = r#"{"iss":"https://issuer.example","token_use":"access","client_id":"client-1""#;
        for (exp, expected) in [
            ("", TokenError::MissingClaim("exp")),
            (r#","exp":"1900000000""#, TokenError::InvalidClaim("exp")),
            (r#","exp":-1"#, TokenError::InvalidClaim("exp")),
            (r#","exp":1e300"#, TokenError::InvalidClaim("exp")),
            (r#","exp":99999999999999"#, TokenError::InvalidClaim("exp")),
            (r#","exp":null"#, TokenError::InvalidClaim("exp")),
            (r#","exp":true"#, TokenError::InvalidClaim("exp")),
            (r#","exp":[1900000000]"#, TokenError::InvalidClaim("exp")),
            (r#","exp":1000"#, TokenError::Expired),
        ] {
            assert_eq!(
                check(&format!("{base}{exp}}}")).unwrap_err(),
                expected,
                "{exp}"
            );
        }
    }

    #[test]
    fn lifetime_honours_leeway() {
        assert!(check_lifetime(NOW, None, NOW - 1, 0).is_ok());
        assert_eq!(check_lifetime(NOW, None, NOW, 0), Err(TokenError::Expired));
        assert!(check_lifetime(NOW, None, NOW + 9, 10).is_ok());
        assert_eq!(
            check_lifetime(NOW, None, NOW + 10, 10),
            Err(TokenError::Expired)
        );
        assert!(check_lifetime(NOW + 100, Some(NOW + 10), NOW, 10).is_ok());
        assert_eq!(
            check_lifetime(NOW + 100, Some(NOW + 11), NOW, 10),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn claim_values_and_types_are_checked() {
        let cases = [
            (payload(r#","nbf":9999999999"#), TokenError::NotYetValid),
            (payload(r#","nbf":"0""#), TokenError::InvalidClaim("nbf")),
            (
                payload(r#","scope":["a/b"]"#),
                TokenError::InvalidClaim("scope"),
            ),
            (payload(r#","sub":1"#), TokenError::InvalidClaim("sub")),
            (payload(r#","aud":[1]"#), TokenError::InvalidClaim("aud")),
            (payload(r#","iat":"x""#), TokenError::InvalidClaim("iat")),
            (payload(r#","exp":1"#), TokenError::MalformedClaims),
            (
                payload(r#","scope":"x","scope":"y""#),
                TokenError::MalformedClaims,
            ),
            (
                payload("").replace("https://issuer.example", "https://issuer.example/"),
                TokenError::IssuerMismatch,
            ),
            (
                payload("").replace(r#""access""#, r#""id""#),
                TokenError::TokenUseMismatch,
            ),
            (
                payload("").replace("client-1", "client-2"),
                TokenError::ClientNotAllowed,
            ),
            (
                payload("").replace(r#""client_id":"client-1","#, ""),
                TokenError::MissingClaim("client_id"),
            ),
            (
                payload("").replace(r#""iss":"https://issuer.example","#, ""),
                TokenError::MissingClaim("iss"),
            ),
            (
                payload("").replace(r#""iss":"https://issuer.example""#, r#""iss":1"#),
                TokenError::InvalidClaim("iss"),
            ),
            ("[]".to_string(), TokenError::MalformedClaims),
            ("{} {}".to_string(), TokenError::MalformedClaims),
        ];
        for (payload, expected) in cases {
            assert_eq!(check(&payload).unwrap_err(), expected, "{payload}");
        }
    }

    #[test]
    fn audience_allow_list() {
        let mut policy = policy();
        policy.audiences = Some(vec!["api".into()]);
        let run = |extra: &str| verify(payload(extra).as_bytes(), &policy, false, NOW, 1);
        assert!(run(r#","aud":"api""#).is_ok());
        assert!(run(r#","aud":["x","api"]"#).is_ok());
        assert_eq!(
            run(r#","aud":"x""#).unwrap_err(),
            TokenError::AudienceNotAllowed
        );
        assert_eq!(run("").unwrap_err(), TokenError::MissingClaim("aud"));
        assert_eq!(
            run(r#","aud":[]"#).unwrap_err(),
            TokenError::MissingClaim("aud")
        );
    }

    #[test]
    fn rfc9068_profile() {
        let mut policy = policy();
        policy.require_at_jwt = true;
        let full = payload(r#","aud":"api","sub":"s","iat":1,"jti":"j""#);
        assert!(verify(full.as_bytes(), &policy, true, NOW, 1).is_ok());
        assert_eq!(
            verify(full.as_bytes(), &policy, false, NOW, 1).unwrap_err(),
            TokenError::TypeMismatch
        );
        let no_jti = payload(r#","aud":"api","sub":"s","iat":1"#);
        assert_eq!(
            verify(no_jti.as_bytes(), &policy, true, NOW, 1).unwrap_err(),
            TokenError::MissingClaim("jti")
        );
    }
}

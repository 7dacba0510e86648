//! The seed's scope rules, one implementation for every grant: with no
//! `scope`, every allowed scope that is active; with `scope`, each must be
//! allowed (else `invalid_scope`, no token), and allowed custom scopes whose
//! resource-server scope was deleted are left out (and come back when it is
//! re-added).

use super::outcome::OAuthError;
use crate::local::state::{BUILT_IN_SCOPES, ClientState, PoolState};

/// The OIDC scopes that mean something only with `openid`.
const NEEDS_OPENID: [&str; 3] = ["email", "phone", "profile"];

/// Who the token is for: a machine (client credentials: custom scopes only)
/// or a user (the code and implicit grants: built-in scopes too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    Machine,
    User,
}

/// Whether `scope` can be in a token of `grant` right now.
fn is_active(pool: &PoolState, grant: Grant, scope: &str) -> bool {
    match grant {
        Grant::User if BUILT_IN_SCOPES.contains(&scope) => true,
        _ => pool.scope_is_active(scope),
    }
}

fn invalid_scope(description: &'static str) -> OAuthError {
    OAuthError::new("invalid_scope", description)
}

/// The scopes a token request or an authorization request is granted.
pub(crate) fn granted_scopes(
    pool: &PoolState,
    allowed: &[String],
    requested: Option<&str>,
    grant: Grant,
) -> Result<Vec<String>, OAuthError> {
    let Some(requested) = requested else {
        let granted: Vec<String> = allowed
            .iter()
            .filter(|s| is_active(pool, grant, s))
            .cloned()
            .collect();
        return Ok(without_orphans(granted));
    };
    let mut granted: Vec<String> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        let allowed_here =
            allowed.iter().any(|a| a == scope) && (grant == Grant::User || scope.contains('/'));
        if !allowed_here {
            return Err(invalid_scope(
                "a requested scope is not allowed for this client",
            ));
        }
        if is_active(pool, grant, scope) && !granted.iter().any(|g| g == scope) {
            granted.push(scope.to_string());
        }
    }
    if requested.split(' ').all(str::is_empty) {
        return Err(invalid_scope("the scope parameter holds no scope"));
    }
    // Cognito documents email, phone and profile as OIDC scopes that need
    // openid; asked for without it, they are refused rather than ignored.
    if has_orphans(&granted) {
        return Err(invalid_scope(
            "email, phone and profile need the openid scope",
        ));
    }
    Ok(granted)
}

fn has_orphans(scopes: &[String]) -> bool {
    !scopes.iter().any(|s| s == "openid")
        && scopes.iter().any(|s| NEEDS_OPENID.contains(&s.as_str()))
}

/// Without `openid`, the OIDC scopes that need it are left out (the default
/// grant of a client that allows them but not `openid`).
fn without_orphans(mut scopes: Vec<String>) -> Vec<String> {
    if has_orphans(&scopes) {
        scopes.retain(|s| !NEEDS_OPENID.contains(&s.as_str()));
    }
    scopes
}

/// The scopes of an earlier grant (a code, a refresh token) that still hold:
/// still allowed for the client, and active. Scopes taken away since are
/// silently left out (the grant is not refused).
pub(crate) fn still_granted(
    pool: &PoolState,
    client: &ClientState,
    scopes: &[String],
) -> Vec<String> {
    scopes
        .iter()
        .filter(|s| client.scopes.iter().any(|a| a == *s) && is_active(pool, Grant::User, s))
        .cloned()
        .collect()
}

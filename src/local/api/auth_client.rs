//! The app client of a user-facing action: finding it by `ClientId`, its
//! `ExplicitAuthFlows`, and the `SECRET_HASH` of confidential clients.

use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::local::error::ApiError;
use crate::local::state::{ClientState, PoolState, State};
use crate::local::validate::check_client_id;

/// The pool and client of a `ClientId`.
pub(super) fn find_client<'s>(
    state: &'s State,
    client_id: &str,
) -> Result<(&'s PoolState, &'s ClientState), ApiError> {
    check_client_id(client_id)?;
    state
        .pool_of_client(client_id)
        .and_then(|p| p.find_client(client_id).map(|c| (p, c)))
        .ok_or_else(|| ApiError::not_found(format!("User pool client {client_id} does not exist.")))
}

/// `Base64(HMAC-SHA256(key = client secret, message = username + client id))`.
pub(super) fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{username}{client_id}").as_bytes());
    STANDARD.encode(tag.as_ref())
}

/// Checks a `SECRET_HASH` (or `SecretHash`): required for a client with a
/// secret and made over one of `usernames`; ignored for a public client, as
/// Cognito does.
pub(super) fn check_secret_hash(
    client: &ClientState,
    usernames: &[&str],
    given: Option<&str>,
) -> Result<(), ApiError> {
    let Some(secret) = &client.secret else {
        return Ok(());
    };
    let Some(given) = given else {
        return Err(ApiError::new(
            "NotAuthorizedException",
            format!(
                "Client {} is configured for secret but secret was not received",
                client.id
            ),
        ));
    };
    let matches = usernames.iter().any(|name| {
        let expected = secret_hash(secret, name, &client.id);
        constant_time::verify_slices_are_equal(expected.as_bytes(), given.as_bytes()).is_ok()
    });
    if matches {
        return Ok(());
    }
    Err(ApiError::new(
        "NotAuthorizedException",
        format!("Unable to verify secret hash for client {}", client.id),
    ))
}

/// Checks a `ClientSecret` member (RevokeToken, GetTokensFromRefreshToken).
pub(super) fn check_client_secret(
    client: &ClientState,
    given: Option<&str>,
) -> Result<(), ApiError> {
    let Some(secret) = &client.secret else {
        return Ok(());
    };
    let ok = given.is_some_and(|g| {
        constant_time::verify_slices_are_equal(secret.as_bytes(), g.as_bytes()).is_ok()
    });
    if ok {
        return Ok(());
    }
    Err(ApiError::new(
        "NotAuthorizedException",
        format!("Unable to verify secret for client {}", client.id),
    ))
}

/// The `ExplicitAuthFlows` values that allow an `AuthFlow`.
fn allowing(flow: &str) -> &'static [&'static str] {
    match flow {
        "USER_PASSWORD_AUTH" => &["ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"],
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            &["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"]
        }
        "USER_SRP_AUTH" => &["ALLOW_USER_SRP_AUTH"],
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => &["ALLOW_REFRESH_TOKEN_AUTH"],
        "CUSTOM_AUTH" => &["ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"],
        _ => &[],
    }
}

/// Whether the client's `ExplicitAuthFlows` allow `flow`. None listed:
/// Cognito's default (refresh, SRP, custom). Only legacy names listed
/// (`ADMIN_NO_SRP_AUTH`, `USER_PASSWORD_AUTH`, ...): SRP and refresh stay
/// allowed, as they always were with the legacy settings.
pub(super) fn flow_allowed(client: &ClientState, flow: &str) -> bool {
    let listed = client.list("ExplicitAuthFlows");
    let listed: Vec<&str> = if listed.is_empty() {
        vec![
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH",
        ]
    } else {
        listed
    };
    let legacy_only = listed.iter().all(|f| !f.starts_with("ALLOW_"));
    if legacy_only
        && matches!(
            flow,
            "USER_SRP_AUTH" | "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN"
        )
    {
        return true;
    }
    allowing(flow).iter().any(|f| listed.contains(f))
}

/// Cognito's refusal of a flow the client does not allow.
pub(super) fn flow_not_enabled(flow: &str) -> ApiError {
    ApiError::invalid_parameter(format!("{flow} flow not enabled for this client"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_hash_is_cognitos() {
        // HMAC-SHA256("secret", "alice" + "client"), base64.
        let expected = {
            let key = hmac::Key::new(hmac::HMAC_SHA256, b"secret");
            STANDARD.encode(hmac::sign(&key, b"aliceclient").as_ref())
        };
        assert_eq!(secret_hash("secret", "alice", "client"), expected);
        assert_ne!(secret_hash("secret", "alicE", "client"), expected);
    }
}

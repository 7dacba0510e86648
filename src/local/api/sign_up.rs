//! Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode, and
//! the administrator's AdminConfirmSignUp.
//!
//! A confirmation code (6 digits, valid 24 hours) is always issued and put
//! in the outbox (`GET /_local/{pool}/messages`), whatever the pool's
//! `AutoVerifiedAttributes` say; it is addressed to the user's `email`, else
//! `phone_number`.

use serde_json::{Value, json};

use super::Context;
use super::attributes::{self, read_list};
use super::auth_client::{check_secret_hash, find_client};
use super::input::Input;
use super::pools::pool_mut;
use super::users::{check_room, claim_aliases, new_key, new_user, take_secret, user_key};
use crate::local::error::ApiError;
use crate::local::sessions::{CODE_ATTEMPTS, Message};
use crate::local::state::{ClientState, PoolState, State, now_epoch};
use crate::local::users::{UserState, UserStatus};

const CODE_SECONDS: f64 = 86_400.0;

/// Six random digits.
fn new_code() -> String {
    loop {
        let mut bytes = [0u8; 4];
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        let n = u32::from_be_bytes(bytes);
        // Rejection sampling keeps every code equally likely.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// The pool of the input's `ClientId`, mutably, once the `SecretHash` over
/// the input's `Username` is checked.
fn client_pool<'s>(state: &'s mut State, input: &Input<'_>) -> Result<&'s mut PoolState, ApiError> {
    client_and_pool(state, input).map(|(_, pool)| pool)
}

/// The input's client (a copy) and its pool, mutably, once the
/// `SecretHash` over the input's `Username` is checked.
fn client_and_pool<'s>(
    state: &'s mut State,
    input: &Input<'_>,
) -> Result<(ClientState, &'s mut PoolState), ApiError> {
    let client_id = input.required("ClientId", "clientId")?;
    let username = input.required("Username", "username")?;
    attributes::check_username("username", username)?;
    let (pool, client) = find_client(state, client_id)?;
    check_secret_hash(client, &[username], input.string("SecretHash")?)?;
    let client = client.clone();
    let id = pool.id.clone();
    let pool = state
        .pools
        .get_mut(&id)
        .ok_or_else(|| ApiError::internal("the pool vanished"))?;
    Ok((client, pool))
}

/// Issues a new code to `user`: stored on the user, sent to the outbox.
/// Returns `CodeDeliveryDetails`, if the user has somewhere to send it.
fn send_code(
    ctx: &mut Context,
    pool_id: &str,
    user: &mut UserState,
    reason: &'static str,
) -> Option<Value> {
    let code = new_code();
    user.confirmation_code = Some((code.clone(), now_epoch() + CODE_SECONDS));
    let destination = attributes::destination(user, &["EMAIL", "SMS"]);
    let message = Message {
        at: now_epoch(),
        username: user.username.clone(),
        destination: destination.map(|(_, v)| v.to_string()),
        reason,
        code: Some(code),
        temporary_password: None,
    };
    ctx.outbox.push((pool_id.to_string(), message));
    destination.map(|(attribute, value)| attributes::delivery_details(attribute, value))
}

pub(super) fn sign_up(
    state: &mut State,
    ctx: &mut Context,
    input: &Input<'_>,
) -> Result<Value, ApiError> {
    let password = input.required("Password", "password")?;
    let mut attributes = read_list(input.0, "UserAttributes")?;
    let (client, pool) = client_and_pool(state, input)?;
    attributes::check_self_writable(&client, &attributes)?;
    let name = input.required("Username", "username")?;
    if pool.directory.find_user(name).is_some() {
        let message = if pool.directory.username_attributes().is_empty() {
            "User already exists"
        } else {
            "An account with the given email already exists."
        };
        return Err(ApiError::new("UsernameExistsException", message));
    }
    check_room(pool)?;
    pool.directory.password_policy.check(password)?;
    let key = new_key(pool, ctx, name, &mut attributes)?;
    let mut user = new_user(pool, key.clone(), attributes, UserStatus::Unconfirmed);
    user.secret = Some(take_secret(ctx, &key)?.secret);
    let details = send_code(ctx, &pool.id, &mut user, "SignUp");
    let mut out = json!({ "UserConfirmed": false, "UserSub": user.sub });
    if let Some(details) = details {
        out["CodeDeliveryDetails"] = details;
    }
    pool.directory.users.insert(key, user);
    Ok(out)
}

fn not_found_for_client() -> ApiError {
    ApiError::new(
        "UserNotFoundException",
        "Username/client id combination not found.",
    )
}

fn cannot_confirm(user: &UserState) -> ApiError {
    ApiError::new(
        "NotAuthorizedException",
        format!(
            "User cannot be confirmed. Current status is {}",
            user.status.as_str()
        ),
    )
}

pub(super) fn confirm(
    state: &mut State,
    ctx: &mut Context,
    input: &Input<'_>,
) -> Result<Value, ApiError> {
    let code = input.required("ConfirmationCode", "confirmationCode")?;
    let pool = client_pool(state, input)?;
    let key = user_key(pool, input).map_err(|_| not_found_for_client())?;
    let pool_id = pool.id.clone();
    let user = pool
        .directory
        .users
        .get_mut(&key)
        .ok_or_else(not_found_for_client)?;
    if user.status != UserStatus::Unconfirmed {
        return Err(cannot_confirm(user));
    }
    if ctx.code_failures >= CODE_ATTEMPTS {
        return Err(ApiError::new(
            "LimitExceededException",
            "Attempt limit exceeded, please try after some time.",
        ));
    }
    let Some((expected, expires)) = user.confirmation_code.clone() else {
        return Err(ApiError::new(
            "ExpiredCodeException",
            "Invalid code provided, please request a code again.",
        ));
    };
    let matches =
        aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), code.as_bytes())
            .is_ok();
    if !matches {
        ctx.wrong_code = Some(format!("{pool_id}/{key}"));
        return Err(ApiError::new(
            "CodeMismatchException",
            "Invalid verification code provided, please try again.",
        ));
    }
    if expires <= now_epoch() {
        return Err(ApiError::new(
            "ExpiredCodeException",
            "Invalid code provided, please request a code again.",
        ));
    }
    mark_verified(user);
    user.status = UserStatus::Confirmed;
    user.confirmation_code = None;
    user.modified = now_epoch();
    // A contact another user already signs in by is refused (the whole
    // change is dropped), unless ForceAliasCreation moves it here.
    let force = input.bool("ForceAliasCreation")?.unwrap_or(false);
    claim_aliases(pool, &key, force)?;
    Ok(json!({}))
}

/// The contact the code went to is verified.
fn mark_verified(user: &mut UserState) {
    match attributes::destination(user, &["EMAIL", "SMS"]) {
        Some(("email", _)) => user
            .attributes
            .insert("email_verified".into(), "true".into()),
        Some(_) => user
            .attributes
            .insert("phone_number_verified".into(), "true".into()),
        None => None,
    };
}

pub(super) fn resend(
    state: &mut State,
    ctx: &mut Context,
    input: &Input<'_>,
) -> Result<Value, ApiError> {
    let pool = client_pool(state, input)?;
    let key = user_key(pool, input).map_err(|_| not_found_for_client())?;
    let pool_id = pool.id.clone();
    let user = pool
        .directory
        .users
        .get_mut(&key)
        .ok_or_else(not_found_for_client)?;
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::invalid_parameter("User is already confirmed."));
    }
    let details = send_code(ctx, &pool_id, user, "ResendConfirmationCode");
    user.modified = now_epoch();
    Ok(match details {
        Some(d) => json!({ "CodeDeliveryDetails": d }),
        None => json!({}),
    })
}

pub(super) fn admin_confirm(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool_mut(state, input)?;
    let key = user_key(pool, input)?;
    let user = pool
        .directory
        .users
        .get_mut(&key)
        .ok_or_else(super::users::user_not_found)?;
    if user.status != UserStatus::Unconfirmed {
        return Err(cannot_confirm(user));
    }
    user.status = UserStatus::Confirmed;
    user.confirmation_code = None;
    user.modified = now_epoch();
    Ok(json!({}))
}

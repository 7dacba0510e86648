//! The Cognito management API (`AWSCognitoIdentityProviderService.*`, AWS
//! JSON 1.1): user pools, resource servers, app clients, users, groups, and
//! the sign-in actions (`auth.rs`, run apart: see [`is_sign_in`]).
//!
//! Inputs and outputs use Cognito's member names; errors use its exception
//! types and messages, in the AWS JSON error shape. This file dispatches an
//! action to its topic's file; `input.rs` reads requests and pages lists.

mod attributes;
mod auth;
mod auth_client;
mod auth_srp;
mod clients;
mod filter;
mod groups;
mod input;
mod pools;
mod prepare;
mod resource_servers;
mod sign_up;
mod tokens;
mod users;

pub(crate) use auth::{is_sign_in, sign_in};
pub(crate) use prepare::{PreparedSecret, prepare, release_code_attempt};

use serde_json::Value;

use super::error::ApiError;
use super::keys::SigningKey;
use super::sessions::Message;
use super::state::State;
use input::Input;

/// Whether an action changes the state (and must be saved): all but the
/// reads. (The sign-in actions, `GetUser` and `GetTokensFromRefreshToken`
/// among them, never come here: `Shared::call` routes them to
/// [`sign_in`].)
pub(crate) fn mutates(action: &str) -> bool {
    let action = action.strip_prefix("Admin").unwrap_or(action);
    !["Describe", "List", "Get"]
        .iter()
        .any(|read| action.starts_with(read))
}

/// What an action may need from outside the state lock.
pub(crate) struct Context {
    /// The region of new pool ids.
    pub(crate) region: String,
    /// A freshly generated signing key, for CreateUserPool.
    pub(crate) new_key: Option<SigningKey>,
    /// The input's password, hashed before the lock was taken (the hash is
    /// slow): for AdminCreateUser, AdminSetUserPassword and SignUp.
    pub(crate) new_secret: Option<PreparedSecret>,
    /// Failed confirmation codes of the user named in the input so far.
    pub(crate) code_failures: u32,
    /// Set by an action: messages to put in the outbox once the change is
    /// saved, as `(pool id, message)`.
    pub(crate) outbox: Vec<(String, Message)>,
    /// Set by ConfirmSignUp: a wrong code was given for `pool/username`.
    pub(crate) wrong_code: Option<String>,
}

/// Runs one action.
pub(crate) fn call(
    state: &mut State,
    ctx: &mut Context,
    action: &str,
    input: &Value,
) -> Result<Value, ApiError> {
    let input = Input::new(input)?;
    match action {
        "CreateUserPool" => pools::create(state, &ctx.region, ctx.new_key.take(), &input),
        "DescribeUserPool" => pools::describe(state, &input),
        "ListUserPools" => pools::list(state, &input),
        "DeleteUserPool" => pools::delete(state, &input),
        "CreateResourceServer" => resource_servers::create(state, &input),
        "DescribeResourceServer" => resource_servers::describe(state, &input),
        "ListResourceServers" => resource_servers::list(state, &input),
        "UpdateResourceServer" => resource_servers::update(state, &input),
        "DeleteResourceServer" => resource_servers::delete(state, &input),
        "CreateUserPoolClient" => clients::create(state, &input),
        "DescribeUserPoolClient" => clients::describe(state, &input),
        "UpdateUserPoolClient" => clients::update(state, &input),
        "DeleteUserPoolClient" => clients::delete(state, &input),
        "ListUserPoolClients" => clients::list(state, &input),
        "AdminCreateUser" => users::create(state, ctx, &input),
        "AdminGetUser" => users::get(state, &input),
        "ListUsers" => users::list(state, &input),
        "AdminDeleteUser" => users::delete(state, &input),
        "AdminDisableUser" => users::set_enabled(state, &input, false),
        "AdminEnableUser" => users::set_enabled(state, &input, true),
        "AdminSetUserPassword" => users::set_password(state, ctx, &input),
        "AdminUpdateUserAttributes" => users::update_attributes(state, &input),
        "AdminDeleteUserAttributes" => users::delete_attributes(state, &input),
        "SignUp" => sign_up::sign_up(state, ctx, &input),
        "ConfirmSignUp" => sign_up::confirm(state, ctx, &input),
        "AdminConfirmSignUp" => sign_up::admin_confirm(state, &input),
        "ResendConfirmationCode" => sign_up::resend(state, ctx, &input),
        "CreateGroup" => groups::create(state, &input),
        "GetGroup" => groups::get(state, &input),
        "ListGroups" => groups::list(state, &input),
        "UpdateGroup" => groups::update(state, &input),
        "DeleteGroup" => groups::delete(state, &input),
        "AdminAddUserToGroup" => groups::add_user(state, &input),
        "AdminRemoveUserFromGroup" => groups::remove_user(state, &input),
        "AdminListGroupsForUser" => groups::groups_for_user(state, &input),
        "ListUsersInGroup" => groups::users_in_group(state, &input),
        _ => Err(ApiError::new(
            "UnknownOperationException",
            format!("The action {action} is not supported by this local issuer."),
        )),
    }
}

//! The Cognito management API (`AWSCognitoIdentityProviderService.*`, AWS
//! JSON 1.1): user pools, resource servers and app clients.
//!
//! Inputs and outputs use Cognito's member names; errors use its exception
//! types and messages, in the AWS JSON error shape. This file dispatches an
//! action to its topic's file; `input.rs` reads requests and pages lists.

mod clients;
mod input;
mod pools;
mod resource_servers;

use serde_json::Value;

use super::error::ApiError;
use super::keys::SigningKey;
use super::state::State;
use input::Input;

/// Whether an action changes the state (and must be saved): all but the
/// reads.
pub(crate) fn mutates(action: &str) -> bool {
    if action == "GetTokensFromRefreshToken" {
        return true;
    }
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
        _ => Err(ApiError::new(
            "UnknownOperationException",
            format!("The action {action} is not supported by this local issuer."),
        )),
    }
}

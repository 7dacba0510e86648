//! The sign-in actions: InitiateAuth / AdminInitiateAuth and
//! RespondToAuthChallenge / AdminRespondToAuthChallenge, plus the token
//! actions of `tokens.rs`. They run outside [`super::call`]: a password is
//! checked (slowly, by `sign_in::check_password`) before the state lock is
//! taken for the change that issues the tokens.

use serde_json::{Map, Value, json};

use super::attributes::{self, read_list};
use super::auth_client::{check_secret_hash, find_client, flow_allowed, flow_not_enabled};
use super::input::Input;
use super::tokens::{self, not_authorized};
use crate::local::error::ApiError;
use crate::local::password::{MAX_PASSWORD_LEN, StoredSecret};
use crate::local::sessions::{Challenge, ChallengeKind};
use crate::local::shared::Shared;
use crate::local::sign_in::{SignInError, check_password};
use crate::local::state::{ClientState, now_epoch};
use crate::local::users::UserStatus;
use crate::local::validate::{check_pool_id, constraint};
use crate::sync::lock;

/// How long a challenge's `Session` is valid.
pub(super) const CHALLENGE_SECONDS: f64 = 180.0;

const FLOWS: &str = "[USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]";

/// Whether an action is run by [`sign_in`] rather than [`super::call`].
pub(crate) fn is_sign_in(action: &str) -> bool {
    matches!(
        action,
        "InitiateAuth"
            | "AdminInitiateAuth"
            | "RespondToAuthChallenge"
            | "AdminRespondToAuthChallenge"
            | "GetUser"
            | "GlobalSignOut"
            | "AdminUserGlobalSignOut"
            | "RevokeToken"
            | "GetTokensFromRefreshToken"
    )
}

/// Runs a sign-in action.
pub(crate) fn sign_in(shared: &Shared, action: &str, input: &Value) -> Result<Value, ApiError> {
    let input = Input::new(input)?;
    match action {
        "InitiateAuth" => initiate(shared, &input, false),
        "AdminInitiateAuth" => initiate(shared, &input, true),
        "RespondToAuthChallenge" => respond(shared, &input, false),
        "AdminRespondToAuthChallenge" => respond(shared, &input, true),
        "GetUser" => tokens::get_user(shared, &input),
        "GlobalSignOut" => tokens::global_sign_out(shared, &input),
        "AdminUserGlobalSignOut" => tokens::admin_global_sign_out(shared, &input),
        "RevokeToken" => tokens::revoke(shared, &input),
        "GetTokensFromRefreshToken" => tokens::from_refresh_token(shared, &input),
        _ => Err(ApiError::internal("not a sign-in action")),
    }
}

/// A string map of the input (`AuthParameters`, `ChallengeResponses`).
fn strings<'a>(input: &Input<'a>, member: &str) -> Result<Map<String, Value>, ApiError> {
    let map = input.object(member)?.cloned().unwrap_or_default();
    if map.values().any(|v| !v.is_string()) {
        return Err(Input::wrong_type(member, "a map of strings"));
    }
    Ok(map)
}

pub(super) fn param<'m>(params: &'m Map<String, Value>, name: &str) -> Result<&'m str, ApiError> {
    params
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_parameter(format!("Missing required parameter {name}")))
}

/// The pool id and a copy of the client, checked against `UserPoolId` for
/// the Admin actions.
fn client_of(
    shared: &Shared,
    input: &Input<'_>,
    admin: bool,
) -> Result<(String, ClientState), ApiError> {
    let pool_id = if admin {
        let id = input.required("UserPoolId", "userPoolId")?;
        check_pool_id(id)?;
        Some(id)
    } else {
        None
    };
    let client_id = input.required("ClientId", "clientId")?;
    let state = lock(&shared.state);
    let (pool, client) = find_client(&state, client_id)?;
    if pool_id.is_some_and(|id| id != pool.id) {
        return Err(ApiError::not_found(format!(
            "User pool client {client_id} does not exist."
        )));
    }
    Ok((pool.id.clone(), client.clone()))
}

fn initiate(shared: &Shared, input: &Input<'_>, admin: bool) -> Result<Value, ApiError> {
    let flow = input.required("AuthFlow", "authFlow")?;
    let known = FLOWS
        .trim_matches(['[', ']'])
        .split(", ")
        .any(|f| f == flow);
    if !known {
        return Err(constraint(
            "authFlow",
            flow,
            &format!("Member must satisfy enum value set: {FLOWS}"),
        ));
    }
    let params = strings(input, "AuthParameters")?;
    let (pool_id, client) = client_of(shared, input, admin)?;
    let supported = match flow {
        "USER_PASSWORD_AUTH" => !admin,
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => admin,
        "USER_AUTH" => false,
        _ => true,
    };
    if !supported {
        return Err(ApiError::invalid_parameter(
            "Initiate Auth method not supported.",
        ));
    }
    if !flow_allowed(&client, flow) {
        return Err(flow_not_enabled(flow));
    }
    match flow {
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => tokens::refresh(shared, &client.id, &params),
        "USER_SRP_AUTH" => super::auth_srp::start(shared, &pool_id, &client, &params),
        "CUSTOM_AUTH" => Err(ApiError::invalid_parameter(
            "Custom auth lambda trigger is not configured for the user pool.",
        )),
        _ => password_flow(shared, &pool_id, &client, &params),
    }
}

/// `USERNAME` and the flow's other required parameter (`PASSWORD`,
/// `SRP_A`), once the `SECRET_HASH` over the user name is checked.
pub(super) fn username_and<'p>(
    client: &ClientState,
    params: &'p Map<String, Value>,
    other: &str,
) -> Result<(&'p str, &'p str), ApiError> {
    let username = param(params, "USERNAME")?;
    let value = param(params, other)?;
    check_secret_hash(
        client,
        &[username],
        params.get("SECRET_HASH").and_then(Value::as_str),
    )?;
    Ok((username, value))
}

/// USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH.
fn password_flow(
    shared: &Shared,
    pool_id: &str,
    client: &ClientState,
    params: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let (username, password) = username_and(client, params, "PASSWORD")?;
    if password.len() > MAX_PASSWORD_LEN * 4 {
        return Err(SignInError::WrongCredentials.api_error());
    }
    let ok = check_password(shared, pool_id, username, password).map_err(SignInError::api_error)?;
    if ok.must_change {
        return new_password_challenge(shared, pool_id, client, &ok.user);
    }
    tokens::issue(shared, pool_id, &client.id, &ok.user.username, |_| Ok(()))
}

/// A fresh, random `Session` string.
fn new_session() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 96];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(super) fn new_password_challenge(
    shared: &Shared,
    pool_id: &str,
    client: &ClientState,
    user: &crate::local::users::UserState,
) -> Result<Value, ApiError> {
    let session = new_session();
    let challenge = Challenge {
        pool_id: pool_id.to_string(),
        client_id: client.id.clone(),
        username: user.username.clone(),
        sub: Some(user.sub.clone()),
        kind: ChallengeKind::NewPassword,
    };
    lock(&shared.sessions)
        .challenges
        .try_insert(session.clone(), challenge, now_epoch() + CHALLENGE_SECONDS)
        .map_err(|_| too_many_challenges())?;
    let attributes: Map<String, Value> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    Ok(json!({
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": session,
        "ChallengeParameters": {
            "USER_ID_FOR_SRP": user.username,
            "requiredAttributes": "[]",
            "userAttributes": Value::Object(attributes).to_string(),
        },
    }))
}

pub(super) fn invalid_session() -> ApiError {
    not_authorized("Invalid session for the user, session is expired.")
}

/// The challenge of a `Session`, still waiting, for this client (peeked,
/// not taken).
fn peek_challenge(shared: &Shared, session: &str, client_id: &str) -> Result<Challenge, ApiError> {
    lock(&shared.sessions)
        .challenges
        .get(session)
        .filter(|c| c.client_id == client_id)
        .cloned()
        .ok_or_else(invalid_session)
}

/// Whether `USERNAME` (a user name or `sub`) names the challenge's user, in
/// its pool (a made-up SRP challenge of an unknown user names itself).
fn names_challenge_user(
    shared: &Shared,
    pool_id: &str,
    username: &str,
    challenge: &Challenge,
) -> bool {
    let state = lock(&shared.state);
    let found = state
        .pools
        .get(pool_id)
        .and_then(|p| p.directory.find_user(username));
    challenge.pool_id == pool_id
        && found.map_or(username == challenge.username, |u| {
            u.username == challenge.username
        })
}

fn respond(shared: &Shared, input: &Input<'_>, admin: bool) -> Result<Value, ApiError> {
    let name = input.required("ChallengeName", "challengeName")?;
    let responses = strings(input, "ChallengeResponses")?;
    // PASSWORD_VERIFIER is kept under its SECRET_BLOCK (clients send no
    // Session with it).
    let key = match name {
        "PASSWORD_VERIFIER" => param(&responses, "PASSWORD_CLAIM_SECRET_BLOCK")?,
        _ => input.string("Session")?.ok_or_else(invalid_session)?,
    };
    let (pool_id, client) = client_of(shared, input, admin)?;
    let username = param(&responses, "USERNAME")?;
    let challenge = peek_challenge(shared, key, &client.id)?;
    let hash = responses.get("SECRET_HASH").and_then(Value::as_str);
    check_secret_hash(&client, &[username, &challenge.username], hash)?;
    if !names_challenge_user(shared, &pool_id, username, &challenge) {
        return Err(invalid_session());
    }
    match (name, &challenge.kind) {
        ("NEW_PASSWORD_REQUIRED", ChallengeKind::NewPassword) => {
            new_password(shared, &client, key, &challenge, &responses)
        }
        ("PASSWORD_VERIFIER", ChallengeKind::Srp { .. }) => {
            super::auth_srp::verify(shared, &client, &challenge, &responses)
        }
        ("NEW_PASSWORD_REQUIRED" | "PASSWORD_VERIFIER", _) => Err(invalid_session()),
        _ => Err(ApiError::invalid_parameter(format!(
            "The challenge {} is not supported by this local issuer.",
            name.chars().take(64).collect::<String>()
        ))),
    }
}

/// NEW_PASSWORD_REQUIRED: the new password (checked against the policy,
/// hashed outside the lock) and `userAttributes.*`; then the tokens.
fn new_password(
    shared: &Shared,
    client: &ClientState,
    session: &str,
    challenge: &Challenge,
    responses: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let password = param(responses, "NEW_PASSWORD")?;
    let changes = challenge_attributes(responses)?;
    attributes::check_self_writable(client, &changes)?;
    let policy = {
        let state = lock(&shared.state);
        let pool = state
            .pools
            .get(&challenge.pool_id)
            .ok_or_else(invalid_session)?;
        pool.directory.password_policy.clone()
    };
    // A password the policy refuses leaves the session usable for a retry.
    policy.check(password)?;
    let secret = StoredSecret::new(&challenge.pool_id, &challenge.username, password);
    lock(&shared.sessions)
        .challenges
        .take(session)
        .ok_or_else(invalid_session)?;
    tokens::issue(
        shared,
        &challenge.pool_id,
        &challenge.client_id,
        &challenge.username,
        |user| {
            let same_user = challenge.sub.as_deref() == Some(user.sub.as_str());
            if !same_user || user.status != UserStatus::ForceChangePassword {
                return Err(invalid_session());
            }
            attributes::apply(user, changes)?;
            user.secret = Some(secret);
            user.status = UserStatus::Confirmed;
            user.temporary_password_expires = None;
            user.modified = now_epoch();
            Ok(())
        },
    )
}

/// The challenge map is full (10,000 sign-ins in progress): refused, never
/// another user's challenge dropped.
pub(super) fn too_many_challenges() -> ApiError {
    ApiError::new(
        "TooManyRequestsException",
        "Too many sign-ins are in progress. Try again shortly.",
    )
}

/// `userAttributes.name` responses, as attribute changes.
fn challenge_attributes(
    responses: &Map<String, Value>,
) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    let list: Vec<Value> = responses
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("userAttributes.")
                .map(|name| json!({"Name": name, "Value": v}))
        })
        .collect();
    let mut wrapper = Map::new();
    wrapper.insert("UserAttributes".into(), Value::Array(list));
    read_list(&wrapper, "UserAttributes")
}

//! Users, as an administrator manages them: AdminCreateUser, AdminGetUser,
//! ListUsers, AdminDeleteUser, AdminDisableUser / AdminEnableUser,
//! AdminSetUserPassword, AdminUpdateUserAttributes,
//! AdminDeleteUserAttributes.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Context;
use super::PreparedSecret;
use super::attributes::{self, attribute_list, read_list, user_json};
use super::filter::Filter;
use super::input::Input;
use super::pools::{pool, pool_mut};
use crate::local::error::ApiError;
use crate::local::ids::uuid_v4;
use crate::local::password::PasswordPolicy;
use crate::local::sessions::Message;
use crate::local::state::{PoolState, State, now_epoch};
use crate::local::users::{UserState, UserStatus};
use crate::local::validate::{check_value, constraint};

/// Most users one pool holds here.
const MAX_USERS: usize = 100_000;

pub(super) fn user_not_found() -> ApiError {
    ApiError::new("UserNotFoundException", "User does not exist.")
}

/// The stored key of the user the input's `Username` names.
pub(super) fn user_key(pool: &PoolState, input: &Input<'_>) -> Result<String, ApiError> {
    let name = input.required("Username", "username")?;
    attributes::check_username("username", name)?;
    pool.directory.resolve(name).ok_or_else(user_not_found)
}

/// The user the input names, mutably.
pub(super) fn user_mut<'p>(
    pool: &'p mut PoolState,
    input: &Input<'_>,
) -> Result<&'p mut UserState, ApiError> {
    let key = user_key(pool, input)?;
    pool.directory
        .users
        .get_mut(&key)
        .ok_or_else(user_not_found)
}

/// The prepared hash of the input's password, made for `username`.
pub(super) fn take_secret(ctx: &mut Context, username: &str) -> Result<PreparedSecret, ApiError> {
    match ctx.new_secret.take() {
        Some(p) if p.username == username => Ok(p),
        // The user was renamed or created between the hash and the lock.
        _ => Err(ApiError::internal(
            "the password was not prepared; try again",
        )),
    }
}

/// When a temporary password set now expires.
pub(super) fn temporary_expiry(policy: &PasswordPolicy) -> f64 {
    now_epoch() + f64::from(policy.temporary_password_validity_days) * 86_400.0
}

/// A new user, with no password yet; its `sub` is its user name in a pool
/// with `UsernameAttributes`.
pub(super) fn new_user(
    pool: &PoolState,
    username: String,
    attributes: BTreeMap<String, String>,
    status: UserStatus,
) -> UserState {
    let now = now_epoch();
    let sub = if pool.directory.username_attributes().is_empty() {
        uuid_v4()
    } else {
        username.clone()
    };
    UserState {
        username,
        sub,
        attributes,
        status,
        enabled: true,
        secret: None,
        temporary_password_expires: None,
        confirmation_code: None,
        groups: BTreeSet::new(),
        signed_out_at: None,
        created: now,
        modified: now,
    }
}

/// The stored key of a new user the input calls `name`, putting `name`
/// into `attributes` when the pool signs users in by `UsernameAttributes`:
/// then `name` must be such an attribute's value, and the user name (and
/// `sub`) is a UUID, the one the password was prepared for.
pub(super) fn new_key(
    pool: &PoolState,
    ctx: &Context,
    name: &str,
    attributes: &mut BTreeMap<String, String>,
) -> Result<String, ApiError> {
    let by = pool.directory.username_attributes();
    if by.is_empty() {
        return Ok(pool.directory.key_of(name));
    }
    let attribute = if name.contains('@') && by.contains(&"email") {
        "email"
    } else if name.starts_with('+') && by.contains(&"phone_number") {
        "phone_number"
    } else {
        let message = match by.as_slice() {
            ["email"] => "Username should be an email.",
            ["phone_number"] => "Username should be a phone number.",
            _ => "Username should be either an email or a phone number.",
        };
        return Err(ApiError::invalid_parameter(message));
    };
    let mut given = BTreeMap::new();
    given.insert(attribute.to_string(), name.to_string());
    attributes::apply_checked(&mut given)?;
    attributes.insert(attribute.to_string(), name.to_string());
    Ok(ctx
        .new_secret
        .as_ref()
        .map_or_else(uuid_v4, |p| p.username.clone()))
}

/// Makes `username`'s verified e-mail address and phone number theirs
/// alone as sign-in aliases: another user holding the same one is refused
/// (`AliasExistsException`) or, with `force` (`ForceAliasCreation`), loses
/// it (their copy is marked unverified, so it no longer signs them in).
pub(super) fn claim_aliases(
    pool: &mut PoolState,
    username: &str,
    force: bool,
) -> Result<(), ApiError> {
    for attribute in ["email", "phone_number"] {
        let Some(user) = pool.directory.users.get(username) else {
            return Ok(());
        };
        let verified = user.attributes.get(&format!("{attribute}_verified"));
        let (Some(value), Some("true")) =
            (user.attributes.get(attribute), verified.map(String::as_str))
        else {
            continue;
        };
        let Some(other) = pool
            .directory
            .alias_taken(username, attribute, value)
            .map(str::to_string)
        else {
            continue;
        };
        if !force {
            return Err(ApiError::new(
                "AliasExistsException",
                format!("An account with the {attribute} already exists."),
            ));
        }
        if let Some(other) = pool.directory.users.get_mut(&other) {
            other
                .attributes
                .insert(format!("{attribute}_verified"), "false".into());
        }
    }
    Ok(())
}

/// Checks room for one more user.
pub(super) fn check_room(pool: &PoolState) -> Result<(), ApiError> {
    if pool.directory.users.len() >= MAX_USERS {
        return Err(ApiError::new(
            "LimitExceededException",
            "The user pool holds the most users this local issuer allows.",
        ));
    }
    Ok(())
}

fn message_action<'a>(input: &Input<'a>) -> Result<Option<&'a str>, ApiError> {
    let action = input.string("MessageAction")?;
    if let Some(a) = action.filter(|a| !["SUPPRESS", "RESEND"].contains(a)) {
        return Err(constraint(
            "messageAction",
            a,
            "Member must satisfy enum value set: [RESEND, SUPPRESS]",
        ));
    }
    Ok(action)
}

fn delivery_mediums(input: &Input<'_>) -> Result<Vec<String>, ApiError> {
    // Not given: the e-mail address if the user has one, else the phone.
    let mediums = input
        .strings("DesiredDeliveryMediums")?
        .unwrap_or_else(|| vec!["EMAIL".into(), "SMS".into()]);
    if let Some(m) = mediums
        .iter()
        .find(|m| !["EMAIL", "SMS"].contains(&m.as_str()))
    {
        return Err(constraint(
            "desiredDeliveryMediums",
            m,
            "Member must satisfy enum value set: [SMS, EMAIL]",
        ));
    }
    Ok(mediums)
}

pub(super) fn create(
    state: &mut State,
    ctx: &mut Context,
    input: &Input<'_>,
) -> Result<Value, ApiError> {
    let name = input.required("Username", "username")?;
    attributes::check_username("username", name)?;
    let action = message_action(input)?;
    let mediums = delivery_mediums(input)?;
    let attributes = read_list(input.0, "UserAttributes")?;
    let mut attributes = attributes;
    let pool = pool_mut(state, input)?;
    if let Some(password) = input.string("TemporaryPassword")? {
        pool.directory.password_policy.check(password)?;
    }
    let resend = action == Some("RESEND");
    let key = match pool.directory.resolve(name) {
        Some(existing) => existing,
        None => new_key(pool, ctx, name, &mut attributes)?,
    };
    make_room_for(pool, &key, resend, &attributes)?;
    let expires = temporary_expiry(&pool.directory.password_policy);
    let prepared = take_secret(ctx, &key)?;
    let user = pool
        .directory
        .users
        .get_mut(&key)
        .ok_or_else(user_not_found)?;
    if resend {
        attributes::apply(user, attributes)?;
    }
    user.secret = Some(prepared.secret);
    user.temporary_password_expires = Some(expires);
    user.modified = now_epoch();
    let force = input.bool("ForceAliasCreation")?.unwrap_or(false);
    claim_aliases(pool, &key, force)?;
    let user = pool.directory.users.get(&key).ok_or_else(user_not_found)?;
    let out = json!({ "User": user_json(user, None) });
    if action != Some("SUPPRESS") {
        let mediums: Vec<&str> = mediums.iter().map(String::as_str).collect();
        let message = Message {
            at: now_epoch(),
            username: user.username.clone(),
            destination: attributes::destination(user, &mediums).map(|(_, v)| v.to_string()),
            reason: "AdminCreateUser",
            code: None,
            temporary_password: prepared.temporary_password,
        };
        ctx.outbox.push((pool.id.clone(), message));
    }
    Ok(out)
}

/// AdminCreateUser's user: a new one (none of that name may exist), or for
/// `RESEND` an existing one still waiting for its first sign-in.
fn make_room_for(
    pool: &mut PoolState,
    key: &str,
    resend: bool,
    attributes: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    match (pool.directory.users.get(key), resend) {
        (Some(user), true) if user.status != UserStatus::ForceChangePassword => Err(ApiError::new(
            "UnsupportedUserStateException",
            "Resend not possible. User status is not FORCE_CHANGE_PASSWORD.",
        )),
        (Some(_), true) => Ok(()),
        (Some(_), false) => Err(ApiError::new(
            "UsernameExistsException",
            "User account already exists",
        )),
        (None, true) => Err(user_not_found()),
        (None, false) => {
            check_room(pool)?;
            let user = new_user(
                pool,
                key.to_string(),
                attributes.clone(),
                UserStatus::ForceChangePassword,
            );
            pool.directory.users.insert(key.to_string(), user);
            Ok(())
        }
    }
}

pub(super) fn get(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    let key = user_key(pool, input)?;
    let user = pool.directory.users.get(&key).ok_or_else(user_not_found)?;
    Ok(json!({
        "Username": user.username,
        "UserAttributes": attribute_list(user, None),
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.modified,
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    }))
}

fn pagination_token(input: &Input<'_>) -> Result<Option<String>, ApiError> {
    let Some(token) = input.string("PaginationToken")? else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| ApiError::invalid_parameter("Invalid pagination token."))
}

/// `Limit` of the List* user and group actions: 0 to 60, 0 or none = 60.
pub(super) fn limit(input: &Input<'_>) -> Result<usize, ApiError> {
    let n = input.integer("Limit")?.unwrap_or(60);
    check_value("limit", n, 0, 60)?;
    Ok(if n == 0 {
        60
    } else {
        usize::try_from(n).unwrap_or(60)
    })
}

fn attributes_to_get(input: &Input<'_>) -> Result<Option<Vec<String>>, ApiError> {
    let names = input.strings("AttributesToGet")?;
    for name in names.iter().flatten() {
        if name != "sub" && attributes::check_name(name).is_err() {
            return Err(ApiError::invalid_parameter(
                "One or more requested attributes do not exist.",
            ));
        }
    }
    Ok(names)
}

pub(super) fn list(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let max = limit(input)?;
    let filter = Filter::parse(input.string("Filter")?.unwrap_or(""))?;
    let only = attributes_to_get(input)?;
    let start = pagination_token(input)?;
    let pool = pool(state, input)?;
    let users = &pool.directory.users;
    let mut matching = match &start {
        Some(start) => users.range(start.clone()..),
        None => users.range::<String, _>(..),
    }
    .filter(|(_, u)| filter.as_ref().is_none_or(|f| f.matches(u)));
    let page: Vec<Value> = matching
        .by_ref()
        .take(max)
        .map(|(_, u)| user_json(u, only.as_deref()))
        .collect();
    let mut out = json!({ "Users": page });
    if let Some((next, _)) = matching.next() {
        out["PaginationToken"] = json!(URL_SAFE_NO_PAD.encode(next));
    }
    Ok(out)
}

pub(super) fn delete(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool_mut(state, input)?;
    let key = user_key(pool, input)?;
    pool.directory.users.remove(&key);
    pool.directory
        .refresh_tokens
        .retain(|_, r| r.username != key);
    Ok(json!({}))
}

pub(super) fn set_enabled(
    state: &mut State,
    input: &Input<'_>,
    enabled: bool,
) -> Result<Value, ApiError> {
    let user = user_mut(pool_mut(state, input)?, input)?;
    user.enabled = enabled;
    user.modified = now_epoch();
    if !enabled {
        // AdminDisableUser "revokes all access tokens for the user"
        // (Cognito): what was issued or signed in until now stays ended
        // once enabled again. Refresh tokens stay (refused while disabled).
        user.signed_out_at = Some(user.modified);
    }
    Ok(json!({}))
}

pub(super) fn set_password(
    state: &mut State,
    ctx: &mut Context,
    input: &Input<'_>,
) -> Result<Value, ApiError> {
    let password = input.required("Password", "password")?;
    let permanent = input.bool("Permanent")?.unwrap_or(false);
    let pool = pool_mut(state, input)?;
    let key = user_key(pool, input)?;
    pool.directory.password_policy.check(password)?;
    let expires = temporary_expiry(&pool.directory.password_policy);
    let secret = take_secret(ctx, &key)?.secret;
    let user = pool
        .directory
        .users
        .get_mut(&key)
        .ok_or_else(user_not_found)?;
    user.secret = Some(secret);
    if permanent {
        user.status = UserStatus::Confirmed;
        user.temporary_password_expires = None;
    } else {
        user.status = UserStatus::ForceChangePassword;
        user.temporary_password_expires = Some(expires);
    }
    user.confirmation_code = None;
    user.modified = now_epoch();
    Ok(json!({}))
}

pub(super) fn update_attributes(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    if input.0.get("UserAttributes").is_none() {
        return Err(crate::local::validate::must_not_be_null("userAttributes"));
    }
    let changes = read_list(input.0, "UserAttributes")?;
    let pool = pool_mut(state, input)?;
    let user = user_mut(pool, input)?;
    attributes::apply(user, changes)?;
    user.modified = now_epoch();
    let username = user.username.clone();
    // AdminUpdateUserAttributes has no ForceAliasCreation: a taken alias is
    // refused.
    claim_aliases(pool, &username, false)?;
    Ok(json!({}))
}

pub(super) fn delete_attributes(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let names = input
        .strings("UserAttributeNames")?
        .ok_or_else(|| crate::local::validate::must_not_be_null("userAttributeNames"))?;
    for name in &names {
        attributes::check_name(name)?;
    }
    let user = user_mut(pool_mut(state, input)?, input)?;
    for name in &names {
        user.attributes.remove(name);
    }
    user.modified = now_epoch();
    Ok(json!({}))
}

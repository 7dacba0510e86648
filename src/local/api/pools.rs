//! User pools: CreateUserPool, DescribeUserPool, ListUserPools,
//! DeleteUserPool.

use serde_json::{Map, Value, json};

use super::input::{Input, page, with_next};
use crate::local::error::ApiError;
use crate::local::ids::new_pool_id;
use crate::local::keys::SigningKey;
use crate::local::password::PasswordPolicy;
use crate::local::state::{PoolState, State};
use crate::local::validate::{check_name, check_pool_id, check_value};

pub(super) fn pool<'s>(state: &'s State, input: &Input<'_>) -> Result<&'s PoolState, ApiError> {
    let id = input.required("UserPoolId", "userPoolId")?;
    check_pool_id(id)?;
    state
        .pools
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("User pool {id} does not exist.")))
}

pub(super) fn pool_mut<'s>(
    state: &'s mut State,
    input: &Input<'_>,
) -> Result<&'s mut PoolState, ApiError> {
    let id = pool(state, input)?.id.clone();
    state
        .pools
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found(format!("User pool {id} does not exist.")))
}

fn user_pool_json(pool: &PoolState) -> Value {
    let mut out = json!({
        "Id": pool.id,
        "Name": pool.name,
        "Arn": pool.arn,
        "Status": "Enabled",
        "CreationDate": pool.created,
        "LastModifiedDate": pool.modified,
        "MfaConfiguration": "OFF",
        "EstimatedNumberOfUsers": pool.directory.users.len(),
        "DeletionProtection": "INACTIVE",
        "LambdaConfig": {},
        "Policies": { "PasswordPolicy": policy_json(&pool.directory.password_policy) },
        "UserPoolTags": {},
    });
    for (k, v) in &pool.directory.pool_config {
        out[k] = v.clone();
    }
    out
}

fn policy_json(p: &PasswordPolicy) -> Value {
    json!({
        "MinimumLength": p.minimum_length,
        "RequireUppercase": p.require_uppercase,
        "RequireLowercase": p.require_lowercase,
        "RequireNumbers": p.require_numbers,
        "RequireSymbols": p.require_symbols,
        "TemporaryPasswordValidityDays": p.temporary_password_validity_days,
    })
}

/// `Policies.PasswordPolicy`: Cognito's default policy when none is given;
/// in a given one, a boolean left out is false (as the API's shape has it),
/// `MinimumLength` left out is 8, and `TemporaryPasswordValidityDays` left
/// out or 0 is 7 ("Amazon Cognito treats it as a null value").
fn password_policy(input: &Input<'_>) -> Result<PasswordPolicy, ApiError> {
    let Some(given) = input
        .object("Policies")?
        .map(Input)
        .map(|p| p.object("PasswordPolicy"))
        .transpose()?
        .flatten()
        .map(Input)
    else {
        return Ok(PasswordPolicy::default());
    };
    let mut policy = PasswordPolicy {
        require_uppercase: false,
        require_lowercase: false,
        require_numbers: false,
        require_symbols: false,
        ..PasswordPolicy::default()
    };
    if let Some(n) = given.integer("MinimumLength")? {
        check_value("policies.passwordPolicy.minimumLength", n, 6, 99)?;
        policy.minimum_length = u32::try_from(n).unwrap_or(8);
    }
    if let Some(n) = given.integer("TemporaryPasswordValidityDays")? {
        check_value(
            "policies.passwordPolicy.temporaryPasswordValidityDays",
            n,
            0,
            365,
        )?;
        if n > 0 {
            policy.temporary_password_validity_days = u32::try_from(n).unwrap_or(7);
        }
    }
    for (member, flag) in [
        ("RequireUppercase", &mut policy.require_uppercase),
        ("RequireLowercase", &mut policy.require_lowercase),
        ("RequireNumbers", &mut policy.require_numbers),
        ("RequireSymbols", &mut policy.require_symbols),
    ] {
        if let Some(b) = given.bool(member)? {
            *flag = b;
        }
    }
    Ok(policy)
}

/// The user-name settings kept as sent (DescribeUserPool returns them).
fn pool_config(input: &Input<'_>) -> Result<Map<String, Value>, ApiError> {
    let mut config = Map::new();
    if let Some(c) = input.object("UsernameConfiguration")? {
        let case = Input(c).bool("CaseSensitive")?;
        config.insert(
            "UsernameConfiguration".into(),
            json!({ "CaseSensitive": case.unwrap_or(true) }),
        );
    }
    for member in [
        "AutoVerifiedAttributes",
        "UsernameAttributes",
        "AliasAttributes",
    ] {
        if let Some(list) = input.strings(member)? {
            config.insert(member.into(), json!(list));
        }
    }
    Ok(config)
}

pub(super) fn create(
    state: &mut State,
    region: &str,
    new_key: Option<SigningKey>,
    input: &Input<'_>,
) -> Result<Value, ApiError> {
    let name = input.required("PoolName", "poolName")?;
    check_name("poolName", name, 128)?;
    let key = new_key
        .ok_or_else(|| ApiError::internal("no signing key was prepared for the new pool"))?;
    let id = loop {
        let id = new_pool_id(region);
        if !state.pools.contains_key(&id) {
            break id;
        }
    };
    let password_policy = password_policy(input)?;
    let pool_config = pool_config(input)?;
    let mut pool = PoolState::new(id.clone(), name.to_string(), region, key);
    pool.directory.password_policy = password_policy;
    pool.directory.pool_config = pool_config;
    let out = json!({ "UserPool": user_pool_json(&pool) });
    state.pools.insert(id, pool);
    Ok(out)
}

pub(super) fn list(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let max = input.max_results("maxResults", 60, true)?;
    let (pools, next) = page(&state.pools, input.next_token()?, max);
    let pools: Vec<Value> = pools
        .into_iter()
        .map(|p| {
            json!({
                "Id": p.id,
                "Name": p.name,
                "Status": "Enabled",
                "CreationDate": p.created,
                "LastModifiedDate": p.modified,
                "LambdaConfig": {},
            })
        })
        .collect();
    Ok(with_next(json!({ "UserPools": pools }), next))
}

pub(super) fn describe(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    Ok(json!({ "UserPool": user_pool_json(pool) }))
}

pub(super) fn delete(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let id = pool(state, input)?.id.clone();
    state.pools.remove(&id);
    Ok(json!({}))
}

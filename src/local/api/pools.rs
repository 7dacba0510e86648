//! User pools: CreateUserPool, DescribeUserPool, ListUserPools,
//! DeleteUserPool.

use serde_json::{Value, json};

use super::input::{Input, page, with_next};
use crate::local::error::ApiError;
use crate::local::ids::new_pool_id;
use crate::local::keys::SigningKey;
use crate::local::state::{PoolState, State};
use crate::local::validate::{check_name, check_pool_id};

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
    json!({
        "Id": pool.id,
        "Name": pool.name,
        "Arn": pool.arn,
        "Status": "Enabled",
        "CreationDate": pool.created,
        "LastModifiedDate": pool.modified,
        "MfaConfiguration": "OFF",
        "EstimatedNumberOfUsers": 0,
        "DeletionProtection": "INACTIVE",
        "LambdaConfig": {},
        "Policies": {},
        "UserPoolTags": {},
    })
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
    let pool = PoolState::new(id.clone(), name.to_string(), region, key);
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

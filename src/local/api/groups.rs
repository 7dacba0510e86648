//! Groups: CreateGroup, GetGroup, ListGroups, UpdateGroup, DeleteGroup, and
//! membership: AdminAddUserToGroup, AdminRemoveUserFromGroup,
//! AdminListGroupsForUser, ListUsersInGroup.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::attributes::{check_username, user_json};
use super::input::{Input, with_next};
use super::pools::{pool, pool_mut};
use super::users::{limit, user_key, user_mut};
use crate::local::error::ApiError;
use crate::local::state::{PoolState, State, now_epoch};
use crate::local::users::GroupState;
use crate::local::validate::{check_value, constraint};

/// Cognito's quotas: groups per pool, groups per user.
const MAX_GROUPS: usize = 10_000;
const MAX_GROUPS_PER_USER: usize = 100;

fn group_not_found() -> ApiError {
    ApiError::not_found("Group not found.")
}

fn group_name<'a>(input: &Input<'a>) -> Result<&'a str, ApiError> {
    let name = input.required("GroupName", "groupName")?;
    check_username("groupName", name)?;
    Ok(name)
}

fn group<'p>(pool: &'p PoolState, input: &Input<'_>) -> Result<&'p GroupState, ApiError> {
    pool.directory
        .groups
        .get(group_name(input)?)
        .ok_or_else(group_not_found)
}

fn group_json(pool_id: &str, g: &GroupState) -> Value {
    let mut out = json!({
        "GroupName": g.name,
        "UserPoolId": pool_id,
        "CreationDate": g.created,
        "LastModifiedDate": g.modified,
    });
    if let Some(d) = &g.description {
        out["Description"] = json!(d);
    }
    if let Some(p) = g.precedence {
        out["Precedence"] = json!(p);
    }
    if let Some(r) = &g.role_arn {
        out["RoleArn"] = json!(r);
    }
    out
}

/// Description, Precedence and RoleArn of an input.
type Details = (Option<String>, Option<i64>, Option<String>);

/// Description, Precedence and RoleArn of the input, checked.
fn details(input: &Input<'_>) -> Result<Details, ApiError> {
    let description = input.string("Description")?;
    if let Some(d) = description.filter(|d| d.chars().count() > 2048) {
        return Err(constraint(
            "description",
            d,
            "Member must have length less than or equal to 2048",
        ));
    }
    let precedence = input.integer("Precedence")?;
    if let Some(p) = precedence {
        check_value("precedence", p, 0, i64::from(i32::MAX))?;
    }
    let role_arn = input.string("RoleArn")?;
    if let Some(r) = role_arn.filter(|r| !r.starts_with("arn:") || r.len() > 2048) {
        return Err(constraint(
            "roleArn",
            r,
            "Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?",
        ));
    }
    Ok((
        description.map(str::to_string),
        precedence,
        role_arn.map(str::to_string),
    ))
}

pub(super) fn create(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let name = group_name(input)?;
    let (description, precedence, role_arn) = details(input)?;
    let pool = pool_mut(state, input)?;
    if pool.directory.groups.contains_key(name) {
        return Err(ApiError::new(
            "GroupExistsException",
            format!("A group with the name {name} already exists."),
        ));
    }
    if pool.directory.groups.len() >= MAX_GROUPS {
        return Err(ApiError::new(
            "LimitExceededException",
            "The user pool has the most groups allowed.",
        ));
    }
    let now = now_epoch();
    let group = GroupState {
        name: name.to_string(),
        description,
        precedence,
        role_arn,
        created: now,
        modified: now,
    };
    let out = json!({ "Group": group_json(&pool.id, &group) });
    pool.directory.groups.insert(name.to_string(), group);
    Ok(out)
}

pub(super) fn get(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    Ok(json!({ "Group": group_json(&pool.id, group(pool, input)?) }))
}

/// One page of a map by key, with `Limit` and `NextToken`.
fn page<'m, T>(
    input: &Input<'_>,
    items: impl Iterator<Item = (&'m String, T)>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    use base64::Engine as _;
    let max = limit(input)?;
    let start = input.next_token()?;
    let mut rest = items.skip_while(|(k, _)| start.as_ref().is_some_and(|s| *k < s));
    let page: Vec<T> = rest.by_ref().take(max).map(|(_, v)| v).collect();
    let next = rest
        .next()
        .map(|(k, _)| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(k));
    Ok((page, next))
}

pub(super) fn list(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    let (groups, next) = page(input, pool.directory.groups.iter())?;
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|g| group_json(&pool.id, g))
        .collect();
    Ok(with_next(json!({ "Groups": groups }), next))
}

pub(super) fn update(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let name = group_name(input)?;
    let (description, precedence, role_arn) = details(input)?;
    let pool = pool_mut(state, input)?;
    let group = pool
        .directory
        .groups
        .get_mut(name)
        .ok_or_else(group_not_found)?;
    // Members left out keep their values.
    if description.is_some() {
        group.description = description;
    }
    if precedence.is_some() {
        group.precedence = precedence;
    }
    if role_arn.is_some() {
        group.role_arn = role_arn;
    }
    group.modified = now_epoch();
    let out = json!({ "Group": group_json(&pool.id, group) });
    Ok(out)
}

pub(super) fn delete(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let name = group_name(input)?;
    let pool = pool_mut(state, input)?;
    pool.directory
        .groups
        .remove(name)
        .ok_or_else(group_not_found)?;
    for user in pool.directory.users.values_mut() {
        user.groups.remove(name);
    }
    Ok(json!({}))
}

pub(super) fn add_user(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool_mut(state, input)?;
    let name = group(pool, input)?.name.clone();
    let user = user_mut(pool, input)?;
    if !user.groups.contains(&name) && user.groups.len() >= MAX_GROUPS_PER_USER {
        return Err(ApiError::new(
            "LimitExceededException",
            "The user is in the most groups allowed.",
        ));
    }
    user.groups.insert(name);
    Ok(json!({}))
}

pub(super) fn remove_user(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool_mut(state, input)?;
    let name = group(pool, input)?.name.clone();
    user_mut(pool, input)?.groups.remove(&name);
    Ok(json!({}))
}

pub(super) fn groups_for_user(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    let key = user_key(pool, input)?;
    let user = pool
        .directory
        .users
        .get(&key)
        .ok_or_else(super::users::user_not_found)?;
    let groups = &pool.directory.groups;
    let mine: BTreeMap<&String, &GroupState> = user
        .groups
        .iter()
        .filter_map(|g| groups.get_key_value(g))
        .collect();
    let (page, next) = page(input, mine.into_iter())?;
    let page: Vec<Value> = page.into_iter().map(|g| group_json(&pool.id, g)).collect();
    Ok(with_next(json!({ "Groups": page }), next))
}

pub(super) fn users_in_group(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    let name = group(pool, input)?.name.clone();
    let members = pool
        .directory
        .users
        .iter()
        .filter(|(_, u)| u.groups.contains(&name));
    let (page, next) = page(input, members)?;
    let users: Vec<Value> = page.into_iter().map(|u| user_json(u, None)).collect();
    Ok(with_next(json!({ "Users": users }), next))
}

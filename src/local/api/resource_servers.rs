//! Resource servers: CreateResourceServer, DescribeResourceServer,
//! ListResourceServers, UpdateResourceServer, DeleteResourceServer.

use serde_json::{Value, json};

use super::input::{Input, page, with_next};
use super::pools::{pool, pool_mut};
use crate::local::error::ApiError;
use crate::local::state::{PoolState, ResourceServerState, State, now_epoch};
use crate::local::validate::{check_identifier, check_name, check_scopes};

fn resource_server<'p>(
    pool: &'p PoolState,
    input: &Input<'_>,
) -> Result<&'p ResourceServerState, ApiError> {
    let identifier = input.required("Identifier", "identifier")?;
    check_identifier(identifier)?;
    pool.resource_servers
        .get(identifier)
        .ok_or_else(|| ApiError::not_found(format!("Resource server {identifier} does not exist.")))
}

fn resource_server_json(pool_id: &str, server: &ResourceServerState) -> Value {
    let mut out = json!({
        "UserPoolId": pool_id,
        "Identifier": server.identifier,
        "Name": server.name,
    });
    if !server.scopes.is_empty() {
        out["Scopes"] = server
            .scopes
            .iter()
            .map(
                |(name, description)| json!({ "ScopeName": name, "ScopeDescription": description }),
            )
            .collect();
    }
    out
}

/// Reads `Name` and `Scopes`.
fn resource_server_body(input: &Input<'_>) -> Result<(String, Vec<(String, String)>), ApiError> {
    let name = input.required("Name", "name")?;
    check_name("name", name, 256)?;
    let scopes = match input.0.get("Scopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let field = |m: &str| format!("scopes.{}.member.{m}", i + 1);
                let item = Input::new(item)?;
                let name = item.required("ScopeName", &field("scopeName"))?;
                let description = item.required("ScopeDescription", &field("scopeDescription"))?;
                Ok((name.to_string(), description.to_string()))
            })
            .collect::<Result<Vec<_>, ApiError>>()?,
        Some(_) => return Err(Input::wrong_type("Scopes", "a list")),
    };
    check_scopes(&scopes)?;
    Ok((name.to_string(), scopes))
}

pub(super) fn create(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let identifier = input.required("Identifier", "identifier")?;
    check_identifier(identifier)?;
    let (name, scopes) = resource_server_body(input)?;
    let pool = pool_mut(state, input)?;
    if pool.resource_servers.contains_key(identifier) {
        return Err(ApiError::invalid_parameter(format!(
            "{identifier} already exists in user pool {}.",
            pool.id
        )));
    }
    let server = ResourceServerState {
        identifier: identifier.to_string(),
        name,
        scopes,
    };
    let out = json!({ "ResourceServer": resource_server_json(&pool.id, &server) });
    pool.resource_servers.insert(identifier.to_string(), server);
    pool.modified = now_epoch();
    Ok(out)
}

pub(super) fn update(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let (name, scopes) = resource_server_body(input)?;
    let pool = pool_mut(state, input)?;
    let identifier = resource_server(pool, input)?.identifier.clone();
    let server = ResourceServerState {
        identifier: identifier.clone(),
        name,
        scopes,
    };
    let out = json!({ "ResourceServer": resource_server_json(&pool.id, &server) });
    pool.resource_servers.insert(identifier, server);
    pool.modified = now_epoch();
    Ok(out)
}

pub(super) fn list(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let max = input.max_results("maxResults", 50, false)?;
    let pool = pool(state, input)?;
    let (servers, next) = page(&pool.resource_servers, input.next_token()?, max);
    let servers: Vec<Value> = servers
        .into_iter()
        .map(|s| resource_server_json(&pool.id, s))
        .collect();
    Ok(with_next(json!({ "ResourceServers": servers }), next))
}

pub(super) fn describe(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    let server = resource_server(pool, input)?;
    Ok(json!({ "ResourceServer": resource_server_json(&pool.id, server) }))
}

pub(super) fn delete(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool_mut(state, input)?;
    let identifier = resource_server(pool, input)?.identifier.clone();
    pool.resource_servers.remove(&identifier);
    pool.modified = now_epoch();
    Ok(json!({}))
}

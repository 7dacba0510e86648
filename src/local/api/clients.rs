//! App clients: CreateUserPoolClient, DescribeUserPoolClient,
//! UpdateUserPoolClient, ListUserPoolClients, DeleteUserPoolClient.

use serde_json::{Map, Value, json};

use super::input::{Input, page, with_next};
use super::pools::{pool, pool_mut};
use crate::local::error::ApiError;
use crate::local::ids::{new_client_id, new_client_secret};
use crate::local::state::{ClientState, PoolState, State, Unit, now_epoch};
use crate::local::validate::{
    OAuthSettings, check_access_token_validity, check_allowed_scopes, check_between,
    check_client_id, check_client_secret, check_flows, check_name, check_oauth_rules, check_unit,
};

fn client<'p>(pool: &'p PoolState, input: &Input<'_>) -> Result<&'p ClientState, ApiError> {
    let id = input.required("ClientId", "clientId")?;
    check_client_id(id)?;
    pool.find_client(id)
        .ok_or_else(|| ApiError::not_found(format!("User pool client {id} does not exist.")))
}

fn client_json(pool_id: &str, client: &ClientState) -> Value {
    let mut out = Map::new();
    for (k, v) in &client.config {
        out.insert(k.clone(), v.clone());
    }
    let mut set = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    set("UserPoolId", json!(pool_id));
    set("ClientName", json!(client.name));
    set("ClientId", json!(client.id));
    if let Some(secret) = &client.secret {
        set("ClientSecret", json!(secret));
    }
    set("CreationDate", json!(client.created));
    set("LastModifiedDate", json!(client.modified));
    set(
        "RefreshTokenValidity",
        client
            .config
            .get("RefreshTokenValidity")
            .cloned()
            .unwrap_or(json!(30)),
    );
    if let Some(v) = client.access_token_validity {
        set("AccessTokenValidity", json!(v));
    }
    if let Some(v) = client.config.get("IdTokenValidity") {
        set("IdTokenValidity", v.clone());
    }
    set(
        "TokenValidityUnits",
        json!({
            "AccessToken": client.access_token_unit.as_str(),
            "IdToken": client.id_token_unit.as_str(),
            "RefreshToken": client.refresh_token_unit.as_str(),
        }),
    );
    if !client.flows.is_empty() {
        set("AllowedOAuthFlows", json!(client.flows));
    }
    if !client.scopes.is_empty() {
        set("AllowedOAuthScopes", json!(client.scopes));
    }
    set(
        "AllowedOAuthFlowsUserPoolClient",
        json!(client.oauth_enabled),
    );
    out.entry("EnableTokenRevocation").or_insert(json!(true));
    out.entry("AuthSessionValidity").or_insert(json!(3));
    out.entry("EnablePropagateAdditionalUserContextData")
        .or_insert(json!(false));
    Value::Object(out)
}

/// Checks the members of a client that need no pool, so that malformed input
/// is reported before a missing pool, as AWS does. Returns the name.
fn client_name<'a>(input: &Input<'a>, existing: Option<&'a str>) -> Result<&'a str, ApiError> {
    let name = match (input.string("ClientName")?, existing) {
        (Some(name), _) => name,
        // UpdateUserPoolClient may leave the name out.
        (None, Some(existing)) => existing,
        (None, None) => input.required("ClientName", "clientName")?,
    };
    check_name("clientName", name, 128)?;
    Ok(name)
}

/// Reads and checks a client's configuration (Create and Update).
fn client_config(
    pool: &PoolState,
    input: &Input<'_>,
    name: &str,
    has_secret: bool,
) -> Result<ClientState, ApiError> {
    let flows = oauth_flows(input)?;
    let scopes = input.strings("AllowedOAuthScopes")?.unwrap_or_default();
    check_allowed_scopes(&scopes)?;
    let units = token_validity_units(input)?;
    let access_token_validity =
        check_access_token_validity(input.integer("AccessTokenValidity")?, units.access)?;
    let oauth_enabled = input
        .bool("AllowedOAuthFlowsUserPoolClient")?
        .unwrap_or(false);
    let callback_urls = input.strings("CallbackURLs")?.unwrap_or_default();
    let logout_urls = input.strings("LogoutURLs")?.unwrap_or_default();
    check_oauth_rules(
        pool,
        &OAuthSettings {
            flows: &flows,
            scopes: &scopes,
            oauth_enabled,
            has_secret,
            callback_urls: &callback_urls,
            logout_urls: &logout_urls,
            default_redirect_uri: input.string("DefaultRedirectURI")?,
        },
    )?;
    let config = passthrough(input)?;
    let now = now_epoch();
    Ok(ClientState {
        id: String::new(),
        name: name.to_string(),
        secret: None,
        flows,
        scopes,
        oauth_enabled,
        access_token_validity,
        access_token_unit: units.access,
        id_token_unit: units.id,
        refresh_token_unit: units.refresh,
        created: now,
        modified: now,
        config,
    })
}

/// `AllowedOAuthFlows`, each once, in the order first given.
fn oauth_flows(input: &Input<'_>) -> Result<Vec<String>, ApiError> {
    let mut flows = input.strings("AllowedOAuthFlows")?.unwrap_or_default();
    let mut seen = Vec::new();
    flows.retain(|f| {
        let fresh = !seen.contains(f);
        seen.push(f.clone());
        fresh
    });
    check_flows(&flows)?;
    Ok(flows)
}

/// `TokenValidityUnits`, with Cognito's defaults.
struct Units {
    access: Unit,
    id: Unit,
    refresh: Unit,
}

fn token_validity_units(input: &Input<'_>) -> Result<Units, ApiError> {
    let units = input.object("TokenValidityUnits")?;
    let unit = |member: &str, default: Unit| -> Result<Unit, ApiError> {
        match units.and_then(|u| u.get(member)) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::String(s)) => check_unit(member, s),
            Some(_) => Err(Input::wrong_type(member, "a string")),
        }
    };
    Ok(Units {
        access: unit("AccessToken", Unit::Hours)?,
        id: unit("IdToken", Unit::Hours)?,
        refresh: unit("RefreshToken", Unit::Days)?,
    })
}

/// The other `UserPoolClientType` members: kept as sent and returned by
/// Describe, once their types (and ranges) are checked. Unknown members are
/// ignored, as they are not part of the API.
fn passthrough(input: &Input<'_>) -> Result<Map<String, Value>, ApiError> {
    let mut config = Map::new();
    for member in [
        "ReadAttributes",
        "WriteAttributes",
        "ExplicitAuthFlows",
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
    ] {
        if let Some(list) = input.strings(member)? {
            config.insert(member.into(), json!(list));
        }
    }
    for member in ["DefaultRedirectURI", "PreventUserExistenceErrors"] {
        if let Some(value) = input.string(member)? {
            config.insert(member.into(), json!(value));
        }
    }
    for member in [
        "EnableTokenRevocation",
        "EnablePropagateAdditionalUserContextData",
    ] {
        if let Some(value) = input.bool(member)? {
            config.insert(member.into(), json!(value));
        }
    }
    for member in ["AnalyticsConfiguration", "RefreshTokenRotation"] {
        if let Some(value) = input.object(member)? {
            config.insert(member.into(), Value::Object(value.clone()));
        }
    }
    for (member, field, min, max) in [
        ("IdTokenValidity", "idTokenValidity", 1, 86_400),
        (
            "RefreshTokenValidity",
            "refreshTokenValidity",
            0,
            315_360_000,
        ),
        ("AuthSessionValidity", "authSessionValidity", 3, 15),
    ] {
        if let Some(value) = input.integer(member)? {
            check_between(field, value, min, max)?;
            config.insert(member.into(), json!(value));
        }
    }
    Ok(config)
}

pub(super) fn create(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let generate_secret = input.bool("GenerateSecret")?.unwrap_or(false);
    let given_secret = input.string("ClientSecret")?;
    if let Some(secret) = given_secret {
        check_client_secret(secret)?;
    }
    let name = client_name(input, None)?;
    let pool = pool_mut(state, input)?;
    let has_secret = generate_secret || given_secret.is_some();
    let mut client = client_config(pool, input, name, has_secret)?;
    client.id = loop {
        let id = new_client_id();
        if !pool.clients.contains_key(&id) {
            break id;
        }
    };
    client.secret = match given_secret {
        Some(secret) => Some(secret.to_string()),
        None => generate_secret.then(new_client_secret),
    };
    let out = json!({ "UserPoolClient": client_json(&pool.id, &client) });
    pool.clients.insert(client.id.clone(), client);
    Ok(out)
}

pub(super) fn update(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    if let Some(name) = input.string("ClientName")? {
        check_name("clientName", name, 128)?;
    }
    let pool = pool_mut(state, input)?;
    let existing = client(pool, input)?.clone();
    let name = client_name(input, Some(&existing.name))?;
    // Unspecified members go back to their defaults, as in Cognito.
    let mut updated = client_config(pool, input, name, existing.secret.is_some())?;
    updated.id = existing.id;
    updated.secret = existing.secret;
    updated.created = existing.created;
    let out = json!({ "UserPoolClient": client_json(&pool.id, &updated) });
    pool.clients.insert(updated.id.clone(), updated);
    Ok(out)
}

pub(super) fn list(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let max = input.max_results("maxResults", 60, false)?;
    let pool = pool(state, input)?;
    let (clients, next) = page(&pool.clients, input.next_token()?, max);
    let clients: Vec<Value> = clients
        .into_iter()
        .map(|c| json!({ "ClientId": c.id, "UserPoolId": pool.id, "ClientName": c.name }))
        .collect();
    Ok(with_next(json!({ "UserPoolClients": clients }), next))
}

pub(super) fn describe(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool(state, input)?;
    let client = client(pool, input)?;
    Ok(json!({ "UserPoolClient": client_json(&pool.id, client) }))
}

pub(super) fn delete(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
    let pool = pool_mut(state, input)?;
    let id = client(pool, input)?.id.clone();
    pool.clients.remove(&id);
    Ok(json!({}))
}

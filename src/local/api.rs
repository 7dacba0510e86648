//! The Cognito management API (`AWSCognitoIdentityProviderService.*`, AWS
//! JSON 1.1): user pools, resource servers and app clients.
//!
//! Inputs and outputs use Cognito's member names; errors use its exception
//! types and messages, in the AWS JSON error shape.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::ids::{new_client_id, new_client_secret, new_pool_id};
use super::keys::SigningKey;
use super::state::now_epoch;
use super::state::{ClientState, PoolState, ResourceServerState, State, Unit};
use super::validate::{
    OAuthSettings, check_access_token_validity, check_allowed_scopes, check_between,
    check_client_id, check_client_secret, check_flows, check_identifier, check_name,
    check_oauth_rules, check_pool_id, check_scopes, check_unit, check_value, constraint,
    must_not_be_null,
};

/// Whether an action changes the state (and must be saved).
pub(crate) fn mutates(action: &str) -> bool {
    action.starts_with("Create") || action.starts_with("Update") || action.starts_with("Delete")
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
        "CreateUserPool" => create_user_pool(state, ctx, &input),
        "DescribeUserPool" => {
            let pool = pool(state, &input)?;
            Ok(json!({ "UserPool": user_pool_json(pool) }))
        }
        "ListUserPools" => list_user_pools(state, &input),
        "DeleteUserPool" => {
            let id = pool(state, &input)?.id.clone();
            state.pools.remove(&id);
            Ok(json!({}))
        }
        "CreateResourceServer" => create_resource_server(state, &input),
        "DescribeResourceServer" => {
            let pool = pool(state, &input)?;
            let server = resource_server(pool, &input)?;
            Ok(json!({ "ResourceServer": resource_server_json(&pool.id, server) }))
        }
        "ListResourceServers" => list_resource_servers(state, &input),
        "UpdateResourceServer" => update_resource_server(state, &input),
        "DeleteResourceServer" => {
            let pool = pool_mut(state, &input)?;
            let identifier = resource_server(pool, &input)?.identifier.clone();
            pool.resource_servers.remove(&identifier);
            pool.modified = now_epoch();
            Ok(json!({}))
        }
        "CreateUserPoolClient" => create_client(state, &input),
        "DescribeUserPoolClient" => {
            let pool = pool(state, &input)?;
            let client = client(pool, &input)?;
            Ok(json!({ "UserPoolClient": client_json(&pool.id, client) }))
        }
        "UpdateUserPoolClient" => update_client(state, &input),
        "DeleteUserPoolClient" => {
            let pool = pool_mut(state, &input)?;
            let id = client(pool, &input)?.id.clone();
            pool.clients.remove(&id);
            Ok(json!({}))
        }
        "ListUserPoolClients" => list_clients(state, &input),
        _ => Err(ApiError::new(
            "UnknownOperationException",
            format!("The action {action} is not supported by this local issuer."),
        )),
    }
}

// ---- Reading inputs ---------------------------------------------------------

struct Input<'a>(&'a Map<String, Value>);

impl<'a> Input<'a> {
    fn new(value: &'a Value) -> Result<Self, ApiError> {
        match value {
            Value::Object(map) => Ok(Input(map)),
            _ => Err(ApiError::new(
                "SerializationException",
                "The request body must be a JSON object.",
            )),
        }
    }

    fn wrong_type(member: &str, expected: &str) -> ApiError {
        ApiError::new(
            "SerializationException",
            format!("{member} must be {expected}."),
        )
    }

    fn string(&self, member: &str) -> Result<Option<&'a str>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Self::wrong_type(member, "a string")),
        }
    }

    fn required(&self, member: &str, field: &str) -> Result<&'a str, ApiError> {
        self.string(member)?.ok_or_else(|| must_not_be_null(field))
    }

    fn bool(&self, member: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Self::wrong_type(member, "a boolean")),
        }
    }

    fn integer(&self, member: &str) -> Result<Option<i64>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| Self::wrong_type(member, "an integer")),
        }
    }

    fn strings(&self, member: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| Self::wrong_type(member, "a list of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(Self::wrong_type(member, "a list of strings")),
        }
    }

    fn object(&self, member: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
        match self.0.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(Self::wrong_type(member, "an object")),
        }
    }

    fn max_results(&self, field: &str, max: i64, required: bool) -> Result<usize, ApiError> {
        let value = match self.integer("MaxResults")? {
            Some(v) => v,
            None if required => return Err(must_not_be_null(field)),
            None => max,
        };
        check_value(field, value, 1, max)?;
        Ok(usize::try_from(value).unwrap_or(1))
    }

    /// The key a `NextToken` stands for.
    fn next_token(&self) -> Result<Option<String>, ApiError> {
        let Some(token) = self.string("NextToken")? else {
            return Ok(None);
        };
        if token.is_empty() {
            return Err(constraint(
                "nextToken",
                token,
                "Member must have length greater than or equal to 1",
            ));
        }
        URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Some)
            .ok_or_else(|| ApiError::invalid_parameter("Invalid pagination token."))
    }
}

/// One page of a sorted map, from `start` on, and the token of the next one.
fn page<T>(
    items: &std::collections::BTreeMap<String, T>,
    start: Option<String>,
    max: usize,
) -> (Vec<&T>, Option<String>) {
    let mut iter = match &start {
        Some(start) => items.range(start.clone()..),
        None => items.range::<String, _>(..),
    };
    let page: Vec<&T> = iter.by_ref().take(max).map(|(_, v)| v).collect();
    let next = iter.next().map(|(k, _)| URL_SAFE_NO_PAD.encode(k));
    (page, next)
}

fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let (Some(next), Value::Object(map)) = (next, &mut out) {
        map.insert("NextToken".into(), Value::String(next));
    }
    out
}

// ---- User pools -------------------------------------------------------------

fn pool<'s>(state: &'s State, input: &Input<'_>) -> Result<&'s PoolState, ApiError> {
    let id = input.required("UserPoolId", "userPoolId")?;
    check_pool_id(id)?;
    state
        .pools
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("User pool {id} does not exist.")))
}

fn pool_mut<'s>(state: &'s mut State, input: &Input<'_>) -> Result<&'s mut PoolState, ApiError> {
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

fn create_user_pool(
    state: &mut State,
    ctx: &mut Context,
    input: &Input<'_>,
) -> Result<Value, ApiError> {
    let name = input.required("PoolName", "poolName")?;
    check_name("poolName", name, 128)?;
    let key = ctx
        .new_key
        .take()
        .ok_or_else(|| ApiError::internal("no signing key was prepared for the new pool"))?;
    let id = loop {
        let id = new_pool_id(&ctx.region);
        if !state.pools.contains_key(&id) {
            break id;
        }
    };
    let pool = PoolState::new(id.clone(), name.to_string(), &ctx.region, key);
    let out = json!({ "UserPool": user_pool_json(&pool) });
    state.pools.insert(id, pool);
    Ok(out)
}

fn list_user_pools(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
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

// ---- Resource servers -------------------------------------------------------

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

fn create_resource_server(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
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

fn update_resource_server(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
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

fn list_resource_servers(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let max = input.max_results("maxResults", 50, false)?;
    let pool = pool(state, input)?;
    let (servers, next) = page(&pool.resource_servers, input.next_token()?, max);
    let servers: Vec<Value> = servers
        .into_iter()
        .map(|s| resource_server_json(&pool.id, s))
        .collect();
    Ok(with_next(json!({ "ResourceServers": servers }), next))
}

// ---- App clients ------------------------------------------------------------

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
    check_oauth_rules(
        pool,
        &OAuthSettings {
            flows: &flows,
            scopes: &scopes,
            oauth_enabled,
            has_secret,
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

fn create_client(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
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

fn update_client(state: &mut State, input: &Input<'_>) -> Result<Value, ApiError> {
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

fn list_clients(state: &State, input: &Input<'_>) -> Result<Value, ApiError> {
    let max = input.max_results("maxResults", 60, false)?;
    let pool = pool(state, input)?;
    let (clients, next) = page(&pool.clients, input.next_token()?, max);
    let clients: Vec<Value> = clients
        .into_iter()
        .map(|c| json!({ "ClientId": c.id, "UserPoolId": pool.id, "ClientName": c.name }))
        .collect();
    Ok(with_next(json!({ "UserPoolClients": clients }), next))
}

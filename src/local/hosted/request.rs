//! Checking an authorization request (`/oauth2/authorize`, `/login`), the
//! same every time it comes back: never trusted from a page.
//!
//! An unknown client or an unregistered `redirect_uri` is refused with a
//! page (never a redirect, RFC 6749 §4.1.2.1); every later error goes back
//! to the `redirect_uri`, with `state`.

use crate::local::authorization::{Authorization, ResponseType};
use crate::local::oauth::{Grant, OAuthError, Params, granted_scopes, well_formed_pkce};
use crate::local::state::{ClientState, PoolState, State};

/// `state` and `nonce` longer than this are refused.
const MAX_ECHOED_LEN: usize = 2048;

/// Why an authorization request is refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Shown as a page: there is no safe place to redirect to.
    Page(&'static str),
    /// Sent back to the client's `redirect_uri`.
    Redirect(ErrorRedirect),
}

/// An error for the client, at its `redirect_uri`.
#[derive(Debug)]
pub(crate) struct ErrorRedirect {
    pub(crate) redirect_uri: String,
    /// In the fragment (`response_type=token`) rather than the query.
    pub(crate) fragment: bool,
    pub(crate) error: &'static str,
    pub(crate) description: &'static str,
    pub(crate) state: Option<String>,
}

/// Checks the query of an authorization request.
pub(crate) fn check(state: &State, query: &str) -> Result<Authorization, Refusal> {
    let params = Params::parse(query.as_bytes())
        .map_err(|_| Refusal::Page("The request's parameters are malformed or repeated."))?;
    let client_id = params
        .get("client_id")
        .ok_or(Refusal::Page("client_id is missing."))?;
    let pool = state
        .pool_of_client(client_id)
        .ok_or(Refusal::Page("The client does not exist."))?;
    let client = pool
        .find_client(client_id)
        .ok_or(Refusal::Page("The client does not exist."))?;
    let redirect_uri = registered_redirect(client, params.get("redirect_uri"))?;
    let response_type = params.get("response_type");
    let state_param = params.get("state").map(str::to_string);
    let fragment = response_type == Some("token");
    let back = |(error, description): (&'static str, &'static str)| {
        Refusal::Redirect(ErrorRedirect {
            redirect_uri: redirect_uri.clone(),
            fragment,
            error,
            description,
            state: state_param.clone(),
        })
    };
    let response_type = match response_type {
        None => return Err(back(("invalid_request", "response_type is missing"))),
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        Some(_) => {
            return Err(back((
                "unsupported_response_type",
                "response_type must be code or token",
            )));
        }
    };
    let (scopes, code_challenge, resource) =
        details(pool, client, &params, response_type).map_err(back)?;
    Ok(Authorization {
        pool_id: pool.id.clone(),
        client_id: client.id.clone(),
        redirect_uri,
        response_type,
        state: state_param,
        scopes,
        code_challenge,
        nonce: params.get("nonce").map(str::to_string),
        resource,
    })
}

/// The `redirect_uri`: exactly one of the client's `CallbackURLs`. Omitted,
/// the client's `DefaultRedirectURI` is used when it has one (Cognito's
/// documented use of it); otherwise it is required.
fn registered_redirect(client: &ClientState, given: Option<&str>) -> Result<String, Refusal> {
    let callbacks = client.list("CallbackURLs");
    let chosen = match given {
        Some(uri) => uri,
        None => client
            .config
            .get("DefaultRedirectURI")
            .and_then(serde_json::Value::as_str)
            .ok_or(Refusal::Page("redirect_uri is missing."))?,
    };
    if callbacks.contains(&chosen) {
        Ok(chosen.to_string())
    } else {
        Err(Refusal::Page(
            "redirect_uri is not one of the client's callback URLs.",
        ))
    }
}

type Details = (Vec<String>, Option<String>, Option<String>);

/// The checks after the client and `redirect_uri`: flow, `state`/`nonce`
/// size, PKCE, scopes, resource. Errors are `(error, description)`.
fn details(
    pool: &PoolState,
    client: &ClientState,
    params: &Params,
    response_type: ResponseType,
) -> Result<Details, (&'static str, &'static str)> {
    let flow = match response_type {
        ResponseType::Code => "code",
        ResponseType::Token => "implicit",
    };
    if !client.oauth_enabled || !client.flows.iter().any(|f| f == flow) {
        return Err(("unauthorized_client", "the client is not allowed this flow"));
    }
    let too_long = |name| params.get(name).is_some_and(|v| v.len() > MAX_ECHOED_LEN);
    if too_long("state") || too_long("nonce") {
        return Err(("invalid_request", "state or nonce is too long"));
    }
    let code_challenge = pkce(params)?;
    let scopes = granted_scopes(pool, &client.scopes, params.get("scope"), Grant::User)
        .map_err(|e: OAuthError| (e.error, e.description))?;
    let (scopes, resource) = match params.get("resource") {
        None => (scopes, None),
        Some(resource) => (
            for_resource(pool, scopes, resource)?,
            Some(resource.to_string()),
        ),
    };
    Ok((scopes, code_challenge, resource))
}

/// `code_challenge` with `code_challenge_method=S256`; `plain` (or no
/// method, which RFC 7636 reads as `plain`) is refused, as Cognito does.
fn pkce(params: &Params) -> Result<Option<String>, (&'static str, &'static str)> {
    match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => Ok(None),
        (Some(challenge), Some("S256")) if well_formed_pkce(challenge) => {
            Ok(Some(challenge.to_string()))
        }
        (Some(_), Some("S256")) => Err(("invalid_request", "code_challenge is malformed")),
        (Some(_), _) => Err(("invalid_request", "code_challenge_method must be S256")),
        (None, Some(_)) => Err(("invalid_request", "code_challenge is missing")),
    }
}

/// RFC 8707: `resource` must be the identifier of one of the pool's
/// resource servers, and at least one granted custom scope must be its. The
/// token is then for that resource alone: other resource servers' scopes
/// are left out (the OIDC scopes stay).
fn for_resource(
    pool: &PoolState,
    scopes: Vec<String>,
    resource: &str,
) -> Result<Vec<String>, (&'static str, &'static str)> {
    let invalid = (
        "invalid_target",
        "resource is not a resource server of these scopes",
    );
    if !pool.resource_servers.contains_key(resource) {
        return Err(invalid);
    }
    let is_its = |s: &String| {
        s.rsplit_once('/')
            .is_some_and(|(identifier, _)| identifier == resource)
    };
    if !scopes.iter().any(is_its) {
        return Err(invalid);
    }
    Ok(scopes
        .into_iter()
        .filter(|s| is_its(s) || !s.contains('/'))
        .collect())
}

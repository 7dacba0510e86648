//! The management API's validation, in Cognito's words: the naming rules of
//! [`crate::naming`] (shared with [`crate::scope`]) and the OAuth rules of app
//! clients, each broken rule an [`ApiError`] with Cognito's message.

use super::error::ApiError;
use super::state::{BUILT_IN_SCOPES, PoolState, Unit};
use crate::naming::{self, MAX_SCOPES_PER_SERVER, Rule, Violation};

/// `1 validation error detected: Value 'x' at 'field' failed to satisfy
/// constraint: ...`, as AWS's front end phrases it.
pub(crate) fn constraint(field: &str, value: &str, what: &str) -> ApiError {
    let shown: String = value.chars().take(100).collect();
    ApiError::invalid_parameter(format!(
        "1 validation error detected: Value '{shown}' at '{field}' failed to satisfy constraint: {what}"
    ))
}

/// A required member that is missing.
pub(crate) fn must_not_be_null(field: &str) -> ApiError {
    ApiError::invalid_parameter(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

/// Checks a string against a naming rule.
pub(crate) fn check(field: &str, value: &str, rule: &Rule) -> Result<(), ApiError> {
    let what = match rule.check(value) {
        Ok(()) => return Ok(()),
        Err(Violation::TooShort(_)) => format!(
            "Member must have length greater than or equal to {}",
            rule.min
        ),
        Err(Violation::TooLong(_)) => {
            format!("Member must have length less than or equal to {}", rule.max)
        }
        Err(Violation::Char(_)) => format!(
            "Member must satisfy regular expression pattern: {}",
            rule.chars.map_or("", |class| class.pattern)
        ),
    };
    Err(constraint(field, value, &what))
}

/// Checks a number against an inclusive range, with AWS's two messages.
pub(crate) fn check_value(field: &str, value: i64, min: i64, max: i64) -> Result<(), ApiError> {
    if value < min {
        return Err(constraint(
            field,
            &value.to_string(),
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(constraint(
            field,
            &value.to_string(),
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// Checks a number against an inclusive range, with Cognito's one message
/// for the members it range-checks itself.
pub(crate) fn check_between(field: &str, value: i64, min: i64, max: i64) -> Result<(), ApiError> {
    if value < min || value > max {
        return Err(constraint(
            field,
            &value.to_string(),
            &format!("Member must have value between {min} and {max}"),
        ));
    }
    Ok(())
}

/// Checks a list's length.
fn check_count(field: &str, what: &str, count: usize, max: usize) -> Result<(), ApiError> {
    if count > max {
        return Err(constraint(
            field,
            &format!("[{count} {what}]"),
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

pub(crate) fn check_pool_id(value: &str) -> Result<(), ApiError> {
    check("userPoolId", value, &naming::POOL_ID)?;
    if naming::is_pool_id(value) {
        return Ok(());
    }
    Err(constraint(
        "userPoolId",
        value,
        &format!(
            "Member must satisfy regular expression pattern: {}",
            naming::POOL_ID_PATTERN
        ),
    ))
}

pub(crate) fn check_name(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    check(field, value, &naming::NAME.at_most(max))
}

pub(crate) fn check_identifier(value: &str) -> Result<(), ApiError> {
    check("identifier", value, &naming::IDENTIFIER)
}

pub(crate) fn check_scopes(scopes: &[(String, String)]) -> Result<(), ApiError> {
    check_count("scopes", "scopes", scopes.len(), MAX_SCOPES_PER_SERVER)?;
    for (i, (name, description)) in scopes.iter().enumerate() {
        let field = |member: &str| format!("scopes.{}.member.{member}", i + 1);
        check(&field("scopeName"), name, &naming::SCOPE_NAME)?;
        check(
            &field("scopeDescription"),
            description,
            &naming::DESCRIPTION,
        )?;
        if scopes[..i].iter().any(|(n, _)| n == name) {
            return Err(ApiError::invalid_parameter(format!(
                "Scope name {name} is duplicated."
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_client_id(value: &str) -> Result<(), ApiError> {
    check("clientId", value, &naming::CLIENT_ID)
}

/// A sensitive member: the value is never repeated in the error.
pub(crate) fn check_client_secret(secret: &str) -> Result<(), ApiError> {
    if naming::CLIENT_SECRET.check(secret).is_ok() {
        return Ok(());
    }
    Err(ApiError::invalid_parameter(format!(
        "1 validation error detected: Value at 'clientSecret' failed to satisfy constraint: Member must have length between {} and {} and satisfy regular expression pattern: {}",
        naming::CLIENT_SECRET.min,
        naming::CLIENT_SECRET.max,
        naming::CLIENT_CHARS.pattern,
    )))
}

/// `AllowedOAuthFlows`, once duplicates are dropped.
pub(crate) fn check_flows(flows: &[String]) -> Result<(), ApiError> {
    if flows.len() > 3 {
        return Err(constraint(
            "allowedOAuthFlows",
            &format!("{flows:?}"),
            "Member must have length less than or equal to 3",
        ));
    }
    for (i, flow) in flows.iter().enumerate() {
        if !["code", "implicit", "client_credentials"].contains(&flow.as_str()) {
            return Err(constraint(
                &format!("allowedOAuthFlows.{}.member", i + 1),
                flow,
                "Member must satisfy enum value set: [implicit, client_credentials, code]",
            ));
        }
    }
    Ok(())
}

/// `AllowedOAuthScopes`: full scopes, checked for syntax (whether they exist
/// is [`check_oauth_rules`]).
pub(crate) fn check_allowed_scopes(scopes: &[String]) -> Result<(), ApiError> {
    check_count("allowedOAuthScopes", "scopes", scopes.len(), 50)?;
    for (i, scope) in scopes.iter().enumerate() {
        check(
            &format!("allowedOAuthScopes.{}.member", i + 1),
            scope,
            &naming::IDENTIFIER,
        )?;
    }
    Ok(())
}

/// `TokenValidityUnits.{member}`.
pub(crate) fn check_unit(member: &str, value: &str) -> Result<Unit, ApiError> {
    Unit::parse(value).ok_or_else(|| {
        constraint(
            &format!("tokenValidityUnits.{}", lower_first(member)),
            value,
            "Member must satisfy enum value set: [seconds, minutes, hours, days]",
        )
    })
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `AccessTokenValidity` in `unit`: 1 to 86400 of the unit, and 5 minutes to
/// one day in all.
pub(crate) fn check_access_token_validity(
    validity: Option<i64>,
    unit: Unit,
) -> Result<Option<u64>, ApiError> {
    let Some(value) = validity else {
        return Ok(None);
    };
    check_value("accessTokenValidity", value, 1, 86_400)?;
    let value = value.unsigned_abs();
    if !(300..=86_400).contains(&unit.seconds(value)) {
        return Err(ApiError::invalid_parameter(
            "Invalid range for token validity. AccessTokenValidity must be between 5 minutes and 1 day.",
        ));
    }
    Ok(Some(value))
}

/// What [`check_oauth_rules`] needs to know of a client.
pub(crate) struct OAuthSettings<'a> {
    pub(crate) flows: &'a [String],
    pub(crate) scopes: &'a [String],
    pub(crate) oauth_enabled: bool,
    pub(crate) has_secret: bool,
    /// `CallbackURLs`, `LogoutURLs` and `DefaultRedirectURI`.
    pub(crate) callback_urls: &'a [String],
    pub(crate) logout_urls: &'a [String],
    pub(crate) default_redirect_uri: Option<&'a str>,
}

/// Cognito's OAuth rules for an app client of `pool`.
pub(crate) fn check_oauth_rules(
    pool: &PoolState,
    client: &OAuthSettings<'_>,
) -> Result<(), ApiError> {
    let is_built_in = |scope: &String| BUILT_IN_SCOPES.contains(&scope.as_str());
    if let Some(scope) = client
        .scopes
        .iter()
        .find(|s| !is_built_in(s) && !pool.scope_is_active(s))
    {
        return Err(ApiError::new(
            "ScopeDoesNotExistException",
            format!("Invalid scope requested: {scope}"),
        ));
    }
    if client.oauth_enabled && (client.flows.is_empty() || client.scopes.is_empty()) {
        return Err(ApiError::invalid_parameter(
            "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows.",
        ));
    }
    if client.flows.iter().any(|f| f == "client_credentials") {
        check_client_credentials(client, is_built_in)?;
    }
    check_redirect_urls(client)
}

/// The browser flows' URLs: `code` and `implicit` need a callback URL; each
/// URL is absolute, without a fragment, and `https` unless it is
/// `http://localhost` or `http://127.0.0.1` (app schemes such as
/// `myapp://cb` are allowed, as Cognito documents); `DefaultRedirectURI`
/// must be one of the callback URLs. Cognito does not document these
/// messages; they are this issuer's.
fn check_redirect_urls(client: &OAuthSettings<'_>) -> Result<(), ApiError> {
    let browser_flow = client.flows.iter().any(|f| f == "code" || f == "implicit");
    if browser_flow && client.callback_urls.is_empty() {
        return Err(ApiError::invalid_parameter(
            "CallbackURLs are required when the code or implicit flow is allowed.",
        ));
    }
    for (field, urls) in [
        ("callbackURLs", client.callback_urls),
        ("logoutURLs", client.logout_urls),
    ] {
        check_count(field, "URLs", urls.len(), 100)?;
        for url in urls {
            check_redirect_url(field, url)?;
        }
    }
    if let Some(default) = client.default_redirect_uri
        && !client.callback_urls.iter().any(|u| u == default)
    {
        return Err(ApiError::invalid_parameter(
            "DefaultRedirectURI must be one of the CallbackURLs.",
        ));
    }
    Ok(())
}

/// One redirect URL (RFC 6749 §3.1.2 and Cognito's HTTPS rule).
fn check_redirect_url(field: &str, value: &str) -> Result<(), ApiError> {
    let invalid = |why: &str| Err(constraint(field, value, why));
    if value.len() > 1024 {
        return invalid("Member must have length less than or equal to 1024");
    }
    let Ok(url) = url::Url::parse(value) else {
        return invalid("Member must be an absolute URL");
    };
    if url.fragment().is_some() {
        return invalid("Member must not include a fragment component");
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
    if url.scheme() == "http" && !loopback {
        return invalid("Member must use https, except http://localhost and http://127.0.0.1");
    }
    Ok(())
}

/// The rules of a client allowed the client-credentials flow.
fn check_client_credentials(
    client: &OAuthSettings<'_>,
    is_built_in: impl Fn(&String) -> bool,
) -> Result<(), ApiError> {
    let flow_error = |message: String| ApiError::new("InvalidOAuthFlowException", message);
    if client.flows.len() > 1 {
        return Err(flow_error(
            "client_credentials flow can not be selected along with code flow or implicit flow."
                .into(),
        ));
    }
    if let Some(built_in) = client.scopes.iter().find(|s| is_built_in(s)) {
        return Err(flow_error(format!(
            "{built_in} is not supported with client_credentials flow."
        )));
    }
    if !client.has_secret {
        return Err(flow_error(
            "client_credentials flow can not be selected if client does not have a client secret."
                .into(),
        ));
    }
    Ok(())
}

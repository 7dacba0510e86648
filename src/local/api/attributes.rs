//! User attributes and user names: Cognito's checks on them, and their
//! shapes in responses (`AttributeType` lists, `UserType`).
//!
//! Standard attributes are OpenID Connect's, as Cognito's default schema
//! has them; any `custom:*` name is accepted without a schema (this issuer
//! has no CreateUserPool `Schema` / AddCustomAttributes).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::local::error::ApiError;
use crate::local::state::ClientState;
use crate::local::users::UserState;
use crate::local::validate::{constraint, must_not_be_null};
use crate::naming::Violation;

/// Cognito's standard attributes (besides the immutable `sub`).
pub(super) const STANDARD: [&str; 20] = [
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
    "identities",
];

/// Attributes no user may set on themselves, whatever the client's
/// `WriteAttributes` say: a contact is verified by a confirmation code or an
/// administrator, and `identities` belongs to federation.
const NEVER_SELF_WRITTEN: [&str; 3] = ["email_verified", "phone_number_verified", "identities"];

/// Longest attribute value Cognito stores.
const MAX_VALUE: usize = 2048;
/// Most attributes one user may have (standard ones plus 50 custom ones).
const MAX_ATTRIBUTES: usize = 70;

/// Checks a user name (or a group name, which has the same rule): 1 to 128
/// characters, no white space or control characters
/// ([`naming::USER_NAME`](crate::naming::USER_NAME)).
pub(super) fn check_username(field: &str, name: &str) -> Result<(), ApiError> {
    let rule = &crate::naming::USER_NAME;
    match rule.check(name) {
        Ok(()) => Ok(()),
        Err(Violation::TooShort(_)) => Err(constraint(
            field,
            name,
            "Member must have length greater than or equal to 1",
        )),
        Err(Violation::TooLong(_)) => Err(constraint(
            field,
            name,
            "Member must have length less than or equal to 128",
        )),
        Err(Violation::Char(_)) => Err(constraint(
            field,
            name,
            &format!(
                "Member must satisfy regular expression pattern: {}",
                rule.chars.map_or("", |c| c.pattern)
            ),
        )),
    }
}

fn schema_error(name: &str, what: &str) -> ApiError {
    let shown: String = name.chars().take(64).collect();
    ApiError::invalid_parameter(format!(
        "Attributes did not conform to the schema: {shown}: {what}"
    ))
}

/// Checks an attribute name as settable (not `sub`, known or `custom:`).
pub(super) fn check_name(name: &str) -> Result<(), ApiError> {
    if name == "sub" {
        return Err(ApiError::invalid_parameter(
            "Cannot modify the non-mutable attribute sub",
        ));
    }
    let custom = name
        .strip_prefix("custom:")
        .is_some_and(|rest| (1..=20).contains(&rest.chars().count()));
    if !custom && !STANDARD.contains(&name) {
        return Err(schema_error(
            name,
            "Attribute does not exist in the schema.",
        ));
    }
    Ok(())
}

fn check_value(name: &str, value: &str) -> Result<(), ApiError> {
    if value.chars().count() > MAX_VALUE {
        return Err(schema_error(name, "String attribute value is too long."));
    }
    match name {
        "email" if !looks_like_email(value) => {
            Err(ApiError::invalid_parameter("Invalid email address format."))
        }
        "phone_number" if !looks_like_phone(value) => {
            Err(ApiError::invalid_parameter("Invalid phone number format."))
        }
        "email_verified" | "phone_number_verified" if value != "true" && value != "false" => {
            Err(schema_error(name, "Invalid value for a boolean attribute."))
        }
        _ => Ok(()),
    }
}

fn looks_like_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !v.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// E.164: `+` and 1 to 15 digits.
fn looks_like_phone(v: &str) -> bool {
    v.strip_prefix('+')
        .is_some_and(|d| (1..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Reads an `AttributeType` list (`[{Name, Value}]`) and checks it.
pub(super) fn read_list(
    input: &Map<String, Value>,
    member: &str,
) -> Result<BTreeMap<String, String>, ApiError> {
    let items = match input.get(member) {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(super::input::Input::wrong_type(member, "a list")),
    };
    let mut out = BTreeMap::new();
    for item in items {
        let name = item
            .get("Name")
            .and_then(Value::as_str)
            .ok_or_else(|| must_not_be_null("userAttributes.member.name"))?;
        let value = match item.get("Value") {
            None | Some(Value::Null) => "",
            Some(Value::String(v)) => v,
            Some(_) => return Err(super::input::Input::wrong_type("Value", "a string")),
        };
        check_name(name)?;
        check_value(name, value)?;
        out.insert(name.to_string(), value.to_string());
    }
    if out.len() > MAX_ATTRIBUTES {
        return Err(ApiError::invalid_parameter("Too many attributes."));
    }
    Ok(out)
}

/// Whether a client may let its users write `name` on themselves (SignUp,
/// the `userAttributes.*` of NEW_PASSWORD_REQUIRED). Without
/// `WriteAttributes`, Cognito lets them write the standard attributes:
/// here that is every standard attribute but [`NEVER_SELF_WRITTEN`], and no
/// `custom:*` one (a pool's custom attributes must be listed).
fn self_writable(client: &ClientState, name: &str) -> bool {
    if NEVER_SELF_WRITTEN.contains(&name) {
        return false;
    }
    match client
        .config
        .get("WriteAttributes")
        .and_then(Value::as_array)
    {
        Some(listed) => listed.iter().any(|v| v.as_str() == Some(name)),
        None => STANDARD.contains(&name),
    }
}

/// Refuses a self-service change of an attribute the client may not write,
/// with Cognito's exception and message.
pub(super) fn check_self_writable(
    client: &ClientState,
    changes: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    if changes.keys().all(|name| self_writable(client, name)) {
        Ok(())
    } else {
        Err(ApiError::new(
            "NotAuthorizedException",
            "A client attempted to write unauthorized attribute",
        ))
    }
}

/// Checks the values of attributes already read.
pub(super) fn apply_checked(values: &mut BTreeMap<String, String>) -> Result<(), ApiError> {
    for (name, value) in values.iter() {
        check_value(name, value)?;
    }
    Ok(())
}

/// Sets `changes` on a user: a changed `email` (or `phone_number`) is
/// unverified again unless the change says otherwise, as in Cognito.
pub(super) fn apply(
    user: &mut UserState,
    changes: BTreeMap<String, String>,
) -> Result<(), ApiError> {
    for (contact, verified) in [
        ("email", "email_verified"),
        ("phone_number", "phone_number_verified"),
    ] {
        let changed = changes
            .get(contact)
            .is_some_and(|v| user.attributes.get(contact) != Some(v));
        if changed && !changes.contains_key(verified) {
            user.attributes.insert(verified.into(), "false".into());
        }
    }
    for (name, value) in changes {
        user.attributes.insert(name, value);
    }
    if user.attributes.len() > MAX_ATTRIBUTES {
        return Err(ApiError::invalid_parameter("Too many attributes."));
    }
    Ok(())
}

/// A user's attributes as an `AttributeType` list, `sub` first; only the
/// names in `only` when given.
pub(super) fn attribute_list(user: &UserState, only: Option<&[String]>) -> Value {
    let wanted = |name: &str| only.is_none_or(|o| o.iter().any(|n| n == name));
    let mut list = Vec::new();
    if wanted("sub") {
        list.push(json!({ "Name": "sub", "Value": user.sub }));
    }
    for (name, value) in &user.attributes {
        if wanted(name) {
            list.push(json!({ "Name": name, "Value": value }));
        }
    }
    Value::Array(list)
}

/// A `UserType` (ListUsers, AdminCreateUser, ListUsersInGroup).
pub(super) fn user_json(user: &UserState, only: Option<&[String]>) -> Value {
    json!({
        "Username": user.username,
        "Attributes": attribute_list(user, only),
        "UserCreateDate": user.created,
        "UserLastModifiedDate": user.modified,
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    })
}

/// Where a message to this user goes: `(attribute, value)` of the first of
/// `mediums` (`EMAIL`, `SMS`) the user has an attribute for.
pub(super) fn destination<'u>(
    user: &'u UserState,
    mediums: &[&str],
) -> Option<(&'static str, &'u str)> {
    mediums.iter().find_map(|m| {
        let attribute = match *m {
            "EMAIL" => "email",
            "SMS" => "phone_number",
            _ => return None,
        };
        user.attributes
            .get(attribute)
            .map(|v| (attribute, v.as_str()))
    })
}

/// `CodeDeliveryDetails` with the destination masked as Cognito masks it
/// (`a***@e***`, `+*******1234`).
pub(super) fn delivery_details(attribute: &str, value: &str) -> Value {
    let masked = if attribute == "email" {
        let (local, domain) = value.split_once('@').unwrap_or((value, ""));
        let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        format!("{}***@{}***", first(local), first(domain))
    } else {
        let digits: Vec<char> = value.chars().collect();
        let keep = digits.len().saturating_sub(4);
        let tail: String = digits[keep..].iter().collect();
        format!("+{}{tail}", "*".repeat(keep.saturating_sub(1)))
    };
    json!({
        "Destination": masked,
        "DeliveryMedium": if attribute == "email" { "EMAIL" } else { "SMS" },
        "AttributeName": attribute,
    })
}

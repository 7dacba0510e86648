//! How the user half of a pool is written in the state file (see
//! `persist.rs`): users with their hashed secrets, groups, refresh tokens by
//! hash, revocations and the password policy. Every member has a default, so
//! files written before users existed still load.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::password::{PasswordPolicy, StoredSecret};
use super::users::{Directory, GroupState, RefreshTokenState, UserState, UserStatus};

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct StoredDirectory {
    #[serde(default)]
    users: Vec<StoredUser>,
    #[serde(default)]
    groups: Vec<StoredGroup>,
    #[serde(default)]
    refresh_tokens: Vec<StoredRefreshToken>,
    #[serde(default)]
    revoked_origins: BTreeMap<String, f64>,
    #[serde(default)]
    password_policy: Option<StoredPolicy>,
    /// The pool's user-name settings, as sent to CreateUserPool.
    #[serde(default)]
    pool_config: serde_json::Map<String, serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredUser {
    username: String,
    sub: String,
    attributes: BTreeMap<String, String>,
    status: String,
    enabled: bool,
    password_hash: Option<String>,
    srp_salt: Option<String>,
    srp_verifier: Option<String>,
    temporary_password_expires: Option<f64>,
    confirmation_code: Option<(String, f64)>,
    groups: BTreeSet<String>,
    signed_out_at: Option<f64>,
    created: f64,
    modified: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredGroup {
    name: String,
    description: Option<String>,
    precedence: Option<i64>,
    role_arn: Option<String>,
    created: f64,
    modified: f64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredRefreshToken {
    /// Hex SHA-256 of the token.
    key: String,
    client_id: String,
    username: String,
    scopes: Vec<String>,
    origin_jti: String,
    auth_time: u64,
    resource: Option<String>,
    expires: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_jkt: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPolicy {
    minimum_length: u32,
    require_uppercase: bool,
    require_lowercase: bool,
    require_numbers: bool,
    require_symbols: bool,
    temporary_password_validity_days: u32,
}

pub(super) fn store(d: &Directory) -> StoredDirectory {
    StoredDirectory {
        users: d.users.values().map(store_user).collect(),
        groups: d
            .groups
            .values()
            .map(|g| StoredGroup {
                name: g.name.clone(),
                description: g.description.clone(),
                precedence: g.precedence,
                role_arn: g.role_arn.clone(),
                created: g.created,
                modified: g.modified,
            })
            .collect(),
        refresh_tokens: d
            .refresh_tokens
            .iter()
            .map(|(key, r)| StoredRefreshToken {
                key: key.clone(),
                client_id: r.client_id.clone(),
                username: r.username.clone(),
                scopes: r.scopes.clone(),
                origin_jti: r.origin_jti.clone(),
                auth_time: r.auth_time,
                resource: r.resource.clone(),
                expires: r.expires,
                dpop_jkt: r.dpop_jkt.clone(),
            })
            .collect(),
        revoked_origins: d.revoked_origins.clone(),
        password_policy: Some(store_policy(&d.password_policy)),
        pool_config: d.pool_config.clone(),
    }
}

fn store_user(u: &UserState) -> StoredUser {
    let secret = u.secret.as_ref();
    StoredUser {
        username: u.username.clone(),
        sub: u.sub.clone(),
        attributes: u.attributes.clone(),
        status: u.status.as_str().to_string(),
        enabled: u.enabled,
        password_hash: secret.map(|s| s.hash.clone()),
        srp_salt: secret.map(|s| STANDARD.encode(&s.srp_salt)),
        srp_verifier: secret.map(|s| STANDARD.encode(&s.srp_verifier)),
        temporary_password_expires: u.temporary_password_expires,
        confirmation_code: u.confirmation_code.clone(),
        groups: u.groups.clone(),
        signed_out_at: u.signed_out_at,
        created: u.created,
        modified: u.modified,
    }
}

fn store_policy(p: &PasswordPolicy) -> StoredPolicy {
    StoredPolicy {
        minimum_length: p.minimum_length,
        require_uppercase: p.require_uppercase,
        require_lowercase: p.require_lowercase,
        require_numbers: p.require_numbers,
        require_symbols: p.require_symbols,
        temporary_password_validity_days: p.temporary_password_validity_days,
    }
}

/// The directory of a stored pool; an error says what is wrong.
pub(super) fn restore(d: StoredDirectory) -> Result<Directory, String> {
    let users = d
        .users
        .into_iter()
        .map(|u| Ok((u.username.clone(), restore_user(u)?)))
        .collect::<Result<BTreeMap<_, _>, String>>()?;
    let groups = d
        .groups
        .into_iter()
        .map(|g| {
            let group = GroupState {
                name: g.name.clone(),
                description: g.description,
                precedence: g.precedence,
                role_arn: g.role_arn,
                created: g.created,
                modified: g.modified,
            };
            (g.name, group)
        })
        .collect();
    let refresh_tokens = d
        .refresh_tokens
        .into_iter()
        .map(|r| {
            let state = RefreshTokenState {
                client_id: r.client_id,
                username: r.username,
                scopes: r.scopes,
                origin_jti: r.origin_jti,
                auth_time: r.auth_time,
                resource: r.resource,
                expires: r.expires,
                dpop_jkt: r.dpop_jkt,
            };
            (r.key, state)
        })
        .collect();
    let password_policy =
        d.password_policy
            .map_or_else(PasswordPolicy::default, |p| PasswordPolicy {
                minimum_length: p.minimum_length,
                require_uppercase: p.require_uppercase,
                require_lowercase: p.require_lowercase,
                require_numbers: p.require_numbers,
                require_symbols: p.require_symbols,
                temporary_password_validity_days: p.temporary_password_validity_days,
            });
    Ok(Directory {
        users,
        groups,
        refresh_tokens,
        revoked_origins: d.revoked_origins,
        password_policy,
        pool_config: d.pool_config,
    })
}

fn restore_user(u: StoredUser) -> Result<UserState, String> {
    let status = UserStatus::parse(&u.status)
        .ok_or_else(|| format!("user {}: unknown status {:?}", u.username, u.status))?;
    let bytes = |b64: Option<String>| -> Result<Vec<u8>, String> {
        b64.map_or(Ok(Vec::new()), |s| {
            STANDARD
                .decode(s)
                .map_err(|_| format!("user {}: an SRP value is not base64", u.username))
        })
    };
    let srp_salt = bytes(u.srp_salt)?;
    let srp_verifier = bytes(u.srp_verifier)?;
    let secret = u.password_hash.map(|hash| StoredSecret {
        hash,
        srp_salt,
        srp_verifier,
    });
    Ok(UserState {
        username: u.username,
        sub: u.sub,
        attributes: u.attributes,
        status,
        enabled: u.enabled,
        secret,
        temporary_password_expires: u.temporary_password_expires,
        confirmation_code: u.confirmation_code,
        groups: u.groups,
        signed_out_at: u.signed_out_at,
        created: u.created,
        modified: u.modified,
    })
}

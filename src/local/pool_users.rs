//! In-process conveniences on [`UserPool`] for users and groups, for tests
//! and examples: a confirmed user with a permanent password, a user with a
//! temporary password, group membership. They apply the pool's password
//! policy and Cognito's `UsernameExistsException`, and hash the password
//! outside the state lock.

use std::collections::{BTreeMap, BTreeSet};

use super::error::ApiError;
use super::ids::uuid_v4;
use super::password::StoredSecret;
use super::pool::UserPool;
use super::state::{PoolState, now_epoch};
use super::users::{GroupState, UserState, UserStatus};
use super::validate::constraint;

/// Cognito's longest user name.
const MAX_USERNAME_LEN: usize = 128;

impl UserPool {
    /// Creates a `CONFIRMED`, enabled user with the permanent `password` and
    /// these attributes (`email`, `email_verified`, `custom:tenant`, ...;
    /// `sub` is generated), as `AdminCreateUser` followed by
    /// `AdminSetUserPassword --permanent` would.
    ///
    /// Errors: `InvalidPasswordException` (the pool's policy),
    /// `UsernameExistsException`, `InvalidParameterException`.
    pub fn create_user(
        &self,
        username: &str,
        password: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), ApiError> {
        self.insert_user(username, password, attributes, UserStatus::Confirmed)
    }

    /// Creates a `FORCE_CHANGE_PASSWORD` user with the temporary `password`
    /// (valid for the pool's `TemporaryPasswordValidityDays`): the first
    /// sign-in asks for a new password.
    pub fn create_user_with_temporary_password(
        &self,
        username: &str,
        password: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), ApiError> {
        self.insert_user(
            username,
            password,
            attributes,
            UserStatus::ForceChangePassword,
        )
    }

    /// Adds a user to a group, creating the group if it does not exist. The
    /// group is then in the user's tokens' `cognito:groups`.
    pub fn add_user_to_group(&self, username: &str, group: &str) -> Result<(), ApiError> {
        check_username(username)?;
        crate::local::validate::check_name("groupName", group, 128)?;
        self.change(|pool| {
            let now = now_epoch();
            let name = pool
                .directory
                .resolve(username)
                .ok_or_else(|| ApiError::new("UserNotFoundException", "User does not exist."))?;
            pool.directory
                .groups
                .entry(group.to_string())
                .or_insert_with(|| GroupState {
                    name: group.to_string(),
                    description: None,
                    precedence: None,
                    role_arn: None,
                    created: now,
                    modified: now,
                });
            if let Some(user) = pool.directory.users.get_mut(&name) {
                user.groups.insert(group.to_string());
            }
            Ok(())
        })
    }

    fn insert_user(
        &self,
        username: &str,
        password: &str,
        attributes: &[(&str, &str)],
        status: UserStatus,
    ) -> Result<(), ApiError> {
        check_username(username)?;
        let attributes = attribute_map(attributes)?;
        let policy = self
            .shared
            .with_pool(&self.id, |p| p.directory.password_policy.clone())
            .ok_or_else(|| ApiError::not_found(format!("User pool {} does not exist.", self.id)))?;
        policy.check(password)?;
        // Slow on purpose (PBKDF2): outside the state lock.
        let secret = StoredSecret::new(&self.id, username, password);
        let validity_days = f64::from(policy.temporary_password_validity_days);
        self.change(|pool| {
            refuse_existing(pool, username)?;
            let now = now_epoch();
            let temporary = status == UserStatus::ForceChangePassword;
            pool.directory.users.insert(
                username.to_string(),
                UserState {
                    username: username.to_string(),
                    sub: uuid_v4(),
                    attributes,
                    status,
                    enabled: true,
                    secret: Some(secret),
                    temporary_password_expires: temporary.then_some(now + validity_days * 86_400.0),
                    confirmation_code: None,
                    groups: BTreeSet::new(),
                    signed_out_at: None,
                    created: now,
                    modified: now,
                },
            );
            Ok(())
        })
    }
}

fn refuse_existing(pool: &PoolState, username: &str) -> Result<(), ApiError> {
    if pool.directory.find_user(username).is_some() {
        return Err(ApiError::new(
            "UsernameExistsException",
            "User account already exists",
        ));
    }
    Ok(())
}

/// Cognito's `UsernameType`: 1 to 128 characters, no white space or
/// control characters.
fn check_username(username: &str) -> Result<(), ApiError> {
    let ok = !username.is_empty()
        && username.chars().count() <= MAX_USERNAME_LEN
        && !username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    if ok {
        return Ok(());
    }
    Err(constraint(
        "username",
        username,
        "Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
    ))
}

/// The attributes, by name; `sub` cannot be set.
fn attribute_map(attributes: &[(&str, &str)]) -> Result<BTreeMap<String, String>, ApiError> {
    let mut map = BTreeMap::new();
    for (name, value) in attributes {
        if *name == "sub" || name.is_empty() || name.len() > 32 {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid user attribute name: {}",
                name.chars().take(32).collect::<String>()
            )));
        }
        map.insert((*name).to_string(), (*value).to_string());
    }
    Ok(map)
}

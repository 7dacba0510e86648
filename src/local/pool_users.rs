//! In-process conveniences on [`UserPool`] for users and groups, for tests
//! and examples: a confirmed user with a permanent password, a user with a
//! temporary password, group membership. Each is made of the management
//! API's own actions (`AdminCreateUser`, `AdminSetUserPassword`,
//! `CreateGroup`, `AdminAddUserToGroup`), so every rule of those holds.

use serde_json::{Value, json};

use super::error::ApiError;
use super::pool::UserPool;

impl UserPool {
    /// Creates a `CONFIRMED`, enabled user with the permanent `password` and
    /// these attributes (`email`, `email_verified`, `custom:tenant`, ...;
    /// `sub` is generated): `AdminCreateUser` (no message) followed by
    /// `AdminSetUserPassword` with `Permanent`.
    ///
    /// Errors: `InvalidPasswordException` (the pool's policy),
    /// `UsernameExistsException`, `InvalidParameterException`, as those
    /// actions report them; nothing is created when the first one fails.
    pub fn create_user(
        &self,
        username: &str,
        password: &str,
        attributes: &[(&str, &str)],
    ) -> Result<(), ApiError> {
        let created = self.admin_create_user(username, password, attributes)?;
        let name = created["User"]["Username"].as_str().unwrap_or(username);
        self.call(
            "AdminSetUserPassword",
            json!({ "UserPoolId": self.id, "Username": name, "Password": password, "Permanent": true }),
        )?;
        Ok(())
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
        self.admin_create_user(username, password, attributes)
            .map(drop)
    }

    /// Adds a user to a group, creating the group if it does not exist. The
    /// group is then in the user's tokens' `cognito:groups`.
    pub fn add_user_to_group(&self, username: &str, group: &str) -> Result<(), ApiError> {
        let exists = self.call(
            "GetGroup",
            json!({ "UserPoolId": self.id, "GroupName": group }),
        );
        match exists {
            Ok(_) => {}
            Err(e) if e.kind() == "ResourceNotFoundException" => {
                self.call(
                    "CreateGroup",
                    json!({ "UserPoolId": self.id, "GroupName": group }),
                )?;
            }
            Err(e) => return Err(e),
        }
        self.call(
            "AdminAddUserToGroup",
            json!({ "UserPoolId": self.id, "Username": username, "GroupName": group }),
        )?;
        Ok(())
    }

    fn admin_create_user(
        &self,
        username: &str,
        password: &str,
        attributes: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        let attributes: Vec<Value> = attributes
            .iter()
            .map(|(name, value)| json!({ "Name": name, "Value": value }))
            .collect();
        self.call(
            "AdminCreateUser",
            json!({
                "UserPoolId": self.id,
                "Username": username,
                "TemporaryPassword": password,
                "MessageAction": "SUPPRESS",
                "UserAttributes": attributes,
            }),
        )
    }

    fn call(&self, action: &str, input: Value) -> Result<Value, ApiError> {
        self.shared.call(&self.shared.region, action, &input)
    }
}

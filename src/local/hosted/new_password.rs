//! The new-password step of a sign-in with a temporary password
//! (`FORCE_CHANGE_PASSWORD`): a one-use, 3-minute sign-in id in a hidden
//! input (never the old password), the pool's password policy, then the
//! new password stored and the user `CONFIRMED`.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::complete::sign_in_browser;
use super::cookies;
use super::login;
use super::pages::{NewPasswordPage, busy_page, form_page};
use crate::local::authorization::{Authorization, PENDING_LOGIN_SECONDS, PendingLogin, Subject};
use crate::local::error::ApiError;
use crate::local::ids::new_opaque_token;
use crate::local::password::StoredSecret;
use crate::local::shared::Shared;
use crate::local::state::now_epoch;
use crate::local::users::UserStatus;
use crate::sync::lock;

/// The new-password form, with a new pending sign-in (a 503 page when no
/// more can be kept: nothing is evicted).
pub(crate) fn form(
    shared: &Shared,
    authorization: &Authorization,
    user: &Subject,
    query: &str,
    error: Option<&str>,
) -> Response {
    let session = new_opaque_token();
    let pending = PendingLogin {
        pool_id: authorization.pool_id.clone(),
        client_id: authorization.client_id.clone(),
        user: user.clone(),
    };
    let kept = lock(&shared.sessions).pending_logins.try_insert(
        session.clone(),
        pending,
        now_epoch() + PENDING_LOGIN_SECONDS,
    );
    if kept.is_err() {
        return busy_page();
    }
    let csrf = new_opaque_token();
    let action = format!("/login?{query}");
    let mut response = form_page(
        StatusCode::OK,
        &NewPasswordPage {
            action: &action,
            csrf: &csrf,
            session: &session,
            error,
        },
        &authorization.redirect_uri,
    );
    cookies::set(&mut response, cookies::CSRF, &csrf, None);
    response
}

/// The new password posted with the pending sign-in `session`.
pub(crate) async fn submit(
    shared: Arc<Shared>,
    headers: &HeaderMap,
    authorization: Authorization,
    session: &str,
    new_password: Option<&str>,
    query: &str,
) -> Response {
    let pending = lock(&shared.sessions)
        .pending_logins
        .take(session)
        .filter(|p| p.pool_id == authorization.pool_id && p.client_id == authorization.client_id);
    let Some(pending) = pending else {
        return login::form(
            query,
            &authorization.redirect_uri,
            Some("Invalid session for the user, session is expired."),
        );
    };
    let Some(new_password) = new_password else {
        return form(
            &shared,
            &authorization,
            &pending.user,
            query,
            Some("A new password is required."),
        );
    };
    let setting = Arc::clone(&shared);
    let (user, password) = (pending.user.clone(), new_password.to_string());
    let outcome = tokio::task::spawn_blocking(move || set_password(&setting, &pending, &password))
        .await
        .unwrap_or_else(|_| Err(ApiError::internal("the password could not be set")));
    match outcome {
        Ok(()) => sign_in_browser(&shared, headers, authorization, &user),
        Err(e) if e.kind() == "InvalidPasswordException" => {
            form(&shared, &authorization, &user, query, Some(e.message()))
        }
        Err(_) => login::form(
            query,
            &authorization.redirect_uri,
            Some("The password could not be changed. Sign in again."),
        ),
    }
}

/// Checks the policy, hashes outside the lock, stores the password and
/// confirms the user (who must still be the same user, by `sub`, enabled
/// and waiting for a new password).
fn set_password(shared: &Shared, pending: &PendingLogin, password: &str) -> Result<(), ApiError> {
    let policy = lock(&shared.state)
        .pools
        .get(&pending.pool_id)
        .map(|p| p.directory.password_policy.clone())
        .ok_or_else(|| ApiError::not_found("the user pool no longer exists"))?;
    policy.check(password)?;
    let secret = StoredSecret::new(&pending.pool_id, &pending.user.username, password);
    shared.change(|state| {
        let user = state
            .pools
            .get_mut(&pending.pool_id)
            .and_then(|p| p.directory.users.get_mut(&pending.user.username))
            .filter(|u| u.sub == pending.user.sub && u.enabled)
            .filter(|u| u.status == UserStatus::ForceChangePassword)
            .ok_or_else(|| {
                ApiError::new("NotAuthorizedException", "Invalid session for the user.")
            })?;
        user.secret = Some(secret);
        user.status = UserStatus::Confirmed;
        user.temporary_password_expires = None;
        user.modified = now_epoch();
        Ok(())
    })
}

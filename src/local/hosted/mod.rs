//! The hosted sign-in ("managed login") and the browser side of the OAuth
//! 2.0 / OpenID Connect user flows, as Cognito's user-pool endpoints:
//! `/oauth2/authorize`, `/login`, `/logout` and `/oauth2/userInfo`.
//!
//! | file | job |
//! | --- | --- |
//! | `request.rs` | checking an authorization request (every time it comes back) |
//! | `authorize.rs` | `GET /oauth2/authorize` |
//! | `login.rs` | `GET`/`POST /login`: the form, CSRF, the password check |
//! | `new_password.rs` | the new-password step for a temporary password |
//! | `complete.rs` | the code or tokens back at the `redirect_uri`; errors |
//! | `logout.rs` | `GET /logout` |
//! | `userinfo.rs` | `GET`/`POST /oauth2/userInfo` |
//! | `cookies.rs` | the `cognito` session and `XSRF-TOKEN` cookies |
//! | `pages.rs` | the askama templates (`templates/`) and security headers |

mod authorize;
mod complete;
mod cookies;
mod login;
mod logout;
mod new_password;
mod pages;
mod request;
mod userinfo;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use super::shared::Shared;

/// The hosted routes, for the issuer's router.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/oauth2/authorize", get(authorize::authorize))
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", get(logout::logout))
        .route(
            "/oauth2/userInfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
}

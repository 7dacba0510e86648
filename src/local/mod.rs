//! A local, offline, Amazon-Cognito-compatible issuer, for tests, examples
//! and development (feature `issuer`).
//!
//! It speaks the two halves of Cognito that a resource server depends on:
//!
//! - the **management API** (`POST /`, `X-Amz-Target:
//!   AWSCognitoIdentityProviderService.*`, AWS JSON 1.1): user pools, resource
//!   servers with custom scopes, app clients, users and groups, and the
//!   sign-in APIs (`InitiateAuth` with passwords, SRP and refresh tokens,
//!   `RespondToAuthChallenge`, `GetUser`, sign-out), with Cognito's validation
//!   and errors, so that `aws cognito-idp ... --endpoint-url` and the AWS SDKs
//!   work against it unchanged;
//! - the **OAuth 2.0 side**: per pool, the issuer `http://{addr}/{poolId}`, its
//!   JWK Set and OpenID Connect discovery document, and the token endpoint
//!   `POST /oauth2/token` (client credentials, authorization code with PKCE,
//!   refresh token), applying the seed's scope rules, and the hosted sign-in
//!   of the user flows (`/oauth2/authorize`, `/login`, `/logout`,
//!   `/oauth2/userInfo`, `/oauth2/revoke`);
//! - a **web console** at `/console` over the two, with a token workbench
//!   that asks this crate's verifier about a token. The management API, the
//!   `/_local/` endpoints and the console refuse requests from other web
//!   pages (a `Host` other than `localhost`, an IP address or an allowed
//!   name; on writes a foreign `Origin`, cross-site fetch metadata, or a
//!   browser's request without the console's CSRF token).
//!
//! Keys are real (RSA, EC, Ed25519), tokens are signed by
//! `jsonwebtoken`, and faults can be injected into the key-set endpoint
//! (down, slow, 500, garbage, huge or trickled bodies, redirects) while
//! requests are counted.
//!
//! **It is a development tool.** It accepts any AWS signature, has no
//! authentication of its own, and must never face a network.
//!
//! ```
//! use scopegate::local::LocalIssuer;
//! use scopegate::{ResourceServer, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = LocalIssuer::start().await?;
//! let pool = issuer.pool();
//! let photos = ResourceServer::new("https://photos.example.com", "Photo API")
//!     .scope("photos.read", "Read your photos");
//! pool.create_resource_server(&photos)?;
//! let client = pool.create_client("viewer", &["https://photos.example.com/photos.read"])?;
//!
//! // Like a real client: client credentials at the token endpoint.
//! let token = issuer.client_credentials(&client.id, &client.secret, None).await?;
//!
//! let verifier = Verifier::builder(pool.issuer())
//!     .token_use("access")
//!     .client_ids([client.id.as_str()])
//!     .resource_server(photos)
//!     .build()?;
//! let claims = verifier.verify(&token).await?;
//! assert!(claims.has_scope("https://photos.example.com/photos.read"));
//! # Ok(())
//! # }
//! ```
//!
//! # Map of the module
//!
//! | file | job |
//! | --- | --- |
//! | `issuer.rs` | [`LocalIssuer`]: a running issuer, its URLs and shortcuts |
//! | `builder.rs` | [`LocalIssuerBuilder`]: configuring and starting one |
//! | `pool.rs` | [`UserPool`], [`AppClient`]: one pool's resources and keys |
//! | `token.rs` | [`TokenBuilder`]: minting Cognito-shaped tokens directly |
//! | `client.rs` | the client side of the token endpoint |
//! | `error.rs` | [`ApiError`], [`StartError`], [`TokenRequestError`] |
//! | `fault.rs` | [`Fault`]: fault injection in the key-set endpoints |
//! | `shared.rs` | what the server and the handles share; copy-then-commit changes |
//! | `server.rs` | the HTTP server and its routes |
//! | `guard.rs` | keeping other web pages away from the controls: `Host`, `Origin`, fetch metadata, CSRF token |
//! | `html.rs` | the security headers of every HTML page |
//! | `console/` | the web console at `/console`: the page and its embedded assets |
//! | `dev_endpoints.rs` | the `/_local/` endpoints: key rotation and list, messages |
//! | `workbench.rs` | `/_local/{pool}/verify`: the console asks this crate's verifier and layer about a token |
//! | `api/` | the management API's actions, one file per resource |
//! | `validate.rs` | the management API's checks, in Cognito's words |
//! | `oauth/` | the token endpoint (client credentials, authorization code, refresh token) and the revocation endpoint |
//! | `hosted/` | the hosted sign-in and the browser endpoints: authorize, login, logout, userInfo (askama pages) |
//! | `authorization.rs` | what a browser sign-in leaves for the token endpoint: codes, sessions |
//! | `pool_users.rs` | [`UserPool`]'s in-process user helpers (`create_user`, groups) |
//! | `state.rs` | the state: pools, keys, resource servers, clients, and the reads and key rotation on it; no validation |
//! | `persist.rs` | the state file; `stored_directory.rs`: how users, groups and refresh tokens are written in it |
//! | `keys.rs` | [`SigningKey`]: key generation, JWKs, signing |
//! | `srp.rs` | the server side of Cognito's SRP-6a (`USER_SRP_AUTH`): verifiers, `SRP_B`, checking `PASSWORD_CLAIM_SIGNATURE` |
//! | `ids.rs` | random identifiers |
//! | `users.rs` | the user half of a pool: users, groups, refresh tokens, revocations |
//! | `password.rs` | password policy and password hashing |
//! | `user_tokens.rs` | users' access, ID and refresh tokens; checking an access token |
//! | `sign_in.rs` | checking a user's password: lookup, brute-force delay, hash, status |
//! | `sessions.rs` | short-lived, unsaved state: codes, sign-in sessions, messages |

mod api;
mod authorization;
mod builder;
mod client;
mod console;
mod dev_endpoints;
mod error;
mod fault;
mod guard;
mod hosted;
mod html;
mod ids;
mod issuer;
mod keys;
mod oauth;
mod password;
mod persist;
mod pool;
mod pool_users;
mod server;
mod sessions;
mod shared;
mod sign_in;
mod srp;
mod state;
mod stored_directory;
mod token;
mod user_tokens;
mod users;
mod validate;
mod workbench;

pub use builder::LocalIssuerBuilder;
pub use client::UserSignIn;
pub use error::{ApiError, StartError, TokenRequestError};
pub use fault::Fault;
pub use issuer::LocalIssuer;
pub use keys::{KeyError, SigningKey};
pub use persist::StateFileError;
pub use pool::{AppClient, UserPool};
pub use token::TokenBuilder;

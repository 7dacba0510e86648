//! Tokens for users: the access token and ID token of a sign-in, shaped
//! like Cognito's user-flow tokens, opaque refresh tokens, and the check an
//! access token passes at `GetUser` and `/oauth2/userInfo` (signature,
//! expiry, user still there and enabled, not revoked).

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::ids::uuid_v4;
use super::state::{ClientState, PoolState, State};
use super::token::sign_jwt;
use super::users::{RefreshTokenState, UserState};
use crate::Algorithm;

/// What a sign-in grants, for minting its tokens.
pub(crate) struct SignIn<'a> {
    pub(crate) pool: &'a PoolState,
    pub(crate) client: &'a ClientState,
    pub(crate) user: &'a UserState,
    /// The `scope` claim, in order.
    pub(crate) scopes: &'a [String],
    pub(crate) auth_time: u64,
    /// Shared by every token of this sign-in (and its refreshes).
    pub(crate) origin_jti: &'a str,
    /// The OIDC `nonce` of the authorization request.
    pub(crate) nonce: Option<&'a str>,
    /// The RFC 8707 resource: the access token's `aud`.
    pub(crate) resource: Option<&'a str>,
    /// The DPoP key the access token is bound to (`cnf.jkt`).
    pub(crate) dpop_jkt: Option<&'a str>,
}

/// The tokens of a sign-in (the refresh token is made apart).
#[derive(Debug)]
pub(crate) struct UserTokens {
    pub(crate) access_token: String,
    pub(crate) id_token: Option<String>,
    pub(crate) expires_in: u64,
}

/// Signs the access token and, when `with_id_token`, the ID token.
pub(crate) fn mint(
    base_url: &str,
    sign_in: &SignIn<'_>,
    with_id_token: bool,
) -> Option<UserTokens> {
    let key = sign_in.pool.signing_key()?;
    let iat = crate::clock::now_secs();
    let issuer = format!("{base_url}/{}", sign_in.pool.id);
    let event_id = uuid_v4();
    let expires_in = sign_in.client.access_token_seconds();
    let access = access_claims(&issuer, sign_in, &event_id, iat, expires_in);
    let access_token = sign(key, &access)?;
    let id_token = if with_id_token {
        let at_hash = half_hash(key.algorithm(), &access_token);
        let id = id_claims(&issuer, sign_in, &event_id, iat, &at_hash);
        Some(sign(key, &id)?)
    } else {
        None
    };
    Some(UserTokens {
        access_token,
        id_token,
        expires_in,
    })
}

fn sign(key: &super::keys::SigningKey, claims: &Map<String, Value>) -> Option<String> {
    let payload = serde_json::to_vec(claims).ok()?;
    sign_jwt(key, &Map::new(), &[], &payload)
}

fn groups(user: &UserState) -> Option<Value> {
    (!user.groups.is_empty()).then(|| json!(user.groups.iter().collect::<Vec<_>>()))
}

fn access_claims(
    issuer: &str,
    s: &SignIn<'_>,
    event_id: &str,
    iat: u64,
    lifetime: u64,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), json!(s.user.sub));
    if let Some(groups) = groups(s.user) {
        c.insert("cognito:groups".into(), groups);
    }
    c.insert("iss".into(), json!(issuer));
    c.insert("version".into(), json!(2));
    c.insert("client_id".into(), json!(s.client.id));
    c.insert("origin_jti".into(), json!(s.origin_jti));
    c.insert("event_id".into(), json!(event_id));
    c.insert("token_use".into(), json!("access"));
    c.insert("scope".into(), json!(s.scopes.join(" ")));
    c.insert("auth_time".into(), json!(s.auth_time));
    c.insert("exp".into(), json!(iat.saturating_add(lifetime)));
    c.insert("iat".into(), json!(iat));
    c.insert("jti".into(), json!(uuid_v4()));
    c.insert("username".into(), json!(s.user.username));
    if let Some(resource) = s.resource {
        c.insert("aud".into(), json!(resource));
    }
    if let Some(jkt) = s.dpop_jkt {
        c.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    c
}

fn id_claims(
    issuer: &str,
    s: &SignIn<'_>,
    event_id: &str,
    iat: u64,
    at_hash: &str,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("at_hash".into(), json!(at_hash));
    c.insert("sub".into(), json!(s.user.sub));
    if let Some(groups) = groups(s.user) {
        c.insert("cognito:groups".into(), groups);
    }
    for (name, value) in readable_attributes(s.client, s.user) {
        c.insert(name, value);
    }
    c.insert("iss".into(), json!(issuer));
    c.insert("cognito:username".into(), json!(s.user.username));
    if let Some(nonce) = s.nonce {
        c.insert("nonce".into(), json!(nonce));
    }
    c.insert("origin_jti".into(), json!(s.origin_jti));
    c.insert("aud".into(), json!(s.client.id));
    c.insert("event_id".into(), json!(event_id));
    c.insert("token_use".into(), json!("id"));
    c.insert("auth_time".into(), json!(s.auth_time));
    c.insert(
        "exp".into(),
        json!(iat.saturating_add(s.client.id_token_seconds())),
    );
    c.insert("iat".into(), json!(iat));
    c.insert("jti".into(), json!(uuid_v4()));
    c
}

/// The user's attributes the client may read (`ReadAttributes`; all when
/// the client lists none), as claims: `*_verified` as booleans, as Cognito
/// writes them.
pub(crate) fn readable_attributes(client: &ClientState, user: &UserState) -> Vec<(String, Value)> {
    let readable: Option<Vec<&str>> = client
        .config
        .get("ReadAttributes")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect());
    user.attributes
        .iter()
        .filter(|(name, _)| readable.as_ref().is_none_or(|r| r.contains(&name.as_str())))
        .map(|(name, value)| {
            let value = if name.ends_with("_verified") {
                json!(value == "true")
            } else {
                json!(value)
            };
            (name.clone(), value)
        })
        .collect()
}

/// OIDC's `at_hash`: the left half of the access token's hash, with the
/// hash of the ID token's algorithm.
fn half_hash(alg: Algorithm, token: &str) -> String {
    let hash = match alg.as_str() {
        a if a.ends_with("384") => &digest::SHA384,
        a if a.ends_with("512") || a == "EdDSA" => &digest::SHA512,
        _ => &digest::SHA256,
    };
    let d = digest::digest(hash, token.as_bytes());
    let bytes = d.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// A new opaque refresh token, and the key it is stored under.
pub(crate) fn new_refresh_token() -> (String, String) {
    let mut bytes = [0u8; 48];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let key = refresh_key(&token);
    (token, key)
}

/// The key a refresh token is stored under: hex SHA-256 of the token.
pub(crate) fn refresh_key(token: &str) -> String {
    digest::digest(&digest::SHA256, token.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Issues a refresh token for a sign-in and stores it in the pool.
pub(crate) fn store_refresh_token(
    pool: &mut PoolState,
    client: &ClientState,
    username: &str,
    scopes: &[String],
    auth_time: u64,
    origin_jti: &str,
    resource: Option<&str>,
) -> String {
    let (token, key) = new_refresh_token();
    let now = super::state::now_epoch();
    pool.directory.prune(now);
    pool.directory.cap_refresh_tokens(username);
    pool.directory.refresh_tokens.insert(
        key,
        RefreshTokenState {
            client_id: client.id.clone(),
            username: username.to_string(),
            scopes: scopes.to_vec(),
            origin_jti: origin_jti.to_string(),
            auth_time,
            resource: resource.map(str::to_string),
            expires: now + client.refresh_token_seconds() as f64,
            dpop_jkt: None,
        },
    );
    token
}

/// Binds a public client's refresh token to the DPoP key of the request
/// that got it (RFC 9449 §5; a confidential client's stays unbound, as the
/// RFC allows, since its refresh needs the client's secret anyway).
pub(crate) fn bind_refresh_token(
    pool: &mut PoolState,
    client: &ClientState,
    token: &str,
    dpop_jkt: Option<&str>,
) {
    if client.secret.is_some() {
        return;
    }
    if let Some(stored) = pool.directory.refresh_tokens.get_mut(&refresh_key(token)) {
        stored.dpop_jkt = dpop_jkt.map(str::to_string);
    }
}

/// Whether a global sign-out (or disabling) of `user` ends what was issued
/// or signed in at `secs` (whole seconds: a token's `iat`, a sign-in's
/// `auth_time`). Rule: anything of the sign-out's second or earlier is
/// ended (`secs <= floor(signed_out_at)`), so a token minted in the same
/// second just before the sign-out cannot survive it; the price is that a
/// sign-in in the same second just after it is ended too.
pub(crate) fn signed_out_since(user: &UserState, secs: u64) -> bool {
    user.signed_out_at.is_some_and(|t| secs as f64 <= t.floor())
}

/// Why an access token was refused by `GetUser` or `userInfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccessTokenError {
    /// Not a token of this issuer, bad signature, not an access token.
    Invalid,
    Expired,
    /// Revoked: signed out, refresh token revoked, user disabled or gone.
    Revoked,
}

impl AccessTokenError {
    /// Cognito's `NotAuthorizedException` message.
    pub(crate) fn message(self) -> &'static str {
        match self {
            AccessTokenError::Invalid => "Invalid Access Token",
            AccessTokenError::Expired => "Access Token has expired",
            AccessTokenError::Revoked => "Access Token has been revoked",
        }
    }
}

/// A user's access token that passed [`check_access_token`].
pub(crate) struct CheckedAccess<'s> {
    pub(crate) pool: &'s PoolState,
    pub(crate) user: &'s UserState,
    pub(crate) claims: Map<String, Value>,
}

impl CheckedAccess<'_> {
    /// Whether the token's `scope` holds `scope`.
    pub(crate) fn has_scope(&self, scope: &str) -> bool {
        self.claims
            .get("scope")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(' ').any(|x| x == scope))
    }
}

/// Checks a user's access token: signed by a key of one of the pools (found
/// by `kid`), issued by that pool, not expired, `token_use` access, for a
/// user who still exists and is enabled, and not revoked.
pub(crate) fn check_access_token<'s>(
    state: &'s State,
    base_url: &str,
    token: &str,
) -> Result<CheckedAccess<'s>, AccessTokenError> {
    use AccessTokenError::{Expired, Invalid, Revoked};
    if token.len() > 16 * 1024 {
        return Err(Invalid);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| Invalid)?;
    let kid = header.kid.ok_or(Invalid)?;
    let (pool, key) = state
        .pools
        .values()
        .find_map(|p| p.key(&kid).map(|k| (p, k)))
        .ok_or(Invalid)?;
    let claims = verified_claims(key, token)?;
    let now = crate::clock::now_secs();
    let number = |name: &str| claims.get(name).and_then(Value::as_u64);
    if number("exp").is_none_or(|exp| exp <= now) {
        return Err(Expired);
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(format!("{base_url}/{}", pool.id).as_str())
        || text("token_use") != Some("access")
    {
        return Err(Invalid);
    }
    let user = text("username")
        .and_then(|name| pool.directory.users.get(name))
        .filter(|u| Some(u.sub.as_str()) == text("sub"))
        .ok_or(Revoked)?;
    let signed_out = signed_out_since(user, number("iat").unwrap_or(0));
    let revoked = text("origin_jti").is_some_and(|o| pool.directory.is_revoked(o));
    if !user.enabled || signed_out || revoked {
        return Err(Revoked);
    }
    Ok(CheckedAccess { pool, user, claims })
}

/// The claims of a token whose signature `key` made (expiry is checked by
/// the caller, with Cognito's messages).
fn verified_claims(
    key: &super::keys::SigningKey,
    token: &str,
) -> Result<Map<String, Value>, AccessTokenError> {
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(key.public_jwk().clone()).map_err(|_| AccessTokenError::Invalid)?;
    let decoding =
        jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|_| AccessTokenError::Invalid)?;
    let mut validation = jsonwebtoken::Validation::new(key.algorithm().to_jsonwebtoken());
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Map<String, Value>>(token, &decoding, &validation)
        .map(|data| data.claims)
        .map_err(|_| AccessTokenError::Invalid)
}

//! `USER_SRP_AUTH` and its `PASSWORD_VERIFIER` challenge, on the SRP-6a of
//! `srp.rs`. The challenge is kept under its `SECRET_BLOCK` (clients such
//! as pycognito answer without a `Session`), used once, for 3 minutes.

use std::sync::LazyLock;

use aws_lc_rs::hmac;
use serde_json::{Map, Value, json};

use super::auth::{
    CHALLENGE_SECONDS, new_password_challenge, param, too_many_challenges, username_and,
};
use super::tokens;
use crate::local::error::ApiError;
use crate::local::ids::uuid_from;
use crate::local::password::StoredSecret;
use crate::local::sessions::{Challenge, ChallengeKind};
use crate::local::shared::Shared;
use crate::local::sign_in::{SignInError, check_proof};
use crate::local::srp::{self, SrpVerifier};
use crate::local::state::{ClientState, now_epoch};
use crate::local::users::Directory;
use crate::sync::lock;

/// How far `TIMESTAMP` may be from the issuer's clock.
const CLOCK_SKEW_SECONDS: i64 = 300;

/// A key, random for each run of the issuer, for the decoys of unknown
/// users: stable within a run, unguessable from outside.
fn decoy_key() -> &'static hmac::Key {
    static KEY: LazyLock<hmac::Key> = LazyLock::new(|| {
        let mut bytes = [0u8; 32];
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        hmac::Key::new(hmac::HMAC_SHA256, &bytes)
    });
    &KEY
}

/// 32 bytes derived from the decoy key for one purpose, pool and name.
fn decoy_bytes(purpose: &str, pool_id: &str, name: &str) -> Vec<u8> {
    let message = format!("{purpose}\0{pool_id}\0{name}");
    hmac::sign(decoy_key(), message.as_bytes())
        .as_ref()
        .to_vec()
}

/// The name an unknown user's challenge carries, shaped as a real user's:
/// the input as the pool stores names (lower case when names ignore case);
/// in a pool signing in by `UsernameAttributes`, a UUID as real users'
/// names are, the same for each input.
fn decoy_name(directory: &Directory, pool_id: &str, username: &str) -> String {
    let key = directory.key_of(username);
    if directory.username_attributes().is_empty() {
        return key;
    }
    let bytes = decoy_bytes("uuid", pool_id, &key);
    // An HMAC is at least 32 bytes; the first 16 make the UUID.
    let first: [u8; 16] = bytes
        .get(..16)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_default();
    uuid_from(first)
}

/// The verifier of a made-up user `name`: the same salt on every call, and
/// a password nobody knows.
fn decoy_verifier(pool_id: &str, name: &str) -> SrpVerifier {
    let bytes = decoy_bytes("srp", pool_id, name);
    let (salt, password) = bytes.split_at(16);
    let password: String = password.iter().map(|x| format!("{x:02x}")).collect();
    srp::make_verifier_with_salt(salt.to_vec(), pool_id, name, &password)
}

/// A stored secret's SRP verifier, if it has one.
fn stored_verifier(secret: &StoredSecret) -> Option<SrpVerifier> {
    (!secret.srp_verifier.is_empty()).then(|| SrpVerifier {
        salt: secret.srp_salt.clone(),
        verifier: secret.srp_verifier.clone(),
    })
}

/// The stored user name and SRP verifier of `username`; for an unknown
/// user (or one without a verifier), a decoy name and verifier, stable
/// across calls, so that the challenge does not tell who exists (the claim
/// then fails). The decoy is made for every user: the same work either
/// way.
fn verifier_of(shared: &Shared, pool_id: &str, username: &str) -> (String, SrpVerifier) {
    let (found, name) = {
        let state = lock(&shared.state);
        let Some(pool) = state.pools.get(pool_id) else {
            return (username.to_string(), decoy_verifier(pool_id, username));
        };
        let found = pool.directory.find_user(username).and_then(|user| {
            let verifier = stored_verifier(user.secret.as_ref()?)?;
            Some((user.username.clone(), verifier))
        });
        (found, decoy_name(&pool.directory, pool_id, username))
    };
    let decoy = decoy_verifier(pool_id, &name);
    found.unwrap_or((name, decoy))
}

/// InitiateAuth with `USER_SRP_AUTH`: the `PASSWORD_VERIFIER` challenge.
pub(super) fn start(
    shared: &Shared,
    pool_id: &str,
    client: &ClientState,
    params: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let (username, srp_a) = username_and(client, params, "SRP_A")?;
    if srp_a.len() > 1024 || username.len() > 512 {
        return Err(ApiError::invalid_parameter(
            "SRP_A or USERNAME is too long.",
        ));
    }
    let (stored, verifier) = verifier_of(shared, pool_id, username);
    let session = srp::start(&verifier);
    let secret_block = srp::secret_block();
    let out = json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {
            "SALT": srp::salt_hex(&verifier),
            "SECRET_BLOCK": secret_block,
            "SRP_B": session.srp_b_hex(),
            "USERNAME": stored,
            "USER_ID_FOR_SRP": stored,
        },
    });
    let challenge = Challenge {
        pool_id: pool_id.to_string(),
        client_id: client.id.clone(),
        username: stored,
        sub: None,
        kind: ChallengeKind::Srp {
            session,
            srp_a: srp_a.to_string(),
        },
    };
    lock(&shared.sessions)
        .challenges
        .try_insert(secret_block, challenge, now_epoch() + CHALLENGE_SECONDS)
        .map_err(|_| too_many_challenges())?;
    Ok(out)
}

/// RespondToAuthChallenge with `PASSWORD_VERIFIER`: the claim is checked
/// (the challenge is used up either way), then tokens or
/// `NEW_PASSWORD_REQUIRED`.
pub(super) fn verify(
    shared: &Shared,
    client: &ClientState,
    challenge: &Challenge,
    responses: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let ChallengeKind::Srp { session, srp_a } = &challenge.kind else {
        return Err(super::auth::invalid_session());
    };
    let block = param(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    let signature = param(responses, "PASSWORD_CLAIM_SIGNATURE")?;
    let timestamp = param(responses, "TIMESTAMP")?;
    lock(&shared.sessions)
        .challenges
        .take(block)
        .ok_or_else(super::auth::invalid_session)?;
    let fresh = parse_timestamp(timestamp)
        .is_some_and(|t| (t - crate::clock::now_secs() as i64).abs() <= CLOCK_SKEW_SECONDS);
    if !fresh {
        return Err(ApiError::invalid_parameter(
            "TIMESTAMP is not within 5 minutes of the issuer's clock.",
        ));
    }
    let pool_id = &challenge.pool_id;
    let username = &challenge.username;
    // Made for every user, so that an unknown user's claim costs the same.
    let decoy = decoy_verifier(pool_id, username);
    let ok = check_proof(shared, pool_id, username, |secret| {
        let stored = secret.and_then(stored_verifier);
        let known = stored.is_some();
        let verifier = stored.unwrap_or(decoy);
        let proved = srp::verify_claim(
            &verifier, session, srp_a, pool_id, username, block, timestamp, signature,
        );
        proved && known
    })
    .map_err(SignInError::api_error)?;
    if ok.must_change {
        return new_password_challenge(shared, pool_id, client, &ok.user);
    }
    tokens::issue(shared, pool_id, &client.id, &ok.user.username, |_| Ok(()))
}

/// `TIMESTAMP` as the clients write it (`Wed Dec 2 03:04:05 UTC 2026`), in
/// seconds since the epoch.
fn parse_timestamp(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, month, day, time, "UTC", year] = parts.as_slice() else {
        return None;
    };
    let month = i64::try_from(MONTHS.iter().position(|m| m == month)? + 1).ok()?;
    let day: i64 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: i64 = year.parse().ok().filter(|y| (1970..=9999).contains(y))?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    if !(0..24).contains(h) || !(0..60).contains(m) || !(0..61).contains(s) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_as_the_clients_write_them() {
        assert_eq!(parse_timestamp("Thu Jan 1 00:00:00 UTC 1970"), Some(0));
        assert_eq!(
            parse_timestamp("Wed Dec 2 03:04:05 UTC 2026"),
            Some(1_796_180_645)
        );
        assert_eq!(
            parse_timestamp("Tue Feb 29 12:00:00 UTC 2028"),
            Some(1_835_438_400)
        );
        for bad in [
            "",
            "Wed Dec 2 03:04:05 GMT 2026",
            "Wed Foo 2 03:04:05 UTC 2026",
            "Wed Dec 2 25:04:05 UTC 2026",
            "Wed Dec 2 03:04 UTC 2026",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}

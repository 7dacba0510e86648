//! `[issuer]`, or each `[[issuers]]` table, to a [`TrustedIssuer`]: where
//! the keys come from, which algorithms and audiences are accepted, and how
//! the key set is cached.

use std::time::Duration;

use toml::Spanned;

use super::locate::{ConfigFileError, Source};
use super::schema::RawIssuer;
use super::values::{bounded_duration, duration};
use crate::{Algorithm, Issuer, TrustedIssuer, UnknownAlgorithm};

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

/// One issuer table and the key that names it in errors: `issuer`, or
/// `issuers[N]`.
pub(super) struct Table<'a> {
    pub(super) key: String,
    pub(super) raw: &'a Spanned<RawIssuer>,
}

impl Table<'_> {
    /// `table.member`, for an error about one member.
    fn member(&self, member: &str) -> String {
        format!("{}.{member}", self.key)
    }
}

/// The issuer of one table, and whether it accepts any audience.
/// `resource_is_audience`: a `[resource_metadata]` table is present, whose
/// resource is then the `aud` allow-list if no other list is given.
pub(super) fn issuer(
    src: &Source<'_>,
    table: &Table<'_>,
    resource_is_audience: bool,
) -> Result<(TrustedIssuer, bool), ConfigFileError> {
    let raw = table.raw.get_ref();
    let mut issuer = TrustedIssuer::new(source(src, table)?);
    if let Some(token_use) = &raw.token_use {
        issuer = issuer.token_use(token_use.get_ref().clone());
    }
    if let Some(algorithms) = &raw.algorithms {
        let key = table.member("algorithms");
        issuer = issuer.algorithms(self::algorithms(src, &key, algorithms)?);
    }
    let (mut issuer, any_audience) = audiences(src, table, issuer, resource_is_audience)?;
    if let Some(leeway) = &raw.leeway {
        let d = duration(leeway.get_ref()).ok_or_else(|| {
            src.error(
                Some(&leeway.span()),
                table.member("leeway"),
                format!("{:?} is not a duration like \"60s\"", leeway.get_ref()),
            )
        })?;
        issuer = issuer.leeway(d);
    }
    if raw.require_at_jwt == Some(true) {
        issuer = issuer.require_at_jwt();
    }
    Ok((key_set(src, table, issuer)?, any_audience))
}

/// Cognito, or an issuer URL with or without an explicit JWKS URL.
fn source(src: &Source<'_>, table: &Table<'_>) -> Result<Issuer, ConfigFileError> {
    let raw = table.raw.get_ref();
    match (&raw.cognito, &raw.url, &raw.jwks_url) {
        (Some(cognito), None, None) => {
            let c = cognito.get_ref();
            Ok(Issuer::cognito(c.region.clone(), c.user_pool_id.clone()))
        }
        (Some(cognito), _, _) => Err(src.error(
            Some(&cognito.span()),
            table.member("cognito"),
            "give either `cognito = { region, user_pool_id }` or `url` (and `jwks_url`), not both",
        )),
        (None, Some(url), Some(jwks)) => Ok(Issuer::with_jwks_url(
            url.get_ref().clone(),
            jwks.get_ref().clone(),
        )),
        (None, Some(url), None) => Ok(Issuer::discover(url.get_ref().clone())),
        (None, None, Some(jwks)) => Err(src.error(
            Some(&jwks.span()),
            table.member("jwks_url"),
            "`jwks_url` needs `url`, the exact `iss` of the tokens",
        )),
        (None, None, None) => Err(src.error(
            Some(&table.raw.span()),
            table.key.clone(),
            "give `cognito = { region, user_pool_id }` or `url`",
        )),
    }
}

/// A list of algorithm names at `key`.
pub(super) fn algorithms(
    src: &Source<'_>,
    key: &str,
    names: &Spanned<Vec<Spanned<String>>>,
) -> Result<Vec<Algorithm>, ConfigFileError> {
    names
        .get_ref()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            name.get_ref().parse().map_err(|e: UnknownAlgorithm| {
                src.error(
                    Some(&name.span()),
                    format!("{key}[{i}]"),
                    format!("{:?} is {e}", name.get_ref()),
                )
            })
        })
        .collect()
}

/// `client_ids` and `audiences`; without either, only with a
/// `[resource_metadata]` resource (then the `aud` allow-list) or an explicit
/// `allow_any_audience = true`.
fn audiences(
    src: &Source<'_>,
    table: &Table<'_>,
    mut builder: TrustedIssuer,
    resource_is_audience: bool,
) -> Result<(TrustedIssuer, bool), ConfigFileError> {
    let raw = table.raw.get_ref();
    let mut any_audience = true;
    if let Some(ids) = &raw.client_ids {
        builder = builder.client_ids(ids.get_ref().clone());
        any_audience = false;
    }
    if let Some(audiences) = &raw.audiences {
        builder = builder.audiences(audiences.get_ref().clone());
        any_audience = false;
    }
    match (any_audience, raw.allow_any_audience) {
        (true, Some(true)) => builder = builder.with_insecure_any_audience(),
        (true, _) if resource_is_audience => any_audience = false,
        (true, _) => {
            return Err(src.error(
                Some(&table.raw.span()),
                table.key.clone(),
                "no client_ids or audiences: tokens minted for any client of the issuer would be accepted; list them, or set allow_any_audience = true",
            ));
        }
        (false, _) => {}
    }
    Ok((builder, any_audience))
}

/// `key_set_ttl`, `key_set_max_stale` and `unknown_kid_cooldown`.
fn key_set(
    src: &Source<'_>,
    table: &Table<'_>,
    mut builder: TrustedIssuer,
) -> Result<TrustedIssuer, ConfigFileError> {
    let raw = table.raw.get_ref();
    if let Some(ttl) = &raw.key_set_ttl {
        let ttl = bounded_duration(
            src,
            &table.member("key_set_ttl"),
            ttl,
            Duration::from_secs(1),
            DAY,
        )?;
        // A short TTL also lets a short `Cache-Control: max-age` through.
        builder = builder
            .key_set_ttl(ttl)
            .key_set_ttl_bounds(ttl.min(MINUTE), DAY);
    }
    if let Some(stale) = &raw.key_set_max_stale {
        let stale = bounded_duration(
            src,
            &table.member("key_set_max_stale"),
            stale,
            Duration::ZERO,
            7 * DAY,
        )?;
        builder = builder.key_set_max_stale(stale);
    }
    if let Some(cooldown) = &raw.unknown_kid_cooldown {
        let cooldown = bounded_duration(
            src,
            &table.member("unknown_kid_cooldown"),
            cooldown,
            Duration::from_secs(1),
            Duration::from_secs(3600),
        )?;
        builder = builder.unknown_kid_cooldown(cooldown);
    }
    Ok(builder)
}

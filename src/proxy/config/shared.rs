//! `[shared]`: the Redis store every replica shares (used DPoP proof ids,
//! revocations), checked here; connected on first use.

use super::locate::{ConfigFileError, Source};
use super::schema::RawConfig;

#[cfg(feature = "redis")]
pub(super) type Store = crate::shared::RedisStore;
#[cfg(not(feature = "redis"))]
pub(super) type Store = std::convert::Infallible;

/// The store of `[shared]`, if given.
pub(super) fn store(src: &Source<'_>, raw: &RawConfig) -> Result<Option<Store>, ConfigFileError> {
    let Some(table) = &raw.shared else {
        return Ok(None);
    };
    #[cfg(feature = "redis")]
    {
        redis_store(src, table.get_ref()).map(Some)
    }
    #[cfg(not(feature = "redis"))]
    {
        Err(src.error(
            Some(&table.span()),
            "shared",
            "needs scopegate built with the `redis` feature",
        ))
    }
}

#[cfg(feature = "redis")]
fn redis_store(
    src: &Source<'_>,
    shared: &super::schema::RawShared,
) -> Result<Store, ConfigFileError> {
    use std::time::Duration;

    use super::values::bounded_duration;
    use crate::shared::{RedisOptions, RedisStore, StalePolicy};

    let url = shared.redis_url.get_ref();
    if !["redis://", "rediss://", "unix://", "redis+unix://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return Err(src.error(
            Some(&shared.redis_url.span()),
            "shared.redis_url",
            "must start with redis://, rediss:// (TLS) or unix://",
        ));
    }
    let mut options = RedisOptions::default();
    if let Some(prefix) = &shared.key_prefix {
        if prefix.get_ref().is_empty() || prefix.get_ref().len() > 64 {
            return Err(src.error(
                Some(&prefix.span()),
                "shared.key_prefix",
                "must be 1 to 64 characters",
            ));
        }
        options = options.key_prefix(prefix.get_ref().clone());
    }
    if let Some(timeout) = &shared.timeout {
        let d = bounded_duration(
            src,
            "shared.timeout",
            timeout,
            Duration::from_millis(10),
            Duration::from_secs(10),
        )?;
        options = options.timeout(d);
    }
    if let Some(stale) = &shared.revocations_max_stale {
        let d = bounded_duration(
            src,
            "shared.revocations_max_stale",
            stale,
            Duration::from_secs(1),
            Duration::from_secs(86_400),
        )?;
        options = options.max_stale(d);
    }
    if let Some(policy) = &shared.revocations_when_stale {
        let policy = match policy.get_ref().as_str() {
            "refuse" => StalePolicy::Refuse,
            "serve" => StalePolicy::Serve,
            other => {
                return Err(src.error(
                    Some(&policy.span()),
                    "shared.revocations_when_stale",
                    format!("{other:?} is not \"refuse\" or \"serve\""),
                ));
            }
        };
        options = options.when_stale(policy);
    }
    // The URL may hold a password: the error names the key, not the value.
    RedisStore::open(url, options).map_err(|e| {
        src.error(
            Some(&shared.redis_url.span()),
            "shared.redis_url",
            e.to_string(),
        )
    })
}

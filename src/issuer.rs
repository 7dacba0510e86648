//! Who issues the tokens, and where their keys come from.

use std::fmt;
use std::sync::Arc;

use crate::error::{ConfigError, ConfigErrorKind};

/// The authorization server whose access tokens a [`Verifier`](crate::Verifier)
/// accepts: its exact `iss` value, where its keys come from, and the defaults
/// that go with it.
///
/// | constructor | `iss` | keys | defaults |
/// | --- | --- | --- | --- |
/// | [`cognito`](Issuer::cognito) | `https://cognito-idp.{region}.amazonaws.com/{pool}` | `{iss}/.well-known/jwks.json` | `RS256` only, `token_use = "access"`, a `client_id` allow-list required |
/// | [`discover`](Issuer::discover) | as given | `jwks_uri` of `{iss}/.well-known/openid-configuration` | all asymmetric algorithms |
/// | [`with_jwks_url`](Issuer::with_jwks_url) | as given | the given URL | all asymmetric algorithms |
/// | [`with_static_jwks`](Issuer::with_static_jwks) | as given | the given JWK Set, never fetched | all asymmetric algorithms |
#[derive(Clone)]
pub struct Issuer {
    pub(crate) url: String,
    pub(crate) keys: KeySource,
    pub(crate) preset: Preset,
}

#[derive(Clone)]
pub(crate) enum KeySource {
    Discovery,
    JwksUrl(String),
    Static(Arc<str>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Preset {
    Generic,
    Cognito {
        region: String,
        user_pool_id: String,
    },
}

impl Issuer {
    /// An Amazon Cognito user pool. Its access tokens are RS256, carry
    /// `token_use = "access"` and no `aud`, so the verifier needs a
    /// `client_id` allow-list ([`VerifierBuilder::client_ids`](crate::VerifierBuilder::client_ids)).
    ///
    /// The region and pool id are checked when the verifier is built: the
    /// pool id must look like `us-east-1_AbC123` and start with the region.
    pub fn cognito(region: impl Into<String>, user_pool_id: impl Into<String>) -> Issuer {
        let region = region.into();
        let user_pool_id = user_pool_id.into();
        let url = format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}");
        Issuer {
            keys: KeySource::JwksUrl(format!("{url}/.well-known/jwks.json")),
            url,
            preset: Preset::Cognito {
                region,
                user_pool_id,
            },
        }
    }

    /// Any OpenID Connect issuer: the key-set URL is read from
    /// `{issuer}/.well-known/openid-configuration`, whose `issuer` must equal
    /// this one exactly.
    pub fn discover(issuer: impl Into<String>) -> Issuer {
        Issuer {
            url: issuer.into(),
            keys: KeySource::Discovery,
            preset: Preset::Generic,
        }
    }

    /// An issuer whose key set is at a known URL.
    pub fn with_jwks_url(issuer: impl Into<String>, jwks_url: impl Into<String>) -> Issuer {
        Issuer {
            url: issuer.into(),
            keys: KeySource::JwksUrl(jwks_url.into()),
            preset: Preset::Generic,
        }
    }

    /// An issuer with a fixed JWK Set document, never fetched: for offline
    /// use and tests. The document is read when the verifier is built, and
    /// must hold at least one usable key.
    pub fn with_static_jwks(issuer: impl Into<String>, jwks_json: impl Into<String>) -> Issuer {
        Issuer {
            url: issuer.into(),
            keys: KeySource::Static(jwks_json.into().into()),
            preset: Preset::Generic,
        }
    }

    /// The exact `iss` value tokens must carry.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The discovery document's URL (OpenID Connect Discovery §4: a
    /// terminating `/` of the issuer is removed first).
    pub(crate) fn discovery_url(&self) -> String {
        format!(
            "{}/.well-known/openid-configuration",
            self.url.trim_end_matches('/')
        )
    }

    pub(crate) fn is_cognito(&self) -> bool {
        matches!(self.preset, Preset::Cognito { .. })
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.url.is_empty() {
            return Err(ConfigError::new(
                ConfigErrorKind::InvalidIssuer,
                "the issuer must not be empty",
            ));
        }
        if let Preset::Cognito {
            region,
            user_pool_id,
        } = &self.preset
        {
            check_cognito(region, user_pool_id)?;
        }
        Ok(())
    }
}

/// Cognito regions look like `us-east-1` or `us-gov-west-1`; pool ids like
/// `us-east-1_AbC123`.
fn check_cognito(region: &str, user_pool_id: &str) -> Result<(), ConfigError> {
    let region_ok = {
        let parts: Vec<&str> = region.split('-').collect();
        parts.len() >= 3
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty()
    };
    if !region_ok {
        return Err(ConfigError::new(
            ConfigErrorKind::InvalidIssuer,
            format!("{region:?} is not an AWS region (expected something like \"us-east-1\")"),
        ));
    }
    let pool_ok = user_pool_id.split_once('_').is_some_and(|(prefix, id)| {
        prefix == region && !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if !pool_ok {
        return Err(ConfigError::new(
            ConfigErrorKind::InvalidIssuer,
            format!(
                "{user_pool_id:?} is not a user pool id of {region} (expected something like \"{region}_AbC123\")"
            ),
        ));
    }
    Ok(())
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = match &self.keys {
            KeySource::Discovery => "discovery".to_string(),
            KeySource::JwksUrl(url) => url.clone(),
            KeySource::Static(_) => "static".to_string(),
        };
        f.debug_struct("Issuer")
            .field("url", &self.url)
            .field("keys", &keys)
            .field("cognito", &self.is_cognito())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cognito_urls() {
        let issuer = Issuer::cognito("eu-west-1", "eu-west-1_AbC123");
        assert_eq!(
            issuer.url(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert!(
            matches!(&issuer.keys, KeySource::JwksUrl(u) if u == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json")
        );
        assert!(issuer.validate().is_ok());
        assert!(
            Issuer::cognito("us-gov-west-1", "us-gov-west-1_x1")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn cognito_ids_are_checked() {
        for (region, pool) in [
            ("us-east-1", "eu-west-1_AbC123"),
            ("us-east-1", "us-east-1_"),
            ("us-east-1", "us-east-1_a/b"),
            ("us-east-1", "us-east-1"),
            ("US-EAST-1", "US-EAST-1_abc"),
            ("us-east", "us-east_abc"),
            ("evil.com/x", "evil.com/x_abc"),
            ("", "_abc"),
        ] {
            assert!(
                Issuer::cognito(region, pool).validate().is_err(),
                "{region} {pool}"
            );
        }
    }

    #[test]
    fn discovery_url_drops_a_trailing_slash() {
        assert_eq!(
            Issuer::discover("https://a.example/tenant/").discovery_url(),
            "https://a.example/tenant/.well-known/openid-configuration"
        );
    }
}

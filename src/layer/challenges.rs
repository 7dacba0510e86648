//! The `WWW-Authenticate` challenges of a route (RFC 6750 §3, RFC 9449
//! §7.1), computed once when the route is built, and the choice of the ones
//! a rejection carries.

use http::HeaderValue;

use super::rejection::RejectionKind;
use crate::dpop::DpopMode;
use crate::scope::Scope;
use crate::verifier::Verifier;

/// The scheme a request used, or is answered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    Bearer,
    Dpop,
}

/// A route's challenges: the `Bearer` ones, and the `DPoP` ones when the
/// verifier takes DPoP.
#[derive(Clone)]
pub(crate) struct Challenges {
    bearer: SchemeChallenges,
    dpop: Option<DpopChallenges>,
}

/// One scheme's challenges.
#[derive(Clone)]
struct SchemeChallenges {
    missing: HeaderValue,
    /// A missing group or a custom check's denial (403, no error code).
    forbidden: HeaderValue,
    invalid_request: HeaderValue,
    invalid_token: HeaderValue,
    insufficient_scope: HeaderValue,
}

#[derive(Clone)]
struct DpopChallenges {
    mode: DpopMode,
    scheme: SchemeChallenges,
    invalid_proof: HeaderValue,
    use_nonce: HeaderValue,
}

impl Challenges {
    /// The challenges of a route requiring `scopes`; with protected-resource
    /// metadata (RFC 9728 §5.1), 401 and 403 challenges name its URL, and
    /// 401 challenges also the route's scopes (as MCP's authorization spec
    /// asks). `DPoP` challenges carry the proof algorithms (`algs`).
    pub(crate) fn new(verifier: &Verifier, scopes: &[Scope], mode: Option<DpopMode>) -> Self {
        let realm = verifier.realm();
        let metadata = verifier.resource_metadata().map(|m| m.url());
        let scopes = scopes
            .iter()
            .map(Scope::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        let bearer = SchemeChallenges::new("Bearer", realm, &scopes, metadata, "");
        let dpop = verifier.dpop().zip(mode).map(|(dpop, mode)| {
            let algs = format!(", algs=\"{}\"", dpop.algs());
            DpopChallenges {
                mode,
                scheme: SchemeChallenges::new("DPoP", realm, &scopes, metadata, &algs),
                invalid_proof: challenge(format!(
                    "DPoP realm=\"{realm}\", error=\"invalid_dpop_proof\"{algs}"
                )),
                use_nonce: challenge(format!(
                    "DPoP realm=\"{realm}\", error=\"use_dpop_nonce\", \
                     error_description=\"Resource server requires nonce in DPoP proof\"{algs}"
                )),
            }
        });
        Challenges { bearer, dpop }
    }

    /// The challenge for `kind`, in the scheme the request used (`DPoP`
    /// where only DPoP is taken); for a 401, also the other scheme's plain
    /// challenge when the route takes both (RFC 9449 §7.2).
    pub(crate) fn of(
        &self,
        kind: RejectionKind,
        scheme: Scheme,
    ) -> (Option<HeaderValue>, Option<HeaderValue>) {
        let dpop = self.dpop.as_ref();
        let in_dpop = dpop.is_some_and(|d| scheme == Scheme::Dpop || d.mode == DpopMode::Required);
        let set = match dpop {
            Some(d) if in_dpop => &d.scheme,
            _ => &self.bearer,
        };
        let primary = match kind {
            RejectionKind::MissingCredentials | RejectionKind::BearerNotAllowed => {
                Some(&set.missing)
            }
            // A bare challenge: RFC 6750 has no code for a missing group or
            // a policy's refusal, and `insufficient_scope` would send the
            // client off for scopes that cannot help.
            RejectionKind::MissingGroup | RejectionKind::Denied => Some(&set.forbidden),
            RejectionKind::InvalidRequest(_) => Some(&set.invalid_request),
            RejectionKind::InvalidToken(_) => Some(&set.invalid_token),
            RejectionKind::InsufficientScope => Some(&set.insufficient_scope),
            RejectionKind::InvalidDpopProof(_) => dpop.map(|d| &d.invalid_proof),
            RejectionKind::UseDpopNonce => dpop.map(|d| &d.use_nonce),
            // 503s carry none; a too-old authentication carries its check's.
            _ => None,
        };
        let second = match dpop {
            _ if primary.is_none() || kind.status() != http::StatusCode::UNAUTHORIZED => None,
            Some(d) if !in_dpop => Some(&d.scheme.missing),
            Some(d) if d.mode == DpopMode::Allowed => Some(&self.bearer.missing),
            _ => None,
        };
        (primary.cloned(), second.cloned())
    }
}

impl SchemeChallenges {
    /// `extra` ends every challenge (`, algs="..."` for DPoP).
    fn new(
        scheme: &str,
        realm: &str,
        scopes: &str,
        metadata_url: Option<&str>,
        extra: &str,
    ) -> SchemeChallenges {
        // What 403 and what 401 challenges add.
        let (forbidden_extra, unauthorized_extra) = match metadata_url {
            Some(url) if scopes.is_empty() => (
                format!(", resource_metadata=\"{url}\""),
                format!(", resource_metadata=\"{url}\""),
            ),
            Some(url) => (
                format!(", resource_metadata=\"{url}\""),
                format!(", resource_metadata=\"{url}\", scope=\"{scopes}\""),
            ),
            None => (String::new(), String::new()),
        };
        let start = format!("{scheme} realm=\"{realm}\"");
        SchemeChallenges {
            missing: challenge(format!("{start}{unauthorized_extra}{extra}")),
            forbidden: challenge(format!("{start}{forbidden_extra}{extra}")),
            invalid_request: challenge(format!("{start}, error=\"invalid_request\"{extra}")),
            invalid_token: challenge(format!(
                "{start}, error=\"invalid_token\"{unauthorized_extra}{extra}"
            )),
            insufficient_scope: challenge(format!(
                "{start}, error=\"insufficient_scope\", scope=\"{scopes}\"{forbidden_extra}{extra}"
            )),
        }
    }
}

/// A challenge header value. The builder checked the realm, and the scope
/// parser the scopes, to be visible ASCII without quotes or backslashes, so
/// the fallback (a bare `Bearer`, still a valid challenge) is never used.
fn challenge(value: String) -> HeaderValue {
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

//! `[[routes]]` to [`Route`]s: each path and method list parsed, each
//! requirement (scopes, then `groups` and `max_token_age`) turned into the
//! layer it needs, and routes that can never match (shadowed, or differing
//! only by case) refused.

use std::ops::Range;
use std::time::Duration;

use http::Method;
use toml::Spanned;

use super::locate::{ConfigFileError, Source};
use super::schema::RawRoute;
use super::values::bounded_duration;
use crate::proxy::routes::{Methods, PathPattern};
use crate::{ConfigError, ScopeGateLayer, Verifier};

/// What a route lets through.
#[derive(Clone, Debug)]
pub(crate) enum Access {
    /// No token needed.
    Public,
    /// The layer, with the route's requirement.
    Gated(ScopeGateLayer),
}

/// One `[[routes]]` entry, checked: its methods, its path and what it lets
/// through; `index` is its place in the file (for logs and metrics).
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub(crate) index: usize,
    pub(crate) methods: Methods,
    pub(crate) path: PathPattern,
    pub(crate) access: Access,
    /// Whether WebSocket upgrades are relayed (`websocket`, default true).
    pub(crate) websocket: bool,
}

pub(super) fn routes(
    src: &Source<'_>,
    raw: &[Spanned<RawRoute>],
    verifier: &Verifier,
) -> Result<Vec<Route>, ConfigFileError> {
    if raw.is_empty() {
        return Err(ConfigFileError::unlocated(
            src.file,
            Some("routes"),
            "no [[routes]]: every request would be refused",
        ));
    }
    let mut routes: Vec<Route> = Vec::new();
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (i, spanned) in raw.iter().enumerate() {
        let span = spanned.span();
        let route = route(src, i, spanned, verifier)?;
        reachable(src, &routes, &spans, &route, &span)?;
        routes.push(route);
        spans.push(span);
    }
    Ok(routes)
}

/// `routes[i]` on its own.
fn route(
    src: &Source<'_>,
    i: usize,
    spanned: &Spanned<RawRoute>,
    verifier: &Verifier,
) -> Result<Route, ConfigFileError> {
    let r = spanned.get_ref();
    let path = PathPattern::parse(r.path.get_ref()).map_err(|e| {
        src.error(
            Some(&r.path.span()),
            format!("routes[{i}].path"),
            format!("{:?}: {e}", r.path.get_ref()),
        )
    })?;
    let methods = methods(src, i, r.methods.as_ref())?;
    let access = access(src, i, &spanned.span(), r, verifier)?;
    Ok(Route {
        index: i,
        methods,
        path,
        access,
        websocket: r.websocket.as_ref().is_none_or(|w| *w.get_ref()),
    })
}

fn methods(
    src: &Source<'_>,
    i: usize,
    list: Option<&Spanned<Vec<Spanned<String>>>>,
) -> Result<Methods, ConfigFileError> {
    let Some(list) = list else {
        return Ok(Methods(None));
    };
    if list.get_ref().is_empty() {
        return Err(src.error(
            Some(&list.span()),
            format!("routes[{i}].methods"),
            "an empty list matches nothing; leave `methods` out for any method",
        ));
    }
    let methods = list
        .get_ref()
        .iter()
        .enumerate()
        .map(|(j, m)| {
            let upper = m.get_ref().to_ascii_uppercase();
            Method::from_bytes(upper.as_bytes()).map_err(|_| {
                src.error(
                    Some(&m.span()),
                    format!("routes[{i}].methods[{j}]"),
                    format!("{:?} is not an HTTP method", m.get_ref()),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Methods(Some(methods)))
}

/// The longest `max_token_age`: a year (a refreshed Cognito token keeps the
/// `auth_time` of its sign-in, and refresh tokens may live years).
const MAX_TOKEN_AGE_LIMIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// One of `require`, `any_of` or `public = true`; none means any valid token.
/// Then, on a gated route, `groups` and `max_token_age`.
fn access(
    src: &Source<'_>,
    i: usize,
    span: &Range<usize>,
    r: &RawRoute,
    verifier: &Verifier,
) -> Result<Access, ConfigFileError> {
    let public = r.public.as_ref().is_some_and(|p| *p.get_ref());
    let chosen = [r.require.is_some(), r.any_of.is_some(), public]
        .iter()
        .filter(|x| **x)
        .count();
    if chosen > 1 {
        return Err(src.error(
            Some(span),
            format!("routes[{i}]"),
            "give one of `require`, `any_of` or `public = true`",
        ));
    }
    let gated = |key: &str, list: &Spanned<Vec<String>>, layer: Result<_, ConfigError>| {
        layer.map_err(|e| src.config_error(&list.span(), &format!("routes[{i}].{key}"), e))
    };
    if public {
        if let Some(dpop) = &r.dpop {
            return Err(src.error(
                Some(&dpop.span()),
                format!("routes[{i}].dpop"),
                "a public route checks no token; leave out `public = true` to take DPoP",
            ));
        }
        return match (&r.groups, &r.max_token_age) {
            (None, None) => Ok(Access::Public),
            (Some(list), _) => Err(src.error(
                Some(&list.span()),
                format!("routes[{i}].groups"),
                "a public route checks no token; leave out `public = true` to require groups",
            )),
            (None, Some(age)) => Err(src.error(
                Some(&age.span()),
                format!("routes[{i}].max_token_age"),
                "a public route checks no token; leave out `public = true` to limit the token's age",
            )),
        };
    }
    let mut layer = if let Some(list) = &r.require {
        gated("require", list, verifier.require_all(list.get_ref()))?
    } else if let Some(list) = &r.any_of {
        gated("any_of", list, verifier.require_any(list.get_ref()))?
    } else {
        verifier.authenticated()
    };
    if let Some(list) = &r.groups {
        layer = gated("groups", list, layer.in_any_group(list.get_ref()))?;
    }
    if let Some(age) = &r.max_token_age {
        let key = format!("routes[{i}].max_token_age");
        let max = bounded_duration(src, &key, age, Duration::from_secs(1), MAX_TOKEN_AGE_LIMIT)?;
        layer = layer.max_token_age(max);
    }
    if let Some(value) = &r.dpop {
        let key = format!("routes[{i}].dpop");
        let mode = super::dpop::mode(src, &key, value)?;
        layer = layer
            .dpop(mode)
            .map_err(|_| src.error(Some(&value.span()), key, "needs a [dpop] table"))?;
    }
    Ok(Access::Gated(layer))
}

/// Refuses a route that an earlier one shadows, or whose path differs from
/// an earlier one only by case.
fn reachable(
    src: &Source<'_>,
    earlier: &[Route],
    spans: &[Range<usize>],
    route: &Route,
    span: &Range<usize>,
) -> Result<(), ConfigFileError> {
    let i = route.index;
    if let Some(j) = earlier
        .iter()
        .position(|e| e.methods.covers(&route.methods) && e.path.covers(&route.path))
    {
        return Err(src.error(
            Some(span),
            format!("routes[{i}]"),
            format!(
                "can never match: routes[{j}] (line {}) comes first and matches every request it would",
                src.line(&spans[j]),
            ),
        ));
    }
    if let Some(j) = earlier.iter().position(|e| {
        e.path.source() != route.path.source()
            && e.path.source().eq_ignore_ascii_case(route.path.source())
    }) {
        return Err(src.error(
            Some(span),
            format!("routes[{i}].path"),
            format!(
                "differs from routes[{j}] (line {}) only by case; an upstream that ignores case would mix them up",
                src.line(&spans[j]),
            ),
        ));
    }
    Ok(())
}

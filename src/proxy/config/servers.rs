//! The resource servers the verifier knows: those declared in
//! `[[resource_servers]]`, or, when none are, one per identifier that the
//! routes name (so that only the syntax of scopes is checked).

use std::collections::BTreeMap;

use toml::Spanned;

use super::locate::{ConfigFileError, Source};
use super::schema::{RawResourceServer, RawRoute};
use crate::{ResourceServer, Scope};

/// The declared resource servers, or those derived from the routes.
pub(super) fn resource_servers(
    src: &Source<'_>,
    declared: &[Spanned<RawResourceServer>],
    routes: &[Spanned<RawRoute>],
) -> Result<Vec<ResourceServer>, ConfigFileError> {
    if declared.is_empty() {
        return derived(src, routes);
    }
    declared
        .iter()
        .enumerate()
        .map(|(i, rs)| {
            let server = declared_server(rs.get_ref());
            server
                .validate()
                .map_err(|e| src.config_error(&rs.span(), &format!("resource_servers[{i}]"), e))?;
            Ok(server)
        })
        .collect()
}

fn declared_server(rs: &RawResourceServer) -> ResourceServer {
    let name = rs.name.clone().unwrap_or_else(|| "API".into());
    rs.scopes
        .iter()
        .fold(ResourceServer::new(rs.identifier.clone(), name), |s, n| {
            s.scope(n.clone(), n.clone())
        })
}

/// Without `[[resource_servers]]`, one resource server per identifier used by
/// the routes, defining exactly the names used.
fn derived(
    src: &Source<'_>,
    routes: &[Spanned<RawRoute>],
) -> Result<Vec<ResourceServer>, ConfigFileError> {
    let mut by_identifier: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, route) in routes.iter().enumerate() {
        let r = route.get_ref();
        for (key, list) in [("require", &r.require), ("any_of", &r.any_of)] {
            let Some(list) = list else { continue };
            for (j, full) in list.get_ref().iter().enumerate() {
                let scope = Scope::parse(full).map_err(|e| {
                    src.config_error(&list.span(), &format!("routes[{i}].{key}[{j}]"), e)
                })?;
                let names = by_identifier
                    .entry(scope.identifier().to_string())
                    .or_default();
                if !names.iter().any(|n| n == scope.name()) {
                    names.push(scope.name().to_string());
                }
            }
        }
    }
    Ok(by_identifier
        .into_iter()
        .map(|(identifier, names)| {
            names
                .iter()
                .fold(ResourceServer::new(identifier, "API"), |s, n| {
                    s.scope(n.clone(), n.clone())
                })
        })
        .collect())
}

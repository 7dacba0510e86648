//! OAuth 2.0 Protected Resource Metadata (RFC 9728): how a client that got a
//! 401 finds the authorization server. MCP clients require it.
//!
//! A [`ProtectedResource`] given to
//! [`VerifierBuilder::protected_resource`](crate::VerifierBuilder::protected_resource)
//! does three things: its metadata document is served (by
//! [`ResourceMetadata`], a tower service, or the proxy); every 401 and 403
//! challenge carries `resource_metadata="<its URL>"` and every 401 the
//! route's `scope`; and the resource identifier is accepted as `aud` (RFC
//! 8707).

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::error::{ConfigError, ConfigErrorKind};
use crate::keys::is_loopback;

/// The description of a protected resource (RFC 9728 §2).
///
/// ```
/// use scopegate::{Issuer, ProtectedResource, ResourceServer, Verifier};
///
/// let verifier = Verifier::builder(Issuer::cognito("us-east-1", "us-east-1_Example"))
///     .client_ids(["1example23456789"])
///     .resource_server(ResourceServer::new("com.example.photos", "Photos").scope("read", "Read"))
///     .protected_resource(
///         ProtectedResource::new("https://photos.example.com/mcp").resource_name("Photos"),
///     )
///     .build()?;
/// let metadata = verifier.resource_metadata().expect("configured");
/// assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/mcp");
/// # Ok::<(), scopegate::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct ProtectedResource {
    resource: String,
    authorization_servers: Vec<String>,
    scopes_supported: Option<Vec<String>>,
    resource_name: Option<String>,
    resource_documentation: Option<String>,
}

impl ProtectedResource {
    /// The resource identifier: the `https` URL clients address (plain
    /// `http` on loopback), without a query or fragment.
    pub fn new(resource: impl Into<String>) -> Self {
        ProtectedResource {
            resource: resource.into(),
            authorization_servers: Vec::new(),
            scopes_supported: None,
            resource_name: None,
            resource_documentation: None,
        }
    }

    /// An authorization server's issuer URL. Default: the verifier's
    /// issuers, in the order configured.
    pub fn authorization_server(mut self, issuer: impl Into<String>) -> Self {
        self.authorization_servers.push(issuer.into());
        self
    }

    /// The scopes to advertise. Default: every scope of the registered
    /// resource servers.
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// A name for people (`resource_name`).
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// A page about the resource for developers (`resource_documentation`).
    pub fn resource_documentation(mut self, url: impl Into<String>) -> Self {
        self.resource_documentation = Some(url.into());
        self
    }

    /// Checks the URLs and fills in the defaults: the document, its URL and
    /// its path.
    pub(crate) fn resolve(
        mut self,
        issuers: &[&str],
        registered_scopes: Vec<String>,
    ) -> Result<ResourceMetadata, ConfigError> {
        let resource = checked_url("resource", &self.resource)?;
        if resource.query().is_some() {
            return Err(invalid(
                "the resource identifier has a query; RFC 9728 wants none",
            ));
        }
        if self.authorization_servers.is_empty() {
            self.authorization_servers = issuers.iter().map(|i| i.to_string()).collect();
        }
        for server in &self.authorization_servers {
            checked_url("authorization server", server)?;
        }
        if let Some(url) = &self.resource_documentation {
            checked_url("resource documentation", url)?;
        }
        let path = well_known_path(resource.path());
        let url = format!("{}{path}", resource.origin().ascii_serialization());
        let scopes = self.scopes_supported.take().unwrap_or(registered_scopes);
        let document = self.document(scopes);
        Ok(ResourceMetadata {
            resource: self.resource,
            url,
            path,
            body: serde_json::to_string(&document).unwrap_or_default(),
        })
    }

    fn document(&self, scopes: Vec<String>) -> Value {
        let mut doc = Map::new();
        doc.insert("resource".into(), json!(self.resource));
        doc.insert(
            "authorization_servers".into(),
            json!(self.authorization_servers),
        );
        if !scopes.is_empty() {
            doc.insert("scopes_supported".into(), json!(scopes));
        }
        doc.insert("bearer_methods_supported".into(), json!(["header"]));
        if let Some(name) = &self.resource_name {
            doc.insert("resource_name".into(), json!(name));
        }
        if let Some(url) = &self.resource_documentation {
            doc.insert("resource_documentation".into(), json!(url));
        }
        Value::Object(doc)
    }
}

/// A resolved [`ProtectedResource`]: its metadata document, where it is
/// served, and a tower service that serves it (`GET` and `HEAD` of
/// [`path`](Self::path); 404 elsewhere, 405 for other methods).
///
/// With axum: `Router::new().route_service(metadata.path(), metadata.clone())`.
#[derive(Clone, Debug)]
pub struct ResourceMetadata {
    resource: String,
    url: String,
    path: String,
    body: String,
}

impl ResourceMetadata {
    /// The resource identifier.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The document's absolute URL, as challenges carry it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The document's path: `/.well-known/oauth-protected-resource`, then
    /// the resource's path if it has one (RFC 9728 §3.1).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The JSON document (RFC 9728 §2).
    pub fn document(&self) -> &str {
        &self.body
    }

    /// The response to a request for the document.
    pub fn response<B>(&self, request: &Request<B>) -> Response<String> {
        let status = if request.uri().path() != self.path {
            StatusCode::NOT_FOUND
        } else if request.method() != Method::GET && request.method() != Method::HEAD {
            StatusCode::METHOD_NOT_ALLOWED
        } else {
            StatusCode::OK
        };
        if status != StatusCode::OK {
            let mut response = Response::new(String::new());
            *response.status_mut() = status;
            if status == StatusCode::METHOD_NOT_ALLOWED {
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            }
            return response;
        }
        let mut response = Response::new(self.body.clone());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
        response
    }
}

impl<B> tower_service::Service<Request<B>> for ResourceMetadata {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.response(&request)))
    }
}

/// `/.well-known/oauth-protected-resource`, with the resource's path after
/// it unless that is `/`.
fn well_known_path(resource_path: &str) -> String {
    // §3.1: the well-known part goes between the host and the path; only a
    // bare `/` path is dropped (a trailing slash elsewhere is the path's).
    let suffix = if resource_path == "/" {
        ""
    } else {
        resource_path
    };
    format!("/.well-known/oauth-protected-resource{suffix}")
}

/// An absolute `https` URL (or `http` on loopback) without a fragment.
fn checked_url(what: &str, value: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(value)
        .map_err(|_| invalid(format!("the {what} {value:?} is not an absolute URL")))?;
    let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !secure {
        return Err(ConfigError::new(
            ConfigErrorKind::InsecureUrl,
            format!("the {what} {value:?} must be https (plain http only on loopback)"),
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid(format!("the {what} {value:?} has a fragment")));
    }
    Ok(url)
}

fn invalid(message: impl Into<String>) -> ConfigError {
    ConfigError::new(ConfigErrorKind::InvalidOption, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(resource: ProtectedResource) -> Result<ResourceMetadata, ConfigError> {
        resource.resolve(&["https://issuer.example.com/pool"], vec!["a/b".into()])
    }

    #[test]
    fn the_document_and_its_url() {
        let metadata = resolve(
            ProtectedResource::new("https://api.example.com/mcp")
                .resource_name("Photos")
                .resource_documentation("https://api.example.com/docs"),
        )
        .unwrap();
        assert_eq!(metadata.path(), "/.well-known/oauth-protected-resource/mcp");
        assert_eq!(
            metadata.url(),
            "https://api.example.com/.well-known/oauth-protected-resource/mcp"
        );
        let doc: Value = serde_json::from_str(metadata.document()).unwrap();
        assert_eq!(
            doc,
            json!({
                "resource": "https://api.example.com/mcp",
                "authorization_servers": ["https://issuer.example.com/pool"],
                "scopes_supported": ["a/b"],
                "bearer_methods_supported": ["header"],
                "resource_name": "Photos",
                "resource_documentation": "https://api.example.com/docs",
            })
        );
        let root = resolve(ProtectedResource::new("https://api.example.com/")).unwrap();
        assert_eq!(root.path(), "/.well-known/oauth-protected-resource");
        let slash = resolve(ProtectedResource::new("https://api.example.com/mcp/")).unwrap();
        assert_eq!(slash.path(), "/.well-known/oauth-protected-resource/mcp/");
        let none = ProtectedResource::new("https://api.example.com")
            .resolve(&["https://i.example"], Vec::new());
        let doc: Value = serde_json::from_str(none.unwrap().document()).unwrap();
        assert!(
            doc.get("scopes_supported").is_none(),
            "omitted when there are none"
        );
        let port = resolve(ProtectedResource::new("http://127.0.0.1:8080")).unwrap();
        assert_eq!(
            port.url(),
            "http://127.0.0.1:8080/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn explicit_servers_and_scopes_replace_the_defaults() {
        let metadata = resolve(
            ProtectedResource::new("https://api.example.com")
                .authorization_server("https://login.example.com")
                .scopes_supported(["x/y"]),
        )
        .unwrap();
        let doc: Value = serde_json::from_str(metadata.document()).unwrap();
        assert_eq!(
            doc["authorization_servers"],
            json!(["https://login.example.com"])
        );
        assert_eq!(doc["scopes_supported"], json!(["x/y"]));
    }

    #[test]
    fn bad_urls_are_config_errors() {
        for bad in [
            ProtectedResource::new("api.example.com"),
            ProtectedResource::new("http://api.example.com"),
            ProtectedResource::new("https://api.example.com/#x"),
            ProtectedResource::new("https://api.example.com/?a=b"),
            ProtectedResource::new("https://api.example.com")
                .authorization_server("http://a.example"),
            ProtectedResource::new("https://api.example.com").resource_documentation("nope"),
        ] {
            assert!(resolve(bad.clone()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn serves_get_and_head_of_its_path_only() {
        let metadata = resolve(ProtectedResource::new("https://api.example.com/mcp")).unwrap();
        let request = |method: Method, path: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .body(())
                .unwrap()
        };
        let ok = metadata.response(&request(Method::GET, metadata.path()));
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()[CONTENT_TYPE], "application/json");
        assert!(ok.headers().contains_key(CACHE_CONTROL));
        assert_eq!(ok.body(), metadata.document());
        let head = metadata.response(&request(Method::HEAD, metadata.path()));
        assert_eq!(head.status(), StatusCode::OK);
        let post = metadata.response(&request(Method::POST, metadata.path()));
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[ALLOW], "GET, HEAD");
        let elsewhere = metadata.response(&request(
            Method::GET,
            "/.well-known/oauth-protected-resource",
        ));
        assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    }
}

//! The hosted pages (askama templates under `templates/`, auto-escaped) and
//! the responses around them: security headers on every page, redirects.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::local::html::html_page;

/// `default-src 'none'`: no script, no external asset; the pages' own
/// `<style>` only, forms posted to this origin only, never framed.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/// The sign-in form.
#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    pub(crate) action: &'a str,
    pub(crate) csrf: &'a str,
    pub(crate) error: Option<&'a str>,
}

/// The new-password form (a temporary password was right).
#[derive(Template)]
#[template(path = "new_password.html")]
pub(crate) struct NewPasswordPage<'a> {
    pub(crate) action: &'a str,
    pub(crate) csrf: &'a str,
    pub(crate) session: &'a str,
    pub(crate) error: Option<&'a str>,
}

/// An error that cannot be sent back to the client (unknown client,
/// unregistered `redirect_uri`, expired form).
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage<'a> {
    pub(crate) message: &'a str,
}

/// A rendered page with the security headers.
pub(crate) fn page(status: StatusCode, template: &impl Template) -> Response {
    let Ok(html) = template.render() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be rendered\n",
        )
            .into_response();
    };
    html_page(status, html, CSP)
}

/// A page with a sign-in form. Browsers apply `form-action` to the
/// redirects that follow a form's submission too, so the origin of the
/// (registered, already checked) `redirect_uri` is allowed beside `'self'`:
/// the sign-in ends with a redirect there.
pub(crate) fn form_page(
    status: StatusCode,
    template: &impl Template,
    redirect_uri: &str,
) -> Response {
    let mut response = page(status, template);
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'{}; frame-ancestors 'none'",
        redirect_source(redirect_uri)
            .map(|s| format!(" {s}"))
            .unwrap_or_default()
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The CSP source of a redirect URI: its origin (`https://app.example.com`,
/// `http://localhost:3000`), or its scheme for an app's own scheme
/// (`myapp:`).
fn redirect_source(redirect_uri: &str) -> Option<String> {
    let url = url::Url::parse(redirect_uri).ok()?;
    let source = match url.host_str() {
        Some(_) if matches!(url.scheme(), "http" | "https") => url.origin().ascii_serialization(),
        _ => format!("{}:", url.scheme()),
    };
    // Only characters a CSP source may hold: never a `;` or a space.
    let safe = source
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+-.:/[]".contains(&b));
    safe.then_some(source)
}

/// An error page.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    page(status, &ErrorPage { message })
}

/// `503 Service Unavailable` with `Retry-After`: a short-lived map is full
/// (see `sessions::Expiring`), so the sign-in cannot be kept; nothing is
/// evicted to make room.
pub(crate) fn busy_page() -> Response {
    let mut response = error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Too many sign-ins are in progress. Try again in a few minutes.",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    response
}

/// `302 Found` to `location`, not cached.
pub(crate) fn redirect(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The redirect address is not valid.",
        );
    };
    let mut response = StatusCode::FOUND.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    no_store(response)
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// `uri` with `params` added to its query (`fragment` false) or as its
/// fragment (`fragment` true, the implicit grant).
pub(crate) fn with_params(uri: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        encoded.append_pair(name, value);
    }
    let encoded = encoded.finish();
    let separator = match (fragment, uri.contains('?')) {
        (true, _) => '#',
        (false, true) => '&',
        (false, false) => '?',
    };
    format!("{uri}{separator}{encoded}")
}

#[cfg(test)]
mod tests {
    use super::redirect_source;

    #[test]
    fn a_redirect_uri_becomes_its_origin_or_its_scheme() {
        for (uri, source) in [
            (
                "https://app.example.com/cb?x=1",
                Some("https://app.example.com"),
            ),
            (
                "http://localhost:3000/callback",
                Some("http://localhost:3000"),
            ),
            ("http://127.0.0.1:8080/", Some("http://127.0.0.1:8080")),
            ("myapp://callback", Some("myapp:")),
            ("com.example.app:/oauth", Some("com.example.app:")),
            ("not a url", None),
        ] {
            assert_eq!(redirect_source(uri).as_deref(), source, "{uri}");
        }
    }
}

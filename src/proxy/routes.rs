//! Route patterns: exact paths, `{param}` segments and a final `{*rest}`.

use std::fmt;

use http::Method;

/// One segment of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: exactly one segment.
    Param,
    /// `{*name}`: one or more remaining segments (last only).
    Rest,
}

/// A path pattern such as `/photos/{id}` or `/files/{*path}`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PathPattern {
    source: String,
    segments: Vec<Segment>,
}

impl fmt::Debug for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn is_param_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Characters a literal segment may hold: RFC 3986 `pchar` without `%`, so
/// that a literal is matched against the path exactly as sent.
fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@".contains(c)
}

impl PathPattern {
    /// The pattern as written.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    pub(crate) fn parse(source: &str) -> Result<PathPattern, String> {
        let Some(rest) = source.strip_prefix('/') else {
            return Err("a path must start with `/`".into());
        };
        if source == "/" {
            return Ok(PathPattern {
                source: source.into(),
                segments: Vec::new(),
            });
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        let mut names: Vec<&str> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let segment = if let Some(inner) =
                part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
            {
                let (name, segment) = match inner.strip_prefix('*') {
                    Some(name) => (name, Segment::Rest),
                    None => (inner, Segment::Param),
                };
                if !is_param_name(name) {
                    return Err(format!(
                        "`{{{inner}}}` is not a parameter: use `{{name}}` or `{{*name}}`"
                    ));
                }
                if names.contains(&name) {
                    return Err(format!("the parameter `{name}` appears twice"));
                }
                if segment == Segment::Rest && i + 1 != parts.len() {
                    return Err(format!("`{{*{name}}}` must be the last segment"));
                }
                names.push(name);
                segment
            } else {
                if part.is_empty() {
                    return Err("a path has no empty segments (`//`, or a trailing `/`)".into());
                }
                if *part == "." || *part == ".." {
                    return Err("a path has no `.` or `..` segments".into());
                }
                if let Some(bad) = part.chars().find(|c| !is_literal_char(*c)) {
                    return Err(format!(
                        "the character {bad:?} is not allowed in a path (write paths unencoded; no `{{`, `}}` or `%` in literal segments)"
                    ));
                }
                Segment::Literal((*part).to_string())
            };
            segments.push(segment);
        }
        Ok(PathPattern {
            source: source.into(),
            segments,
        })
    }

    /// Whether the (already checked) request path matches.
    pub(crate) fn matches(&self, path: &str) -> bool {
        if path == "/" {
            return self.segments.is_empty();
        }
        let Some(path) = path.strip_prefix('/') else {
            return false;
        };
        let mut parts = path.split('/');
        for segment in &self.segments {
            match segment {
                Segment::Rest => return parts.next().is_some(),
                Segment::Param => {
                    if parts.next().is_none_or(str::is_empty) {
                        return false;
                    }
                }
                Segment::Literal(literal) => {
                    if parts.next() != Some(literal.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }

    /// Whether every path `other` matches is also matched by `self`.
    pub(crate) fn covers(&self, other: &PathPattern) -> bool {
        let mut mine = self.segments.iter();
        let mut theirs = other.segments.iter();
        loop {
            match (mine.next(), theirs.next()) {
                (None, None) => return true,
                (Some(Segment::Rest), Some(_)) => return true,
                (Some(Segment::Param), Some(Segment::Literal(_) | Segment::Param)) => {}
                (Some(Segment::Literal(a)), Some(Segment::Literal(b))) if a == b => {}
                _ => return false,
            }
        }
    }
}

/// Which methods a route takes; `None` is any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Methods(pub(crate) Option<Vec<Method>>);

impl Methods {
    pub(crate) fn allows(&self, method: &Method) -> bool {
        match &self.0 {
            None => true,
            Some(methods) => {
                methods.contains(method)
                    || (method == Method::HEAD && methods.contains(&Method::GET))
            }
        }
    }

    /// Whether every method `other` takes is taken by `self` (a route
    /// with GET takes HEAD too).
    pub(crate) fn covers(&self, other: &Methods) -> bool {
        match (&self.0, &other.0) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(theirs)) => theirs.iter().all(|m| self.allows(m)),
        }
    }
}

/// Whether a request path could mean one thing here and another to the
/// upstream, and is refused before any route is looked at:
///
/// - dot segments, empty segments (`//`), backslashes, `;` (path parameters,
///   which some servers strip: `/admin;x`, `..;`);
/// - a percent-encoded byte that has a plain form in a path (`%41` for `A`,
///   `%2F` for `/`, `%2E` for `.`, `%25` for `%`), or NUL: an upstream that
///   decodes would see a different path than the one routed here.
///
/// Percent-encoded bytes that can only appear encoded (spaces, non-ASCII
/// UTF-8, `?`, `#`, ...) are fine.
pub(crate) fn ambiguous_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return true;
    };
    if path.contains(['\\', ';']) {
        return true;
    }
    let bytes = path.as_bytes();
    let hex = |c: Option<&u8>| c.and_then(|c| char::from(*c).to_digit(16));
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'%' {
            continue;
        }
        let decoded = match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (Some(hi), Some(lo)) => char::from_u32(hi * 16 + lo).unwrap_or('\0'),
            _ => return true,
        };
        if matches!(decoded, '\0' | '/' | '\\' | '%') || is_literal_char(decoded) {
            return true;
        }
    }
    let segments = rest.split('/').count();
    rest.split('/')
        .enumerate()
        .any(|(i, s)| s == "." || s == ".." || (s.is_empty() && i + 1 != segments))
}

/// The form an upstream that ignores case and a trailing `/` would route by.
pub(crate) fn canonical_path(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    match lower.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed.to_string(),
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathPattern {
        PathPattern::parse(s).unwrap()
    }

    #[test]
    fn matching() {
        assert!(p("/").matches("/"));
        assert!(!p("/").matches("/x"));
        assert!(p("/photos").matches("/photos"));
        assert!(!p("/photos").matches("/photos/"));
        assert!(!p("/photos").matches("/photos/1"));
        assert!(!p("/photos").matches("/Photos"));
        assert!(p("/photos/{id}").matches("/photos/42"));
        assert!(!p("/photos/{id}").matches("/photos/"));
        assert!(!p("/photos/{id}").matches("/photos/1/2"));
        assert!(p("/files/{*rest}").matches("/files/a"));
        assert!(p("/files/{*rest}").matches("/files/a/b/c"));
        assert!(p("/files/{*rest}").matches("/files/"));
        assert!(!p("/files/{*rest}").matches("/files"));
        assert!(p("/{*all}").matches("/anything/at/all"));
    }

    #[test]
    fn bad_patterns() {
        for bad in [
            "photos",
            "/photos/",
            "//x",
            "/a/../b",
            "/a/./b",
            "/{}",
            "/{a b}",
            "/{*rest}/x",
            "/{id}/{id}",
            "/a%2fb",
            "/a b",
            "/{x",
        ] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn coverage() {
        assert!(p("/photos/{id}").covers(&p("/photos/1")));
        assert!(p("/photos/{id}").covers(&p("/photos/{x}")));
        assert!(!p("/photos/1").covers(&p("/photos/{id}")));
        assert!(p("/{*all}").covers(&p("/photos")));
        assert!(p("/photos/{*rest}").covers(&p("/photos/{id}/raw")));
        assert!(!p("/photos/{*rest}").covers(&p("/photos")));
        assert!(!p("/photos/{id}").covers(&p("/photos/{*rest}")));
        assert!(!p("/a").covers(&p("/b")));
        assert!(p("/").covers(&p("/")));
        assert!(!p("/{*all}").covers(&p("/")));
    }

    #[test]
    fn ambiguous_paths_are_spotted() {
        for bad in [
            "/a/../b",
            "/a/./b",
            "/a//b",
            "/%2e%2e/x",
            "/a%2Fb",
            "/a\\b",
            "/a%5cb",
            "x",
            "/a%252fb",
            "/..",
            "/a/..",
            "/ph%6ftos",
            "/%41dmin",
            "/admin;x",
            "/public/..;/admin",
            "/a%",
            "/a%zz",
            "/a%00b",
            "/a%7e",
            "/a%3Ab",
        ] {
            assert!(ambiguous_path(bad), "{bad}");
        }
        for ok in [
            "/",
            "/photos",
            "/photos/",
            "/photos/1",
            "/a%20b",
            "/caf%C3%A9",
            "/q%3F",
            "/files/a.txt",
            "/a..b",
        ] {
            assert!(!ambiguous_path(ok), "{ok}");
        }
    }

    #[test]
    fn methods() {
        let get = Methods(Some(vec![Method::GET]));
        assert!(
            get.allows(&Method::GET) && get.allows(&Method::HEAD) && !get.allows(&Method::POST)
        );
        assert!(Methods(None).covers(&get));
        assert!(!get.covers(&Methods(None)));
    }
}

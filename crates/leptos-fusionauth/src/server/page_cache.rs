//! Pages every guest sees alike (a home page's guest view, say), rendered once and then served
//! from memory: the first guest request of such a page renders it as usual; later ones get the
//! same bytes, with a fresh nonce of their own put in the page's scripts and its
//! Content-Security-Policy. Opt in per path with [`ConfigBuilder::cache_guest_pages`].
//!
//! Only what is certainly the same for every guest is kept: a `GET` of a listed path without a
//! query, by a visitor without a user and without a notice, answered `200` with HTML, a nonce and
//! no cookie. Everything else renders as usual.
//!
//! [`ConfigBuilder::cache_guest_pages`]: super::config::ConfigBuilder::cache_guest_pages

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use axum::{
    body::{Body, Bytes},
    extract::Request,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};

/// A page kept in memory: its headers and its body, cut where the nonce stood.
struct CachedPage {
    headers: HeaderMap,
    /// The Content-Security-Policy, cut where the nonce stood.
    policy: Vec<String>,
    body: Vec<Bytes>,
}

/// The guest pages rendered so far, by path.
#[derive(Default)]
pub(crate) struct GuestPages {
    pages: RwLock<HashMap<String, Arc<CachedPage>>>,
}

/// A rendered page larger than this is not kept.
const MAX_CACHED_PAGE_BYTES: usize = 512 * 1024;

/// What to do with a request for a guest page.
pub(crate) enum GuestPage {
    /// The page, from memory.
    Kept(Response),
    /// Render it, and keep it for `path`.
    ToKeep(String),
}

/// The kept page for `request`, or the path to keep it under once rendered; `None` when the
/// request is not for a guest page every guest sees alike.
/// `guest`: the visitor has no user and no notice.
pub(crate) fn guest_page(
    pages: &GuestPages,
    listed_paths: &[String],
    request: &Request,
    guest: bool,
) -> Option<GuestPage> {
    let path = request.uri().path();
    let listed = listed_paths.iter().any(|p| p == path);
    if request.method() != Method::GET || request.uri().query().is_some() || !listed || !guest {
        return None;
    }
    let kept = pages
        .pages
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(path)
        .cloned();
    Some(match kept {
        Some(page) => GuestPage::Kept(page.serve(&leptos::nonce::Nonce::new().to_string())),
        None => GuestPage::ToKeep(path.to_owned()),
    })
}

/// Keeps `response` for `path` when it is a page every guest gets alike; answers it either way.
pub(crate) async fn keep(pages: &GuestPages, path: String, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let nonce = page_nonce(&parts.headers);
    let cacheable = parts.status == StatusCode::OK
        && !parts.headers.contains_key(header::SET_COOKIE)
        && is_html(&parts.headers)
        && nonce.is_some();
    if !cacheable {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_CACHED_PAGE_BYTES).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The page could not be rendered.",
        )
            .into_response();
    };
    if let Some(nonce) = nonce {
        let page = CachedPage::cut(&parts.headers, &bytes, &nonce);
        pages
            .pages
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path, Arc::new(page));
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The nonce the page's Content-Security-Policy names (`'nonce-…'`).
fn page_nonce(headers: &HeaderMap) -> Option<String> {
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)?
        .to_str()
        .ok()?;
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let length = policy[start..].find('\'')?;
    Some(policy[start..start + length].to_owned())
}

impl CachedPage {
    fn cut(headers: &HeaderMap, body: &[u8], nonce: &str) -> Self {
        let mut headers = headers.clone();
        headers.remove(header::DATE);
        headers.remove(header::CONTENT_LENGTH);
        let policy = headers
            .remove(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_default();
        Self {
            headers,
            policy: policy.split(nonce).map(str::to_owned).collect(),
            body: split_bytes(body, nonce.as_bytes()),
        }
    }

    /// The page with `nonce` where the rendered one stood.
    fn serve(&self, nonce: &str) -> Response {
        let length: usize = self.body.iter().map(Bytes::len).sum::<usize>()
            + nonce.len() * self.body.len().saturating_sub(1);
        let mut body = Vec::with_capacity(length);
        for (i, part) in self.body.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(part);
        }
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = self.headers.clone();
        if let Ok(policy) = HeaderValue::from_str(&self.policy.join(nonce)) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        response
    }
}

/// `haystack` cut at every `needle` (which is left out).
fn split_bytes(haystack: &[u8], needle: &[u8]) -> Vec<Bytes> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if &haystack[i..i + needle.len()] == needle {
            parts.push(Bytes::copy_from_slice(&haystack[start..i]));
            i += needle.len();
            start = i;
        } else {
            i += 1;
        }
    }
    parts.push(Bytes::copy_from_slice(&haystack[start..]));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_page_gets_the_new_nonce_everywhere_the_old_one_stood() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("script-src 'self' 'nonce-OLD' 'wasm-unsafe-eval'"),
        );
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        assert_eq!(page_nonce(&headers).as_deref(), Some("OLD"));
        let body = b"<script nonce=\"OLD\">a</script><p>OLD-fashioned</p><script nonce=\"OLD\">";
        let page = CachedPage::cut(&headers, body, "OLD");
        let served = page.serve("NEW");
        assert_eq!(
            served.headers()[header::CONTENT_SECURITY_POLICY],
            "script-src 'self' 'nonce-NEW' 'wasm-unsafe-eval'"
        );
        assert_eq!(served.headers()[header::CONTENT_TYPE], "text/html");
        assert_eq!(
            split_bytes(b"aXXbXXc", b"XX"),
            [Bytes::from("a"), Bytes::from("b"), Bytes::from("c")]
        );
        assert_eq!(split_bytes(b"abc", b"XX"), [Bytes::from("abc")]);
    }
}

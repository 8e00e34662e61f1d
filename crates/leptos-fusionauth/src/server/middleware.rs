//! The middleware around every request: the signed-in user read once, the browser Origin
//! check, security headers, and clear answers when the session cookie or the session store
//! fails.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use super::{
    auth::FusionAuth,
    flows::user::resolve,
    user::{RequestAuth, Resolved},
};
use crate::shared::failure::AuthFailure;

/// Reads who the request comes from — once, before any handler: the session, with the access
/// token refreshed when due — and puts it in the request's extensions, where the [`User`]
/// extractor, the guards, the pages and the server functions find it. Hashed static assets
/// skip it (they never ask).
///
/// [`User`]: super::user::User
pub(crate) async fn resolve_user(
    State(auth): State<FusionAuth>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with(&auth.config.paths.assets) {
        return next.run(request).await;
    }
    let resolved = match request.extensions().get::<Session>() {
        Some(session) => resolve(&auth, session).await,
        None => Resolved::Guest { notice: false },
    };
    request
        .extensions_mut()
        .insert(RequestAuth { auth, resolved });
    next.run(request).await
}

/// Refuses state-changing requests (the login, register and logout server functions are POSTs)
/// sent from another origin: a cross-site form must not be able to log a user out or start a
/// login in their name.
pub(crate) async fn reject_cross_site_posts(
    State(app): State<FusionAuth>,
    request: Request,
    next: Next,
) -> Response {
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe_method && !is_same_origin(request.headers(), &app.config.app_url) {
        tracing::warn!(
            path = request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "cross-site request refused"
        );
        return (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response();
    }
    next.run(request).await
}

/// Browsers send `Origin` on every POST (and `Sec-Fetch-Site` on every request); a request with
/// neither comes from a non-browser client, which cannot carry a victim's cookies.
fn is_same_origin(headers: &HeaderMap, app_url: &url::Url) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.as_bytes() == app_url.origin().ascii_serialization().as_bytes();
    }
    match headers.get("sec-fetch-site").map(HeaderValue::as_bytes) {
        Some(site) => site == b"same-origin" || site == b"none",
        None => true,
    }
}

const PERMISSIONS_POLICY: header::HeaderName =
    header::HeaderName::from_static("permissions-policy");
const CROSS_ORIGIN_OPENER_POLICY: header::HeaderName =
    header::HeaderName::from_static("cross-origin-opener-policy");
/// Every powerful feature off: the pages need none of them.
const PERMISSIONS: &str = "accelerometer=(), camera=(), display-capture=(), geolocation=(), \
     gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), publickey-credentials-get=(), \
     serial=(), usb=()";

/// Security headers for every response: the Content-Security-Policy (pages already carry theirs,
/// with the nonce of their scripts), framing only for `/logout` (FusionAuth's logout page loads
/// it in a hidden iframe), HSTS on https. Pages carry personal data, so nothing but the hashed
/// static assets may be cached.
pub(crate) async fn security_headers(
    State(app): State<FusionAuth>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    // No powerful feature is used; a page opened from elsewhere gets no handle on this one.
    set(headers, PERMISSIONS_POLICY, PERMISSIONS);
    set(headers, CROSS_ORIGIN_OPENER_POLICY, "same-origin");
    if path == app.config.paths.logout {
        set(
            headers,
            header::CONTENT_SECURITY_POLICY,
            app.csp.front_channel_logout(),
        );
    } else {
        set(headers, header::X_FRAME_OPTIONS, "DENY");
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            set(headers, header::CONTENT_SECURITY_POLICY, app.csp.other());
        }
    }
    if app.config.cookies_secure() {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    if !path.starts_with(&app.config.paths.assets) && !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// A session cookie that `tower-sessions` did not accept (its signature does not verify, e.g.
/// tampered with or signed with another `APP_SECRET_KEY`) is silently treated as no session;
/// this says so in the log. Runs inside the session layer.
pub(crate) async fn log_rejected_session_cookies(
    State(app): State<FusionAuth>,
    request: Request,
    next: Next,
) -> Response {
    let name = app.config.session_cookie_name();
    let sent_cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .any(|cookie| {
            cookie
                .trim_start()
                .strip_prefix(name.as_str())
                .is_some_and(|rest| rest.starts_with('='))
        });
    let accepted = request
        .extensions()
        .get::<Session>()
        .is_some_and(|session| session.id().is_some());
    if sent_cookie && !accepted {
        tracing::warn!(
            "session cookie rejected: its signature does not verify (tampered or stale key)"
        );
    }
    next.run(request).await
}

/// `tower-sessions` answers a bare 500 when it cannot save a session. Say what happened instead,
/// with a 503: the session store is down, and the request can be retried.
pub(crate) async fn explain_session_store_failures(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let bare_500 = response.status() == StatusCode::INTERNAL_SERVER_ERROR
        && !response.headers().contains_key(header::CONTENT_TYPE);
    if !bare_500 {
        return response;
    }
    let failure = AuthFailure::SessionUnavailable;
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Session store unavailable</title></head><body><main>\
         <h1>Session store unavailable</h1><p>{}</p><p><a href=\"/\">Back to the home page</a></p>\
         </main></body></html>",
        failure.message()
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::RETRY_AFTER, "5"),
        ],
        page,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn same_origin_is_decided_by_origin_then_fetch_metadata() {
        let app = url::Url::parse("http://localhost:5001").unwrap();
        assert!(is_same_origin(
            &headers(&[("origin", "http://localhost:5001")]),
            &app
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "http://evil.example")]),
            &app
        ));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), &app));
        assert!(!is_same_origin(
            &headers(&[("origin", "http://localhost:5001.evil")]),
            &app
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            &app
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            &app
        ));
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            &app
        ));
        assert!(is_same_origin(&HeaderMap::new(), &app));
    }
}

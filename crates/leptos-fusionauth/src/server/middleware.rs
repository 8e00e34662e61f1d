//! The middleware around every request, in two pieces on either side of the session layer:
//! inside it the visitor is read once, the browser Origin check refuses cross-site posts and
//! guest pages come from memory; around every answer go the security headers and a clear answer
//! when the session store fails. Two pieces, not one per concern: each layer of middleware costs
//! a request a boxed future and a clone of the service below it.

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
    page_cache::{guest_page, keep, GuestPage},
    user::{RequestAuth, Resolved},
};
use crate::shared::failure::AuthFailure;

/// Everything that runs inside the session layer, in one middleware (one boxed future a
/// request, not one per concern): a session cookie that did not verify is logged, a cross-site
/// state-changing request is refused, the visitor is read once (see [`read_visitor`]), and a
/// guest page kept in memory is served without rendering it again.
pub(crate) async fn inside_the_session(
    State(auth): State<FusionAuth>,
    mut request: Request,
    next: Next,
) -> Response {
    log_rejected_session_cookie(&auth, &request);
    if let Some(refused) = refuse_cross_site_post(&auth, &request) {
        return refused;
    }
    if request.uri().path().starts_with(&auth.config.paths.assets) {
        return next.run(request).await;
    }
    let session = request.extensions().get::<Session>().cloned();
    let resolved = read_visitor(&auth, session).await;
    let plain_guest = matches!(resolved, Resolved::Guest { notice: false });
    request.extensions_mut().insert(RequestAuth {
        auth: auth.clone(),
        resolved,
    });
    match guest_page(
        &auth.guest_pages,
        &auth.config.guest_pages,
        &request,
        plain_guest,
    ) {
        Some(GuestPage::Kept(page)) => page,
        Some(GuestPage::ToKeep(path)) => {
            let rendered = next.run(request).await;
            keep(&auth.guest_pages, path, rendered).await
        }
        None => next.run(request).await,
    }
}

/// Who the request comes from — read once, before any handler: the session, with the access
/// token refreshed when due. The [`User`] extractor, the guards, the pages and the server
/// functions find it in the request's extensions. Hashed static assets skip it (they never ask).
///
/// [`User`]: super::user::User
async fn read_visitor(auth: &FusionAuth, session: Option<Session>) -> Resolved {
    match session {
        Some(session) => resolve(auth, &session).await,
        None => Resolved::Guest { notice: false },
    }
}

/// Refuses state-changing requests (the login, register and logout server functions are POSTs)
/// sent from another origin: a cross-site form must not be able to log a user out or start a
/// login in their name.
fn refuse_cross_site_post(auth: &FusionAuth, request: &Request) -> Option<Response> {
    let safe_method = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe_method || is_same_origin(request.headers(), &auth.config.app_origin) {
        return None;
    }
    tracing::warn!(
        path = request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        "cross-site request refused"
    );
    Some((StatusCode::FORBIDDEN, "Cross-site request refused.").into_response())
}

/// Browsers send `Origin` on every POST (and `Sec-Fetch-Site` on every request); a request with
/// neither comes from a non-browser client, which cannot carry a victim's cookies.
fn is_same_origin(headers: &HeaderMap, app_origin: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return origin.as_bytes() == app_origin.as_bytes();
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
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Everything that runs around every answer (the webhook's too), in one middleware: a bare 500
/// of the session layer becomes the "session store unavailable" page, and every answer gets the
/// security headers.
pub(crate) async fn around_every_answer(
    State(auth): State<FusionAuth>,
    request: Request,
    next: Next,
) -> Response {
    let logout = request.uri().path() == auth.config.paths.logout;
    let asset = request.uri().path().starts_with(&auth.config.paths.assets);
    let response = explain_session_store_failure(next.run(request).await);
    with_security_headers(&auth, response, logout, asset)
}

/// Security headers for every response: the Content-Security-Policy (pages already carry theirs,
/// with the nonce of their scripts), framing only for `/logout` (FusionAuth's logout page loads
/// it in a hidden iframe), HSTS on https. Pages carry personal data, so nothing but the hashed
/// static assets may be cached. No powerful feature is used; a page opened from elsewhere gets no
/// handle on this one.
fn with_security_headers(
    auth: &FusionAuth,
    mut response: Response,
    logout: bool,
    asset: bool,
) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(PERMISSIONS_POLICY, HeaderValue::from_static(PERMISSIONS));
    headers.insert(
        CROSS_ORIGIN_OPENER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if logout {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            auth.csp.front_channel_logout(),
        );
    } else {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, auth.csp.other());
        }
    }
    if auth.config.cookies_secure() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if !asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A session cookie that `tower-sessions` did not accept (its signature does not verify, e.g.
/// tampered with or signed with another `APP_SECRET_KEY`) is silently treated as no session;
/// this says so in the log.
fn log_rejected_session_cookie(auth: &FusionAuth, request: &Request) {
    let name = auth.config.session_cookie_name();
    let accepted = request
        .extensions()
        .get::<Session>()
        .is_some_and(|session| session.id().is_some());
    if accepted {
        return;
    }
    let sent_cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .any(|cookie| {
            cookie
                .trim_start()
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('='))
        });
    if sent_cookie {
        tracing::warn!(
            "session cookie rejected: its signature does not verify (tampered or stale key)"
        );
    }
}

/// `tower-sessions` answers a bare 500 when it cannot save a session. Say what happened instead,
/// with a 503: the session store is down, and the request can be retried.
fn explain_session_store_failure(response: Response) -> Response {
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
        let app = "http://localhost:5001";
        assert!(is_same_origin(
            &headers(&[("origin", "http://localhost:5001")]),
            app
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "http://evil.example")]),
            app
        ));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), app));
        assert!(!is_same_origin(
            &headers(&[("origin", "http://localhost:5001.evil")]),
            app
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            app
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            app
        ));
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            app
        ));
        assert!(is_same_origin(&HeaderMap::new(), app));
    }
}

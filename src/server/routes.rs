//! Plain HTTP routes that are not server functions, and the middleware around every request.
//!
//! `/callback` and `/logout` are addresses FusionAuth sends the browser to with a GET and
//! parameters of its own choosing, so they are ordinary axum handlers that answer every input
//! with a redirect, never with a server-function error.

use axum::{
    extract::{Query, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use std::time::{Duration, Instant};

use tower_sessions::Session;

use super::{
    flows::{self, CallbackParams},
    AppState, SESSION_COOKIE,
};
use crate::auth::AuthFailure;

/// A real callback query is a few hundred bytes; anything far larger is refused unparsed.
const MAX_CALLBACK_QUERY_BYTES: usize = 4096;

/// `GET /callback`: FusionAuth's redirect back after login. A successful login carries a
/// `Server-Timing` header: total time, the identity provider's share, and the app's own.
pub async fn callback(State(app): State<AppState>, session: Session, uri: Uri) -> Response {
    let started = Instant::now();
    let outcome = match parse_callback(&uri) {
        Ok(params) => flows::complete(&app, &session, params).await,
        Err(failure) => Err(failure),
    };
    match outcome {
        Ok(login) => {
            let mut response = no_store(Redirect::to(&login.return_to).into_response());
            let timing = server_timing(started.elapsed(), login.provider_time);
            if let Ok(value) = HeaderValue::from_str(&timing) {
                response.headers_mut().insert("server-timing", value);
            }
            response
        }
        Err(failure) => no_store(Redirect::to(&failure.page_path()).into_response()),
    }
}

/// `app;dur=…, idp;dur=…, total;dur=…` in milliseconds.
fn server_timing(total: Duration, provider: Duration) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let app = total.saturating_sub(provider);
    format!(
        "app;dur={:.3}, idp;dur={:.3}, total;dur={:.3}",
        ms(app),
        ms(provider),
        ms(total)
    )
}

fn parse_callback(uri: &Uri) -> Result<CallbackParams, AuthFailure> {
    let length = uri.query().map_or(0, str::len);
    if length > MAX_CALLBACK_QUERY_BYTES {
        tracing::warn!(length, "callback rejected: query string too long");
        return Err(AuthFailure::MalformedCallback);
    }
    Query::<CallbackParams>::try_from_uri(uri)
        .map(|Query(params)| params)
        .map_err(|e| {
            tracing::warn!(reason = %e, "callback rejected: malformed query string");
            AuthFailure::MalformedCallback
        })
}

/// `GET /logout`: the application's logout URL. FusionAuth redirects here after ending its
/// session and also loads it in a hidden iframe, so it is idempotent and may be framed.
pub async fn front_channel_logout(session: Session) -> Response {
    flows::end_local_session(&session).await;
    no_store(Redirect::to("/").into_response())
}

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Refuses state-changing requests (the login, register and logout server functions are POSTs)
/// sent from another origin: a cross-site form must not be able to log a user out or start a
/// login in their name.
pub async fn reject_cross_site_posts(
    State(app): State<AppState>,
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

/// Security headers for every response. Only `/logout` may be framed (FusionAuth's logout page
/// loads it in a hidden iframe). Pages carry personal data, so nothing but the hashed static
/// assets may be cached.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if path != "/logout" {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    if !path.starts_with("/pkg/") && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A session cookie that `tower-sessions` did not accept (its signature does not verify, e.g.
/// tampered with or signed with another `APP_SECRET_KEY`) is silently treated as no session;
/// this says so in the log. Runs inside the session layer.
pub async fn log_rejected_session_cookies(request: Request, next: Next) -> Response {
    let sent_cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .any(|cookie| {
            cookie
                .trim_start()
                .strip_prefix(SESSION_COOKIE)
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
pub async fn explain_session_store_failures(request: Request, next: Next) -> Response {
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

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
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

    #[test]
    fn server_timing_splits_app_and_provider_time() {
        let header = server_timing(Duration::from_micros(12_500), Duration::from_micros(10_000));
        assert_eq!(header, "app;dur=2.500, idp;dur=10.000, total;dur=12.500");
    }

    #[test]
    fn oversized_and_malformed_callbacks_are_refused() {
        let long: Uri = format!("/callback?state={}", "a".repeat(20_000))
            .parse()
            .unwrap();
        assert_eq!(
            parse_callback(&long).unwrap_err(),
            AuthFailure::MalformedCallback
        );
        let duplicated: Uri = "/callback?state=a&state=b".parse().unwrap();
        assert_eq!(
            parse_callback(&duplicated).unwrap_err(),
            AuthFailure::MalformedCallback
        );
        let fine: Uri = "/callback?code=c&state=s&locale=en&userState=Authenticated"
            .parse()
            .unwrap();
        let params = parse_callback(&fine).unwrap();
        assert_eq!(params.code.as_deref(), Some("c"));
        assert_eq!(params.state.as_deref(), Some("s"));
    }
}

//! Plain HTTP routes that are not server functions.
//!
//! `/callback` and `/logout` are addresses FusionAuth sends the browser to with a GET and
//! parameters of its own choosing, so they are ordinary axum handlers that answer every input
//! with a redirect, never with a server-function error.

use std::time::{Duration, Instant};

use axum::{
    extract::{Query, State},
    http::{header, HeaderValue, Uri},
    response::{IntoResponse, Redirect, Response},
};
use tower_cookies::Cookies;
use tower_sessions::Session;

use super::{
    auth::FusionAuth,
    flows::{self, logout::LocalSignOut, CallbackParams, CallbackRequest},
    oidc::{AuthorizationEndpoint, AuthorizationRequest, Reauthentication},
};
use crate::shared::failure::AuthFailure;

/// A real callback query is a few hundred bytes; anything far larger is refused unparsed.
const MAX_CALLBACK_QUERY_BYTES: usize = 4096;

/// `GET /callback`: FusionAuth's redirect back after login. A successful login carries a
/// `Server-Timing` header: total time, the identity provider's share, and the app's own.
pub(crate) async fn callback(
    State(app): State<FusionAuth>,
    session: Session,
    cookies: Cookies,
    uri: Uri,
) -> Response {
    let started = Instant::now();
    let outcome = match parse_callback(&uri) {
        Ok(params) => {
            let request = CallbackRequest {
                session: &session,
                cookies: &cookies,
                params,
            };
            flows::complete(&app, request).await
        }
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
        Err(failure) => {
            let target = failure.location(&app.config.paths.error_page);
            no_store(Redirect::to(&target).into_response())
        }
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
/// session and also loads it in a hidden iframe, so it is idempotent and may be framed. The
/// `state` the Logout button sent to FusionAuth comes back here: it says whether the local
/// sign-out could be recorded.
pub(crate) async fn front_channel_logout(
    State(app): State<FusionAuth>,
    session: Session,
    cookies: Cookies,
    Query(params): Query<LogoutParams>,
) -> Response {
    let ended = flows::end_local_session(&app, &session, &cookies).await;
    let unrecorded =
        (ended == LocalSignOut::Unrecorded).then_some(AuthFailure::LocalSignOutUnrecorded);
    let paths = &app.config.paths;
    let target = match flows::logout::incomplete_sign_out(params.state.as_deref()).or(unrecorded) {
        Some(failure) => failure.location(&paths.error_page),
        None => paths.home.clone(),
    };
    no_store(Redirect::to(&target).into_response())
}

/// `GET /login`: starts a login from a link or a redirect — the role-protected pages send guests
/// here, and stale sign-ins with `reauthenticate=recent` (step-up: `prompt=login` and
/// `max_age`); the "sign in as someone else" link uses `reauthenticate=always`. Like the Login
/// button it only remembers an attempt in this browser and redirects to FusionAuth.
pub(crate) async fn login(
    State(app): State<FusionAuth>,
    cookies: Cookies,
    Query(params): Query<LoginParams>,
) -> Response {
    start_login(&app, &cookies, AuthorizationEndpoint::Authorize, params).await
}

/// `GET /register`: the same, on FusionAuth's self-service registration form.
pub(crate) async fn register(
    State(app): State<FusionAuth>,
    cookies: Cookies,
    Query(params): Query<LoginParams>,
) -> Response {
    start_login(&app, &cookies, AuthorizationEndpoint::Register, params).await
}

async fn start_login(
    app: &FusionAuth,
    cookies: &Cookies,
    endpoint: AuthorizationEndpoint,
    params: LoginParams,
) -> Response {
    let reauthentication = match params.reauthenticate.as_deref() {
        Some("always") => Reauthentication::Always,
        Some("recent") => Reauthentication::WithinSeconds(app.config.step_up_max_age.as_secs()),
        _ => Reauthentication::NotRequired,
    };
    let request = AuthorizationRequest {
        endpoint,
        reauthentication,
    };
    let target = match flows::login::begin(app, cookies, request, params.return_to.as_deref()).await
    {
        Ok(url) => url,
        Err(failure) => failure.location(&app.config.paths.error_page),
    };
    no_store(Redirect::to(&target).into_response())
}

/// The query of `GET /login`.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct LoginParams {
    pub(crate) return_to: Option<String>,
    /// `always` (another account) or `recent` (step-up).
    pub(crate) reauthenticate: Option<String>,
}

/// The query FusionAuth sends to the logout URL (other parameters are ignored).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct LogoutParams {
    pub(crate) state: Option<String>,
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

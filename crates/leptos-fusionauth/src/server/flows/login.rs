//! Login and Register: remember a fresh attempt in the browser's login-attempt cookie and send
//! the browser to FusionAuth. Nothing is stored on the server until the login completes.

use leptos::prelude::*;
use tower_cookies::Cookies;

use super::{
    context::{request_auth, request_cookies, request_parts},
    failures,
};
use crate::{
    server::{
        auth::FusionAuth,
        oidc::{AuthorizationEndpoint, AuthorizationRequest, Reauthentication},
        return_to::safe_return_path,
        session::unix_now,
    },
    shared::{failure::AuthFailure, view::LoginFlow},
};

/// The body of a Login or Register server function: redirects to FusionAuth's login (or
/// registration) form, coming back to `return_to` (a path on this site; anything else is `/`).
/// On failure the browser is sent to the error page.
pub async fn login(flow: LoginFlow, return_to: Option<String>) -> Result<(), ServerFnError> {
    let parts = request_parts()?;
    let auth = request_auth(&parts)?.auth;
    let cookies = request_cookies(&parts)?;
    let request = AuthorizationRequest {
        endpoint: authorization_endpoint(flow),
        reauthentication: Reauthentication::NotRequired,
    };
    let target = match begin(&auth, &cookies, request, return_to.as_deref()).await {
        Ok(authorize_url) => authorize_url,
        Err(failure) => failure.location(&auth.config.paths.error_page),
    };
    leptos_axum::redirect(&target);
    Ok(())
}

/// Remembers a fresh attempt in the browser's login-attempt cookie; the URL to send the browser
/// to (FusionAuth's form).
pub(crate) async fn begin(
    auth: &FusionAuth,
    cookies: &Cookies,
    request: AuthorizationRequest,
    return_to: Option<&str>,
) -> Result<String, AuthFailure> {
    let now = unix_now();
    let safe_return_to = safe_return_path(return_to);
    if return_to.is_some_and(|requested| requested != safe_return_to) {
        tracing::warn!("return path refused: not a plain path on this site; using /");
    }
    let (url, pending) = auth
        .oidc
        .begin_login(request, safe_return_to, now)
        .await
        .map_err(failures::login_not_started)?;
    let mut attempts = auth.login_cookie.read(cookies);
    attempts.add(pending, now);
    auth.login_cookie.write(cookies, &attempts);
    tracing::info!(
        ?request,
        "login started; redirecting to the identity provider"
    );
    Ok(url.into())
}

fn authorization_endpoint(flow: LoginFlow) -> AuthorizationEndpoint {
    match flow {
        LoginFlow::SignIn => AuthorizationEndpoint::Authorize,
        LoginFlow::Register => AuthorizationEndpoint::Register,
    }
}

//! Login and Register: remember a fresh attempt in the browser's login-attempt cookie and send
//! the browser to FusionAuth. Nothing is stored on the server until the login completes.

use leptos::prelude::*;
use tower_cookies::Cookies;

use super::{
    context::{app_state, request_cookies},
    failures,
};
use crate::{
    auth::{failure::AuthFailure, types::LoginFlow},
    server::{
        oidc::{AuthorizationEndpoint, AuthorizationRequest, Reauthentication},
        return_to::safe_return_path,
        session::unix_now,
        state::AppState,
    },
};

/// Redirects to FusionAuth's login (or registration) page; on failure, to the error page.
pub async fn start_login(flow: LoginFlow, return_to: Option<String>) -> Result<(), ServerFnError> {
    let app = app_state()?;
    let cookies = request_cookies().await?;
    let request = AuthorizationRequest {
        endpoint: authorization_endpoint(flow),
        reauthentication: Reauthentication::NotRequired,
    };
    let target = match begin(&app, &cookies, request, return_to.as_deref()).await {
        Ok(authorize_url) => authorize_url,
        Err(failure) => failure.page_path(),
    };
    leptos_axum::redirect(&target);
    Ok(())
}

/// Remembers a fresh attempt in the browser's login-attempt cookie; the URL to send the browser
/// to (FusionAuth's form).
pub async fn begin(
    app: &AppState,
    cookies: &Cookies,
    request: AuthorizationRequest,
    return_to: Option<&str>,
) -> Result<String, AuthFailure> {
    let now = unix_now();
    let safe_return_to = safe_return_path(return_to);
    if return_to.is_some_and(|requested| requested != safe_return_to) {
        tracing::warn!("return path refused: not a plain path on this site; using /");
    }
    let (url, pending) = app
        .oidc
        .begin_login(request, safe_return_to, now)
        .await
        .map_err(failures::login_not_started)?;
    let mut attempts = app.login_cookie.read(cookies);
    attempts.add(pending, now);
    app.login_cookie.write(cookies, &attempts);
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

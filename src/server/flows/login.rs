//! Login and Register: remember a fresh attempt and send the browser to FusionAuth.

use leptos::prelude::*;
use tower_sessions::Session;

use super::{
    context::{app_state, request_session},
    failures,
};
use crate::{
    auth::{failure::AuthFailure, types::LoginFlow},
    server::{
        oidc::AuthorizationEndpoint, return_to::safe_return_path, session::unix_now,
        session::AuthSession, state::AppState,
    },
};

/// Redirects to FusionAuth's login (or registration) page; on failure, to the error page.
pub async fn start_login(flow: LoginFlow, return_to: Option<String>) -> Result<(), ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let target = match begin(&app, &session, flow, return_to.as_deref()).await {
        Ok(authorize_url) => authorize_url,
        Err(failure) => failure.page_path(),
    };
    leptos_axum::redirect(&target);
    Ok(())
}

async fn begin(
    app: &AppState,
    session: &Session,
    flow: LoginFlow,
    return_to: Option<&str>,
) -> Result<String, AuthFailure> {
    let now = unix_now();
    let safe_return_to = safe_return_path(return_to);
    if return_to.is_some_and(|requested| requested != safe_return_to) {
        tracing::warn!("return path refused: not a plain path on this site; using /");
    }
    let (url, pending) = app
        .oidc
        .begin_login(authorization_endpoint(flow), safe_return_to, now)
        .await
        .map_err(failures::login_not_started)?;
    let mut auth = AuthSession::load(session)
        .await
        .map_err(failures::session_unavailable)?;
    auth.add_pending(pending, now);
    auth.store(session)
        .await
        .map_err(failures::session_unavailable)?;
    tracing::info!(?flow, "login started; redirecting to the identity provider");
    Ok(url.into())
}

fn authorization_endpoint(flow: LoginFlow) -> AuthorizationEndpoint {
    match flow {
        LoginFlow::SignIn => AuthorizationEndpoint::Authorize,
        LoginFlow::Register => AuthorizationEndpoint::Register,
    }
}

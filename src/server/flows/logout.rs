//! Logout: forget the session here, then end FusionAuth's single sign-on session.

use leptos::prelude::*;
use tower_sessions::Session;

use super::context::{app_state, request_session};
use crate::server::session::AuthSession;

/// The Logout button: deletes the local session and sends the browser to FusionAuth's logout.
pub async fn logout() -> Result<(), ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let id_token = match AuthSession::load(&session).await {
        Ok(auth) => auth
            .user
            .and_then(|user| user.tokens(&app.sealer).ok())
            .map(|tokens| tokens.id_token),
        Err(e) => {
            tracing::warn!(reason = %e, "session store unavailable during logout");
            None
        }
    };
    end_local_session(&session).await;
    let target = match id_token {
        Some(id_token) => app
            .oidc
            .logout_url(&id_token)
            .await
            .map(String::from)
            .unwrap_or_else(|| "/".into()),
        None => "/".into(),
    };
    leptos_axum::redirect(&target);
    Ok(())
}

/// Deletes the session record and its cookie. Idempotent.
pub async fn end_local_session(session: &Session) {
    match session.flush().await {
        Ok(()) => tracing::info!("local session ended"),
        Err(e) => tracing::warn!(reason = %e, "could not delete the session record"),
    }
}

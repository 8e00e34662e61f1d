//! Logout: forget the session here, then end FusionAuth's single sign-on session. It fails
//! closed: when the session store cannot be reached, the browser still loses its session cookie,
//! FusionAuth's logout still runs, the record is deleted as soon as the store answers again, and
//! the user is told that the local sign-out could not be recorded — never a silent no-op.

use leptos::prelude::*;
use tower_cookies::{Cookie, Cookies};
use tower_sessions::Session;

use super::context::{app_state, request_cookies, request_session};
use crate::{
    auth::failure::AuthFailure,
    server::{session::AuthSession, state::AppState},
};

/// The `state` sent with FusionAuth's logout when the local sign-out was not recorded; FusionAuth
/// hands it back to `/logout`, which then shows why.
pub const UNRECORDED_STATE: &str = "local-signout-unrecorded";

/// How the local part of a sign-out went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalSignOut {
    /// The session record is deleted (or there was none).
    Recorded,
    /// The store did not answer: the cookie is gone, the record will be deleted later.
    Unrecorded,
}

/// The Logout button: ends the local session and sends the browser to FusionAuth's logout.
pub async fn logout() -> Result<(), ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let cookies = request_cookies().await?;
    let id_token = match AuthSession::load(&session).await {
        Ok(auth) => auth
            .user
            .and_then(|user| user.tokens(&app.sealer).ok())
            .map(|tokens| tokens.id_token),
        Err(_) => None,
    };
    let ended = end_local_session(&app, &session, &cookies).await;
    let state = (ended == LocalSignOut::Unrecorded).then_some(UNRECORDED_STATE);
    let target = match app.oidc.logout_url(id_token.as_deref(), state).await {
        Some(url) => url.to_string(),
        None if ended == LocalSignOut::Unrecorded => {
            AuthFailure::LocalSignOutUnrecorded.page_path()
        }
        None => "/".into(),
    };
    leptos_axum::redirect(&target);
    Ok(())
}

/// Deletes the session record and its cookie. Idempotent. When the store does not answer, the
/// session is left untouched (so the session layer does not try to write it), its cookie is
/// removed by hand and the record's deletion is retried in the background.
pub async fn end_local_session(
    app: &AppState,
    session: &Session,
    cookies: &Cookies,
) -> LocalSignOut {
    let Some(id) = session.id() else {
        return LocalSignOut::Recorded;
    };
    if let Err(e) = AuthSession::load(session).await {
        tracing::warn!(reason = %e, "session store unavailable during logout; removing the cookie");
        let removal = Cookie::build((app.config.session_cookie_name(), "")).path("/");
        cookies.remove(removal.build());
        app.sessions.delete_later(id);
        return LocalSignOut::Unrecorded;
    }
    match session.flush().await {
        Ok(()) => {
            tracing::info!("local session ended");
            LocalSignOut::Recorded
        }
        Err(e) => {
            tracing::warn!(reason = %e, "could not delete the session record");
            LocalSignOut::Unrecorded
        }
    }
}

//! What every flow needs from the request it runs in: the app state, the cookies and the session.

use leptos::prelude::*;
use tower_cookies::Cookies;
use tower_sessions::Session;

use super::failures;
use crate::server::{session::AuthSession, state::AppState};

pub fn app_state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state is missing"))
}

pub async fn request_cookies() -> Result<Cookies, ServerFnError> {
    leptos_axum::extract::<Cookies>()
        .await
        .map_err(|e| ServerFnError::new(format!("no cookies on this request: {e}")))
}

pub async fn request_session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("no session on this request: {e}")))
}

/// The session's contents for a server function; a store outage is a message the page shows.
pub async fn load_session(session: &Session) -> Result<AuthSession, ServerFnError> {
    AuthSession::load(session)
        .await
        .map_err(|e| ServerFnError::new(failures::session_unavailable(e).message()))
}

/// Writes the session back; an outage is logged (the page still renders).
pub async fn store_quietly(auth: &AuthSession, session: &Session) {
    if let Err(e) = auth.store(session).await {
        tracing::warn!(reason = %e, "session store unavailable");
    }
}

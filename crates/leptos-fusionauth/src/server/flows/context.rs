//! What a server function needs from the request it runs in: the library's handle, the
//! visitor the layer resolved, the session and the cookies — all from the request's parts,
//! which `leptos_axum` puts in context.

use axum::http::request::Parts;
use leptos::prelude::*;
use tower_cookies::Cookies;
use tower_sessions::Session;

use super::failures;
use crate::server::{session::AuthSession, user::RequestAuth};

/// The request's parts (a server function or a page being rendered).
pub(crate) fn request_parts() -> Result<Parts, ServerFnError> {
    use_context::<Parts>().ok_or_else(|| ServerFnError::new("no request in this context"))
}

/// The library's view of the request; an error when its layer is not installed.
pub(crate) fn request_auth(parts: &Parts) -> Result<RequestAuth, ServerFnError> {
    RequestAuth::of(parts).cloned().ok_or_else(|| {
        tracing::error!("leptos-fusionauth: FusionAuth::install was not applied to this route");
        ServerFnError::new("the authentication layer is not installed")
    })
}

pub(crate) fn request_cookies(parts: &Parts) -> Result<Cookies, ServerFnError> {
    parts
        .extensions
        .get::<Cookies>()
        .cloned()
        .ok_or_else(|| ServerFnError::new("no cookies on this request"))
}

pub(crate) fn request_session(parts: &Parts) -> Result<Session, ServerFnError> {
    parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or_else(|| ServerFnError::new("no session on this request"))
}

/// The session's contents for a server function; a store outage is a message the page shows.
pub(crate) async fn load_session(session: &Session) -> Result<AuthSession, ServerFnError> {
    AuthSession::load(session)
        .await
        .map_err(|e| ServerFnError::new(failures::session_unavailable(e).message()))
}

/// Writes the session back; an outage is logged (the page still renders).
pub(crate) async fn store_quietly(auth: &AuthSession, session: &Session) {
    if let Err(e) = auth.store(session).await {
        tracing::warn!(reason = %e, "session store unavailable");
    }
}

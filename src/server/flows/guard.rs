//! The one check every role-protected page and server function goes through: signed in (the
//! access token refreshed first when due, so roles changed at FusionAuth count), holding the role,
//! and — for sensitive pages — signed in recently enough. Hiding a link is not a check: the
//! server functions call this before they answer.

use leptos::prelude::*;
use tower_sessions::Session;

use super::context::load_session;
use crate::{
    auth::admin::Denied,
    server::{
        refresh::RefreshWhen,
        session::{unix_now, SignedInUser},
        state::AppState,
    },
};

/// What a page or server function requires.
#[derive(Clone, Copy, Debug)]
pub struct Requirement<'a> {
    /// A role in this application.
    pub role: Option<&'a str>,
    /// A sign-in (password typed) no older than this many seconds.
    pub recent_sign_in: Option<u64>,
}

/// Why a request did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gate {
    /// A guest: sign in, then come back.
    SignInFirst,
    /// Signed in too long ago: type the password again, then come back.
    SignInAgain,
    /// Signed in, without the role: a 403 that names it.
    MissingRole(String),
}

/// The signed-in user, if they meet `requirement`.
pub async fn require(
    app: &AppState,
    session: &Session,
    requirement: Requirement<'_>,
) -> Result<Result<SignedInUser, Gate>, ServerFnError> {
    let mut auth = load_session(session).await?;
    let now = unix_now();
    app.refresher
        .refresh_session(session, &mut auth, RefreshWhen::Due, now)
        .await;
    let Some(user) = auth.user else {
        return Ok(Err(Gate::SignInFirst));
    };
    if let Some(role) = requirement.role.filter(|role| !user.has_role(role)) {
        tracing::warn!(subject = %user.subject, role, "refused: role missing");
        return Ok(Err(Gate::MissingRole(role.to_owned())));
    }
    let stale = |seconds: u64| {
        user.authenticated_at
            .is_none_or(|at| now - at > seconds as i64)
    };
    if requirement.recent_sign_in.is_some_and(stale) {
        return Ok(Err(Gate::SignInAgain));
    }
    Ok(Ok(user))
}

/// The answer to a request that did not pass: guests and stale sign-ins are sent through
/// FusionAuth and back to `page`; a missing role is a 403 that says which.
pub fn refuse<T>(gate: Gate, page: &str) -> Result<Result<T, Denied>, ServerFnError> {
    let back = url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>();
    match gate {
        Gate::SignInFirst => {
            send_to(&format!("/login?return_to={back}"));
            Err(ServerFnError::new("Please sign in first."))
        }
        Gate::SignInAgain => {
            send_to(&format!("/login?return_to={back}&reauthenticate=recent"));
            Err(ServerFnError::new("Please sign in again."))
        }
        Gate::MissingRole(role) => {
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::FORBIDDEN);
            }
            Ok(Err(Denied::MissingRole(role)))
        }
    }
}

/// Redirects the request: a page being rendered answers 302 whatever its `Accept` header (a
/// script must not get the page's shell instead); a server function called by a hydrated page
/// answers the way `leptos_axum` tells its client to navigate.
fn send_to(target: &str) {
    let rendering_a_page = use_context::<http::request::Parts>()
        .is_some_and(|request| !request.uri.path().starts_with("/api/"));
    match use_context::<leptos_axum::ResponseOptions>() {
        Some(response) if rendering_a_page => {
            if let Ok(location) = http::HeaderValue::from_str(target) {
                response.insert_header(http::header::LOCATION, location);
                response.set_status(http::StatusCode::FOUND);
            }
        }
        _ => leptos_axum::redirect(target),
    }
}

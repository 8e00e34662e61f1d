//! Logout: revoke the session's refresh token at FusionAuth, forget the session here, then end
//! FusionAuth's single sign-on session. "Sign out everywhere" also revokes every refresh token of
//! the user and ends every session of theirs in the shared store, on whichever instance it began.
//!
//! It fails closed: when the session store cannot be reached, the browser still loses its session
//! cookie, FusionAuth's logout still runs, the record is deleted as soon as the store answers
//! again, and the user is told that the local sign-out could not be recorded — never a silent
//! no-op.

use leptos::prelude::*;
use tower_cookies::Cookies;
use tower_sessions::Session;

use super::context::{request_auth, request_cookies, request_parts, request_session};
use crate::{
    server::{
        auth::FusionAuth,
        cookie::SessionCookie,
        oidc::Revocation,
        session::{AuthSession, SignedInUser},
    },
    shared::failure::AuthFailure,
};

/// The `state` sent with FusionAuth's logout when the local sign-out was not recorded; FusionAuth
/// hands it back to `/logout`, which then shows why.
pub(crate) const UNRECORDED_STATE: &str = "local-signout-unrecorded";

/// How the local part of a sign-out went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocalSignOut {
    /// The session record is deleted (or there was none).
    Recorded,
    /// The store did not answer: the cookie is gone, the record will be deleted later.
    Unrecorded,
}

/// Which sessions a sign-out ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignOutScope {
    /// This browser's session (the Logout button).
    ThisSession,
    /// Every session of the user, here and in every application ("Sign out everywhere").
    Everywhere,
}

/// The body of a Logout or "Sign out everywhere" server function: end the sessions, then send
/// the browser to FusionAuth's logout. What could not be done is said on the page the browser
/// comes back to (FusionAuth hands the `state` back to the logout URL).
pub async fn logout(scope: SignOutScope) -> Result<(), ServerFnError> {
    let parts = request_parts()?;
    let app = request_auth(&parts)?.auth;
    let session = request_session(&parts)?;
    let cookies = request_cookies(&parts)?;
    let loaded = AuthSession::load(&session).await;
    let store_answered = loaded.is_ok();
    let user = loaded.ok().and_then(|auth| auth.user);
    let (id_token, revoked) = match &user {
        Some(user) => end_at_provider(&app, user, scope).await,
        None => (None, true),
    };
    let everywhere_done = match (scope, &user) {
        (SignOutScope::Everywhere, Some(user)) => {
            end_every_session_of(&app, &user.subject).await && revoked
        }
        // Without the session (the store is down) nothing beyond this browser could be ended.
        (SignOutScope::Everywhere, None) => store_answered,
        (SignOutScope::ThisSession, _) => true,
    };
    let ended = end_local_session(&app, &session, &cookies).await;
    let problem = match (everywhere_done, ended) {
        (false, _) => Some(AuthFailure::SignOutEverywhereIncomplete),
        (true, LocalSignOut::Unrecorded) => Some(AuthFailure::LocalSignOutUnrecorded),
        (true, LocalSignOut::Recorded) => None,
    };
    let state = problem.and_then(logout_state);
    let target = match app.oidc.logout_url(id_token.as_deref(), state).await {
        Some(url) => url.to_string(),
        None => match problem {
            Some(failure) => failure.location(&app.config.paths.error_page),
            None => app.config.paths.home.clone(),
        },
    };
    leptos_axum::redirect(&target);
    Ok(())
}

/// The `state` sent with FusionAuth's logout when a sign-out was incomplete, and back.
const INCOMPLETE_SIGN_OUTS: [(&str, AuthFailure); 2] = [
    (UNRECORDED_STATE, AuthFailure::LocalSignOutUnrecorded),
    (
        "signout-everywhere-incomplete",
        AuthFailure::SignOutEverywhereIncomplete,
    ),
];

fn logout_state(failure: AuthFailure) -> Option<&'static str> {
    INCOMPLETE_SIGN_OUTS
        .iter()
        .find(|(_, known)| *known == failure)
        .map(|(state, _)| *state)
}

/// What the `state` FusionAuth handed back to the logout URL says was not done.
pub(crate) fn incomplete_sign_out(state: Option<&str>) -> Option<AuthFailure> {
    let state = state?;
    INCOMPLETE_SIGN_OUTS
        .iter()
        .find(|(known, _)| *known == state)
        .map(|(_, failure)| *failure)
}

/// Revokes the user's refresh token (or, everywhere, all of them) at FusionAuth; a failure is
/// logged and does not stop the sign-out. Returns the ID token (the logout's hint) and whether
/// the revocation went through.
async fn end_at_provider(
    app: &FusionAuth,
    user: &SignedInUser,
    scope: SignOutScope,
) -> (Option<String>, bool) {
    let Ok(tokens) = user.tokens(&app.sealer) else {
        return (None, false);
    };
    let Some(refresh_token) = tokens.refresh_token.as_deref() else {
        return (Some(tokens.id_token), true);
    };
    let revocation = match scope {
        SignOutScope::ThisSession => Revocation::ThisToken,
        SignOutScope::Everywhere => Revocation::AllOfTheUser,
    };
    let revoked = app
        .oidc
        .revoke_refresh_token(refresh_token, revocation)
        .await;
    match &revoked {
        Ok(()) => tracing::info!(subject = %user.subject, ?revocation, "refresh token revoked"),
        Err(e) => tracing::warn!(reason = %e, subject = %user.subject, "sign-out goes on"),
    }
    (Some(tokens.id_token), revoked.is_ok())
}

/// Ends every session of `subject` in the shared store (other browsers, other instances):
/// whether it could.
async fn end_every_session_of(app: &FusionAuth, subject: &str) -> bool {
    match app.sessions.end_sessions_of(subject).await {
        Ok(count) => {
            tracing::info!(%subject, count, "every session of the user ended");
            true
        }
        Err(e) => {
            tracing::warn!(reason = %e, %subject, "other sessions not ended");
            false
        }
    }
}

/// Deletes the session record and its cookie. Idempotent. When the store does not answer, the
/// session is left untouched (so the session layer does not try to write it), its cookie is
/// removed by hand and the record's deletion is retried in the background.
pub(crate) async fn end_local_session(
    app: &FusionAuth,
    session: &Session,
    cookies: &Cookies,
) -> LocalSignOut {
    let Some(id) = session.id() else {
        return LocalSignOut::Recorded;
    };
    if let Err(e) = AuthSession::load(session).await {
        tracing::warn!(reason = %e, "session store unavailable during logout; removing the cookie");
        cookies.add(SessionCookie::of(&app.config).removal());
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

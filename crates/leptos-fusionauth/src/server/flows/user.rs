//! Who a request comes from, resolved once by the layer: the session read, the access token
//! refreshed when it is about to expire (a refused refresh turns the user into a guest, with a
//! notice), and "Refresh now".

use axum::http::{request::Parts, StatusCode};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use super::context::{load_session, request_auth, request_parts, request_session, store_quietly};
use crate::server::{
    auth::FusionAuth,
    refresh::{RefreshOutcome, RefreshWhen},
    session::{unix_now, AuthSession},
    user::{RequestAuth, Resolved, User},
};
use crate::shared::{error::AuthError, failure::AuthFailure, view::Visitor};

/// Reads the session of a request and refreshes its tokens when due.
pub(crate) async fn resolve(auth: &FusionAuth, session: &Session) -> Resolved {
    if session.id().is_none() {
        // No session cookie that verified: a guest, without reading anything.
        return Resolved::Guest { notice: false };
    }
    let mut contents = match AuthSession::load(session).await {
        Ok(contents) => contents,
        Err(e) => {
            tracing::warn!(reason = %e, "session store unavailable");
            return Resolved::Unavailable;
        }
    };
    if contents.user.is_some() {
        auth.refresher
            .refresh_session(session, &mut contents, RefreshWhen::Due, unix_now())
            .await;
    }
    let notice = std::mem::take(&mut contents.session_ended_notice);
    if notice {
        store_quietly(&contents, session).await;
    }
    match contents.user {
        Some(user) => Resolved::SignedIn(User {
            session_ends_at: auth
                .sessions
                .lifetimes()
                .deadline(user.signed_in_at)
                .unix_timestamp(),
            signed_in: user.upgraded().into(),
        }),
        None => Resolved::Guest { notice },
    }
}

/// "Refresh now": a new access token regardless of its expiry. Returns the new expiry; when the
/// provider refuses, the session is over and the browser is sent home (the guest page says why).
pub async fn refresh_now() -> Result<Option<i64>, ServerFnError> {
    let parts = request_parts()?;
    let request = request_auth(&parts)?;
    let session = request_session(&parts)?;
    let mut contents = load_session(&session).await?;
    let outcome = request
        .auth
        .refresher
        .refresh_session(&session, &mut contents, RefreshWhen::Now, unix_now())
        .await;
    match outcome {
        RefreshOutcome::Unavailable => Err(ServerFnError::new(
            "The identity provider is unreachable right now; the current token stays valid.",
        )),
        RefreshOutcome::Ended => {
            leptos_axum::redirect(&request.auth.config.paths.home);
            Ok(None)
        }
        RefreshOutcome::Refreshed | RefreshOutcome::NotNeeded => {
            Ok(contents.user.and_then(|user| user.access_token_expires_at))
        }
    }
}

const SESSION_ENDED_NOTICE: &str =
    "Your session has ended at the identity provider. Please log in again.";

/// Who is looking at the page being rendered, or calling the server function: the signed-in
/// user's view, or a guest (with a notice once, when the identity provider ended the session).
/// When the session store is down the answer's status is set to 503.
pub fn visitor() -> Result<Visitor, AuthError> {
    let parts = use_context::<Parts>();
    match parts
        .as_ref()
        .and_then(RequestAuth::of)
        .map(|r| &r.resolved)
    {
        Some(Resolved::SignedIn(user)) => Ok(Visitor::signed_in(user.view())),
        Some(Resolved::Guest { notice }) => Ok(Visitor::guest(
            notice.then(|| SESSION_ENDED_NOTICE.to_owned()),
        )),
        Some(Resolved::Unavailable) => {
            let failure = AuthFailure::SessionUnavailable;
            if let Some(response) = use_context::<ResponseOptions>() {
                if let Ok(status) = StatusCode::from_u16(failure.status()) {
                    response.set_status(status);
                }
            }
            Err(AuthError::Failure(failure))
        }
        None => {
            tracing::error!("leptos-fusionauth: FusionAuth::install was not applied to this route");
            Err(AuthError::Failure(AuthFailure::Unknown))
        }
    }
}

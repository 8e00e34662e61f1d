//! The signed-in user as the pages see it, and "Refresh now".

use leptos::prelude::*;

use super::{
    context::{app_state, load_session, request_session, store_quietly},
    protected::display_time,
};
use crate::{
    auth::types::{UserView, Visitor},
    server::{
        refresh::{RefreshOutcome, RefreshWhen},
        session::{store::lifetime::SessionLifetimes, unix_now, SignedInUser},
    },
};

const SESSION_ENDED_NOTICE: &str =
    "Your session has ended at the identity provider. Please log in again.";

/// The user the page shows. Refreshes the access token first when it is about to expire; a
/// refused refresh turns the user into a guest, with a notice.
pub async fn current_user() -> Result<Visitor, ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let mut auth = load_session(&session).await?;
    let now = unix_now();
    if let Some(user) = auth.user.as_ref() {
        if let Err(e) = user.tokens(&app.sealer) {
            // The session outlived APP_SECRET_KEY (or was altered): it cannot be used any more.
            tracing::warn!(reason = %e, "signing the user out");
            auth.user = None;
            store_quietly(&auth, &session).await;
        }
    }
    app.refresher
        .refresh_session(&session, &mut auth, RefreshWhen::Due, now)
        .await;
    let notice = std::mem::take(&mut auth.session_ended_notice);
    if notice {
        store_quietly(&auth, &session).await;
    }
    let lifetimes = app.sessions.lifetimes();
    Ok(Visitor {
        user: auth
            .user
            .as_ref()
            .map(|user| user_view(user, now, &lifetimes)),
        notice: notice.then(|| SESSION_ENDED_NOTICE.to_owned()),
    })
}

/// "Refresh now": a new access token regardless of its expiry. Returns the new expiry.
pub async fn refresh_now() -> Result<Option<i64>, ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let mut auth = load_session(&session).await?;
    let outcome = app
        .refresher
        .refresh_session(&session, &mut auth, RefreshWhen::Now, unix_now())
        .await;
    match outcome {
        RefreshOutcome::Unavailable => Err(ServerFnError::new(
            "The identity provider is unreachable right now; the current token stays valid.",
        )),
        RefreshOutcome::Ended => {
            // The guest page says why.
            leptos_axum::redirect("/");
            Ok(None)
        }
        RefreshOutcome::Refreshed | RefreshOutcome::NotNeeded => {
            Ok(auth.user.and_then(|user| user.access_token_expires_at))
        }
    }
}

fn user_view(user: &SignedInUser, now: i64, lifetimes: &SessionLifetimes) -> UserView {
    let ends = lifetimes.deadline(user.signed_in_at).unix_timestamp();
    UserView {
        email: user.email.clone(),
        claims_json: serde_json::to_string_pretty(&user.claims).unwrap_or_default(),
        access_token_expires_at: user.access_token_expires_at,
        rendered_at: now,
        can_refresh: user.has_refresh_token,
        session_ends: display_time(Some(ends)),
        roles: user.roles.clone(),
    }
}

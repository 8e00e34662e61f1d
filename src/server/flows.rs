//! The bodies of the server functions in [`crate::auth`] and of the `/callback` route: they tie
//! the protocol ([`super::oidc`]) to the session ([`super::session`]).

use leptos::prelude::*;
use tower_sessions::Session;

use super::{
    refresh::{refresh_session, RefreshOutcome},
    return_to::safe_return_path,
    session::{unix_now, AuthSession, PendingLoginError, SignedInUser},
    AppState,
};
use crate::auth::{AuthFailure, UserView, Visitor};

pub use super::oidc::LoginFlow as Flow;

/// The query FusionAuth sends to the redirect URI. Unknown parameters (`locale`, `userState`)
/// are ignored.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// RFC 9207: the issuer that sent this response (FusionAuth 1.69+).
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// The user the page shows. Refreshes the access token first when it is about to expire; a
/// refused refresh turns the user into a guest, with a notice.
pub async fn current_user() -> Result<Visitor, ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let mut auth = load_for_view(&session).await?;
    let now = unix_now();
    if let Some(user) = auth.user.as_ref() {
        if let Err(e) = user.tokens(&app.sealer) {
            // The session outlived APP_SECRET_KEY (or was altered): it cannot be used any more.
            tracing::warn!(reason = %e, "signing the user out");
            auth.user = None;
            store_quietly(&auth, &session).await;
        }
    }
    refresh_session(&app, &session, &mut auth, false, now).await;
    let notice = std::mem::take(&mut auth.session_ended_notice);
    if notice {
        store_quietly(&auth, &session).await;
    }
    Ok(Visitor {
        user: auth.user.as_ref().map(|user| user_view(user, now)),
        notice: notice.then(|| SESSION_ENDED_NOTICE.to_owned()),
    })
}

/// "Refresh now": a new access token regardless of its expiry. Returns the new expiry.
pub async fn refresh_now() -> Result<Option<i64>, ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let mut auth = load_for_view(&session).await?;
    match refresh_session(&app, &session, &mut auth, true, unix_now()).await {
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

const SESSION_ENDED_NOTICE: &str =
    "Your session has ended at the identity provider. Please log in again.";

fn user_view(user: &SignedInUser, now: i64) -> UserView {
    UserView {
        email: user.email.clone(),
        claims_json: serde_json::to_string_pretty(&user.claims).unwrap_or_default(),
        access_token_expires_at: user.access_token_expires_at,
        rendered_at: now,
        can_refresh: user.has_refresh_token,
    }
}

async fn load_for_view(session: &Session) -> Result<AuthSession, ServerFnError> {
    AuthSession::load(session).await.map_err(|e| {
        tracing::warn!(reason = %e, "session store unavailable while reading the user");
        ServerFnError::new(AuthFailure::SessionUnavailable.message())
    })
}

async fn store_quietly(auth: &AuthSession, session: &Session) {
    if let Err(e) = auth.store(session).await {
        tracing::warn!(reason = %e, "session store unavailable");
    }
}

/// Login and Register: remember a fresh attempt in the session and send the browser to
/// FusionAuth; on failure, to the error page.
pub async fn start(flow: Flow, return_to: Option<String>) -> Result<(), ServerFnError> {
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
    flow: Flow,
    return_to: Option<&str>,
) -> Result<String, AuthFailure> {
    let now = unix_now();
    let safe_return_to = safe_return_path(return_to);
    if return_to.is_some_and(|requested| requested != safe_return_to) {
        tracing::warn!("return path refused: not a plain path on this site; using /");
    }
    let (url, pending) = app
        .oidc
        .begin_login(flow, safe_return_to, now)
        .await
        .map_err(|e| {
            tracing::warn!(reason = %e, "login could not start");
            e.failure()
        })?;
    let mut auth = AuthSession::load(session)
        .await
        .map_err(session_unavailable)?;
    auth.add_pending(pending, now);
    auth.store(session).await.map_err(session_unavailable)?;
    tracing::info!(?flow, "login started; redirecting to the identity provider");
    Ok(url.into())
}

/// A login that went through: where to go next, and how long the provider took.
pub struct CompletedLogin {
    pub return_to: String,
    pub provider_time: std::time::Duration,
}

/// `/callback`: validate the response, exchange the code, sign the user in. Returns where to go
/// next, or why the login was rejected (already logged).
pub async fn complete(
    app: &AppState,
    session: &Session,
    params: CallbackParams,
) -> Result<CompletedLogin, AuthFailure> {
    let now = unix_now();
    if let Some(error) = params.error.as_deref() {
        tracing::warn!(
            error,
            description = params.error_description.as_deref().unwrap_or(""),
            "callback rejected: the identity provider returned an error"
        );
        return Err(if error == "access_denied" {
            AuthFailure::AccessDenied
        } else {
            AuthFailure::ProviderError
        });
    }
    if let Some(iss) = params.iss.as_deref() {
        if iss != app.config.issuer {
            tracing::warn!(
                iss,
                "callback rejected: response from another issuer (mix-up)"
            );
            return Err(AuthFailure::ProviderError);
        }
    }
    let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) else {
        tracing::warn!("callback rejected: no state parameter");
        return Err(AuthFailure::InvalidState);
    };

    let mut auth = AuthSession::load(session)
        .await
        .map_err(session_unavailable)?;
    let pending = auth.take_pending(state, now).map_err(|e| match e {
        PendingLoginError::Unknown => {
            tracing::warn!("callback rejected: state is unknown, forged or already used");
            AuthFailure::InvalidState
        }
        PendingLoginError::Expired => {
            tracing::warn!("callback rejected: the login attempt expired");
            AuthFailure::LoginExpired
        }
    })?;
    // Consume the state before anything else can fail, so it is never accepted twice.
    auth.store(session).await.map_err(session_unavailable)?;

    let Some(code) = params.code.filter(|c| !c.is_empty()) else {
        tracing::warn!("callback rejected: no authorization code");
        return Err(AuthFailure::MissingCode);
    };
    let login = app
        .oidc
        .finish_login(code, &pending, now)
        .await
        .map_err(|e| {
            tracing::warn!(reason = %e, "callback rejected");
            e.failure()
        })?;
    let provider_time = login.provider_time;
    let user = SignedInUser::new(
        login.subject,
        login.email,
        login.claims,
        &login.tokens,
        now,
        &app.sealer,
    );

    // A new session id at the moment of login: an id planted before login (fixation) is dead.
    session.cycle_id().await.map_err(session_unavailable)?;
    let subject = user.subject.clone();
    auth.user = Some(user);
    auth.store(session).await.map_err(session_unavailable)?;
    tracing::info!(%subject, "login succeeded");
    Ok(CompletedLogin {
        return_to: pending.return_to,
        provider_time,
    })
}

/// Logout: forget the session here, then end FusionAuth's SSO session.
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

fn session_unavailable(error: tower_sessions::session::Error) -> AuthFailure {
    tracing::warn!(reason = %error, "session store unavailable");
    AuthFailure::SessionUnavailable
}

fn app_state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state is missing"))
}

async fn request_session() -> Result<Session, ServerFnError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| ServerFnError::new(format!("no session on this request: {e}")))
}

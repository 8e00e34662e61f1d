//! `/callback`: FusionAuth's answer to a login, checked step by step. Every rejection is logged
//! with its reason and becomes an [`AuthFailure`]; nothing is signed in unless every step passed.

use tower_cookies::Cookies;
use tower_sessions::Session;

use super::failures;
use crate::{
    server::{
        auth::FusionAuth,
        oidc::{verify::MAX_CLOCK_SKEW_SECS, PendingLogin, VerifiedLogin},
        session::{unix_now, AuthSession, SignedInUser},
    },
    shared::failure::AuthFailure,
};

/// What the callback reads of the request.
pub(crate) struct CallbackRequest<'a> {
    pub session: &'a Session,
    pub cookies: &'a Cookies,
    pub params: CallbackParams,
}

/// The query FusionAuth sends to the redirect URI. Unknown parameters (`locale`, `userState`)
/// are ignored.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    /// RFC 9207: the issuer that sent this response (FusionAuth 1.69+).
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A login that went through: where to go next, and how long the provider took.
pub(crate) struct CompletedLogin {
    pub return_to: String,
    pub provider_time: std::time::Duration,
}

/// Validates the response, exchanges the code and signs the user in.
pub(crate) async fn complete(
    app: &FusionAuth,
    request: CallbackRequest<'_>,
) -> Result<CompletedLogin, AuthFailure> {
    let CallbackRequest {
        session,
        cookies,
        params,
    } = request;
    let now = unix_now();
    reject_provider_error(&params)?;
    reject_other_issuer(&params, &app.config.issuer)?;
    let state = required_state(&params)?;
    let pending = consume_attempt(app, cookies, state, now)?;
    let code = required_code(params.code)?;
    let login = app
        .oidc
        .finish_login(code, &pending, now)
        .await
        .map_err(failures::login_rejected)?;
    require_registration(&login, app.oidc.client_id())?;
    require_recent_sign_in(&pending, &login, now)?;
    sign_in(app, session, &login, now).await?;
    Ok(CompletedLogin {
        return_to: pending.return_to,
        provider_time: login.provider_time,
    })
}

/// FusionAuth reported an error instead of a code (the user cancelled, a policy refused).
fn reject_provider_error(params: &CallbackParams) -> Result<(), AuthFailure> {
    match params.error.as_deref() {
        Some(error) => Err(failures::provider_error(
            error,
            params.error_description.as_deref(),
        )),
        None => Ok(()),
    }
}

/// RFC 9207: a response that names another issuer is a mix-up attack.
fn reject_other_issuer(params: &CallbackParams, issuer: &str) -> Result<(), AuthFailure> {
    match params.iss.as_deref() {
        Some(iss) if iss != issuer => {
            tracing::warn!(
                iss,
                "callback rejected: response from another issuer (mix-up)"
            );
            Err(AuthFailure::ProviderError)
        }
        _ => Ok(()),
    }
}

fn required_state(params: &CallbackParams) -> Result<&str, AuthFailure> {
    params
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            tracing::warn!("callback rejected: no state parameter");
            AuthFailure::InvalidState
        })
}

fn required_code(code: Option<String>) -> Result<String, AuthFailure> {
    code.filter(|c| !c.is_empty()).ok_or_else(|| {
        tracing::warn!("callback rejected: no authorization code");
        AuthFailure::MissingCode
    })
}

/// FusionAuth signs in users who are not registered for this application when the application
/// does not require registration (with tokens that lack `applicationId`): no session for them.
/// The verified access token is the source — userinfo may omit `applicationId` (FusionAuth's
/// default "Strict" scope handling), and the `userState` callback parameter is only a hint.
fn require_registration(login: &VerifiedLogin, client_id: &str) -> Result<(), AuthFailure> {
    if login.access.application_id.as_deref() == Some(client_id) {
        return Ok(());
    }
    tracing::warn!(subject = %login.subject, "callback rejected: the user is not registered for this application");
    Err(AuthFailure::NotRegistered)
}

/// Step-up: a login that asked for a recent sign-in (`max_age`) passes only if the new ID token's
/// `auth_time` is that recent — a provider that ignored the request does not pass.
fn require_recent_sign_in(
    pending: &PendingLogin,
    login: &VerifiedLogin,
    now: i64,
) -> Result<(), AuthFailure> {
    let Some(max_age) = pending.max_age_secs else {
        return Ok(());
    };
    let allowed = max_age as i64 + MAX_CLOCK_SKEW_SECS;
    match login.auth_time {
        Some(auth_time) if now - auth_time <= allowed => Ok(()),
        auth_time => {
            tracing::warn!(
                ?auth_time,
                max_age,
                "callback rejected: the sign-in is not recent enough"
            );
            Err(AuthFailure::SignInNotRecent)
        }
    }
}

/// Takes the login attempt `state` names out of the browser's login-attempt cookie and sends
/// the cookie back without it, so a state is never accepted twice, whatever fails next.
fn consume_attempt(
    app: &FusionAuth,
    cookies: &Cookies,
    state: &str,
    now: i64,
) -> Result<PendingLogin, AuthFailure> {
    let mut attempts = app.login_cookie.read(cookies);
    let taken = attempts.take(state, now);
    app.login_cookie.write(cookies, &attempts);
    taken.map_err(failures::state_rejected)
}

/// Stores the verified user in the session under a new session id: an id planted before login
/// (fixation) is dead.
async fn sign_in(
    app: &FusionAuth,
    session: &Session,
    login: &VerifiedLogin,
    now: i64,
) -> Result<(), AuthFailure> {
    let user = SignedInUser::new(login, now, &app.sealer).map_err(|e| {
        tracing::warn!(reason = %e, "callback rejected: the tokens cannot be sealed");
        AuthFailure::Unknown
    })?;
    let mut auth = AuthSession::load(session)
        .await
        .map_err(failures::session_unavailable)?;
    session
        .cycle_id()
        .await
        .map_err(failures::session_unavailable)?;
    auth.user = Some(user);
    auth.store(session)
        .await
        .map_err(failures::session_unavailable)?;
    tracing::info!(subject = %login.subject, "login succeeded");
    Ok(())
}

//! FusionAuth's current description of the signed-in user, asked by the server with the user's
//! own access token (which never reaches the browser) at the userinfo endpoint. FusionAuth's
//! User API no longer accepts a user's JWT (deprecated in 1.50, removed in 1.60): userinfo is
//! its replacement.

use serde_json::{Map, Value};
use tower_sessions::Session;

use super::context::{request_auth, request_parts, request_session};
use crate::server::{
    auth::FusionAuth,
    oidc::UserinfoFailure,
    refresh::RefreshWhen,
    session::{unix_now, AuthSession, SignedInUser},
    user::User,
};

/// Why FusionAuth's description of the user is not available.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserinfoError {
    /// FusionAuth refused the access token, even after a refresh (a 401).
    #[error("the identity provider refused the access token (401)")]
    TokenRefused,
    /// FusionAuth could not be reached, or answered something unusable (a 503).
    #[error("userinfo unavailable: {0}")]
    Unavailable(String),
    /// The answer describes another user than the session's: never shown.
    #[error("userinfo names another subject than the session")]
    OtherSubject,
}

/// FusionAuth's userinfo about `user`, the signed-in user of the current request. A refused
/// access token is refreshed once and asked again.
pub async fn userinfo(user: &User) -> Result<Map<String, Value>, UserinfoError> {
    let parts = request_parts().map_err(|e| UserinfoError::Unavailable(e.to_string()))?;
    let auth = request_auth(&parts)
        .map_err(|e| UserinfoError::Unavailable(e.to_string()))?
        .auth;
    let answer = match ask(&auth, &user.signed_in).await {
        Err(UserinfoError::TokenRefused) => {
            let session =
                request_session(&parts).map_err(|e| UserinfoError::Unavailable(e.to_string()))?;
            retry_after_refresh(&auth, &session).await
        }
        other => other,
    }?;
    match answer.get("sub").and_then(Value::as_str) {
        Some(subject) if subject == user.subject() => Ok(answer),
        _ => {
            tracing::warn!(subject = %user.subject(), "userinfo names another subject; refused");
            Err(UserinfoError::OtherSubject)
        }
    }
}

async fn ask(auth: &FusionAuth, user: &SignedInUser) -> Result<Map<String, Value>, UserinfoError> {
    let tokens = user
        .tokens(&auth.sealer)
        .map_err(|e| UserinfoError::Unavailable(e.to_string()))?;
    auth.oidc
        .current_userinfo(&tokens.access_token)
        .await
        .map_err(|failure| match failure {
            UserinfoFailure::TokenRefused => UserinfoError::TokenRefused,
            UserinfoFailure::Unavailable(reason) => UserinfoError::Unavailable(reason),
        })
}

/// FusionAuth refused the access token: refresh it once and ask again.
async fn retry_after_refresh(
    auth: &FusionAuth,
    session: &Session,
) -> Result<Map<String, Value>, UserinfoError> {
    let mut contents = AuthSession::load(session)
        .await
        .map_err(|e| UserinfoError::Unavailable(e.to_string()))?;
    auth.refresher
        .refresh_session(session, &mut contents, RefreshWhen::Now, unix_now())
        .await;
    match contents.user {
        Some(user) => ask(auth, &user).await,
        None => Err(UserinfoError::TokenRefused),
    }
}

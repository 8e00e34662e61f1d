//! Every mapping from a failure below (the protocol, the session, the provider's answer) to the
//! [`AuthFailure`] the user sees. Each mapping logs the reason once, at WARN.

use crate::{
    server::{login_attempts::PendingLoginError, oidc::OidcError},
    shared::failure::AuthFailure,
};

/// A protocol step of the callback failed.
pub(crate) fn login_rejected(error: OidcError) -> AuthFailure {
    tracing::warn!(reason = %error, "callback rejected");
    protocol_failure(&error)
}

/// A login could not start.
pub(crate) fn login_not_started(error: OidcError) -> AuthFailure {
    tracing::warn!(reason = %error, "login could not start");
    protocol_failure(&error)
}

fn protocol_failure(error: &OidcError) -> AuthFailure {
    match error {
        OidcError::ProviderUnavailable(_) => AuthFailure::ProviderUnavailable,
        OidcError::CodeRejected(_) => AuthFailure::CodeRejected,
        OidcError::InvalidIdToken(_)
        | OidcError::InvalidAccessToken(_)
        | OidcError::UnknownKey(_) => AuthFailure::InvalidIdToken,
    }
}

/// The callback's `state` matched no usable login attempt.
pub(crate) fn state_rejected(error: PendingLoginError) -> AuthFailure {
    match error {
        PendingLoginError::Unknown => {
            tracing::warn!("callback rejected: state is unknown, forged or already used");
            AuthFailure::InvalidState
        }
        PendingLoginError::Expired => {
            tracing::warn!("callback rejected: the login attempt expired");
            AuthFailure::LoginExpired
        }
    }
}

/// FusionAuth answered the authorization request with an OAuth error.
pub(crate) fn provider_error(error: &str, description: Option<&str>) -> AuthFailure {
    tracing::warn!(
        error,
        description = description.unwrap_or(""),
        "callback rejected: the identity provider returned an error"
    );
    if error == "access_denied" {
        AuthFailure::AccessDenied
    } else {
        AuthFailure::ProviderError
    }
}

/// The session store could not be read or written.
pub(crate) fn session_unavailable(error: tower_sessions::session::Error) -> AuthFailure {
    tracing::warn!(reason = %error, "session store unavailable");
    AuthFailure::SessionUnavailable
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_errors_map_to_user_facing_failures() {
        assert_eq!(
            login_rejected(OidcError::ProviderUnavailable("x".into())),
            AuthFailure::ProviderUnavailable
        );
        assert_eq!(
            login_rejected(OidcError::CodeRejected("x".into())),
            AuthFailure::CodeRejected
        );
        assert_eq!(
            login_rejected(OidcError::InvalidIdToken("x".into())),
            AuthFailure::InvalidIdToken
        );
    }

    #[test]
    fn provider_errors_distinguish_a_refusal() {
        assert_eq!(
            provider_error("access_denied", None),
            AuthFailure::AccessDenied
        );
        assert_eq!(
            provider_error("server_error", Some("x")),
            AuthFailure::ProviderError
        );
    }

    #[test]
    fn state_errors_say_whether_the_attempt_expired() {
        assert_eq!(
            state_rejected(PendingLoginError::Unknown),
            AuthFailure::InvalidState
        );
        assert_eq!(
            state_rejected(PendingLoginError::Expired),
            AuthFailure::LoginExpired
        );
    }
}

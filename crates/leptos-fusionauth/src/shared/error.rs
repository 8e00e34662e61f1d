//! The error a guarded server function answers with, typed so the page can tell a refusal
//! (sign in, sign in again, a missing role) from a failure, and say each in words.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use super::failure::AuthFailure;

/// Why a guarded server function did not answer with its data. On the server the guard has
/// already set the answer's status (401, 403, 503) or redirect (to FusionAuth and back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// A guest: the browser is sent to sign in, then back.
    #[error("Please sign in first.")]
    SignInRequired,
    /// Signed in too long ago for this: the browser is sent to type the password again.
    #[error("Please sign in again.")]
    RecentSignInRequired,
    /// Signed in, without this role in the application (a 403).
    #[error("This needs the \u{201c}{0}\u{201d} role, which your account does not have for this application.")]
    MissingRole(String),
    /// The session store or the identity provider failed (a 503, or a rejected sign-in).
    #[error("{}", .0.message())]
    Failure(AuthFailure),
    /// The server function itself could not run (transport, arguments, encoding).
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AuthError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        Self::ServerFn(value)
    }
}

impl From<AuthFailure> for AuthError {
    fn from(failure: AuthFailure) -> Self {
        Self::Failure(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_to_do_and_round_trip_as_json() {
        let refusal = AuthError::MissingRole("editor".into());
        assert!(refusal.to_string().contains("\u{201c}editor\u{201d} role"));
        let bytes = refusal.ser();
        assert_eq!(AuthError::de(bytes), refusal);
        let failure = AuthError::from(AuthFailure::SessionUnavailable);
        assert!(failure.to_string().contains("session store is unavailable"));
        assert!(matches!(
            AuthError::de("garbage".into()),
            AuthError::ServerFn(_)
        ));
    }
}

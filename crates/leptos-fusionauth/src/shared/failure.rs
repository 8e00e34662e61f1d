//! Every way a sign-in can fail, as the person in front of the browser should hear it: one closed
//! enum with a stable code (for the error page's URL), an HTTP status and a message. A leaf
//! module, shared by the pages and the server.

use serde::{Deserialize, Serialize};

/// Why a sign-in did not complete. The server redirects to `/auth/error?reason=<code>`; the
/// error page turns the code back into a message and an HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AuthFailure {
    /// Discovery, JWKS or the token endpoint could not be reached.
    ProviderUnavailable,
    /// The session store could not be read or written.
    SessionUnavailable,
    /// The user (or FusionAuth) refused the authorization request.
    AccessDenied,
    /// FusionAuth answered the callback with another OAuth error.
    ProviderError,
    /// The callback's `state` is missing, unknown or already used.
    InvalidState,
    /// The login attempt is older than the allowed time.
    LoginExpired,
    /// The callback has a valid state but no authorization code.
    MissingCode,
    /// The token endpoint refused the authorization code (expired, replayed, wrong verifier).
    CodeRejected,
    /// The ID token failed verification (signature, issuer, audience, expiry, nonce, at_hash).
    InvalidIdToken,
    /// The callback request itself is malformed (bad encoding, oversized).
    MalformedCallback,
    /// The user signed in, but is not registered for this application.
    NotRegistered,
    /// A recent sign-in was asked for (step-up), and the identity provider's answer was older.
    SignInNotRecent,
    /// Logout ran at the identity provider and the browser lost its session cookie, but the
    /// session store was unavailable, so the server could not record the sign-out yet.
    LocalSignOutUnrecorded,
    /// "Sign out everywhere" ended the session in this browser, but not (all of) the others:
    /// the session store or the identity provider did not answer.
    SignOutEverywhereIncomplete,
    /// Anything else; the server log has the details.
    Unknown,
}

impl AuthFailure {
    const ALL: [AuthFailure; 15] = [
        Self::ProviderUnavailable,
        Self::SessionUnavailable,
        Self::AccessDenied,
        Self::ProviderError,
        Self::InvalidState,
        Self::LoginExpired,
        Self::MissingCode,
        Self::CodeRejected,
        Self::InvalidIdToken,
        Self::MalformedCallback,
        Self::NotRegistered,
        Self::SignInNotRecent,
        Self::LocalSignOutUnrecorded,
        Self::SignOutEverywhereIncomplete,
        Self::Unknown,
    ];

    /// The stable code used in the error page URL.
    pub fn code(self) -> &'static str {
        match self {
            Self::ProviderUnavailable => "provider_unavailable",
            Self::SessionUnavailable => "session_unavailable",
            Self::AccessDenied => "access_denied",
            Self::ProviderError => "provider_error",
            Self::InvalidState => "invalid_state",
            Self::LoginExpired => "login_expired",
            Self::MissingCode => "missing_code",
            Self::CodeRejected => "code_rejected",
            Self::InvalidIdToken => "invalid_id_token",
            Self::MalformedCallback => "malformed_callback",
            Self::NotRegistered => "not_registered",
            Self::SignInNotRecent => "sign_in_not_recent",
            Self::LocalSignOutUnrecorded => "local_signout_unrecorded",
            Self::SignOutEverywhereIncomplete => "signout_everywhere_incomplete",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a code from the error page URL; unknown codes become [`AuthFailure::Unknown`].
    pub fn from_code(code: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|failure| failure.code() == code)
            .unwrap_or(Self::Unknown)
    }

    /// The HTTP status of the error page: 503 when a dependency is down (try again later),
    /// 403 when access was refused, 400 for every rejected callback.
    pub fn status(self) -> u16 {
        match self {
            Self::ProviderUnavailable
            | Self::SessionUnavailable
            | Self::LocalSignOutUnrecorded
            | Self::SignOutEverywhereIncomplete => 503,
            Self::AccessDenied | Self::NotRegistered | Self::SignInNotRecent => 403,
            _ => 400,
        }
    }

    /// What went wrong, in words for the person in front of the browser.
    pub fn message(self) -> &'static str {
        match self {
            Self::ProviderUnavailable => {
                "The identity provider is unreachable right now. Please try again in a moment."
            }
            Self::SessionUnavailable => {
                "The session store is unavailable right now, so we cannot keep you signed in. \
                 Please try again in a moment."
            }
            Self::AccessDenied => "The sign-in was cancelled or access was refused.",
            Self::ProviderError => "The identity provider reported an error during sign-in.",
            Self::InvalidState => {
                "This sign-in response does not belong to a sign-in started here, or it was \
                 already used. Please start again."
            }
            Self::LoginExpired => "The sign-in took too long and expired. Please start again.",
            Self::MissingCode => "The identity provider did not send an authorization code.",
            Self::CodeRejected => {
                "The identity provider did not accept the sign-in code. It may have expired or \
                 been used already. Please start again."
            }
            Self::InvalidIdToken => {
                "The identity provider's answer could not be verified, so you were not signed in."
            }
            Self::MalformedCallback => "The sign-in response was malformed.",
            Self::NotRegistered => {
                "Your account is not registered for this application. Register for it, or sign \
                 in as someone else."
            }
            Self::SignInNotRecent => {
                "This page needs a recent sign-in, and the identity provider did not confirm one. \
                 Please sign in again."
            }
            Self::LocalSignOutUnrecorded => {
                "You are signed out at the identity provider and this browser no longer holds a \
                 session here, but the session store is unavailable, so the sign-out could not \
                 be recorded on the server: it is not done there yet. This server keeps trying \
                 while it runs; otherwise the stored session ends at its idle timeout."
            }
            Self::SignOutEverywhereIncomplete => {
                "You are signed out in this browser, but your other sessions could not all be \
                 ended: the session store or the identity provider did not answer. Please sign \
                 in and choose \u{201c}Sign out everywhere\u{201d} again in a moment."
            }
            Self::Unknown => "Something went wrong while signing you in. Please start again.",
        }
    }

    /// The error page's heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::NotRegistered => "Not registered for this application",
            Self::LocalSignOutUnrecorded => "Signed out, with one caveat",
            Self::SignOutEverywhereIncomplete => "Not signed out everywhere",
            _ => "We couldn't sign you in",
        }
    }

    /// Where to send the browser for this failure: `error_page` (the app's error page, e.g.
    /// `/auth/error`) with `?reason=<code>`.
    pub fn location(self, error_page: &str) -> String {
        format!("{error_page}?reason={}", self.code())
    }
}

/// The failure an error page shows for its `?reason=<code>` (unknown codes are
/// [`AuthFailure::Unknown`]). While the page renders on the server, the answer gets the
/// failure's status (a 4xx, or 503 when a service is down).
pub fn sign_in_failure(code: &str) -> AuthFailure {
    let failure = AuthFailure::from_code(code);
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(status)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(failure.status()),
    ) {
        response.set_status(status);
    }
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for failure in AuthFailure::ALL {
            assert_eq!(AuthFailure::from_code(failure.code()), failure);
        }
    }

    #[test]
    fn unknown_codes_fall_back_to_unknown() {
        assert_eq!(AuthFailure::from_code("<script>"), AuthFailure::Unknown);
        assert_eq!(AuthFailure::from_code(""), AuthFailure::Unknown);
    }

    #[test]
    fn every_failure_is_a_client_error_except_unavailable_dependencies() {
        for failure in AuthFailure::ALL {
            let status = failure.status();
            match failure {
                AuthFailure::ProviderUnavailable
                | AuthFailure::SessionUnavailable
                | AuthFailure::LocalSignOutUnrecorded
                | AuthFailure::SignOutEverywhereIncomplete => assert_eq!(status, 503),
                _ => assert!((400..500).contains(&status), "{failure:?} -> {status}"),
            }
        }
    }

    #[test]
    fn provider_unavailable_says_so() {
        assert!(AuthFailure::ProviderUnavailable
            .message()
            .contains("identity provider is unreachable"));
    }
}

//! What the protocol produces and the session keeps: a login attempt in flight, the token set,
//! and a verified login. Tokens never appear in `Debug` output.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::verify::AccessClaims;

/// Which of FusionAuth's endpoints the authorization request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthorizationEndpoint {
    /// `/oauth2/authorize`: the hosted login form.
    Authorize,
    /// `/oauth2/register`: the self-service registration form (same parameters).
    Register,
}

/// Whether the user must type their password again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reauthentication {
    /// An existing FusionAuth SSO session may sign the user in.
    NotRequired,
    /// `prompt=login`: the form, whatever the SSO session (signing in as someone else).
    Always,
    /// `prompt=login` and `max_age`: a sign-in no older than this many seconds (step-up). The
    /// callback checks the new ID token's `auth_time`, so a provider that ignores the request
    /// does not pass.
    WithinSeconds(u64),
}

/// An authorization request: where, and whether a fresh sign-in is required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AuthorizationRequest {
    pub endpoint: AuthorizationEndpoint,
    pub reauthentication: Reauthentication,
}

/// One login attempt, from the redirect to FusionAuth until its callback. Keyed by `state`, so
/// several tabs can log in at the same time without disturbing each other.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PendingLogin {
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
    /// Already validated as a same-origin path.
    pub return_to: String,
    /// Unix seconds.
    pub started_at: i64,
    /// Step-up: the sign-in must be at most this many seconds old when the callback arrives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<u64>,
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("return_to", &self.return_to)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// The OAuth token set. Its `Debug` never prints a token.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct TokenSet {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub id_token: String,
    /// Unix seconds at which the access token expires, when the provider said.
    pub access_token_expires_at: Option<i64>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("id_token", &"<redacted>")
            .field("access_token_expires_at", &self.access_token_expires_at)
            .finish()
    }
}

/// A completed, verified login.
pub(crate) struct VerifiedLogin {
    pub subject: String,
    pub email: String,
    /// What the verified access token says: registration, roles, sign-in time.
    pub access: AccessClaims,
    /// Unix seconds of the sign-in, from the ID token's `auth_time`.
    pub auth_time: Option<i64>,
    /// Verified ID token claims merged with userinfo.
    pub claims: Map<String, Value>,
    pub tokens: TokenSet,
    /// How long the login waited for the provider (token, userinfo, JWKS requests).
    pub provider_time: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_tokens() {
        let tokens = TokenSet {
            access_token: "secret-access".into(),
            refresh_token: Some("secret-refresh".into()),
            id_token: "secret-id".into(),
            access_token_expires_at: Some(1),
        };
        let attempt = PendingLogin {
            state: "secret-state".into(),
            pkce_verifier: "secret-verifier".into(),
            nonce: "secret-nonce".into(),
            return_to: "/".into(),
            started_at: 1,
            max_age_secs: None,
        };
        let rendered = format!("{tokens:?} {attempt:?}");
        assert!(!rendered.contains("secret"), "{rendered}");
    }
}

//! Everything this app keeps in a session, in one typed struct ([`AuthSession`]) stored under
//! one key, and the store that keeps it ([`store`]). The tokens inside are sealed before they
//! reach the store.

pub mod store;

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::{
    oidc::{PendingLogin, TokenSet},
    seal::{SealError, Sealed, Sealer, UnsealError},
};

/// The session cookie's name: distinct from FusionAuth's own cookies, which share `localhost`
/// with the app during development.
pub const SESSION_COOKIE: &str = "leptos_fusionauth_session";

/// Separates the token set's key from every other use of `APP_SECRET_KEY` (the cookie signature).
const TOKEN_SEAL_PURPOSE: &[u8] = b"leptos-fusionauth/session-token-set/v1";

/// The sealer for token sets at rest, keyed from `APP_SECRET_KEY`.
pub fn token_sealer(app_secret_key: &str) -> Sealer {
    Sealer::new(app_secret_key, TOKEN_SEAL_PURPOSE)
}

/// The session key under which [`AuthSession`] is stored.
const SESSION_KEY: &str = "auth";
/// A login attempt older than this is refused at the callback.
pub const PENDING_LOGIN_MAX_AGE_SECS: i64 = 10 * 60;
/// At most this many login attempts wait at once (several tabs); the oldest is dropped first.
pub const MAX_PENDING_LOGINS: usize = 5;

/// The session's contents: login attempts in flight and, once signed in, the user.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AuthSession {
    #[serde(default)]
    pub pending: Vec<PendingLogin>,
    #[serde(default)]
    pub user: Option<SignedInUser>,
    /// Set when a refused token refresh ended the session; the guest view says so once.
    #[serde(default)]
    pub session_ended_notice: bool,
}

/// A signed-in user: what the views show, and the tokens, which never leave the server and are
/// stored only encrypted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedInUser {
    pub subject: String,
    pub email: String,
    /// Verified ID token claims merged with userinfo.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Unix seconds at which the access token expires, when the provider said (not a secret).
    pub access_token_expires_at: Option<i64>,
    /// Unix seconds at which the current token set was obtained.
    pub tokens_issued_at: i64,
    /// Whether the sealed set holds a refresh token (so the view need not decrypt to know).
    #[serde(default)]
    pub has_refresh_token: bool,
    /// The [`TokenSet`], sealed with the user's subject as context (a sealed set copied into
    /// another user's record does not open).
    tokens: Sealed,
}

impl SignedInUser {
    pub fn new(
        subject: String,
        email: String,
        claims: serde_json::Map<String, serde_json::Value>,
        tokens: &TokenSet,
        now: i64,
        sealer: &Sealer,
    ) -> Result<Self, SealError> {
        Ok(Self {
            tokens: sealer.seal(tokens, &subject)?,
            access_token_expires_at: tokens.access_token_expires_at,
            tokens_issued_at: now,
            has_refresh_token: tokens.refresh_token.is_some(),
            subject,
            email,
            claims,
        })
    }

    /// The decrypted token set.
    pub fn tokens(&self, sealer: &Sealer) -> Result<TokenSet, UnsealError> {
        sealer.open(&self.tokens, &self.subject)
    }

    /// Replaces the token set (after a refresh).
    pub fn set_tokens(
        &mut self,
        tokens: &TokenSet,
        now: i64,
        sealer: &Sealer,
    ) -> Result<(), SealError> {
        self.tokens = sealer.seal(tokens, &self.subject)?;
        self.access_token_expires_at = tokens.access_token_expires_at;
        self.tokens_issued_at = now;
        self.has_refresh_token = tokens.refresh_token.is_some();
        Ok(())
    }
}

/// Why a callback's `state` was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum PendingLoginError {
    /// No attempt with this state: forged, from another browser, or already used.
    Unknown,
    /// The attempt exists but is too old.
    Expired,
}

impl AuthSession {
    /// Reads the session's contents; an empty session is a guest with nothing pending.
    pub async fn load(session: &Session) -> Result<Self, tower_sessions::session::Error> {
        Ok(session.get::<Self>(SESSION_KEY).await?.unwrap_or_default())
    }

    /// Writes the contents back (the session layer persists them after the response).
    pub async fn store(&self, session: &Session) -> Result<(), tower_sessions::session::Error> {
        session.insert(SESSION_KEY, self).await
    }

    /// Remembers a new login attempt, dropping expired ones and the oldest beyond the limit.
    pub fn add_pending(&mut self, login: PendingLogin, now: i64) {
        self.pending.retain(|p| !is_expired(p, now));
        self.pending.push(login);
        if self.pending.len() > MAX_PENDING_LOGINS {
            let excess = self.pending.len() - MAX_PENDING_LOGINS;
            self.pending.drain(..excess);
        }
    }

    /// Removes and returns the attempt for `state`. It is removed even when expired, so a state
    /// is accepted at most once.
    pub fn take_pending(
        &mut self,
        state: &str,
        now: i64,
    ) -> Result<PendingLogin, PendingLoginError> {
        let index = self
            .pending
            .iter()
            .position(|p| constant_time_eq(p.state.as_bytes(), state.as_bytes()))
            .ok_or(PendingLoginError::Unknown)?;
        let login = self.pending.remove(index);
        if is_expired(&login, now) {
            return Err(PendingLoginError::Expired);
        }
        Ok(login)
    }
}

fn is_expired(login: &PendingLogin, now: i64) -> bool {
    now - login.started_at > PENDING_LOGIN_MAX_AGE_SECS
}

/// Compares secrets without leaking through timing where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Current time in Unix seconds.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(state: &str, started_at: i64) -> PendingLogin {
        PendingLogin {
            state: state.into(),
            pkce_verifier: format!("verifier-{state}"),
            nonce: format!("nonce-{state}"),
            return_to: "/".into(),
            started_at,
        }
    }

    #[test]
    fn two_tabs_can_log_in_at_once() {
        let mut session = AuthSession::default();
        session.add_pending(attempt("tab-a", 100), 100);
        session.add_pending(attempt("tab-b", 101), 101);
        assert_eq!(
            session.take_pending("tab-b", 110).unwrap().nonce,
            "nonce-tab-b"
        );
        assert_eq!(
            session.take_pending("tab-a", 111).unwrap().nonce,
            "nonce-tab-a"
        );
    }

    #[test]
    fn a_state_is_accepted_only_once() {
        let mut session = AuthSession::default();
        session.add_pending(attempt("s", 100), 100);
        assert!(session.take_pending("s", 100).is_ok());
        assert_eq!(
            session.take_pending("s", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
    }

    #[test]
    fn unknown_and_empty_states_are_rejected() {
        let mut session = AuthSession::default();
        session.add_pending(attempt("s", 100), 100);
        assert_eq!(
            session.take_pending("other", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
        assert_eq!(
            session.take_pending("", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
        assert_eq!(
            session.pending.len(),
            1,
            "a wrong guess must not consume the real attempt"
        );
    }

    #[test]
    fn an_old_attempt_is_expired_and_consumed() {
        let mut session = AuthSession::default();
        session.add_pending(attempt("s", 100), 100);
        let late = 100 + PENDING_LOGIN_MAX_AGE_SECS + 1;
        assert_eq!(
            session.take_pending("s", late).unwrap_err(),
            PendingLoginError::Expired
        );
        assert!(session.pending.is_empty());
    }

    #[test]
    fn pending_attempts_are_bounded() {
        let mut session = AuthSession::default();
        for i in 0..(MAX_PENDING_LOGINS + 3) {
            session.add_pending(attempt(&format!("s{i}"), 100), 100);
        }
        assert_eq!(session.pending.len(), MAX_PENDING_LOGINS);
        assert_eq!(
            session.take_pending("s0", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
        assert!(session
            .take_pending(&format!("s{}", MAX_PENDING_LOGINS + 2), 100)
            .is_ok());
    }

    #[test]
    fn expired_attempts_are_pruned_when_a_new_one_starts() {
        let mut session = AuthSession::default();
        session.add_pending(attempt("old", 0), 0);
        session.add_pending(attempt("new", 10_000), 10_000);
        assert_eq!(session.pending.len(), 1);
        assert_eq!(session.pending[0].state, "new");
    }
}

//! Login attempts in flight, carried from `/api/login` to `/callback` in a short-lived cookie
//! that the server encrypts and authenticates (the `cookie` crate's private jar, AES-256-GCM with
//! a key derived from `APP_SECRET_KEY`). Nothing is stored for a visitor who has not signed in,
//! so a flood of anonymous login starts cannot fill the session store; the browser that started
//! a login is the only one that can finish it, and an attempt expires with its cookie.

use serde::{Deserialize, Serialize};
use tower_cookies::{
    cookie::{time::Duration as CookieDuration, SameSite},
    Cookie, Cookies, Key,
};

use super::oidc::PendingLogin;

/// A login attempt older than this is refused at the callback (and its cookie is gone).
pub(crate) const PENDING_LOGIN_MAX_AGE_SECS: i64 = 10 * 60;
/// At most this many login attempts wait at once (several tabs); the oldest is dropped first.
pub(crate) const MAX_PENDING_LOGINS: usize = 5;

/// Why a callback's `state` was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PendingLoginError {
    /// No attempt with this state: forged, from another browser, or already used.
    Unknown,
    /// The attempt exists but is too old.
    Expired,
}

/// The attempts of one browser.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct LoginAttempts {
    attempts: Vec<PendingLogin>,
}

impl LoginAttempts {
    /// Remembers a new attempt, dropping expired ones and the oldest beyond the limit.
    pub(crate) fn add(&mut self, login: PendingLogin, now: i64) {
        self.attempts.retain(|p| !is_expired(p, now));
        self.attempts.push(login);
        if self.attempts.len() > MAX_PENDING_LOGINS {
            let excess = self.attempts.len() - MAX_PENDING_LOGINS;
            self.attempts.drain(..excess);
        }
    }

    /// Removes and returns the attempt for `state`. It is removed even when expired, so a state
    /// is accepted at most once.
    pub(crate) fn take(
        &mut self,
        state: &str,
        now: i64,
    ) -> Result<PendingLogin, PendingLoginError> {
        let index = self
            .attempts
            .iter()
            .position(|p| constant_time_eq(p.state.as_bytes(), state.as_bytes()))
            .ok_or(PendingLoginError::Unknown)?;
        let login = self.attempts.remove(index);
        if is_expired(&login, now) {
            return Err(PendingLoginError::Expired);
        }
        Ok(login)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.attempts.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.attempts.is_empty()
    }
}

fn is_expired(login: &PendingLogin, now: i64) -> bool {
    now - login.started_at > PENDING_LOGIN_MAX_AGE_SECS
}

/// Compares secrets without leaking through timing where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie that carries a browser's [`LoginAttempts`].
#[derive(Clone)]
pub(crate) struct LoginCookie {
    name: String,
    secure: bool,
    key: Key,
}

impl LoginCookie {
    pub(crate) fn new(name: String, secure: bool, key: Key) -> Self {
        Self { name, secure, key }
    }

    /// The attempts this browser carries; a missing, expired, tampered or foreign cookie is none.
    pub(crate) fn read(&self, cookies: &Cookies) -> LoginAttempts {
        cookies
            .private(&self.key)
            .get(&self.name)
            .and_then(|cookie| serde_json::from_str(cookie.value()).ok())
            .unwrap_or_default()
    }

    /// Sends `attempts` back to the browser (or removes the cookie when there are none).
    pub(crate) fn write(&self, cookies: &Cookies, attempts: &LoginAttempts) {
        let jar = cookies.private(&self.key);
        if attempts.is_empty() {
            jar.remove(self.cookie(String::new()));
            return;
        }
        match serde_json::to_string(attempts) {
            Ok(value) => jar.add(self.cookie(value)),
            Err(e) => tracing::warn!(reason = %e, "login attempts not stored"),
        }
    }

    /// HttpOnly, SameSite=Lax (the callback is a top-level GET from FusionAuth), Secure on
    /// https, for the whole site (the `__Host-` prefix requires `Path=/`).
    fn cookie(&self, value: String) -> Cookie<'static> {
        Cookie::build((self.name.clone(), value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .max_age(CookieDuration::seconds(PENDING_LOGIN_MAX_AGE_SECS))
            .build()
    }
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
            max_age_secs: None,
        }
    }

    #[test]
    fn two_tabs_can_log_in_at_once() {
        let mut attempts = LoginAttempts::default();
        attempts.add(attempt("tab-a", 100), 100);
        attempts.add(attempt("tab-b", 101), 101);
        assert_eq!(attempts.take("tab-b", 110).unwrap().nonce, "nonce-tab-b");
        assert_eq!(attempts.take("tab-a", 111).unwrap().nonce, "nonce-tab-a");
    }

    #[test]
    fn a_state_is_accepted_only_once() {
        let mut attempts = LoginAttempts::default();
        attempts.add(attempt("s", 100), 100);
        assert!(attempts.take("s", 100).is_ok());
        assert_eq!(
            attempts.take("s", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
    }

    #[test]
    fn unknown_and_empty_states_are_rejected() {
        let mut attempts = LoginAttempts::default();
        attempts.add(attempt("s", 100), 100);
        assert_eq!(
            attempts.take("other", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
        assert_eq!(
            attempts.take("", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
        assert_eq!(
            attempts.len(),
            1,
            "a wrong guess must not consume the real attempt"
        );
    }

    #[test]
    fn an_old_attempt_is_expired_and_consumed() {
        let mut attempts = LoginAttempts::default();
        attempts.add(attempt("s", 100), 100);
        let late = 100 + PENDING_LOGIN_MAX_AGE_SECS + 1;
        assert_eq!(
            attempts.take("s", late).unwrap_err(),
            PendingLoginError::Expired
        );
        assert!(attempts.is_empty());
    }

    #[test]
    fn pending_attempts_are_bounded() {
        let mut attempts = LoginAttempts::default();
        for i in 0..(MAX_PENDING_LOGINS + 3) {
            attempts.add(attempt(&format!("s{i}"), 100), 100);
        }
        assert_eq!(attempts.len(), MAX_PENDING_LOGINS);
        assert_eq!(
            attempts.take("s0", 100).unwrap_err(),
            PendingLoginError::Unknown
        );
        assert!(attempts
            .take(&format!("s{}", MAX_PENDING_LOGINS + 2), 100)
            .is_ok());
    }

    #[test]
    fn expired_attempts_are_pruned_when_a_new_one_starts() {
        let mut attempts = LoginAttempts::default();
        attempts.add(attempt("old", 0), 0);
        attempts.add(attempt("new", 10_000), 10_000);
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts.take("new", 10_000).unwrap().state, "new");
    }

    #[test]
    fn the_most_attempts_with_the_longest_return_paths_fit_in_a_cookie() {
        let mut attempts = LoginAttempts::default();
        for i in 0..MAX_PENDING_LOGINS {
            let mut login = attempt(&"s".repeat(43), i as i64);
            login.pkce_verifier = "v".repeat(43);
            login.nonce = "n".repeat(43);
            login.return_to = format!(
                "/{}",
                "r".repeat(crate::server::return_to::MAX_RETURN_PATH - 1)
            );
            attempts.add(login, i as i64);
        }
        let json = serde_json::to_string(&attempts).unwrap();
        // AES-GCM adds a 12-byte nonce and a 16-byte tag, then base64 (4/3); browsers keep
        // cookies up to 4096 bytes, name included.
        let sealed = (json.len() + 28).div_ceil(3) * 4;
        assert!(
            sealed + "__Host-leptos_fusionauth_login=".len() < 4096,
            "{sealed} bytes"
        );
    }
}

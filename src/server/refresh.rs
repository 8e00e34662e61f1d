//! Keeping the access token fresh: the request that finds it about to expire refreshes it, and
//! when several requests of one session find that at the same moment, only one of them asks the
//! provider (FusionAuth can be set to one-time-use refresh tokens, where a second exchange of
//! the same refresh token would fail and end the session).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tower_sessions::Session;

use super::{
    oidc::{OidcProvider, RefreshError, TokenSet},
    seal::Sealer,
    session::{AuthSession, SignedInUser},
};

/// A refresh that just completed is handed to the requests that waited for it for this long.
const REUSE_WINDOW: Duration = Duration::from_secs(10);
/// Refresh at most this long before expiry (less for short-lived tokens, see [`refresh_due`]).
const MAX_MARGIN_SECS: i64 = 60;

/// When to refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshWhen {
    /// Only when the access token is about to expire (every page view asks this).
    Due,
    /// Now, whatever the expiry ("Refresh now").
    Now,
}

/// What a refresh attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Nothing to do: not due, or no refresh token to do it with.
    NotNeeded,
    Refreshed,
    /// The provider refused: the session is over and the user is a guest again.
    Ended,
    /// The provider could not be reached; the current tokens stay.
    Unavailable,
}

/// The result of a refresh, kept briefly for the requests that waited on it.
struct CompletedRefresh {
    tokens: TokenSet,
    at: Instant,
}

/// One session's refresh: whoever holds the lock refreshes, the others then reuse the result.
type RefreshSlot = Arc<tokio::sync::Mutex<Option<CompletedRefresh>>>;

/// One slot per session with a refresh in flight or just completed (single flight within this
/// process).
#[derive(Default)]
struct RefreshSlots {
    slots: Mutex<HashMap<String, RefreshSlot>>,
}

impl RefreshSlots {
    /// This session's slot. Finished slots nobody waits for any more are forgotten.
    fn slot(&self, session_key: &str) -> RefreshSlot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|_, slot| {
            Arc::strong_count(slot) > 1
                || slot
                    .try_lock()
                    .map(|completed| {
                        completed
                            .as_ref()
                            .is_some_and(|c| c.at.elapsed() < REUSE_WINDOW)
                    })
                    .unwrap_or(true)
        });
        slots.entry(session_key.to_owned()).or_default().clone()
    }
}

/// Refreshes sessions' tokens, one refresh per session at a time (within this process).
pub struct TokenRefresher {
    oidc: Arc<OidcProvider>,
    sealer: Sealer,
    slots: RefreshSlots,
}

/// Whether a token expiring at `expires_at`, issued at `issued_at`, should be refreshed `now`:
/// within a quarter of its lifetime of expiry, at most [`MAX_MARGIN_SECS`] before.
pub fn refresh_due(expires_at: Option<i64>, issued_at: i64, now: i64) -> bool {
    let Some(expires_at) = expires_at else {
        return false;
    };
    let margin = ((expires_at - issued_at) / 4).clamp(1, MAX_MARGIN_SECS);
    expires_at - now <= margin
}

impl TokenRefresher {
    pub fn new(oidc: Arc<OidcProvider>, sealer: Sealer) -> Self {
        Self {
            oidc,
            sealer,
            slots: RefreshSlots::default(),
        }
    }

    /// Refreshes the signed-in user's tokens when `when` says so, storing the result in the
    /// session. A refused refresh ends the session and leaves a notice for the guest view.
    pub async fn refresh_session(
        &self,
        session: &Session,
        auth: &mut AuthSession,
        when: RefreshWhen,
        now: i64,
    ) -> RefreshOutcome {
        let Some(user) = auth.user.as_mut() else {
            return RefreshOutcome::NotNeeded;
        };
        let due = refresh_due(user.access_token_expires_at, user.tokens_issued_at, now);
        if !user.has_refresh_token || (when == RefreshWhen::Due && !due) {
            return RefreshOutcome::NotNeeded;
        }
        let Some(session_key) = session.id().map(|id| id.to_string()) else {
            return RefreshOutcome::NotNeeded;
        };
        let outcome = self.refresh_once(&session_key, user, now).await;
        if outcome == RefreshOutcome::Ended {
            auth.user = None;
            auth.session_ended_notice = true;
        }
        if matches!(outcome, RefreshOutcome::Refreshed | RefreshOutcome::Ended) {
            if let Err(e) = auth.store(session).await {
                tracing::warn!(reason = %e, "session store unavailable after refresh");
            }
        }
        outcome
    }

    /// Refreshes `user`'s tokens, or takes over the result of a refresh of the same session
    /// that finished while this request waited for it.
    async fn refresh_once(
        &self,
        session_key: &str,
        user: &mut SignedInUser,
        now: i64,
    ) -> RefreshOutcome {
        let Ok(current) = user.tokens(&self.sealer) else {
            return RefreshOutcome::NotNeeded; // the caller signs such a user out
        };
        let slot = self.slots.slot(session_key);
        let mut completed = slot.lock().await;
        if let Some(done) = completed.as_ref().filter(|c| c.at.elapsed() < REUSE_WINDOW) {
            return self.adopt(user, &done.tokens, now);
        }
        match self.oidc.refresh(&current, &user.subject, now).await {
            Ok(tokens) => {
                let outcome = self.adopt(user, &tokens, now);
                *completed = Some(CompletedRefresh {
                    tokens,
                    at: Instant::now(),
                });
                tracing::info!(subject = %user.subject, "access token refreshed");
                outcome
            }
            Err(RefreshError::Refused(reason)) => {
                tracing::warn!(%reason, subject = %user.subject, "refresh refused; session ended");
                RefreshOutcome::Ended
            }
            Err(RefreshError::Unavailable(reason)) => {
                tracing::warn!(%reason, "token refresh postponed");
                RefreshOutcome::Unavailable
            }
        }
    }

    fn adopt(&self, user: &mut SignedInUser, tokens: &TokenSet, now: i64) -> RefreshOutcome {
        match user.set_tokens(tokens, now, &self.sealer) {
            Ok(()) => RefreshOutcome::Refreshed,
            Err(e) => {
                tracing::warn!(reason = %e, "refreshed tokens cannot be stored");
                RefreshOutcome::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_is_due_near_expiry() {
        // A one-hour token: refreshed in its last minute.
        assert!(!refresh_due(Some(3600), 0, 3539));
        assert!(refresh_due(Some(3600), 0, 3540));
        assert!(
            refresh_due(Some(3600), 0, 4000),
            "expired tokens are due too"
        );
        // A 20-second token: refreshed in its last 5 seconds, not on every request.
        assert!(!refresh_due(Some(20), 0, 14));
        assert!(refresh_due(Some(20), 0, 15));
        // No expiry known: never.
        assert!(!refresh_due(None, 0, 1_000_000));
    }

    #[tokio::test]
    async fn one_slot_per_session_and_finished_slots_are_forgotten() {
        let flights = RefreshSlots::default();
        let a = flights.slot("a");
        let a_again = flights.slot("a");
        assert!(Arc::ptr_eq(&a, &a_again));
        let b = flights.slot("b");
        assert!(!Arc::ptr_eq(&a, &b));
        drop((a, a_again, b));
        flights.slot("c");
        assert_eq!(
            flights.slots.lock().unwrap().len(),
            1,
            "idle, empty slots of a and b were dropped"
        );
    }
}

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
    oidc::RefreshError,
    session::{AuthSession, TokenSet},
    AppState,
};

/// A refresh that just landed is handed to the requests that waited for it for this long.
const REUSE_WINDOW: Duration = Duration::from_secs(10);
/// Refresh at most this long before expiry (less for short-lived tokens, see [`refresh_due`]).
const MAX_MARGIN_SECS: i64 = 60;

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

struct Landed {
    tokens: TokenSet,
    at: Instant,
}

type Slot = Arc<tokio::sync::Mutex<Option<Landed>>>;

/// One in-flight refresh per session id (single-flight within this process).
#[derive(Default)]
pub struct RefreshFlights {
    slots: Mutex<HashMap<String, Slot>>,
}

impl RefreshFlights {
    fn slot(&self, session_key: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        // Forget finished flights nobody waits for any more.
        slots.retain(|_, slot| {
            Arc::strong_count(slot) > 1
                || slot
                    .try_lock()
                    .map(|landed| {
                        landed
                            .as_ref()
                            .is_some_and(|l| l.at.elapsed() < REUSE_WINDOW)
                    })
                    .unwrap_or(true)
        });
        slots.entry(session_key.to_owned()).or_default().clone()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots.lock().unwrap().len()
    }
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

/// Refreshes the signed-in user's tokens when due (or always, with `force`), storing the result
/// in the session. A refused refresh ends the session and leaves a notice for the guest view.
pub async fn refresh_session(
    app: &AppState,
    session: &Session,
    auth: &mut AuthSession,
    force: bool,
    now: i64,
) -> RefreshOutcome {
    let Some(user) = auth.user.as_mut() else {
        return RefreshOutcome::NotNeeded;
    };
    if !user.has_refresh_token
        || !force && !refresh_due(user.access_token_expires_at, user.tokens_issued_at, now)
    {
        return RefreshOutcome::NotNeeded;
    }
    let Ok(current) = user.tokens(&app.sealer) else {
        return RefreshOutcome::NotNeeded; // the caller signs such a user out
    };
    let Some(session_key) = session.id().map(|id| id.to_string()) else {
        return RefreshOutcome::NotNeeded;
    };

    let slot = app.refresh_flights.slot(&session_key);
    let mut landed = slot.lock().await;
    let outcome = match landed.as_ref().filter(|l| l.at.elapsed() < REUSE_WINDOW) {
        // Another request of this session refreshed while we waited: use its result.
        Some(done) => {
            user.set_tokens(&done.tokens, now, &app.sealer);
            RefreshOutcome::Refreshed
        }
        None => match app.oidc.refresh(&current, &user.subject, now).await {
            Ok(tokens) => {
                user.set_tokens(&tokens, now, &app.sealer);
                *landed = Some(Landed {
                    tokens,
                    at: Instant::now(),
                });
                tracing::info!(subject = %user.subject, "access token refreshed");
                RefreshOutcome::Refreshed
            }
            Err(RefreshError::Refused(reason)) => {
                tracing::warn!(%reason, subject = %user.subject, "refresh refused; session ended");
                auth.user = None;
                auth.session_ended_notice = true;
                RefreshOutcome::Ended
            }
            Err(RefreshError::Unavailable(reason)) => {
                tracing::warn!(%reason, "token refresh postponed");
                RefreshOutcome::Unavailable
            }
        },
    };
    drop(landed);
    if matches!(outcome, RefreshOutcome::Refreshed | RefreshOutcome::Ended) {
        if let Err(e) = auth.store(session).await {
            tracing::warn!(reason = %e, "session store unavailable after refresh");
        }
    }
    outcome
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
        let flights = RefreshFlights::default();
        let a = flights.slot("a");
        let a_again = flights.slot("a");
        assert!(Arc::ptr_eq(&a, &a_again));
        let b = flights.slot("b");
        assert!(!Arc::ptr_eq(&a, &b));
        drop((a, a_again, b));
        flights.slot("c");
        assert_eq!(
            flights.len(),
            1,
            "idle, empty slots of a and b were dropped"
        );
    }
}

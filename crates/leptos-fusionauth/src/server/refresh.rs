//! Keeping the access token fresh: the request that finds it about to expire refreshes it.
//! FusionAuth can be set to one-time-use refresh tokens, where a second exchange of the same
//! refresh token fails and would end the session, so a session's token is never spent twice:
//!
//! * within one instance, requests of one session that find the token due at the same moment
//!   share one refresh (single flight);
//! * across instances, the refresh runs under a per-session lock in the shared store, and the
//!   instance that takes the lock first re-reads the session: another one may have refreshed
//!   already, and its tokens are taken over instead of spending the refresh token again;
//! * the lock lives long enough for the slowest provider call allowed (derived from the capped
//!   provider timeout), is extended right before the call, and the new tokens are written only
//!   while the lock is still this instance's (a fenced write), so an instance whose lock expired
//!   cannot overwrite the tokens of the one that took over.
//!
//! * refreshed tokens the store could not take (it went down while the provider answered)
//!   are kept in this process and written as soon as the store answers again ([`unstored`]):
//!   the provider has already rotated the refresh token the store still holds.
//!
//! Only the provider saying `invalid_grant` ends the session; any other failure (the provider
//! down, slow, `server_error`, a misconfigured client) keeps it and retries later, with a
//! growing pause.

mod stored;
mod unstored;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tower_sessions::{session::Id, Session};

use stored::{stored_now, write_refreshed, Stored, Written};
use unstored::UnstoredRefreshes;

use super::{
    oidc::{verify::AccessClaims, OidcProvider, RefreshError, RefreshedTokens},
    seal::Sealer,
    session::{AuthSession, RefreshRetry, SignedInUser},
    store::{RefreshLock, Sessions},
};

/// A refresh that just completed is handed to the requests that waited for it for this long.
const REUSE_WINDOW: Duration = Duration::from_secs(10);
/// Refresh at most this long before expiry (less for short-lived tokens, see [`refresh_due`]).
const MAX_MARGIN_SECS: i64 = 60;
/// After a failed refresh, wait this long before the next attempt, doubling per failure...
const FIRST_RETRY_SECS: i64 = 5;
/// ...up to this.
const MAX_RETRY_SECS: i64 = 300;

/// When to refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshWhen {
    /// Only when the access token is about to expire (every page view asks this).
    Due,
    /// Now, whatever the expiry ("Refresh now").
    Now,
}

/// What a refresh attempt came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshOutcome {
    /// Nothing to do: not due, or no refresh token to do it with.
    NotNeeded,
    Refreshed,
    /// The provider refused: the session is over and the user is a guest again.
    Ended,
    /// The provider could not be reached (or the session's lock not taken); the current tokens
    /// stay and a later request tries again.
    Unavailable,
}

/// Whether a token expiring at `expires_at`, issued at `issued_at`, should be refreshed `now`:
/// within a quarter of its lifetime of expiry, at most [`MAX_MARGIN_SECS`] before.
pub(crate) fn refresh_due(expires_at: Option<i64>, issued_at: i64, now: i64) -> bool {
    let Some(expires_at) = expires_at else {
        return false;
    };
    let margin = ((expires_at - issued_at) / 4).clamp(1, MAX_MARGIN_SECS);
    expires_at - now <= margin
}

/// The next pause after `failures` failed refreshes in a row: 5 s, 10 s, 20 s, … up to 5 min.
pub(crate) fn retry_after(failures: u32) -> i64 {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_RETRY_SECS << doublings).min(MAX_RETRY_SECS)
}

/// The result of a refresh, kept briefly for the requests that waited on it.
struct CompletedRefresh {
    refreshed: RefreshedTokens,
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

/// Refreshes sessions' tokens (see the module documentation).
pub(crate) struct TokenRefresher {
    oidc: Arc<OidcProvider>,
    sealer: Sealer,
    store: Sessions,
    slots: RefreshSlots,
    unstored: UnstoredRefreshes,
    lock_ttl: Duration,
}

/// The refresh lock's lifetime for a provider timeout: the refresh grant and a JWKS re-fetch
/// may each take the whole timeout, plus a margin for the store's own round trips.
pub(crate) fn lock_ttl(provider_timeout: Duration) -> Duration {
    provider_timeout * 2 + Duration::from_secs(5)
}

impl TokenRefresher {
    pub(crate) fn new(
        oidc: Arc<OidcProvider>,
        sealer: Sealer,
        store: Sessions,
        provider_timeout: Duration,
    ) -> Self {
        Self {
            oidc,
            sealer,
            store,
            slots: RefreshSlots::default(),
            unstored: UnstoredRefreshes::default(),
            lock_ttl: lock_ttl(provider_timeout),
        }
    }

    /// Starts writing refreshed tokens the store did not take, every second, as soon as it
    /// answers. Abort the handle at shutdown.
    pub(crate) fn spawn_late_writes(&self) -> tokio::task::JoinHandle<()> {
        self.unstored
            .spawn_writer(self.store.clone(), self.lock_ttl)
    }

    /// Refreshes the signed-in user's tokens when `when` says so, storing the result in the
    /// session. A refused refresh ends the session and leaves a notice for the guest view.
    pub(crate) async fn refresh_session(
        &self,
        session: &Session,
        auth: &mut AuthSession,
        when: RefreshWhen,
        now: i64,
    ) -> RefreshOutcome {
        let (Some(user), Some(id)) = (auth.user.as_mut(), session.id()) else {
            return RefreshOutcome::NotNeeded;
        };
        if !wanted(user, when, now) {
            return RefreshOutcome::NotNeeded;
        }
        let outcome = self.refresh_single_flight(id, user, now).await;
        match outcome {
            RefreshOutcome::Ended => {
                auth.user = None;
                auth.session_ended_notice = true;
            }
            RefreshOutcome::Unavailable => postpone(user, now),
            RefreshOutcome::Refreshed | RefreshOutcome::NotNeeded => {}
        }
        if outcome != RefreshOutcome::NotNeeded {
            persist(auth, session).await;
        }
        outcome
    }

    /// Refreshes `user`'s tokens, or takes over the result of a refresh of the same session
    /// that finished while this request waited for it.
    async fn refresh_single_flight(
        &self,
        id: Id,
        user: &mut SignedInUser,
        now: i64,
    ) -> RefreshOutcome {
        let slot = self.slots.slot(&id.to_string());
        let mut completed = slot.lock().await;
        if let Some(done) = completed.as_ref().filter(|c| c.at.elapsed() < REUSE_WINDOW) {
            return self.adopt(user, &done.refreshed, now);
        }
        let Ok(Some(lock)) = self.store.lock_refresh(&id, self.lock_ttl).await else {
            tracing::warn!("the session's refresh lock was not available; refresh postponed");
            return RefreshOutcome::Unavailable;
        };
        let outcome = match stored_now(&self.store, &id, user).await {
            Stored::RefreshedElsewhere(stored) => self.take_over(user, *stored, &mut completed),
            Stored::Unchanged => match self.unstored.take_for(&id, user) {
                Some(refreshed) => self.take_up_unstored(&lock, user, refreshed).await,
                None => {
                    self.refresh_at_provider(&lock, user, now, &mut completed)
                        .await
                }
            },
            Stored::Ended => {
                tracing::info!(subject = %user.subject, "the session ended while it waited to refresh");
                RefreshOutcome::Ended
            }
            Stored::Unreadable => {
                tracing::warn!("the session store did not answer; refresh postponed");
                RefreshOutcome::Unavailable
            }
        };
        self.store.unlock(lock).await;
        outcome
    }

    /// Takes up the tokens this instance refreshed while the store was down, instead of
    /// spending the refresh token the store still holds (the provider has rotated it).
    async fn take_up_unstored(
        &self,
        lock: &RefreshLock,
        user: &mut SignedInUser,
        refreshed: SignedInUser,
    ) -> RefreshOutcome {
        let before = std::mem::replace(user, refreshed);
        self.store_refreshed(lock, &before, user).await;
        tracing::info!(subject = %user.subject, "tokens refreshed while the store was down taken up");
        RefreshOutcome::Refreshed
    }

    /// Takes over the tokens another instance stored, and hands them to this instance's
    /// waiting requests too.
    fn take_over(
        &self,
        user: &mut SignedInUser,
        stored: SignedInUser,
        completed: &mut Option<CompletedRefresh>,
    ) -> RefreshOutcome {
        if let Ok(tokens) = stored.tokens(&self.sealer) {
            let access = AccessClaims {
                roles: stored.roles.clone(),
                ..AccessClaims::default()
            };
            *completed = Some(CompletedRefresh {
                refreshed: RefreshedTokens { tokens, access },
                at: Instant::now(),
            });
        }
        *user = stored;
        tracing::info!(subject = %user.subject, "tokens refreshed by another instance taken over");
        RefreshOutcome::Refreshed
    }

    async fn refresh_at_provider(
        &self,
        lock: &RefreshLock,
        user: &mut SignedInUser,
        now: i64,
        completed: &mut Option<CompletedRefresh>,
    ) -> RefreshOutcome {
        let Ok(current) = user.tokens(&self.sealer) else {
            // The session outlived APP_SECRET_KEY (or was altered): it cannot be used any more.
            tracing::warn!(subject = %user.subject, "sealed tokens cannot be opened; session ended");
            return RefreshOutcome::Ended;
        };
        // The whole lifetime again, for the call to come (a store that no longer holds the lock
        // for us means another instance is on it: try later).
        if !matches!(self.store.extend_lock(lock).await, Ok(true)) {
            tracing::warn!("the session's refresh lock was lost; refresh postponed");
            return RefreshOutcome::Unavailable;
        }
        match self.oidc.refresh(&current, &user.subject, now).await {
            Ok(refreshed) if !registered(&refreshed, self.oidc.client_id()) => {
                tracing::warn!(subject = %user.subject, "no longer registered for this application; session ended");
                RefreshOutcome::Ended
            }
            Ok(refreshed) => {
                let before = user.clone();
                let outcome = self.adopt(user, &refreshed, now);
                if outcome == RefreshOutcome::Refreshed {
                    // Stored before the lock is released: the next instance must find it.
                    self.store_refreshed(lock, &before, user).await;
                }
                *completed = Some(CompletedRefresh {
                    refreshed,
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
                tracing::warn!(%reason, subject = %user.subject, "token refresh postponed");
                RefreshOutcome::Unavailable
            }
        }
    }

    /// Writes the refreshed user (refreshed from `before`) into the stored record at once, not
    /// only at the end of the request; if the store does not answer, keeps it for a later
    /// write.
    async fn store_refreshed(
        &self,
        lock: &RefreshLock,
        before: &SignedInUser,
        user: &SignedInUser,
    ) {
        if write_refreshed(&self.store, lock, user).await == Written::StoreDown {
            self.unstored.keep(lock, before.clone(), user.clone());
        }
    }

    fn adopt(
        &self,
        user: &mut SignedInUser,
        refreshed: &RefreshedTokens,
        now: i64,
    ) -> RefreshOutcome {
        match user.set_tokens(&refreshed.tokens, &refreshed.access, now, &self.sealer) {
            Ok(()) => RefreshOutcome::Refreshed,
            Err(e) => {
                tracing::warn!(reason = %e, "refreshed tokens cannot be stored");
                RefreshOutcome::Unavailable
            }
        }
    }
}

/// Whether the refreshed access token still says the user is registered for this application
/// (a registration deleted at FusionAuth ends the session at the next refresh at the latest).
fn registered(refreshed: &RefreshedTokens, client_id: &str) -> bool {
    refreshed.access.application_id.as_deref() == Some(client_id)
}

/// Whether `user`'s tokens should be refreshed now.
fn wanted(user: &SignedInUser, when: RefreshWhen, now: i64) -> bool {
    if !user.has_refresh_token {
        return false;
    }
    match when {
        RefreshWhen::Now => true,
        RefreshWhen::Due => {
            let waiting = user
                .refresh_retry
                .is_some_and(|retry| now < retry.not_before);
            let due = user.refresh_requested
                || refresh_due(user.access_token_expires_at, user.tokens_issued_at, now);
            !waiting && due
        }
    }
}

/// Records a failed attempt: the next one waits a little longer.
fn postpone(user: &mut SignedInUser, now: i64) {
    let failures = user.refresh_retry.map_or(0, |r| r.failures) + 1;
    user.refresh_retry = Some(RefreshRetry {
        failures,
        not_before: now + retry_after(failures),
    });
}

async fn persist(auth: &AuthSession, session: &Session) {
    if let Err(e) = auth.store(session).await {
        tracing::warn!(reason = %e, "session store unavailable after refresh");
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

    #[test]
    fn retries_back_off_up_to_five_minutes() {
        let pauses: Vec<i64> = (1..=8).map(retry_after).collect();
        assert_eq!(pauses, [5, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(retry_after(u32::MAX), 300);
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

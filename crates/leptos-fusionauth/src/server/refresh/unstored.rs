//! Refreshed tokens the store did not take. FusionAuth rotates a one-time-use refresh token when
//! it answers, so once it has answered, the token in the store is spent: if the store is down at
//! that moment, the new tokens exist only in this process, and without them the session would
//! end at its next refresh. They are kept here (for at most [`KEEP_FOR`]) and written as soon
//! as the store answers again — under the session's refresh lock, and only while the stored
//! session still holds the tokens they were refreshed from (a logout or another refresh since
//! wins). A request of that session on this instance takes them up at once.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use tower_sessions::session::Id;

use super::stored::{stored_now, write_refreshed, Stored, Written};
use crate::server::{
    session::SignedInUser,
    store::{RefreshLock, Sessions},
};

/// How long unstored tokens are kept. The store is back long before (or the session is ended by
/// then); this only bounds what a store that never returns costs in memory.
pub(super) const KEEP_FOR: Duration = Duration::from_secs(600);

/// One session's refresh the store did not take.
struct Unstored {
    /// The session's user as read before the refresh (what the store still holds).
    before: SignedInUser,
    /// With the refreshed tokens.
    after: SignedInUser,
    /// The lock the refresh ran under: still ours if the store kept it and it has not expired.
    lock: RefreshLock,
    since: Instant,
}

/// This process's unstored refreshes, by session. Cheap to clone.
#[derive(Clone, Default)]
pub(super) struct UnstoredRefreshes(Arc<Mutex<HashMap<Id, Unstored>>>);

impl UnstoredRefreshes {
    fn map(&self) -> MutexGuard<'_, HashMap<Id, Unstored>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `after`, refreshed from `before` under `lock`, until the store takes it.
    pub(super) fn keep(&self, lock: &RefreshLock, before: SignedInUser, after: SignedInUser) {
        let unstored = Unstored {
            before,
            after,
            lock: lock.clone(),
            since: Instant::now(),
        };
        self.map().insert(*lock.session(), unstored);
    }

    /// The tokens kept for session `id`, if they were refreshed from the ones `user` holds.
    pub(super) fn take_for(&self, id: &Id, user: &SignedInUser) -> Option<SignedInUser> {
        let mut map = self.map();
        if map.is_empty() || !map.get(id)?.before.holds_same_tokens_as(user) {
            return None;
        }
        map.remove(id).map(|unstored| unstored.after)
    }

    /// Writes every kept refresh the store takes now; keeps the others for the next call.
    pub(super) async fn write_waiting(&self, store: &Sessions, lock_ttl: Duration) {
        let waiting: Vec<Id> = self.map().keys().copied().collect();
        for id in waiting {
            let Some(unstored) = self.map().remove(&id) else {
                continue;
            };
            if unstored.since.elapsed() > KEEP_FOR {
                tracing::warn!(subject = %unstored.after.subject, "refreshed tokens never stored: the store did not answer in time");
                continue;
            }
            if !write_one(store, lock_ttl, &unstored).await {
                self.map().entry(id).or_insert(unstored);
            }
        }
    }

    /// Writes the kept refreshes every second, for as long as the process runs.
    pub(super) fn spawn_writer(
        &self,
        store: Sessions,
        lock_ttl: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let unstored = self.clone();
        tokio::spawn(async move {
            let mut every_second = tokio::time::interval(Duration::from_secs(1));
            loop {
                every_second.tick().await;
                unstored.write_waiting(&store, lock_ttl).await;
            }
        })
    }
}

/// Writes one kept refresh: whether it is settled (written, or no longer wanted).
async fn write_one(store: &Sessions, lock_ttl: Duration, unstored: &Unstored) -> bool {
    let lock = match store.extend_lock(&unstored.lock).await {
        Ok(true) => unstored.lock.clone(),
        Ok(false) => match store
            .try_lock_refresh(unstored.lock.session(), lock_ttl)
            .await
        {
            Ok(Some(lock)) => lock,
            // Another instance is refreshing this session, or the store is still down.
            Ok(None) | Err(_) => return false,
        },
        Err(_) => return false,
    };
    let settled = match stored_now(store, lock.session(), &unstored.before).await {
        Stored::Unchanged => match write_refreshed(store, &lock, &unstored.after).await {
            Written::Stored => {
                tracing::info!(subject = %unstored.after.subject, "refreshed tokens stored late");
                true
            }
            Written::Refused => true,
            Written::StoreDown => false,
        },
        Stored::Unreadable => false,
        Stored::Ended | Stored::RefreshedElsewhere(_) => true,
    };
    store.unlock(lock).await;
    settled
}

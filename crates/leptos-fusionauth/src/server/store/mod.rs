//! The session store: a [`SessionBackend`] (SQLite, Redis, PostgreSQL, or one of your own)
//! wrapped with what every backend shares, and exposed to `tower-sessions`:
//!
//! * **lifetimes** ([`lifetime`]) — a record expires after the idle timeout or at the session's
//!   absolute deadline, whichever comes first. Reading a signed-in record pushes its expiry
//!   forward with an update of the expiry alone (at most once a minute per session and
//!   instance), so a user who reads pages stays signed in without the record being rewritten on
//!   every request;
//! * **who owns which session** — kept in step on every create, save and delete (so on login,
//!   logout, session-id rotation and expiry): "sign out everywhere" and FusionAuth's webhooks
//!   end every session of a user, whichever instance created it;
//! * **saves that never resurrect** — a save writes only a record that still exists, so a
//!   request in flight when its session was ended cannot bring it back;
//! * **the refresh lock** — per session, across every instance (see [`RefreshLock`]);
//! * **deletions that wait** — a sign-out that could not reach the store is retried in the
//!   background while the instance runs.

mod backend;
mod error;
pub(crate) mod lifetime;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use super::config::SessionStoreUrl;
pub use backend::{LockToken, SessionBackend, StoreError, StoreResult};
pub use error::StoreOpenError;
use lifetime::{record_owner, RecordOwner, SessionLifetimes, TouchLog};
#[cfg(feature = "postgres")]
pub use postgres::PostgresBackend;
#[cfg(feature = "redis")]
pub use redis::RedisBackend;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteBackend;

/// How often sign-outs the store could not record are tried again. Short: until the record is
/// gone, the other instances still serve the session to a copy of its cookie.
const DEFERRED_DELETION_RETRY: Duration = Duration::from_millis(200);

/// The session store: a backend with lifetimes, the owner index and the refresh lock (see the
/// module documentation). Cheap to clone.
#[derive(Clone)]
pub(crate) struct Sessions {
    backend: Arc<dyn SessionBackend>,
    lifetimes: SessionLifetimes,
    touches: Arc<TouchLog>,
    /// Sessions signed out while the store was down: gone for this instance at once, deleted
    /// in the store as soon as it answers.
    deferred: Arc<std::sync::Mutex<std::collections::HashSet<Id>>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("backend", &self.backend)
            .field("lifetimes", &self.lifetimes)
            .finish_non_exhaustive()
    }
}

/// A refresh lock held on a session: released explicitly, or it expires by itself (a crashed
/// instance does not block the session for ever).
#[derive(Clone)]
pub(crate) struct RefreshLock {
    id: Id,
    token: LockToken,
    ttl: Duration,
}

impl RefreshLock {
    /// The locked session.
    pub(crate) fn session(&self) -> &Id {
        &self.id
    }
}

impl Sessions {
    /// Opens the backend `url` names (its feature must be enabled).
    pub(crate) async fn open(
        url: &SessionStoreUrl,
        lifetimes: SessionLifetimes,
    ) -> Result<Self, StoreOpenError> {
        let backend: Arc<dyn SessionBackend> = match url {
            #[cfg(feature = "sqlite")]
            SessionStoreUrl::Sqlite(url) => Arc::new(SqliteBackend::open(url).await?),
            #[cfg(feature = "redis")]
            SessionStoreUrl::Redis(url) => Arc::new(RedisBackend::open(url).await?),
            #[cfg(feature = "postgres")]
            SessionStoreUrl::Postgres(url) => Arc::new(PostgresBackend::open(url).await?),
            #[allow(unreachable_patterns)]
            other => return Err(StoreOpenError::FeatureMissing(format!("{other:?}"))),
        };
        Ok(Self::new(backend, lifetimes))
    }

    /// Wraps `backend`.
    pub(crate) fn new(backend: Arc<dyn SessionBackend>, lifetimes: SessionLifetimes) -> Self {
        Self {
            backend,
            lifetimes,
            touches: Arc::default(),
            deferred: Arc::default(),
        }
    }

    pub(crate) fn lifetimes(&self) -> SessionLifetimes {
        self.lifetimes
    }

    /// Background work: expired records are swept, and deletions that could not reach the
    /// store are retried. Abort the handles at shutdown.
    pub(crate) fn spawn_background_tasks(&self) -> Vec<tokio::task::JoinHandle<()>> {
        vec![self.spawn_deferred_deletions(), self.spawn_expiry_sweep()]
    }

    /// The sessions of `subject` that still exist, with their records.
    pub(crate) async fn sessions_of(&self, subject: &str) -> StoreResult<Vec<Record>> {
        let mut records = Vec::new();
        for id in self.backend.sessions_of(subject).await? {
            match self.backend.load(&id).await? {
                Some(record) if record_owner(&record).subject.as_deref() == Some(subject) => {
                    records.push(record)
                }
                // Expired, or no longer this user's (signed out): drop it from the index.
                _ => {
                    self.touches.forget(&id);
                    self.backend.forget_owner(&id, subject).await?;
                }
            }
        }
        Ok(records)
    }

    /// Ends every session of `subject`; answers how many there were.
    pub(crate) async fn end_sessions_of(&self, subject: &str) -> StoreResult<usize> {
        let records = self.sessions_of(subject).await?;
        for record in &records {
            self.end(&record.id, Some(subject)).await?;
        }
        Ok(records.len())
    }

    /// Deletes session `id` (of `owner`, when known).
    pub(crate) async fn end(&self, id: &Id, owner: Option<&str>) -> StoreResult<()> {
        self.touches.forget(id);
        self.backend.delete(id, owner).await
    }

    /// A record as stored, without pushing its expiry forward (none for a session signed out
    /// here while the store was down).
    pub(crate) async fn load_untouched(&self, id: &Id) -> StoreResult<Option<Record>> {
        if self.awaits_deletion(id) {
            return Ok(None);
        }
        self.backend.load(id).await
    }

    /// Takes session `id`'s refresh lock for `ttl`, waiting up to `ttl` for another instance to
    /// finish its refresh. `None` when it could not be had in time (the refresh is postponed).
    pub(crate) async fn lock_refresh(
        &self,
        id: &Id,
        ttl: Duration,
    ) -> StoreResult<Option<RefreshLock>> {
        let token = LockToken::new();
        let started = tokio::time::Instant::now();
        while started.elapsed() < ttl {
            if self.backend.try_lock(id, &token, ttl).await? {
                return Ok(Some(RefreshLock {
                    id: *id,
                    token,
                    ttl,
                }));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(None)
    }

    /// Takes session `id`'s refresh lock for `ttl` if nobody holds it now (no waiting).
    pub(crate) async fn try_lock_refresh(
        &self,
        id: &Id,
        ttl: Duration,
    ) -> StoreResult<Option<RefreshLock>> {
        let token = LockToken::new();
        let taken = self.backend.try_lock(id, &token, ttl).await?;
        Ok(taken.then_some(RefreshLock {
            id: *id,
            token,
            ttl,
        }))
    }

    /// Extends `lock` to its full lifetime from now: whether it is still ours.
    pub(crate) async fn extend_lock(&self, lock: &RefreshLock) -> StoreResult<bool> {
        self.backend
            .extend_lock(&lock.id, &lock.token, lock.ttl)
            .await
    }

    /// Writes `record` only while `lock` is still ours and the record still exists.
    pub(crate) async fn save_locked(
        &self,
        record: &Record,
        lock: &RefreshLock,
    ) -> StoreResult<bool> {
        let mut record = record.clone();
        self.set_expiry(&mut record);
        self.backend.update_if_locked(&record, &lock.token).await
    }

    /// Releases `lock` (a failure is logged: the lock expires by itself).
    pub(crate) async fn unlock(&self, lock: RefreshLock) {
        if let Err(e) = self.backend.unlock(&lock.id, &lock.token).await {
            tracing::warn!(reason = %e, "refresh lock not released; it expires by itself");
        }
    }

    /// Remembers `key` for `ttl` across instances: `true` the first time.
    pub(crate) async fn remember(&self, key: &str, ttl: Duration) -> StoreResult<bool> {
        self.backend.remember(key, ttl).await
    }

    /// Forgets a remembered `key`.
    pub(crate) async fn forget(&self, key: &str) -> StoreResult<()> {
        self.backend.forget(key).await
    }

    /// Writes `record` back (with its lifetime) if the session still exists: whether it did.
    pub(crate) async fn rewrite(&self, record: &Record) -> StoreResult<bool> {
        let mut record = record.clone();
        self.set_expiry(&mut record);
        self.backend.update(&record).await
    }

    /// Has `id` deleted in the background, as soon as the store answers (it is down now).
    /// Meanwhile this instance treats the session as gone.
    pub(crate) fn delete_later(&self, id: Id) {
        self.deferred_ids().insert(id);
    }

    fn deferred_ids(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<Id>> {
        self.deferred.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `id` was signed out here while the store was down.
    fn awaits_deletion(&self, id: &Id) -> bool {
        let deferred = self.deferred_ids();
        !deferred.is_empty() && deferred.contains(id)
    }

    fn spawn_deferred_deletions(&self) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(DEFERRED_DELETION_RETRY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                store.delete_waiting().await;
            }
        })
    }

    /// Deletes the sessions signed out here while the store was down. The first deletion tells
    /// whether the store answers again: while it does not, one attempt (bounded by the store's
    /// timeout) is all a pass costs, so the pass after the store's return comes at once.
    async fn delete_waiting(&self) {
        let waiting: Vec<Id> = self.deferred_ids().iter().copied().collect();
        for id in &waiting {
            if !self.delete_deferred(id).await {
                return;
            }
        }
    }

    /// Deletes one session signed out while the store was down: whether the store took it.
    async fn delete_deferred(&self, id: &Id) -> bool {
        let deleted = self.end(id, None).await.is_ok();
        if deleted {
            self.deferred_ids().remove(id);
            tracing::info!("a sign-out recorded late: session record deleted");
        }
        deleted
    }

    fn spawn_expiry_sweep(&self) -> tokio::task::JoinHandle<()> {
        let backend = self.backend.clone();
        tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                every_minute.tick().await;
                if let Err(e) = backend.delete_expired().await {
                    tracing::warn!(reason = %e, "expired-session cleanup failed");
                }
            }
        })
    }

    /// Gives `record` the expiry its owner's lifetimes allow; answers the owner.
    fn set_expiry(&self, record: &mut Record) -> RecordOwner {
        let owner = record_owner(record);
        record.expiry_date = self.lifetimes.expiry(&owner, OffsetDateTime::now_utc());
        owner
    }

    /// Records that `record` belongs to `owner` (a record without a user needs no entry).
    async fn index(&self, record: &Record, owner: &RecordOwner) -> StoreResult<()> {
        match owner.subject.as_deref() {
            Some(subject) => {
                self.backend
                    .index_owner(&record.id, subject, record.expiry_date)
                    .await
            }
            None => Ok(()),
        }
    }

    /// Pushes a signed-in record's expiry forward when this instance has not done so lately.
    async fn touch(&self, record: &Record) {
        let owner = record_owner(record);
        let Some(subject) = owner.subject.as_deref() else {
            return;
        };
        if !self.touches.due(record.id, &self.lifetimes) {
            return;
        }
        let expiry = self.lifetimes.expiry(&owner, OffsetDateTime::now_utc());
        if let Err(e) = self.backend.set_expiry(&record.id, subject, expiry).await {
            // The record keeps its current expiry; the next read tries again.
            self.touches.forget(&record.id);
            tracing::warn!(reason = %e, "session expiry not extended");
        }
    }
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let owner = self.set_expiry(record);
        self.backend.create(record).await?;
        Ok(self.index(record, &owner).await?)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let mut record = record.clone();
        let owner = self.set_expiry(&mut record);
        if self.backend.update(&record).await? {
            self.index(&record, &owner).await?;
        } else {
            tracing::info!("a session ended while a request used it: not written back");
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let record = self.load_untouched(id).await?;
        if let Some(record) = &record {
            self.touch(record).await;
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        Ok(self.end(id, None).await?)
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use std::time::Duration;

    use serde_json::json;
    use tower_sessions::Session;

    use super::*;

    async fn sessions() -> Sessions {
        let dir = std::env::temp_dir().join(format!("lfa-unit-{}", Id::default()));
        let url = format!("sqlite://{}/s.sqlite?mode=rwc", dir.display());
        let backend = SqliteBackend::open(&url).await.expect("a SQLite file");
        let lifetimes = SessionLifetimes {
            idle: Duration::from_secs(600),
            max: Duration::from_secs(3600),
        };
        Sessions::new(Arc::new(backend), lifetimes)
    }

    fn signed_in(version: i64) -> serde_json::Value {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        json!({ "user": { "subject": "alice", "signed_in_at": now }, "version": version })
    }

    /// A request that read its session before a logout ended it, and writes it back after:
    /// the session stays ended.
    #[tokio::test]
    async fn a_request_in_flight_cannot_bring_an_ended_session_back() {
        let store = sessions().await;
        let login = Session::new(None, Arc::new(store.clone()), None);
        login.insert("auth", signed_in(1)).await.unwrap();
        login.save().await.unwrap();
        let id = login.id().unwrap();

        let in_flight = Session::new(Some(id), Arc::new(store.clone()), None);
        let read: Option<serde_json::Value> = in_flight.get("auth").await.unwrap();
        assert_eq!(read, Some(signed_in(1)));

        store.end(&id, Some("alice")).await.unwrap();
        in_flight.insert("auth", signed_in(2)).await.unwrap();
        in_flight.save().await.unwrap();

        assert_eq!(store.load_untouched(&id).await.unwrap(), None);
        assert!(store.sessions_of("alice").await.unwrap().is_empty());
    }
}

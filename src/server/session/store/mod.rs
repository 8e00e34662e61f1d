//! The session store, chosen by `SESSION_DATABASE_URL`: an embedded SQLite file (the default:
//! durable across restarts, one instance) or Redis (`redis://`: shared by several instances
//! behind a load balancer). Both are maintained `tower-sessions` stores; this wrapper adds what
//! they cannot know about this app's sessions:
//!
//! * **lifetimes** ([`lifetime`]) — a record expires after the idle timeout or at the session's
//!   absolute deadline, whichever comes first. Reading a signed-in record pushes its expiry
//!   forward with an update of the expiry alone (at most once a minute per session and
//!   instance), so a user who reads pages stays signed in without the record being rewritten on
//!   every request;
//! * **who owns which session** — an index from the user's subject to session ids (a table in
//!   SQLite, a set in Redis), kept in step on every create, save and delete (so on login,
//!   logout, session-id rotation and expiry): "sign out everywhere" and FusionAuth's webhooks
//!   end every session of a user, whichever instance created it;
//! * **a refresh lock** — with Redis, a short lock per session, so that two instances never
//!   spend the same refresh token;
//! * **deletions that wait** — a sign-out that could not reach the store is retried in the
//!   background until it can.

mod error;
pub mod lifetime;
mod redis;
mod sqlite;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use crate::server::{config::SessionStoreUrl, session::record_owner};
use lifetime::{RecordOwner, SessionLifetimes, TouchLog};
use redis::RedisSessions;
use sqlite::SqliteSessions;

pub use error::StoreOpenError;
pub use redis::LOCK_TTL;

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqliteSessions),
    Redis(RedisSessions),
}

/// The app's session store (see the module documentation).
#[derive(Clone)]
pub struct AppSessionStore {
    /// Behind an `Arc`: the store is cloned for every request (the app state, the session layer).
    backend: Arc<Backend>,
    lifetimes: SessionLifetimes,
    touches: Arc<TouchLog>,
    deferred: Arc<std::sync::Mutex<Vec<Id>>>,
}

impl std::fmt::Debug for AppSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppSessionStore")
            .field("backend", &*self.backend)
            .field("lifetimes", &self.lifetimes)
            .finish_non_exhaustive()
    }
}

/// A refresh lock held on a session: nothing with SQLite (one instance: the in-process single
/// flight is enough), a Redis key with Redis.
pub struct RefreshLock {
    redis: Option<(RedisSessions, Id, String)>,
}

impl RefreshLock {
    pub async fn release(self) {
        if let Some((redis, id, token)) = self.redis {
            if let Err(e) = redis.unlock(&id, &token).await {
                tracing::warn!(reason = %e, "refresh lock not released; it expires by itself");
            }
        }
    }
}

fn backend_error(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

impl AppSessionStore {
    /// Opens the store `url` names.
    pub async fn open(
        url: &SessionStoreUrl,
        lifetimes: SessionLifetimes,
    ) -> Result<Self, StoreOpenError> {
        let backend = match url {
            SessionStoreUrl::Sqlite(url) => Backend::Sqlite(SqliteSessions::open(url).await?),
            SessionStoreUrl::Redis(url) => Backend::Redis(RedisSessions::open(url).await?),
        };
        Ok(Self {
            backend: Arc::new(backend),
            lifetimes,
            touches: Arc::default(),
            deferred: Arc::default(),
        })
    }

    pub fn lifetimes(&self) -> SessionLifetimes {
        self.lifetimes
    }

    /// Background work: expired SQLite rows are swept (Redis expires keys itself), and
    /// deletions that could not reach the store are retried.
    pub fn spawn_background_tasks(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = vec![self.spawn_deferred_deletions()];
        if let Backend::Sqlite(sqlite) = &*self.backend {
            tasks.push(sqlite.spawn_expiry_cleanup());
        }
        tasks
    }

    /// The sessions of `subject` that still exist, with their records.
    pub async fn sessions_of(&self, subject: &str) -> session_store::Result<Vec<Record>> {
        let ids = match &*self.backend {
            Backend::Sqlite(sqlite) => sqlite.sessions_of(subject).await.map_err(backend_error)?,
            Backend::Redis(redis) => redis.sessions_of(subject).await.map_err(backend_error)?,
        };
        let mut records = Vec::new();
        for id in ids {
            match self.load_untouched(&id).await? {
                Some(record) if record_owner(&record).subject.as_deref() == Some(subject) => {
                    records.push(record)
                }
                // Expired, or no longer this user's (signed out): drop it from the index.
                _ => self.forget_owner(&id, Some(subject)).await?,
            }
        }
        Ok(records)
    }

    /// Ends every session of `subject`; answers how many there were.
    pub async fn end_sessions_of(&self, subject: &str) -> session_store::Result<usize> {
        let records = self.sessions_of(subject).await?;
        for record in &records {
            self.delete(&record.id).await?;
        }
        Ok(records.len())
    }

    /// Takes session `id`'s refresh lock, waiting for another instance to finish its refresh.
    /// `None` when the lock could not be had in time (the refresh is postponed).
    pub async fn lock_refresh(&self, id: &Id) -> session_store::Result<Option<RefreshLock>> {
        let Backend::Redis(redis) = &*self.backend else {
            return Ok(Some(RefreshLock { redis: None }));
        };
        let started = tokio::time::Instant::now();
        while started.elapsed() < LOCK_TTL {
            if let Some(token) = redis.try_lock(id).await.map_err(backend_error)? {
                return Ok(Some(RefreshLock {
                    redis: Some((redis.clone(), *id, token)),
                }));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Ok(None)
    }

    /// Has `id` deleted in the background, as soon as the store answers (the store is down now).
    pub fn delete_later(&self, id: Id) {
        self.deferred
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(id);
    }

    fn spawn_deferred_deletions(&self) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut every_few_seconds = tokio::time::interval(Duration::from_secs(5));
            loop {
                every_few_seconds.tick().await;
                let waiting =
                    std::mem::take(&mut *store.deferred.lock().unwrap_or_else(|p| p.into_inner()));
                for id in waiting {
                    match store.delete(&id).await {
                        Ok(()) => {
                            tracing::info!("a sign-out recorded late: session record deleted")
                        }
                        Err(_) => store.delete_later(id),
                    }
                }
            }
        })
    }

    /// A record as stored, without pushing its expiry forward.
    async fn load_untouched(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match &*self.backend {
            Backend::Sqlite(sqlite) => sqlite.store.load(id).await,
            Backend::Redis(redis) => redis.store.load(id).await,
        }
    }

    /// Gives `record` the expiry its owner's lifetimes allow; answers the owner (for [`Self::index`]).
    fn set_expiry(&self, record: &mut Record) -> RecordOwner {
        let owner = record_owner(record);
        record.expiry_date = self.lifetimes.expiry(&owner, OffsetDateTime::now_utc());
        owner
    }

    /// Records that `record` belongs to `owner` (or to nobody).
    async fn index(&self, record: &Record, owner: &RecordOwner) -> session_store::Result<()> {
        let (id, expiry) = (&record.id, record.expiry_date);
        match (&*self.backend, owner.subject.as_deref()) {
            (Backend::Sqlite(sqlite), Some(subject)) => sqlite
                .set_owner(id, subject, expiry)
                .await
                .map_err(backend_error),
            (Backend::Sqlite(_), None) => self.forget_owner(id, None).await,
            (Backend::Redis(redis), Some(subject)) => redis
                .set_owner(id, subject, expiry)
                .await
                .map_err(backend_error),
            (Backend::Redis(_), None) => Ok(()),
        }
    }

    async fn forget_owner(&self, id: &Id, subject: Option<&str>) -> session_store::Result<()> {
        self.touches.forget(id);
        match (&*self.backend, subject) {
            (Backend::Sqlite(sqlite), _) => sqlite.forget_owner(id).await.map_err(backend_error),
            (Backend::Redis(redis), Some(subject)) => {
                redis.forget_owner(id, subject).await.map_err(backend_error)
            }
            (Backend::Redis(_), None) => Ok(()),
        }
    }

    /// Pushes a signed-in record's expiry forward when this instance has not done so lately.
    async fn touch(&self, record: &Record) {
        let owner = record_owner(record);
        if owner.subject.is_none() || !self.touches.due(record.id, &self.lifetimes) {
            return;
        }
        let expiry = self.lifetimes.expiry(&owner, OffsetDateTime::now_utc());
        let touched = match &*self.backend {
            Backend::Sqlite(sqlite) => sqlite
                .touch(&record.id, expiry)
                .await
                .map_err(backend_error),
            Backend::Redis(redis) => redis.touch(&record.id, expiry).await.map_err(backend_error),
        };
        if let Err(e) = touched {
            // The record keeps its current expiry; the next read tries again.
            self.touches.forget(&record.id);
            tracing::warn!(reason = %e, "session expiry not extended");
        }
    }
}

#[async_trait]
impl SessionStore for AppSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let owner = self.set_expiry(record);
        match &*self.backend {
            Backend::Sqlite(sqlite) => sqlite.store.create(record).await?,
            Backend::Redis(redis) => redis.store.create(record).await?,
        }
        self.index(record, &owner).await
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let mut record = record.clone();
        let owner = self.set_expiry(&mut record);
        match &*self.backend {
            Backend::Sqlite(sqlite) => sqlite.store.save(&record).await?,
            Backend::Redis(redis) => redis.store.save(&record).await?,
        }
        self.index(&record, &owner).await
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let record = self.load_untouched(id).await?;
        if let Some(record) = &record {
            self.touch(record).await;
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        // Redis keeps the index per user: find the user before the record is gone.
        let subject = match &*self.backend {
            Backend::Redis(_) => self
                .load_untouched(id)
                .await?
                .and_then(|record| record_owner(&record).subject),
            Backend::Sqlite(_) => None,
        };
        match &*self.backend {
            Backend::Sqlite(sqlite) => sqlite.store.delete(id).await?,
            Backend::Redis(redis) => redis.store.delete(id).await?,
        }
        self.forget_owner(id, subject.as_deref()).await
    }
}

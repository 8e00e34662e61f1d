//! The one trait a session backend implements. Everything a backend must guarantee is stated
//! here, and `tests/stores.rs` asserts it against every backend the crate ships:
//!
//! * **records** — `create` never overwrites (an id collision picks a new id), `update` never
//!   re-creates: a record that was deleted (by a logout, a sign-out everywhere, a webhook) or
//!   expired stays gone, whatever request was still in flight with it;
//! * **the owner index** — which user's sessions exist, so every session of a user can be ended
//!   from any instance;
//! * **the refresh lock** — one holder per session across every instance sharing the store, with
//!   a lifetime, an extension, and a *fenced* update that writes only while the lock is still
//!   the caller's (so a holder whose lock expired under a slow provider cannot overwrite the
//!   tokens of the instance that took over);
//! * **remembered keys** — "have I seen this before" across instances (webhook event ids).

use std::{fmt, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

/// A backend failure: the store is unreachable, refused the command, or held something
/// unreadable.
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
#[non_exhaustive]
pub struct StoreError(pub String);

impl StoreError {
    /// A failure described by `error`.
    pub fn new(error: impl fmt::Display) -> Self {
        Self(error.to_string())
    }
}

impl From<StoreError> for tower_sessions::session_store::Error {
    fn from(error: StoreError) -> Self {
        Self::Backend(error.0)
    }
}

impl From<tower_sessions::session_store::Error> for StoreError {
    fn from(error: tower_sessions::session_store::Error) -> Self {
        Self::new(error)
    }
}

/// What a backend's operations answer.
pub type StoreResult<T> = Result<T, StoreError>;

/// Proves who holds a refresh lock: a random value only its holder knows.
#[derive(Clone, PartialEq, Eq)]
pub struct LockToken(String);

impl LockToken {
    /// A fresh, unguessable token.
    pub fn new() -> Self {
        Self(Id::default().to_string())
    }

    /// The token as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for LockToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockToken(..)")
    }
}

/// A place to keep sessions: a database or cache shared by every instance of the app (or a
/// file for one host). Implement it to add a backend; the crate wraps it with lifetimes,
/// expiry updates and the `tower-sessions` interface.
#[async_trait]
pub trait SessionBackend: fmt::Debug + Send + Sync + 'static {
    /// Inserts a new record. Never overwrites: on an id collision it gives `record` a new id.
    async fn create(&self, record: &mut Record) -> StoreResult<()>;

    /// Replaces an existing record. A record that is gone (deleted or expired) is **not**
    /// written again: answers `false`.
    async fn update(&self, record: &Record) -> StoreResult<bool>;

    /// The record, if it exists and has not expired.
    async fn load(&self, id: &Id) -> StoreResult<Option<Record>>;

    /// Deletes the record and its entry in the owner index (`owner` is the record's user when
    /// the caller knows it). Deleting what is gone is not an error.
    async fn delete(&self, id: &Id, owner: Option<&str>) -> StoreResult<()>;

    /// Moves an existing record's expiry, and its entry in `owner`'s index, to `expiry`
    /// without rewriting the record.
    async fn set_expiry(&self, id: &Id, owner: &str, expiry: OffsetDateTime) -> StoreResult<()>;

    /// Records that session `id` belongs to `subject` until `expiry`.
    async fn index_owner(&self, id: &Id, subject: &str, expiry: OffsetDateTime) -> StoreResult<()>;

    /// The ids recorded for `subject` (some may have ended since: the caller checks).
    async fn sessions_of(&self, subject: &str) -> StoreResult<Vec<Id>>;

    /// Removes session `id` from `subject`'s entries.
    async fn forget_owner(&self, id: &Id, subject: &str) -> StoreResult<()>;

    /// Takes session `id`'s refresh lock for `ttl` if nobody holds it: whether it was taken.
    async fn try_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool>;

    /// Extends the lock to `ttl` from now, if `token` still holds it: whether it does.
    async fn extend_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool>;

    /// Releases the lock if `token` still holds it (a lock that expired and was taken by
    /// another stays theirs).
    async fn unlock(&self, id: &Id, token: &LockToken) -> StoreResult<()>;

    /// [`update`](Self::update), atomically conditioned on `token` still holding session
    /// `record.id`'s lock: `false` (nothing written) when the lock is gone or another's, or the
    /// record is gone.
    async fn update_if_locked(&self, record: &Record, token: &LockToken) -> StoreResult<bool>;

    /// Remembers `key` for `ttl`: `true` the first time, `false` while it is remembered (across
    /// every instance sharing the store).
    async fn remember(&self, key: &str, ttl: Duration) -> StoreResult<bool>;

    /// Forgets `key` (remembered by [`remember`](Self::remember)); forgetting what is not
    /// remembered is not an error.
    async fn forget(&self, key: &str) -> StoreResult<()>;

    /// Removes expired records, index entries, locks and remembered keys (a no-op for a
    /// backend that expires keys itself).
    async fn delete_expired(&self) -> StoreResult<()>;
}

//! Redis: the records are `tower-sessions-redis-store`'s keys (the session id, with the record's
//! expiry as TTL; its save is `SET … XX`, which never re-creates a deleted record); this module
//! adds the owner index (a set of session ids per user), the expiry update, the per-session
//! refresh lock with its fenced update (Lua scripts, atomic on the server) and remembered keys.

use std::time::Duration;

use async_trait::async_trait;
use fred::{
    prelude::{
        Builder, ClientLike, Config, Error as RedisError, Expiration, KeysInterface, LuaInterface,
        Pool, ReconnectPolicy, SetOptions, SetsInterface,
    },
    types::Value,
};
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    SessionStore,
};
use tower_sessions_redis_store::RedisStore;

use super::{
    backend::{LockToken, SessionBackend, StoreError, StoreResult},
    error::StoreOpenError,
    lifetime::record_owner,
};

/// How long a Redis command may take before the request gets the "session store unavailable"
/// page instead of hanging.
const REDIS_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Keys of this crate other than the records (which `RedisStore` names by session id alone).
const KEY_PREFIX: &str = "leptos-fusionauth";

/// Deletes the lock only if it is still ours (it may have expired and been taken by another).
const UNLOCK_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/// Extends the lock only if it is still ours.
const EXTEND_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/// Writes an existing record (`XX`) only while the lock is ours: 1 when written.
const FENCED_UPDATE_SCRIPT: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
     if redis.call('set', KEYS[2], ARGV[2], 'XX', 'PXAT', ARGV[3]) then return 1 end \
     end return 0";

/// Sessions in Redis (`redis://` or `rediss://`), shared by every instance of the app.
#[derive(Clone, Debug)]
pub struct RedisBackend {
    records: RedisStore<Pool>,
    pool: Pool,
}

fn owner_key(subject: &str) -> String {
    format!("{KEY_PREFIX}:sessions-of:{subject}")
}

fn lock_key(id: &Id) -> String {
    format!("{KEY_PREFIX}:refresh-lock:{id}")
}

fn remembered_key(key: &str) -> String {
    format!("{KEY_PREFIX}:remembered:{key}")
}

fn failed(error: RedisError) -> StoreError {
    StoreError::new(error)
}

fn unix_millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

impl RedisBackend {
    /// Connects to Redis. An unreachable Redis does not stop the app: the pool keeps
    /// reconnecting, requests that need a session get the "session store unavailable" page
    /// meanwhile, and everything works again once Redis answers — no restart needed.
    pub async fn open(url: &str) -> Result<Self, StoreOpenError> {
        let config =
            Config::from_url(url).map_err(|e| StoreOpenError::InvalidUrl(e.to_string()))?;
        let mut builder = Builder::from_config(config);
        builder
            .with_connection_config(|connection| {
                connection.connection_timeout = REDIS_COMMAND_TIMEOUT;
                connection.internal_command_timeout = REDIS_COMMAND_TIMEOUT;
            })
            .with_performance_config(|performance| {
                performance.default_command_timeout = REDIS_COMMAND_TIMEOUT;
            })
            // Reconnect forever, every 100 ms (one TCP connect per pooled connection): the sooner
            // every instance is back, the shorter the time in which one serves a session that
            // another signed out while the store was down (`Sessions::delete_later`).
            .set_policy(ReconnectPolicy::new_constant(0, 100));
        let pool = builder
            .build_pool(4)
            .map_err(|e| StoreOpenError::Redis(e.to_string()))?;
        pool.connect();
        match tokio::time::timeout(REDIS_COMMAND_TIMEOUT, pool.wait_for_connect()).await {
            Ok(Ok(())) => tracing::info!("connected to the Redis session store"),
            Ok(Err(e)) => {
                tracing::warn!(reason = %e, "Redis session store unreachable; retrying in the background")
            }
            Err(_) => tracing::warn!("Redis session store unreachable; retrying in the background"),
        }
        Ok(Self {
            records: RedisStore::new(pool.clone()),
            pool,
        })
    }

    /// Writes `record` in the record format of `RedisStore` (MessagePack, expiring with it) if
    /// `condition` holds (`NX`: new, `XX`: existing): whether it was written.
    async fn write_record(&self, record: &Record, condition: SetOptions) -> StoreResult<bool> {
        let data = rmp_serde::to_vec(record).map_err(StoreError::new)?;
        let written: Option<String> = self
            .pool
            .set(
                record.id.to_string(),
                Value::Bytes(data.into()),
                Some(Expiration::PXAT(unix_millis(record.expiry_date))),
                Some(condition),
                false,
            )
            .await
            .map_err(failed)?;
        Ok(written.is_some())
    }

    /// Makes `subject`'s set live at least until `expiry` (members that expired on their own
    /// are dropped when the set is read).
    async fn keep_owner_set_until(&self, subject: &str, expiry: OffsetDateTime) -> StoreResult<()> {
        let key = owner_key(subject);
        let ttl = (expiry - OffsetDateTime::now_utc()).whole_seconds().max(1);
        let current: i64 = self.pool.ttl(&key).await.map_err(failed)?;
        if current < ttl {
            let _: () = self.pool.expire(&key, ttl, None).await.map_err(failed)?;
        }
        Ok(())
    }
}

#[async_trait]
impl SessionBackend for RedisBackend {
    async fn create(&self, record: &mut Record) -> StoreResult<()> {
        // `SET … NX`, as `RedisStore::create` does, whose answer on a collision (nil) fred
        // cannot read as the bool it asks for: a new id then, until one is free.
        while !self.write_record(record, SetOptions::NX).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn update(&self, record: &Record) -> StoreResult<bool> {
        // `SET … XX`, as `RedisStore::save` does, but answering whether it wrote: nothing is
        // written for a record that is gone.
        self.write_record(record, SetOptions::XX).await
    }

    async fn load(&self, id: &Id) -> StoreResult<Option<Record>> {
        Ok(self.records.load(id).await?)
    }

    async fn delete(&self, id: &Id, owner: Option<&str>) -> StoreResult<()> {
        // The index is kept per user: find the user before the record is gone.
        let owner = match owner {
            Some(subject) => Some(subject.to_owned()),
            None => self
                .load(id)
                .await?
                .and_then(|record| record_owner(&record).subject),
        };
        let _: () = self.pool.del(id.to_string()).await.map_err(failed)?;
        if let Some(subject) = owner {
            self.forget_owner(id, &subject).await?;
        }
        Ok(())
    }

    async fn set_expiry(&self, id: &Id, owner: &str, expiry: OffsetDateTime) -> StoreResult<()> {
        let _: () = self
            .pool
            .pexpire_at(id.to_string(), unix_millis(expiry), None)
            .await
            .map_err(failed)?;
        self.keep_owner_set_until(owner, expiry).await
    }

    async fn index_owner(&self, id: &Id, subject: &str, expiry: OffsetDateTime) -> StoreResult<()> {
        let _: () = self
            .pool
            .sadd(owner_key(subject), id.to_string())
            .await
            .map_err(failed)?;
        self.keep_owner_set_until(subject, expiry).await
    }

    async fn sessions_of(&self, subject: &str) -> StoreResult<Vec<Id>> {
        let ids: Vec<String> = self
            .pool
            .smembers(owner_key(subject))
            .await
            .map_err(failed)?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    async fn forget_owner(&self, id: &Id, subject: &str) -> StoreResult<()> {
        let _: () = self
            .pool
            .srem(owner_key(subject), id.to_string())
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn try_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool> {
        let answer: Option<String> = self
            .pool
            .set(
                lock_key(id),
                token.as_str(),
                Some(Expiration::PX(ttl.as_millis() as i64)),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(failed)?;
        Ok(answer.is_some())
    }

    async fn extend_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool> {
        let extended: i64 = self
            .pool
            .eval(
                EXTEND_SCRIPT,
                vec![lock_key(id)],
                vec![token.as_str().to_owned(), ttl.as_millis().to_string()],
            )
            .await
            .map_err(failed)?;
        Ok(extended == 1)
    }

    async fn unlock(&self, id: &Id, token: &LockToken) -> StoreResult<()> {
        let _: Value = self
            .pool
            .eval(
                UNLOCK_SCRIPT,
                vec![lock_key(id)],
                vec![token.as_str().to_owned()],
            )
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn update_if_locked(&self, record: &Record, token: &LockToken) -> StoreResult<bool> {
        let data = rmp_serde::to_vec(record).map_err(StoreError::new)?;
        let arguments: Vec<Value> = vec![
            token.as_str().into(),
            Value::Bytes(data.into()),
            unix_millis(record.expiry_date).into(),
        ];
        let written: i64 = self
            .pool
            .eval(
                FENCED_UPDATE_SCRIPT,
                vec![lock_key(&record.id), record.id.to_string()],
                arguments,
            )
            .await
            .map_err(failed)?;
        Ok(written == 1)
    }

    async fn remember(&self, key: &str, ttl: Duration) -> StoreResult<bool> {
        let answer: Option<String> = self
            .pool
            .set(
                remembered_key(key),
                "1",
                Some(Expiration::PX(ttl.as_millis().max(1) as i64)),
                Some(SetOptions::NX),
                false,
            )
            .await
            .map_err(failed)?;
        Ok(answer.is_some())
    }

    async fn forget(&self, key: &str) -> StoreResult<()> {
        let _: () = self.pool.del(remembered_key(key)).await.map_err(failed)?;
        Ok(())
    }

    async fn delete_expired(&self) -> StoreResult<()> {
        // Redis expires every key of this backend by itself.
        Ok(())
    }
}

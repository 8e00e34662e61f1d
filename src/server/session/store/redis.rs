//! Redis: the records are `tower-sessions-redis-store`'s keys (the session id, with the record's
//! expiry as TTL); this module adds the owner index (a set of session ids per user), the cheap
//! expiry update and the per-session refresh lock.

use std::time::Duration;

use fred::{
    prelude::{
        Builder, ClientLike, Config, Error as RedisError, Expiration, KeysInterface, LuaInterface,
        Pool, ReconnectPolicy, SetOptions, SetsInterface,
    },
    types::Value,
};
use time::OffsetDateTime;
use tower_sessions::session::Id;
use tower_sessions_redis_store::RedisStore;

use super::error::StoreOpenError;

/// How long a Redis command may take before the request gets the "session store unavailable"
/// page instead of hanging.
const REDIS_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// The refresh lock expires by itself after this long (a crashed instance does not block
/// the session for ever).
pub const LOCK_TTL: Duration = Duration::from_secs(10);
/// Keys of this app other than the records (which `RedisStore` names by session id alone).
const KEY_PREFIX: &str = "leptos-fusionauth";

/// Deletes the lock only if it is still ours (it may have expired and been taken by another).
const UNLOCK_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// A Redis session store: the records and the owner index.
#[derive(Clone, Debug)]
pub struct RedisSessions {
    pub store: RedisStore<Pool>,
    pool: Pool,
}

type Result<T> = std::result::Result<T, RedisError>;

fn owner_key(subject: &str) -> String {
    format!("{KEY_PREFIX}:sessions-of:{subject}")
}

fn lock_key(id: &Id) -> String {
    format!("{KEY_PREFIX}:refresh-lock:{id}")
}

impl RedisSessions {
    /// Connects to Redis. An unreachable Redis does not stop the app: the pool keeps
    /// reconnecting, requests that need a session get the "session store unavailable" page
    /// meanwhile, and everything works again once Redis answers — no restart needed.
    pub async fn open(url: &str) -> std::result::Result<Self, StoreOpenError> {
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
            // Reconnect forever, every half second.
            .set_policy(ReconnectPolicy::new_constant(0, 500));
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
            store: RedisStore::new(pool.clone()),
            pool,
        })
    }

    /// Records that session `id` belongs to `subject`. The set lives as long as its youngest
    /// member may; members that expired on their own are dropped when the set is read.
    pub async fn set_owner(&self, id: &Id, subject: &str, expiry: OffsetDateTime) -> Result<()> {
        let key = owner_key(subject);
        let _: () = self.pool.sadd(&key, id.to_string()).await?;
        let ttl = (expiry - OffsetDateTime::now_utc()).whole_seconds().max(1);
        let current: i64 = self.pool.ttl(&key).await?;
        if current < ttl {
            let _: () = self.pool.expire(&key, ttl, None).await?;
        }
        Ok(())
    }

    /// Removes session `id` from `subject`'s set.
    pub async fn forget_owner(&self, id: &Id, subject: &str) -> Result<()> {
        let _: () = self.pool.srem(owner_key(subject), id.to_string()).await?;
        Ok(())
    }

    /// Moves the expiry of session `id` to `expiry`.
    pub async fn touch(&self, id: &Id, expiry: OffsetDateTime) -> Result<()> {
        let millis = (expiry.unix_timestamp_nanos() / 1_000_000) as i64;
        let _: () = self.pool.pexpire_at(id.to_string(), millis, None).await?;
        Ok(())
    }

    /// The session ids recorded for `subject` (some may have expired since).
    pub async fn sessions_of(&self, subject: &str) -> Result<Vec<Id>> {
        let ids: Vec<String> = self.pool.smembers(owner_key(subject)).await?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    /// Takes session `id`'s refresh lock if it is free: `Some(token)` to release it with.
    pub async fn try_lock(&self, id: &Id) -> Result<Option<String>> {
        let token = Id::default().to_string();
        let expire = Expiration::PX(LOCK_TTL.as_millis() as i64);
        let answer: Option<String> = self
            .pool
            .set(
                lock_key(id),
                token.as_str(),
                Some(expire),
                Some(SetOptions::NX),
                false,
            )
            .await?;
        Ok(answer.map(|_| token))
    }

    /// Releases session `id`'s refresh lock, if `token` still holds it.
    pub async fn unlock(&self, id: &Id, token: &str) -> Result<()> {
        let _: Value = self
            .pool
            .eval(UNLOCK_SCRIPT, vec![lock_key(id)], vec![token.to_owned()])
            .await?;
        Ok(())
    }
}

//! The session store, chosen by `SESSION_DATABASE_URL`: an embedded SQLite file (the default:
//! durable across restarts, one instance) or Redis (`redis://`: shared by several instances
//! behind a load balancer). Both are maintained `tower-sessions` stores; this enum only picks one
//! at start-up.

use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
    SessionStore,
};
use tower_sessions_redis_store::{
    fred::prelude::{Builder, ClientLike, Config, Pool, ReconnectPolicy},
    RedisStore,
};
use tower_sessions_sqlx_store::{
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous},
    SqliteStore,
};

use crate::server::config::SessionStoreUrl;

/// The session store could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum StoreOpenError {
    #[error("SESSION_DATABASE_URL is invalid: {0}")]
    InvalidUrl(String),
    #[error("cannot create {path}: {source}")]
    CreateDirectory {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open the session database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("cannot create the session table: {0}")]
    Migrate(String),
    #[error("cannot set up the Redis client: {0}")]
    Redis(String),
}

/// How long a Redis command may take before the request gets the "session store unavailable"
/// page instead of hanging.
const REDIS_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
pub enum AppSessionStore {
    Sqlite(SqliteStore),
    Redis(RedisStore<Pool>),
}

impl AppSessionStore {
    /// Opens the store `url` names.
    pub async fn open(url: &SessionStoreUrl) -> Result<Self, StoreOpenError> {
        match url {
            SessionStoreUrl::Sqlite(url) => open_sqlite_store(url).await.map(Self::Sqlite),
            SessionStoreUrl::Redis(url) => open_redis_store(url).await.map(Self::Redis),
        }
    }

    /// Removes expired sessions in the background. Redis expires them itself (each record is
    /// written with its TTL); SQLite needs a periodic sweep.
    pub fn spawn_expiry_cleanup(&self) -> Option<tokio::task::JoinHandle<()>> {
        match self {
            Self::Sqlite(store) => {
                let store = store.clone();
                Some(tokio::spawn(async move {
                    if let Err(e) = store
                        .continuously_delete_expired(Duration::from_secs(60))
                        .await
                    {
                        tracing::warn!(reason = %e, "expired-session cleanup stopped");
                    }
                }))
            }
            Self::Redis(_) => None,
        }
    }
}

#[async_trait]
impl SessionStore for AppSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.create(record).await,
            Self::Redis(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.save(record).await,
            Self::Redis(store) => store.save(record).await,
        }
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(store) => store.load(session_id).await,
            Self::Redis(store) => store.load(session_id).await,
        }
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(store) => store.delete(session_id).await,
            Self::Redis(store) => store.delete(session_id).await,
        }
    }
}

/// Opens (and creates) the SQLite session database and its table.
pub async fn open_sqlite_store(url: &str) -> Result<SqliteStore, StoreOpenError> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreOpenError::InvalidUrl(e.to_string()))?
        .create_if_missing(true)
        // WAL with synchronous=NORMAL: a commit no longer waits for an fsync (a login's session
        // write drops from ~1 ms to ~0.02 ms); a crash of the app loses nothing, a power cut at
        // most the last sessions written.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    if let Some(parent) = Path::new(options.get_filename()).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|source| StoreOpenError::CreateDirectory {
                path: parent.display().to_string(),
                source,
            })?;
        }
    }
    let pool = SqlitePool::connect_with(options)
        .await
        .map_err(|e| StoreOpenError::Open {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    let store = SqliteStore::new(pool);
    store
        .migrate()
        .await
        .map_err(|e| StoreOpenError::Migrate(e.to_string()))?;
    Ok(store)
}

/// Connects to Redis. An unreachable Redis does not stop the app: the pool keeps reconnecting,
/// requests that need a session get the "session store unavailable" page meanwhile, and
/// everything works again once Redis answers — no restart needed.
pub async fn open_redis_store(url: &str) -> Result<RedisStore<Pool>, StoreOpenError> {
    let config = Config::from_url(url).map_err(|e| StoreOpenError::InvalidUrl(e.to_string()))?;
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
    Ok(RedisStore::new(pool))
}

//! SQLite: the records live in `tower-sessions-sqlx-store`'s table; this module adds the owner
//! index (`session_owners`: which user a session belongs to) and the cheap expiry update.

use std::{path::Path, str::FromStr, time::Duration};

use time::OffsetDateTime;
use tower_sessions::session::Id;
use tower_sessions_sqlx_store::{
    sqlx::{
        self,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous},
    },
    SqliteStore,
};

use super::error::StoreOpenError;

/// The table `SqliteStore` keeps its records in (its default name).
const RECORD_TABLE: &str = "tower_sessions";

/// A SQLite session database: the records and the owner index.
#[derive(Clone, Debug)]
pub struct SqliteSessions {
    pub store: SqliteStore,
    pool: SqlitePool,
}

type Result<T> = std::result::Result<T, sqlx::Error>;

impl SqliteSessions {
    /// Opens (and creates) the session database and its tables.
    pub async fn open(url: &str) -> std::result::Result<Self, StoreOpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreOpenError::InvalidUrl(e.to_string()))?
            .create_if_missing(true)
            // WAL with synchronous=NORMAL: a commit no longer waits for an fsync (a login's
            // session write drops from ~1 ms to ~0.02 ms); a crash of the app loses nothing, a
            // power cut at most the last sessions written.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        create_parent_directory(options.get_filename())?;
        let pool = SqlitePool::connect_with(options)
            .await
            .map_err(|e| StoreOpenError::Open {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
        let store = SqliteStore::new(pool.clone());
        store
            .migrate()
            .await
            .map_err(|e| StoreOpenError::Migrate(e.to_string()))?;
        create_owner_table(&pool)
            .await
            .map_err(|e| StoreOpenError::Migrate(e.to_string()))?;
        Ok(Self { store, pool })
    }

    /// Records that session `id` belongs to `subject` until `expiry`.
    pub async fn set_owner(&self, id: &Id, subject: &str, expiry: OffsetDateTime) -> Result<()> {
        sqlx::query(
            "insert into session_owners (session_id, subject, expiry_date) values (?, ?, ?) \
             on conflict (session_id) do update \
             set subject = excluded.subject, expiry_date = excluded.expiry_date",
        )
        .bind(id.to_string())
        .bind(subject)
        .bind(expiry.unix_timestamp())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets session `id` in the owner index.
    pub async fn forget_owner(&self, id: &Id) -> Result<()> {
        sqlx::query("delete from session_owners where session_id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Moves the expiry of session `id` (the record and its index row) to `expiry`.
    pub async fn touch(&self, id: &Id, expiry: OffsetDateTime) -> Result<()> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(&format!(
            "update {RECORD_TABLE} set expiry_date = ? where id = ?"
        ))
        .bind(expiry)
        .bind(id.to_string())
        .execute(&mut *transaction)
        .await?;
        sqlx::query("update session_owners set expiry_date = ? where session_id = ?")
            .bind(expiry.unix_timestamp())
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await
    }

    /// The live sessions of `subject`.
    pub async fn sessions_of(&self, subject: &str) -> Result<Vec<Id>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "select session_id from session_owners where subject = ? and expiry_date > ?",
        )
        .bind(subject)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    /// Deletes expired rows of the owner index (the records are swept by `SqliteStore`).
    pub async fn delete_expired_owners(&self) -> Result<()> {
        sqlx::query("delete from session_owners where expiry_date <= ?")
            .bind(OffsetDateTime::now_utc().unix_timestamp())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sweeps expired records and index rows every minute.
    pub fn spawn_expiry_cleanup(&self) -> tokio::task::JoinHandle<()> {
        let sessions = self.clone();
        tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                every_minute.tick().await;
                use tower_sessions::session_store::ExpiredDeletion;
                if let Err(e) = sessions.store.delete_expired().await {
                    tracing::warn!(reason = %e, "expired-session cleanup failed");
                }
                if let Err(e) = sessions.delete_expired_owners().await {
                    tracing::warn!(reason = %e, "expired-owner cleanup failed");
                }
            }
        })
    }
}

async fn create_owner_table(pool: &SqlitePool) -> Result<()> {
    sqlx::query(
        "create table if not exists session_owners (\
             session_id text primary key not null, \
             subject text not null, \
             expiry_date integer not null)",
    )
    .execute(pool)
    .await?;
    sqlx::query("create index if not exists session_owners_by_subject on session_owners (subject)")
        .execute(pool)
        .await?;
    Ok(())
}

fn create_parent_directory(file: &Path) -> std::result::Result<(), StoreOpenError> {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|source| StoreOpenError::CreateDirectory {
                path: parent.display().to_string(),
                source,
            })
        }
        _ => Ok(()),
    }
}

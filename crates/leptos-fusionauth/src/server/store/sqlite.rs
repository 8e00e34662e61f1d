//! SQLite: the records live in `tower-sessions-sqlx-store`'s table (created and read by its
//! `SqliteStore`); this module adds the owner index, the refresh locks and the remembered keys,
//! and writes records itself where the stock store would upsert (an update must never re-create
//! a deleted session). Several processes on one host may share the file: the lock is a row.

use std::{path::Path, str::FromStr, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{ExpiredDeletion, SessionStore},
};
use tower_sessions_sqlx_store::{
    sqlx::{
        self,
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous},
    },
    SqliteStore,
};

use super::{
    backend::{LockToken, SessionBackend, StoreError, StoreResult},
    error::StoreOpenError,
};

/// The table `SqliteStore` keeps its records in (its default name).
const RECORD_TABLE: &str = "tower_sessions";

/// Sessions in a SQLite file (`sqlite://path?mode=rwc`): durable across restarts, for one host.
#[derive(Clone, Debug)]
pub struct SqliteBackend {
    records: SqliteStore,
    pool: SqlitePool,
}

fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError::new(error)
}

fn unix_millis(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn millis_from_now(ttl: Duration) -> i64 {
    unix_millis(OffsetDateTime::now_utc()) + ttl.as_millis() as i64
}

impl SqliteBackend {
    /// Opens (and creates) the session database and its tables. The file is readable by its
    /// owner only.
    pub async fn open(url: &str) -> Result<Self, StoreOpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreOpenError::InvalidUrl(e.to_string()))?
            .create_if_missing(true)
            // WAL with synchronous=NORMAL: a commit no longer waits for an fsync (a login's
            // session write drops from ~1 ms to ~0.02 ms); a crash of the app loses nothing, a
            // power cut at most the last sessions written.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        let file = options.get_filename().to_owned();
        create_parent_directory(&file)?;
        create_private_file(&file);
        let pool = SqlitePool::connect_with(options)
            .await
            .map_err(|e| StoreOpenError::Open {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
        let records = SqliteStore::new(pool.clone());
        records
            .migrate()
            .await
            .map_err(|e| StoreOpenError::Migrate(e.to_string()))?;
        create_tables(&pool)
            .await
            .map_err(|e| StoreOpenError::Migrate(e.to_string()))?;
        Ok(Self { records, pool })
    }

    /// Rewrites a record that exists and has not expired (when `lock` is given, only while that
    /// token holds the session's refresh lock): whether it was written.
    async fn write_record(&self, record: &Record, lock: Option<&LockToken>) -> StoreResult<bool> {
        let data = rmp_serde::to_vec(record).map_err(failed)?;
        let now = OffsetDateTime::now_utc();
        let update = format!(
            "update {RECORD_TABLE} set data = ?1, expiry_date = ?2 \
             where id = ?3 and expiry_date > ?4"
        );
        let statement = match lock {
            None => update,
            Some(_) => format!(
                "{update} and exists (select 1 from refresh_locks \
                 where session_id = ?3 and token = ?5 and expires_at > ?6)"
            ),
        };
        let query = sqlx::query(&statement)
            .bind(data)
            .bind(record.expiry_date)
            .bind(record.id.to_string())
            .bind(now);
        let query = match lock {
            None => query,
            Some(token) => query.bind(token.as_str()).bind(unix_millis(now)),
        };
        let done = query.execute(&self.pool).await.map_err(failed)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl SessionBackend for SqliteBackend {
    async fn create(&self, record: &mut Record) -> StoreResult<()> {
        Ok(self.records.create(record).await?)
    }

    async fn update(&self, record: &Record) -> StoreResult<bool> {
        self.write_record(record, None).await
    }

    async fn load(&self, id: &Id) -> StoreResult<Option<Record>> {
        Ok(self.records.load(id).await?)
    }

    async fn delete(&self, id: &Id, _owner: Option<&str>) -> StoreResult<()> {
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for table in [RECORD_TABLE, "session_owners"] {
            let column = if table == RECORD_TABLE {
                "id"
            } else {
                "session_id"
            };
            sqlx::query(&format!("delete from {table} where {column} = ?"))
                .bind(id.to_string())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }

    async fn set_expiry(&self, id: &Id, _owner: &str, expiry: OffsetDateTime) -> StoreResult<()> {
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        sqlx::query(&format!(
            "update {RECORD_TABLE} set expiry_date = ? where id = ?"
        ))
        .bind(expiry)
        .bind(id.to_string())
        .execute(&mut *transaction)
        .await
        .map_err(failed)?;
        sqlx::query("update session_owners set expiry_date = ? where session_id = ?")
            .bind(expiry.unix_timestamp())
            .bind(id.to_string())
            .execute(&mut *transaction)
            .await
            .map_err(failed)?;
        transaction.commit().await.map_err(failed)
    }

    async fn index_owner(&self, id: &Id, subject: &str, expiry: OffsetDateTime) -> StoreResult<()> {
        sqlx::query(
            "insert into session_owners (session_id, subject, expiry_date) values (?, ?, ?) \
             on conflict (session_id) do update \
             set subject = excluded.subject, expiry_date = excluded.expiry_date",
        )
        .bind(id.to_string())
        .bind(subject)
        .bind(expiry.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn sessions_of(&self, subject: &str) -> StoreResult<Vec<Id>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "select session_id from session_owners where subject = ? and expiry_date > ?",
        )
        .bind(subject)
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .fetch_all(&self.pool)
        .await
        .map_err(failed)?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    async fn forget_owner(&self, id: &Id, _subject: &str) -> StoreResult<()> {
        sqlx::query("delete from session_owners where session_id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn try_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool> {
        let taken = sqlx::query(
            "insert into refresh_locks (session_id, token, expires_at) values (?1, ?2, ?3) \
             on conflict (session_id) do update \
             set token = excluded.token, expires_at = excluded.expires_at \
             where refresh_locks.expires_at <= ?4",
        )
        .bind(id.to_string())
        .bind(token.as_str())
        .bind(millis_from_now(ttl))
        .bind(unix_millis(OffsetDateTime::now_utc()))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(taken.rows_affected() == 1)
    }

    async fn extend_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool> {
        let extended = sqlx::query(
            "update refresh_locks set expires_at = ?1 \
             where session_id = ?2 and token = ?3 and expires_at > ?4",
        )
        .bind(millis_from_now(ttl))
        .bind(id.to_string())
        .bind(token.as_str())
        .bind(unix_millis(OffsetDateTime::now_utc()))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(extended.rows_affected() == 1)
    }

    async fn unlock(&self, id: &Id, token: &LockToken) -> StoreResult<()> {
        sqlx::query("delete from refresh_locks where session_id = ? and token = ?")
            .bind(id.to_string())
            .bind(token.as_str())
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn update_if_locked(&self, record: &Record, token: &LockToken) -> StoreResult<bool> {
        self.write_record(record, Some(token)).await
    }

    async fn remember(&self, key: &str, ttl: Duration) -> StoreResult<bool> {
        let first = sqlx::query(
            "insert into remembered_keys (key, expires_at) values (?1, ?2) \
             on conflict (key) do update set expires_at = excluded.expires_at \
             where remembered_keys.expires_at <= ?3",
        )
        .bind(key)
        .bind(millis_from_now(ttl))
        .bind(unix_millis(OffsetDateTime::now_utc()))
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(first.rows_affected() == 1)
    }

    async fn forget(&self, key: &str) -> StoreResult<()> {
        sqlx::query("delete from remembered_keys where key = ?")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn delete_expired(&self) -> StoreResult<()> {
        self.records.delete_expired().await?;
        let now = OffsetDateTime::now_utc();
        let sweeps = [
            (
                "delete from session_owners where expiry_date <= ?",
                now.unix_timestamp(),
            ),
            (
                "delete from refresh_locks where expires_at <= ?",
                unix_millis(now),
            ),
            (
                "delete from remembered_keys where expires_at <= ?",
                unix_millis(now),
            ),
        ];
        for (query, before) in sweeps {
            sqlx::query(query)
                .bind(before)
                .execute(&self.pool)
                .await
                .map_err(failed)?;
        }
        Ok(())
    }
}

async fn create_tables(pool: &SqlitePool) -> sqlx::Result<()> {
    for statement in [
        "create table if not exists session_owners (\
             session_id text primary key not null, \
             subject text not null, \
             expiry_date integer not null)",
        "create index if not exists session_owners_by_subject on session_owners (subject)",
        "create table if not exists refresh_locks (\
             session_id text primary key not null, \
             token text not null, \
             expires_at integer not null)",
        "create table if not exists remembered_keys (\
             key text primary key not null, \
             expires_at integer not null)",
    ] {
        sqlx::query(statement).execute(pool).await?;
    }
    Ok(())
}

fn create_parent_directory(file: &Path) -> Result<(), StoreOpenError> {
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

/// The session file holds sealed tokens and who is signed in: created with mode 0600 before
/// SQLite opens it (SQLite gives its WAL and shared-memory files the database file's mode).
fn create_private_file(file: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let in_memory = file.as_os_str().is_empty() || file.as_os_str() == ":memory:";
        if in_memory || file.exists() {
            return;
        }
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(file);
        if let Err(e) = created {
            tracing::warn!(reason = %e, file = %file.display(), "session file not created private");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn the_session_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("lfa-mode-{}", Id::default()));
        let file = dir.join("sessions.sqlite");
        let backend = SqliteBackend::open(&format!("sqlite://{}?mode=rwc", file.display()))
            .await
            .expect("a SQLite file");
        let mut record = Record {
            id: Id::default(),
            data: Default::default(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::minutes(5),
        };
        backend.create(&mut record).await.expect("written");
        for written in [file.clone(), dir.join("sessions.sqlite-wal")] {
            let mode = std::fs::metadata(&written)
                .expect("exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", written.display());
        }
    }
}

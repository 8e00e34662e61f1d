//! PostgreSQL: the records live in `tower-sessions-sqlx-store`'s table (its `PostgresStore`,
//! schema `tower_sessions` by default); this module adds the owner index, the refresh locks and
//! the remembered keys in the same schema, and writes records itself where the stock store would
//! upsert (an update must never re-create a deleted session). Lock lifetimes use the database's
//! clock, so instances on hosts with different clocks agree on when a lock expired.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{ExpiredDeletion, SessionStore},
};
use tower_sessions_sqlx_store::{
    sqlx::{
        self,
        postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    },
    PostgresStore,
};

use super::{
    backend::{LockToken, SessionBackend, StoreError, StoreResult},
    error::StoreOpenError,
};
use crate::server::config::redact_password;

/// How long a request waits for a connection before it gets the "session store unavailable"
/// page instead of hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
/// The schema `PostgresStore` uses unless told otherwise.
const DEFAULT_SCHEMA: &str = "tower_sessions";

/// Sessions in PostgreSQL (`postgres://`), shared by every instance of the app — FusionAuth
/// itself runs on PostgreSQL, so every FusionAuth deployment has one.
#[derive(Clone, Debug)]
pub struct PostgresBackend {
    records: PostgresStore,
    pool: PgPool,
    schema: String,
}

fn failed(error: impl std::fmt::Display) -> StoreError {
    StoreError::new(error)
}

impl PostgresBackend {
    /// Connects and creates the tables (schema `tower_sessions`).
    pub async fn open(url: &str) -> Result<Self, StoreOpenError> {
        Self::open_in_schema(url, DEFAULT_SCHEMA).await
    }

    /// Connects and creates the tables in `schema` (letters, digits and `_` only).
    pub async fn open_in_schema(url: &str, schema: &str) -> Result<Self, StoreOpenError> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e: sqlx::Error| StoreOpenError::InvalidUrl(e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| StoreOpenError::Open {
                url: redact_password(url),
                reason: e.to_string(),
            })?;
        let records = PostgresStore::new(pool.clone())
            .with_schema_name(schema)
            .map_err(StoreOpenError::Migrate)?;
        records
            .migrate()
            .await
            .map_err(|e| StoreOpenError::Migrate(e.to_string()))?;
        let backend = Self {
            records,
            pool,
            schema: schema.to_owned(),
        };
        backend
            .create_tables()
            .await
            .map_err(|e| StoreOpenError::Migrate(e.to_string()))?;
        Ok(backend)
    }

    async fn create_tables(&self) -> sqlx::Result<()> {
        let s = &self.schema;
        for statement in [
            format!(
                "create table if not exists \"{s}\".session_owners (\
                 session_id text primary key not null, subject text not null, \
                 expiry_date timestamptz not null)"
            ),
            format!(
                "create index if not exists session_owners_by_subject \
                 on \"{s}\".session_owners (subject)"
            ),
            format!(
                "create table if not exists \"{s}\".refresh_locks (\
                 session_id text primary key not null, token text not null, \
                 expires_at timestamptz not null)"
            ),
            format!(
                "create table if not exists \"{s}\".remembered_keys (\
                 key text primary key not null, expires_at timestamptz not null)"
            ),
        ] {
            sqlx::query(&statement).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Rewrites a record that exists and has not expired (when `lock` is given, only while that
    /// token holds the session's refresh lock, which it keeps until the write commits).
    async fn write_record(&self, record: &Record, lock: Option<&LockToken>) -> StoreResult<bool> {
        let s = &self.schema;
        let data = rmp_serde::to_vec(record).map_err(failed)?;
        let update = format!(
            "update \"{s}\".session set data = $1, expiry_date = $2 \
             where id = $3 and expiry_date > now()"
        );
        let statement = match lock {
            None => update,
            Some(_) => format!(
                "{update} and exists (select 1 from \"{s}\".refresh_locks \
                 where session_id = $3 and token = $4 and expires_at > clock_timestamp() \
                 for share)"
            ),
        };
        let query = sqlx::query(&statement)
            .bind(data)
            .bind(record.expiry_date)
            .bind(record.id.to_string());
        let query = match lock {
            None => query,
            Some(token) => query.bind(token.as_str()),
        };
        let done = query.execute(&self.pool).await.map_err(failed)?;
        Ok(done.rows_affected() == 1)
    }
}

#[async_trait]
impl SessionBackend for PostgresBackend {
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
        let s = &self.schema;
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for statement in [
            format!("delete from \"{s}\".session where id = $1"),
            format!("delete from \"{s}\".session_owners where session_id = $1"),
        ] {
            sqlx::query(&statement)
                .bind(id.to_string())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }

    async fn set_expiry(&self, id: &Id, _owner: &str, expiry: OffsetDateTime) -> StoreResult<()> {
        let s = &self.schema;
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        for statement in [
            format!("update \"{s}\".session set expiry_date = $1 where id = $2"),
            format!("update \"{s}\".session_owners set expiry_date = $1 where session_id = $2"),
        ] {
            sqlx::query(&statement)
                .bind(expiry)
                .bind(id.to_string())
                .execute(&mut *transaction)
                .await
                .map_err(failed)?;
        }
        transaction.commit().await.map_err(failed)
    }

    async fn index_owner(&self, id: &Id, subject: &str, expiry: OffsetDateTime) -> StoreResult<()> {
        let s = &self.schema;
        sqlx::query(&format!(
            "insert into \"{s}\".session_owners (session_id, subject, expiry_date) \
             values ($1, $2, $3) on conflict (session_id) do update \
             set subject = excluded.subject, expiry_date = excluded.expiry_date"
        ))
        .bind(id.to_string())
        .bind(subject)
        .bind(expiry)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn sessions_of(&self, subject: &str) -> StoreResult<Vec<Id>> {
        let s = &self.schema;
        let ids: Vec<String> = sqlx::query_scalar(&format!(
            "select session_id from \"{s}\".session_owners \
             where subject = $1 and expiry_date > now()"
        ))
        .bind(subject)
        .fetch_all(&self.pool)
        .await
        .map_err(failed)?;
        Ok(ids.iter().filter_map(|id| id.parse().ok()).collect())
    }

    async fn forget_owner(&self, id: &Id, _subject: &str) -> StoreResult<()> {
        let s = &self.schema;
        sqlx::query(&format!(
            "delete from \"{s}\".session_owners where session_id = $1"
        ))
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn try_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool> {
        let s = &self.schema;
        let taken = sqlx::query(&format!(
            "insert into \"{s}\".refresh_locks (session_id, token, expires_at) \
             values ($1, $2, clock_timestamp() + $3 * interval '1 millisecond') \
             on conflict (session_id) do update \
             set token = excluded.token, expires_at = excluded.expires_at \
             where refresh_locks.expires_at <= clock_timestamp()"
        ))
        .bind(id.to_string())
        .bind(token.as_str())
        .bind(ttl.as_millis() as f64)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(taken.rows_affected() == 1)
    }

    async fn extend_lock(&self, id: &Id, token: &LockToken, ttl: Duration) -> StoreResult<bool> {
        let s = &self.schema;
        let extended = sqlx::query(&format!(
            "update \"{s}\".refresh_locks \
             set expires_at = clock_timestamp() + $3 * interval '1 millisecond' \
             where session_id = $1 and token = $2 and expires_at > clock_timestamp()"
        ))
        .bind(id.to_string())
        .bind(token.as_str())
        .bind(ttl.as_millis() as f64)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(extended.rows_affected() == 1)
    }

    async fn unlock(&self, id: &Id, token: &LockToken) -> StoreResult<()> {
        let s = &self.schema;
        sqlx::query(&format!(
            "delete from \"{s}\".refresh_locks where session_id = $1 and token = $2"
        ))
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
        let s = &self.schema;
        let first = sqlx::query(&format!(
            "insert into \"{s}\".remembered_keys (key, expires_at) \
             values ($1, clock_timestamp() + $2 * interval '1 millisecond') \
             on conflict (key) do update set expires_at = excluded.expires_at \
             where remembered_keys.expires_at <= clock_timestamp()"
        ))
        .bind(key)
        .bind(ttl.as_millis() as f64)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(first.rows_affected() == 1)
    }

    async fn forget(&self, key: &str) -> StoreResult<()> {
        let s = &self.schema;
        sqlx::query(&format!(
            "delete from \"{s}\".remembered_keys where key = $1"
        ))
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(failed)?;
        Ok(())
    }

    async fn delete_expired(&self) -> StoreResult<()> {
        self.records.delete_expired().await?;
        let s = &self.schema;
        for statement in [
            format!("delete from \"{s}\".session_owners where expiry_date <= now()"),
            format!("delete from \"{s}\".refresh_locks where expires_at <= clock_timestamp()"),
            format!("delete from \"{s}\".remembered_keys where expires_at <= clock_timestamp()"),
        ] {
            sqlx::query(&statement)
                .execute(&self.pool)
                .await
                .map_err(failed)?;
        }
        Ok(())
    }
}

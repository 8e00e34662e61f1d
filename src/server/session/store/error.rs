//! Why the session store could not be opened.

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
    #[error("cannot create the session tables: {0}")]
    Migrate(String),
    #[error("cannot set up the Redis client: {0}")]
    Redis(String),
}

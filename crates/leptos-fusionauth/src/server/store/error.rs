//! Why the session store could not be opened.

/// The session store could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreOpenError {
    /// The URL does not parse for its backend.
    #[error("SESSION_DATABASE_URL is invalid: {0}")]
    InvalidUrl(String),
    /// The directory of a SQLite file cannot be created.
    #[error("cannot create {path}: {source}")]
    CreateDirectory {
        /// The directory.
        path: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The database refused the connection.
    #[error("cannot open the session database {url}: {reason}")]
    Open {
        /// The URL, without its password.
        url: String,
        /// Why not.
        reason: String,
    },
    /// The tables could not be created.
    #[error("cannot create the session tables: {0}")]
    Migrate(String),
    /// The Redis client could not be set up.
    #[error("cannot set up the Redis client: {0}")]
    Redis(String),
    /// The URL names a backend whose feature this build does not have.
    #[error("SESSION_DATABASE_URL names a store this build has no feature for ({0}): enable the crate's `sqlite`, `redis` or `postgres` feature")]
    FeatureMissing(String),
}

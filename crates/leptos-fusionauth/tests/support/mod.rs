//! The stores the conformance suite runs against: each module opens a fresh backend of its kind
//! (and what keeps its server alive), or several handles on one store (several instances).

// Each test file uses a part of this module.
#![allow(dead_code)]

pub mod redis_server;

use std::sync::Arc;

use leptos_fusionauth::SessionBackend;

/// What keeps a test's store alive until the test ends.
pub enum Server {
    None,
    Redis(redis_server::RedisServer),
}

pub mod sqlite {
    use super::*;
    use leptos_fusionauth::SqliteBackend;

    fn fresh_url() -> String {
        let dir = std::env::temp_dir().join(format!(
            "lfa-store-{}-{}",
            std::process::id(),
            tower_sessions::session::Id::default()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        format!("sqlite://{}/sessions.sqlite?mode=rwc", dir.display())
    }

    pub async fn open() -> (Arc<dyn SessionBackend>, Server) {
        (
            Arc::new(SqliteBackend::open(&fresh_url()).await.unwrap()),
            Server::None,
        )
    }

    /// `count` handles on one SQLite file (instances on one host).
    pub async fn instances(count: usize) -> (Vec<Arc<dyn SessionBackend>>, Server) {
        let url = fresh_url();
        let mut instances: Vec<Arc<dyn SessionBackend>> = Vec::new();
        for _ in 0..count {
            instances.push(Arc::new(SqliteBackend::open(&url).await.unwrap()));
        }
        (instances, Server::None)
    }
}

pub mod redis {
    use super::*;
    use leptos_fusionauth::RedisBackend;

    pub async fn open() -> (Arc<dyn SessionBackend>, Server) {
        let server = redis_server::RedisServer::start().await;
        let backend = RedisBackend::open(&server.url()).await.unwrap();
        (Arc::new(backend), Server::Redis(server))
    }

    pub async fn instances(count: usize) -> (Vec<Arc<dyn SessionBackend>>, Server) {
        let server = redis_server::RedisServer::start().await;
        let mut instances: Vec<Arc<dyn SessionBackend>> = Vec::new();
        for _ in 0..count {
            instances.push(Arc::new(RedisBackend::open(&server.url()).await.unwrap()));
        }
        (instances, Server::Redis(server))
    }
}

pub mod postgres {
    use super::*;
    use leptos_fusionauth::PostgresBackend;

    /// The test server's URL: `scripts/test.sh` starts PostgreSQL and sets it.
    pub fn url() -> String {
        std::env::var("LEPTOS_FUSIONAUTH_TEST_POSTGRES").expect(
            "LEPTOS_FUSIONAUTH_TEST_POSTGRES must name a PostgreSQL server for the store tests \
             (scripts/test.sh starts one and sets it)",
        )
    }

    /// A schema no other test uses.
    pub fn fresh_schema() -> String {
        format!("t_{}", tower_sessions::session::Id::default())
            .to_ascii_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_")
    }

    pub async fn open() -> (Arc<dyn SessionBackend>, Server) {
        let backend = PostgresBackend::open_in_schema(&url(), &fresh_schema())
            .await
            .unwrap();
        (Arc::new(backend), Server::None)
    }

    pub async fn instances(count: usize) -> (Vec<Arc<dyn SessionBackend>>, Server) {
        let schema = fresh_schema();
        let mut instances: Vec<Arc<dyn SessionBackend>> = Vec::new();
        for _ in 0..count {
            let backend = PostgresBackend::open_in_schema(&url(), &schema)
                .await
                .unwrap();
            instances.push(Arc::new(backend));
        }
        (instances, Server::None)
    }
}

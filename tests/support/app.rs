//! The app under test: its real router, configured like `.env.example` says, served on a
//! loopback port (or used alone for `oneshot` requests).

use std::collections::HashMap;

use tokio::net::TcpListener;

use leptos_fusionauth::server::{config::AppConfig, router, AppState};

use super::{browser::Browser, CLIENT_ID, CLIENT_SECRET};

const APP_SECRET_KEY: &str = "test-secret-key-0123456789abcdef0123";

/// The app's state for `issuer`, with `extra` variables over the test defaults.
fn state(issuer: &str, extra: &[(&str, &str)]) -> AppState {
    let mut vars: HashMap<String, String> = [
        ("CLIENT_ID", CLIENT_ID),
        ("CLIENT_SECRET", CLIENT_SECRET),
        ("ISSUER", issuer),
        ("APP_SECRET_KEY", APP_SECRET_KEY),
        ("OIDC_DISCOVERY_TTL_SECS", "300"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (key, value) in extra {
        vars.insert((*key).into(), (*value).into());
    }
    let config = AppConfig::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let options = leptos::config::LeptosOptions::builder()
        .output_name("leptos-fusionauth")
        .site_root("target/site")
        .build();
    AppState::new(config, options).unwrap()
}

/// The app under test, served on a loopback port with an in-memory session store.
pub struct TestApp {
    pub url: String,
}

impl TestApp {
    pub async fn start(issuer: &str) -> Self {
        Self::start_with(issuer, &[]).await
    }

    pub async fn start_with(issuer: &str, extra: &[(&str, &str)]) -> Self {
        Self::start_with_store(issuer, extra, tower_sessions::MemoryStore::default()).await
    }

    /// The app's router alone (for `oneshot` requests without a listener).
    pub fn router(issuer: &str) -> axum::Router {
        router(state(issuer, &[]), tower_sessions::MemoryStore::default())
    }

    pub async fn start_with_store<S: tower_sessions::SessionStore + Clone>(
        issuer: &str,
        extra: &[(&str, &str)],
        store: S,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut vars = vec![("APP_URL", url.as_str())];
        vars.extend_from_slice(extra);
        let app = router(state(issuer, &vars), store);
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self { url }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.url.clone())
    }
}

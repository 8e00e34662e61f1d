//! The app under test: its real router, configured like `.env.example` says, with a real session
//! store (a SQLite file of its own unless the test names another store), served on a loopback
//! port (or used alone for `oneshot` requests).

use std::{
    collections::HashMap,
    sync::atomic::{AtomicUsize, Ordering},
};

use tokio::net::TcpListener;

use leptos_fusionauth::{ConfigBuilder, FusionAuth};
use leptos_fusionauth_demo::server::{router, startup::settings};

use super::{browser::Browser, CLIENT_ID, CLIENT_SECRET};

const APP_SECRET_KEY: &str = "test-secret-key-0123456789abcdef0123";

/// A SQLite session database of its own for each app under test.
pub fn fresh_sqlite_url() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "lfa-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    format!("sqlite://{}/sessions.sqlite?mode=rwc", dir.display())
}

/// A change to the configuration (what the variables cannot say, e.g. lifetimes of seconds).
type ConfigTweak = Box<dyn FnOnce(ConfigBuilder) -> ConfigBuilder>;

/// How to start the app under test.
pub struct TestAppBuilder {
    vars: HashMap<String, String>,
    tweak: Option<ConfigTweak>,
}

impl TestAppBuilder {
    /// Sets an environment variable of the app.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }

    /// The session store, e.g. `redis://127.0.0.1:6379` (default: a fresh SQLite file).
    pub fn store(self, url: &str) -> Self {
        self.var("SESSION_DATABASE_URL", url)
    }

    /// Changes the configuration (lifetimes of seconds, which the variables cannot say).
    pub fn configure(
        mut self,
        tweak: impl FnOnce(ConfigBuilder) -> ConfigBuilder + 'static,
    ) -> Self {
        self.tweak = Some(Box::new(tweak));
        self
    }

    async fn auth(mut self, app_url: Option<&str>) -> (FusionAuth, leptos::config::LeptosOptions) {
        if let Some(url) = app_url {
            // The public URL may be another one (https behind a proxy), as a test says.
            self.vars
                .entry("APP_URL".into())
                .or_insert_with(|| url.to_owned());
        }
        self.vars
            .entry("SESSION_DATABASE_URL".into())
            .or_insert_with(fresh_sqlite_url);
        let vars = self.vars;
        let mut builder = settings(|name| vars.get(name).cloned()).unwrap();
        if let Some(tweak) = self.tweak {
            builder = tweak(builder);
        }
        let config = builder.build().unwrap();
        // As the release binary runs (no live-reload WebSocket in its policy).
        let options = leptos::config::LeptosOptions::builder()
            .output_name("leptos-fusionauth")
            .site_root("target/site")
            .env(leptos::config::Env::PROD)
            .build();
        let auth = FusionAuth::new(config, &options).await.unwrap();
        auth.spawn_background_tasks();
        (auth, options)
    }

    /// Serves the app on a loopback port.
    pub async fn start(self) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (auth, options) = self.auth(Some(&url)).await;
        let app = router(&auth, options);
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        TestApp { url, auth }
    }

    /// The app's router alone (for `oneshot` requests without a listener).
    pub async fn router(self) -> axum::Router {
        let (auth, options) = self.auth(None).await;
        router(&auth, options)
    }
}

/// The app under test.
pub struct TestApp {
    pub url: String,
    /// The library as the app set it up, to look inside its session store.
    pub auth: FusionAuth,
}

impl TestApp {
    /// How many sessions `subject` has open in the app's store.
    pub async fn open_sessions(&self, subject: &str) -> usize {
        self.auth.open_sessions(subject).await.unwrap()
    }
}

impl TestApp {
    /// Configured like `.env.example`, with the provider at `issuer`.
    pub fn builder(issuer: &str) -> TestAppBuilder {
        let vars = [
            ("CLIENT_ID", CLIENT_ID),
            ("CLIENT_SECRET", CLIENT_SECRET),
            ("ISSUER", issuer),
            ("APP_SECRET_KEY", APP_SECRET_KEY),
            ("OIDC_DISCOVERY_TTL_SECS", "300"),
        ];
        TestAppBuilder {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            tweak: None,
        }
    }

    pub async fn start(issuer: &str) -> Self {
        Self::builder(issuer).start().await
    }

    pub async fn start_with(issuer: &str, extra: &[(&str, &str)]) -> Self {
        let mut builder = Self::builder(issuer);
        for (name, value) in extra {
            builder = builder.var(name, value);
        }
        builder.start().await
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.url.clone())
    }
}

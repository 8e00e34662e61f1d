//! Sessions that last and scale out, with the real stores: a `redis-server` started on a free
//! loopback port (Debian's `redis-server` package), and SQLite files.

#![allow(clippy::unwrap_used)]

mod support;

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use leptos_fusionauth::server::{config::SessionStoreUrl, AppSessionStore};
use support::{signed_in, Browser, MockProvider, TestApp};

/// A redis-server child process, with append-only persistence in a temp directory so that a
/// restart keeps the sessions. Stopped when dropped.
struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    async fn start() -> Self {
        let port = support::free_port().await.port();
        let dir = std::env::temp_dir().join(format!("lfa-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self {
            port,
            dir,
            child: None,
        };
        server.run().await;
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn instance(provider: &MockProvider, store_url: &str) -> TestApp {
    let url = SessionStoreUrl::parse(store_url).expect("a store URL");
    let store = AppSessionStore::open(&url).await.expect("store opens");
    TestApp::start_with_store(&provider.issuer, &[], store).await
}

/// A browser for `app` that carries `other`'s cookie (the load balancer sends the same browser
/// to another instance).
fn same_browser_on(app: &TestApp, other: &Browser) -> Browser {
    let browser = app.browser();
    *browser.cookie.lock().unwrap() = other.cookie.lock().unwrap().clone();
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_shares_sessions_between_instances_and_survives_restarts() {
    let redis = RedisServer::start().await;
    let provider = MockProvider::start().await;
    let instance_a = instance(&provider, &redis.url()).await;
    let instance_b = instance(&provider, &redis.url()).await;

    let on_a = instance_a.browser();
    assert_eq!(
        on_a.log_in(&provider, "/").await.location.as_deref(),
        Some("/")
    );
    let on_b = same_browser_on(&instance_b, &on_a);
    assert!(
        signed_in(&on_b.get("/").await),
        "instance B sees the login made through A"
    );

    // An instance restart: a new process state on the same store.
    let restarted = instance(&provider, &redis.url()).await;
    assert!(signed_in(
        &same_browser_on(&restarted, &on_a).get("/").await
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_gives_a_503_and_recovery_needs_no_restart() {
    let mut redis = RedisServer::start().await;
    let provider = MockProvider::start().await;
    let app = instance(&provider, &redis.url()).await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    assert!(signed_in(&browser.get("/").await));

    redis.stop();
    let down = browser.get("/").await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert!(
        down.body.contains("session store is unavailable"),
        "{}",
        down.body
    );
    let login = browser.post_form("/api/login", &[("return_to", "/")]).await;
    assert_eq!(
        login.location.as_deref(),
        Some("/auth/error?reason=session_unavailable")
    );
    let guest = app.browser().get("/").await;
    assert_eq!(
        guest.status, 200,
        "a visitor without a session is still served"
    );

    redis.run().await;
    let mut recovered = false;
    for _ in 0..40 {
        let page = browser.get("/").await;
        if signed_in(&page) {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        recovered,
        "the same app instance works again, and the session was kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sessions_survive_an_app_restart() {
    let provider = MockProvider::start().await;
    let dir = std::env::temp_dir().join(format!("lfa-sqlite-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/sessions.sqlite?mode=rwc", dir.display());

    let first = instance(&provider, &url).await;
    let browser = first.browser();
    browser.log_in(&provider, "/").await;
    assert!(signed_in(&browser.get("/").await));

    let restarted = instance(&provider, &url).await;
    assert!(signed_in(
        &same_browser_on(&restarted, &browser).get("/").await
    ));
    std::fs::remove_dir_all(&dir).ok();
}

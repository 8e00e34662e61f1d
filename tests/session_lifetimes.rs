//! How long sessions live: nothing is stored for a visitor who only starts logins, the idle
//! timeout counts from the last request (reading pages keeps a user signed in), and a signed-in
//! session ends at its absolute lifetime whatever the activity. Lifetimes of seconds stand in for
//! hours (the configuration is typed; only the tests set seconds).

#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use support::{app::fresh_sqlite_url, signed_in, MockProvider, TestApp, SUBJECT};
use tower_sessions_sqlx_store::sqlx::{self, SqlitePool};

async fn records_in(url: &str) -> i64 {
    let pool = SqlitePool::connect(url).await.unwrap();
    let count: i64 = sqlx::query_scalar("select count(*) from tower_sessions")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_logins_stores_nothing() {
    let provider = MockProvider::start().await;
    let url = fresh_sqlite_url();
    let app = TestApp::builder(&provider.issuer).store(&url).start().await;
    for _ in 0..50 {
        // A client that keeps no cookie: every request is a new visitor.
        let started = app
            .browser()
            .post_form("/api/login", &[("return_to", "/a/long/return/path")])
            .await;
        started.provider_redirect(&provider);
    }
    assert_eq!(
        records_in(&url).await,
        0,
        "no session record for login starts"
    );
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    assert_eq!(
        records_in(&url).await,
        1,
        "one record once someone signed in"
    );
}

/// A signed-in browser on an app whose sessions live `idle` without requests, `max` at most.
async fn signed_in_with_lifetimes(idle: Duration, max: Duration) -> (TestApp, support::Browser) {
    let provider = MockProvider::start().await;
    let app = TestApp::builder(&provider.issuer)
        .configure(move |config| config.session_idle(idle).session_max(max))
        .start()
        .await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    (app, browser)
}

/// Keeps requesting `/` every `every` for `during`; every page must be the profile.
async fn stay_active(browser: &support::Browser, every: Duration, during: Duration) {
    let started = std::time::Instant::now();
    while started.elapsed() < during {
        assert!(
            signed_in(&browser.get("/").await),
            "signed out after {:?} of activity",
            started.elapsed()
        );
        tokio::time::sleep(every).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_timeout_counts_from_the_last_request() {
    let (_app, browser) =
        signed_in_with_lifetimes(Duration::from_secs(2), Duration::from_secs(60)).await;
    // Reading pages for twice the idle timeout keeps the user signed in...
    stay_active(&browser, Duration::from_millis(400), Duration::from_secs(4)).await;
    // ...and the idle timeout without any request ends the session.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let page = browser.get("/").await;
    assert!(page.body.contains("Hello Guest"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_absolute_lifetime_whatever_the_activity() {
    let (_app, browser) =
        signed_in_with_lifetimes(Duration::from_secs(60), Duration::from_secs(3)).await;
    stay_active(&browser, Duration::from_millis(400), Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = browser.get("/").await;
    assert!(page.body.contains("Hello Guest"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_says_when_the_session_ends_at_the_latest() {
    let provider = MockProvider::start().await;
    let app = TestApp::start_with(&provider.issuer, &[("SESSION_MAX_HOURS", "24")]).await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    let page = browser.get("/").await;
    let ends = time::OffsetDateTime::now_utc() + time::Duration::hours(24);
    let expected = format!("Your session ends at the latest on {} ", ends.date());
    assert!(page.body.contains(&expected), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_index_forgets_expired_sessions() {
    let (app, _browser) =
        signed_in_with_lifetimes(Duration::from_secs(2), Duration::from_secs(60)).await;
    assert_eq!(app.open_sessions(SUBJECT).await, 1);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(
        app.open_sessions(SUBJECT).await == 0,
        "an expired session is no longer a session of the user"
    );
}

//! Token refresh and the token set at rest, through the real router.

#![allow(clippy::unwrap_used)]

mod support;

use support::{signed_in, MockProvider, RefreshFailure, TestApp, EMAIL};

async fn logged_in_with_ttl(ttl: i64) -> (TestApp, MockProvider, support::Browser) {
    let provider = MockProvider::start().await;
    provider.set_access_token_ttl(ttl);
    let app = TestApp::start(&provider.issuer).await;
    let browser = app.browser();
    let callback = browser.log_in(&provider, "/").await;
    assert_eq!(callback.location.as_deref(), Some("/"), "{}", callback.body);
    (app, provider, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_about_to_expire_is_refreshed_on_the_next_request() {
    // A one-second token is due at once.
    let (_app, provider, browser) = logged_in_with_ttl(1).await;
    provider.set_access_token_ttl(3600);
    let page = browser.get("/").await;
    assert!(signed_in(&page), "{}", page.body);
    assert_eq!(provider.refresh_grants(), 1);
    assert!(
        page.body.contains("Access token expires in 59:")
            || page.body.contains("Access token expires in 1:00:00"),
        "{}",
        page.body
    );
    for token in provider.issued_tokens() {
        assert!(
            !page.body.contains(&token),
            "a refreshed token leaked into the page"
        );
    }
    // Fresh now: no second refresh.
    browser.get("/").await;
    assert_eq!(provider.refresh_grants(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_of_one_session_refresh_once() {
    let (_app, provider, browser) = logged_in_with_ttl(1).await;
    provider.set_access_token_ttl(3600);
    // The provider's refresh tokens are one-time use: a second refresh with the same token would
    // be refused and end the session.
    let pages = spawn_all_and_wait((0..8).map(|_| {
        let browser = browser.clone();
        async move { browser.get("/").await }
    }))
    .await;
    assert!(
        pages.iter().all(signed_in),
        "every concurrent request still sees the profile"
    );
    assert_eq!(
        provider.refresh_grants(),
        1,
        "single flight: one refresh for eight requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_refresh_ends_the_session_with_a_notice() {
    let (_app, provider, browser) = logged_in_with_ttl(1).await;
    provider.revoke_refresh_tokens();
    let page = browser.get("/").await;
    assert_eq!(page.status, 200, "a guest page, not an error page");
    assert!(page.body.contains("Hello Guest"), "{}", page.body);
    assert!(page.body.contains("Your session has ended"));
    let again = browser.get("/").await;
    assert!(again.body.contains("Hello Guest"));
    assert!(
        !again.body.contains("Your session has ended"),
        "the notice is shown once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_provider_postpones_the_refresh() {
    let (_app, provider, browser) = logged_in_with_ttl(1).await;
    provider.go_down();
    let page = browser.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        signed_in(&page),
        "the user stays signed in while the provider is down"
    );
}

/// POST /api/refresh ("Refresh now"), as the hydrated button does.
async fn refresh_now(browser: &support::Browser) -> support::Page {
    let request = browser
        .http()
        .post(format!("{}/api/refresh", browser.base()))
        .header("origin", browser.base());
    browser.send(request).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_invalid_grant_ends_the_session_other_failures_are_retried_later() {
    support::capture_logs();
    let failures = [
        RefreshFailure::OAuth(401, "invalid_client"),
        RefreshFailure::OAuth(400, "unauthorized_client"),
        RefreshFailure::OAuth(500, "server_error"),
        RefreshFailure::OAuth(503, "temporarily_unavailable"),
        RefreshFailure::Html(502),
    ];
    for failure in failures {
        let (_app, provider, browser) = logged_in_with_ttl(1).await;
        provider.fail_refreshes(Some(failure.clone()));
        let page = browser.get("/").await;
        assert!(signed_in(&page), "{failure:?} must not end the session");
        assert_eq!(provider.refresh_attempts(), 1);
        // Backing off: the next page view does not ask the provider again at once.
        assert!(signed_in(&browser.get("/").await), "{failure:?}");
        assert_eq!(
            provider.refresh_attempts(),
            1,
            "{failure:?}: retried too soon"
        );
        // "Refresh now" does not wait, and works once the provider does.
        provider.fail_refreshes(None);
        provider.set_access_token_ttl(3600);
        assert_eq!(refresh_now(&browser).await.status, 200, "{failure:?}");
        assert_eq!(provider.refresh_grants(), 1, "{failure:?}");
    }
    assert!(support::warned("token refresh postponed"));
    assert!(support::warned("invalid_client"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_slower_than_the_timeout_postpones_the_refresh() {
    let provider = MockProvider::start().await;
    provider.set_access_token_ttl(1);
    let app = TestApp::start_with(&provider.issuer, &[("OIDC_HTTP_TIMEOUT_SECS", "1")]).await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    provider.set_refresh_delay(std::time::Duration::from_millis(2500));
    let started = std::time::Instant::now();
    let page = browser.get("/").await;
    assert!(signed_in(&page), "a slow provider does not end the session");
    assert!(
        started.elapsed() < std::time::Duration::from_millis(2400),
        "the request waited for the slow provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_while_two_sessions_refresh_signs_nobody_out() {
    let provider = MockProvider::start().await;
    provider.set_access_token_ttl(1);
    let app = TestApp::start(&provider.issuer).await;
    let (laptop, phone) = (app.browser(), app.browser());
    laptop.log_in(&provider, "/").await;
    phone.log_in(&provider, "/").await;
    // FusionAuth rotates its key: the refreshed tokens are signed with one the app has not seen.
    provider.set_access_token_ttl(3600);
    provider.rotate_key();
    provider.set_refresh_delay(std::time::Duration::from_millis(200));
    let (on_laptop, on_phone) = tokio::join!(laptop.get("/"), phone.get("/"));
    assert!(signed_in(&on_laptop), "{}", on_laptop.body);
    assert!(signed_in(&on_phone), "{}", on_phone.body);
    assert_eq!(provider.refresh_grants(), 2);
    assert_eq!(
        provider.jwks_fetches(),
        2,
        "one re-fetch for both refreshes"
    );
    for browser in [&laptop, &phone] {
        let page = browser.get("/").await;
        assert!(signed_in(&page), "nobody is signed out: {}", page.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_now_gets_a_new_access_token() {
    let (_app, provider, browser) = logged_in_with_ttl(3600).await;
    let refreshed = refresh_now(&browser).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(provider.refresh_grants(), 1);
    assert!(signed_in(&browser.get("/").await));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_store_never_holds_a_token_in_clear() {
    let provider = MockProvider::start().await;
    let dir = std::env::temp_dir().join(format!("lfa-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/sessions.sqlite?mode=rwc", dir.display());
    let app = TestApp::builder(&provider.issuer).store(&url).start().await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    assert!(signed_in(&browser.get("/").await));

    // The database and its write-ahead log: everything SQLite has written.
    let mut raw = std::fs::read(dir.join("sessions.sqlite")).unwrap();
    raw.extend(std::fs::read(dir.join("sessions.sqlite-wal")).unwrap_or_default());
    let raw = String::from_utf8_lossy(&raw);
    assert!(raw.contains(EMAIL), "the session record is in this file");
    for token in provider.issued_tokens() {
        assert!(!raw.contains(&token), "a token is stored in clear");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Spawns every future as its own task (so they run at once, on several threads) and waits for
/// all of them; the outputs keep the order.
async fn spawn_all_and_wait<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

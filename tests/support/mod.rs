//! Test support, one role per module: [`provider`] (an OpenID provider the test controls),
//! [`app`] (the app under test), [`browser`] (a cookie-keeping HTTP client), [`logs`] (captured
//! log lines) and [`webhooks`] (FusionAuth's signed events). The checks every test file shares
//! are here.

// Each test file uses a part of this module.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod browser;
pub mod logs;
pub mod provider;
pub mod webhooks;

use std::net::SocketAddr;

use tokio::net::TcpListener;

pub use app::TestApp;
pub use browser::{query_value, Browser, Page};
pub use logs::{capture_logs, warned};
pub use provider::{MockProvider, RefreshFailure, Tamper};

pub use leptos_fusionauth_demo::setup::target::{
    DEMO_CLIENT_ID as CLIENT_ID, DEMO_CLIENT_SECRET as CLIENT_SECRET,
};
pub const SUBJECT: &str = "00000000-0000-0000-0000-000000000001";
pub const EMAIL: &str = "richard@example.com";

pub async fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// Whether `page` is the signed-in profile of the test user.
pub fn signed_in(page: &Page) -> bool {
    page.body.contains(&format!("You are logged in as {EMAIL}"))
}

/// Whether `browser` is signed in: its next view of `/` is the profile.
pub async fn browser_signed_in(browser: &Browser) -> bool {
    signed_in(&browser.get("/").await)
}

/// Polls `check` every 250 ms for up to `seconds`; whether it came true.
pub async fn eventually<F, Fut>(seconds: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..seconds * 4 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    false
}

/// The Set-Cookie header `browser` received for cookie `name`, checked for the flags every
/// cookie of this app carries: HttpOnly, SameSite=Lax, and Secure exactly when `secure`.
pub fn cookie_with_flags(browser: &Browser, name: &str, secure: bool) -> String {
    let headers = browser.set_cookie_headers.lock().unwrap().clone();
    let cookie = headers
        .iter()
        .find(|header| header.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {headers:?}"))
        .clone();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
    cookie
}

/// The callback redirected to the error page for `reason`, which answers with `status` and says
/// so in words, and nobody was signed in.
pub async fn assert_rejected(browser: &Browser, callback: &Page, reason: &str, status: u16) {
    assert_eq!(
        callback.location.as_deref(),
        Some(format!("/auth/error?reason={reason}").as_str()),
        "a rejected callback redirects to the error page (got {} {})",
        callback.status,
        callback.body
    );
    let page = browser.get(&format!("/auth/error?reason={reason}")).await;
    assert_eq!(page.status, status, "{reason}: {}", page.body);
    assert!(
        page.body.contains("We couldn&#x27;t sign you in")
            || page.body.contains("We couldn't sign you in")
    );
    assert!(page.body.contains("Back to the home page"));
    assert!(
        !browser_signed_in(browser).await,
        "a rejected login must not sign anyone in"
    );
}

//! The whole login through the real axum router, against a provider the test controls.
//! Forged and malformed inputs (tampered ID tokens, states, queries, cookies, origins) are in
//! `adversarial.rs`.

#![allow(clippy::unwrap_used)]

mod support;

use support::{
    assert_rejected, browser::SESSION_COOKIE, browser_signed_in, query_value, Browser,
    MockProvider, Tamper, TestApp, CLIENT_ID, EMAIL,
};

async fn app_and_provider() -> (TestApp, MockProvider, Browser) {
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let browser = app.browser();
    (app, provider, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_page_offers_login_and_register() {
    let (_app, _provider, browser) = app_and_provider().await;
    let page = browser.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<h1 id=\"guest-title\">Hello Guest</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Please Login to see your profile"));
    assert!(page.body.contains(">Login</button>"));
    assert!(page.body.contains(">Register</button>"));
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert_eq!(page.headers["x-content-type-options"], "nosniff");
    assert_eq!(page.headers["cache-control"], "no-store");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_redirects_to_the_provider_with_pkce_state_and_nonce() {
    let (app, provider, browser) = app_and_provider().await;
    let started = browser.post_form("/api/login", &[("return_to", "/")]).await;
    assert_eq!(started.status, 302);
    let url = started.provider_redirect(&provider);
    assert_eq!(query_value(&url, "client_id"), CLIENT_ID);
    assert_eq!(
        query_value(&url, "redirect_uri"),
        format!("{}/callback", app.url)
    );
    assert_eq!(query_value(&url, "code_challenge_method"), "S256");
    assert_eq!(
        query_value(&url, "scope"),
        "openid profile email offline_access"
    );
    assert!(query_value(&url, "state").len() >= 22);
    assert!(query_value(&url, "nonce").len() >= 22);
    assert_eq!(query_value(&url, "code_challenge").len(), 43);

    // The attempt travels in its own cookie; the session cookie comes with the login.
    let code = provider.authorize(&url);
    let state = query_value(&url, "state");
    browser
        .get(&format!("/callback?code={code}&state={state}"))
        .await;
    for name in ["leptos_fusionauth_login", "leptos_fusionauth_session"] {
        // An http app: no Secure flag.
        support::cookie_with_flags(&browser, name, false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_uses_the_registration_endpoint_with_the_same_protection() {
    let (_app, provider, browser) = app_and_provider().await;
    let started = browser
        .post_form("/api/register", &[("return_to", "/")])
        .await;
    let location = started.location.expect("redirect");
    assert!(
        location.starts_with(&format!("{}/oauth2/register?", provider.issuer)),
        "{location}"
    );
    let url = url::Url::parse(&location).unwrap();
    assert_eq!(query_value(&url, "code_challenge_method"), "S256");
    query_value(&url, "state");
    query_value(&url, "nonce");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_login_shows_the_profile_and_never_the_tokens() {
    let (_app, provider, browser) = app_and_provider().await;
    browser.get("/").await;
    let callback = browser.log_in(&provider, "/?section=claims").await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    assert_eq!(callback.location.as_deref(), Some("/?section=claims"));
    let timing = callback.headers["server-timing"].to_str().unwrap();
    assert!(
        timing.starts_with("app;dur=") && timing.contains("idp;dur="),
        "{timing}"
    );

    let profile = browser.get("/?section=claims").await;
    assert_eq!(profile.status, 200);
    assert!(
        profile
            .body
            .contains(&format!("You are logged in as {EMAIL}")),
        "{}",
        profile.body
    );
    assert!(profile.body.contains("Here is your OpenID profile"));
    assert!(profile.body.contains("<pre id=\"claims\""));
    assert!(profile.body.contains("&quot;email&quot;") || profile.body.contains("\"email\""));
    assert!(
        profile.body.contains("Hendricks"),
        "userinfo claims are merged in"
    );
    assert!(profile.body.contains(">Logout</button>"));

    // The server function the hydrated page calls returns claims, not tokens.
    let current = browser
        .send(
            browser
                .http()
                .post(format!("{}/api/current_user", browser.base()))
                .header("origin", browser.base()),
        )
        .await;
    assert_eq!(current.status, 200);
    assert!(current.body.contains(EMAIL));

    let tokens = provider.issued_tokens();
    assert_eq!(tokens.len(), 3);
    let cookies = browser.set_cookie_headers.lock().unwrap().join("\n");
    for token in &tokens {
        assert!(
            !profile.body.contains(token.as_str()),
            "token leaked into the page"
        );
        assert!(
            !current.body.contains(token.as_str()),
            "token leaked into the server function"
        );
        assert!(
            !cookies.contains(token.as_str()),
            "token leaked into a cookie"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_id_is_rotated_at_login() {
    let (app, provider, browser) = app_and_provider().await;
    // Nothing is stored before login: starting one plants no session at all.
    browser.post_form("/api/login", &[("return_to", "/")]).await;
    assert_eq!(browser.session_cookie(), None, "no session before login");

    // A session id the browser holds when a login completes (planted by an attacker who
    // signed in themselves, or this browser's own) is replaced.
    let planter = app.browser();
    planter.log_in(&provider, "/").await;
    let planted = planter.session_cookie().expect("session cookie");
    browser.set_cookie(SESSION_COOKIE, Some(planted.clone()));
    let callback = browser.log_in(&provider, "/").await;
    assert_eq!(callback.status, 303);
    let after = browser.session_cookie().expect("session cookie");
    assert_ne!(planted, after, "login must issue a new session id");

    // The planted id is worthless now.
    let attacker = app.browser();
    attacker.set_cookie(SESSION_COOKIE, Some(planted));
    assert!(!browser_signed_in(&attacker).await);
    assert!(browser_signed_in(&browser).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_logging_in_at_once_both_succeed() {
    let (_app, provider, browser) = app_and_provider().await;
    let tab_a = browser
        .post_form("/api/login", &[("return_to", "/?tab=a")])
        .await;
    let tab_b = browser
        .post_form("/api/login", &[("return_to", "/?tab=b")])
        .await;
    let (url_a, url_b) = (
        tab_a.provider_redirect(&provider),
        tab_b.provider_redirect(&provider),
    );
    let (code_a, code_b) = (provider.authorize(&url_a), provider.authorize(&url_b));
    let done_b = browser
        .get(&format!(
            "/callback?code={code_b}&state={}",
            query_value(&url_b, "state")
        ))
        .await;
    assert_eq!(done_b.location.as_deref(), Some("/?tab=b"));
    let done_a = browser
        .get(&format!(
            "/callback?code={code_a}&state={}",
            query_value(&url_a, "state")
        ))
        .await;
    assert_eq!(done_a.location.as_deref(), Some("/?tab=a"));
    assert!(browser_signed_in(&browser).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_mismatch_is_rejected() {
    let (_app, provider, browser) = app_and_provider().await;
    let started = browser.post_form("/api/login", &[("return_to", "/")]).await;
    let code = provider.authorize(&started.provider_redirect(&provider));
    let callback = browser
        .get(&format!("/callback?code={code}&state=forged-state"))
        .await;
    assert_rejected(&browser, &callback, "invalid_state", 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_the_provider_refuses_is_rejected() {
    let (_app, provider, browser) = app_and_provider().await;
    let started = browser.post_form("/api/login", &[("return_to", "/")]).await;
    let url = started.provider_redirect(&provider);
    provider.authorize(&url);
    let state = query_value(&url, "state");
    let callback = browser
        .get(&format!("/callback?code=not-issued&state={state}"))
        .await;
    assert_rejected(&browser, &callback, "code_rejected", 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_are_shown_not_thrown() {
    let (_app, _provider, browser) = app_and_provider().await;
    let denied = browser
        .get("/callback?error=access_denied&error_description=User+cancelled&state=x")
        .await;
    assert_rejected(&browser, &denied, "access_denied", 403).await;
    let other = browser.get("/callback?error=server_error&state=x").await;
    assert_rejected(&browser, &other, "provider_error", 400).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_is_picked_up_without_restart() {
    let (_app, provider, browser) = app_and_provider().await;
    assert_eq!(
        browser.log_in(&provider, "/").await.location.as_deref(),
        Some("/")
    );
    assert_eq!(provider.jwks_fetches(), 1);

    provider.rotate_key();
    let second = browser.log_in(&provider, "/").await;
    assert_eq!(
        second.location.as_deref(),
        Some("/"),
        "login after rotation works"
    );
    assert_eq!(provider.jwks_fetches(), 2, "the JWKS was re-fetched once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_kid_is_rejected_and_refetches_are_rate_limited() {
    let (_app, provider, browser) = app_and_provider().await;
    provider.tamper(Tamper {
        kid: Some("forged".into()),
        ..Tamper::default()
    });
    let first = browser.log_in(&provider, "/").await;
    assert_rejected(&browser, &first, "invalid_id_token", 400).await;
    assert_eq!(provider.jwks_fetches(), 2, "one refresh for an unknown kid");
    let second = browser.log_in(&provider, "/").await;
    assert_eq!(
        second.location.as_deref(),
        Some("/auth/error?reason=invalid_id_token")
    );
    assert_eq!(
        provider.jwks_fetches(),
        2,
        "no second refresh within the rate limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_down_then_up() {
    let address = support::free_port().await;
    let provider = MockProvider::unstarted(address);
    let app = TestApp::start_with(&provider.issuer, &[("OIDC_DISCOVERY_TTL_SECS", "0")]).await;
    let browser = app.browser();

    let guest = browser.get("/").await;
    assert_eq!(
        guest.status, 200,
        "guests are served while the provider is down"
    );

    let refused = browser.post_form("/api/login", &[("return_to", "/")]).await;
    assert_eq!(
        refused.location.as_deref(),
        Some("/auth/error?reason=provider_unavailable")
    );
    let page = browser.get("/auth/error?reason=provider_unavailable").await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("identity provider is unreachable"));

    provider.come_up().await;
    let callback = browser.log_in(&provider, "/").await;
    assert_eq!(
        callback.location.as_deref(),
        Some("/"),
        "login works once the provider is up"
    );
    assert!(browser_signed_in(&browser).await);

    provider.go_down();
    let down_again = browser.post_form("/api/login", &[("return_to", "/")]).await;
    assert_eq!(
        down_again.location.as_deref(),
        Some("/auth/error?reason=provider_unavailable")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_both_sessions() {
    let (app, provider, browser) = app_and_provider().await;
    browser.log_in(&provider, "/").await;
    let id_token = provider.issued_tokens()[2].clone();

    let logout = browser.post_form("/api/logout", &[]).await;
    assert_eq!(logout.status, 302);
    let location = url::Url::parse(logout.location.as_deref().unwrap()).unwrap();
    assert_eq!(location.path(), "/oauth2/logout");
    assert_eq!(query_value(&location, "client_id"), CLIENT_ID);
    assert_eq!(query_value(&location, "id_token_hint"), id_token);
    assert_eq!(
        query_value(&location, "post_logout_redirect_uri"),
        format!("{}/logout", app.url)
    );
    assert!(!browser_signed_in(&browser).await);

    // FusionAuth then loads /logout (redirect and hidden iframe): idempotent and frameable.
    for _ in 0..2 {
        let front_channel = browser.get("/logout").await;
        assert_eq!(front_channel.status, 303);
        assert_eq!(front_channel.location.as_deref(), Some("/"));
        assert!(front_channel.headers.get("x-frame-options").is_none());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_channel_logout_clears_the_session() {
    let (_app, provider, browser) = app_and_provider().await;
    browser.log_in(&provider, "/").await;
    assert!(browser_signed_in(&browser).await);
    browser.get("/logout").await;
    assert!(!browser_signed_in(&browser).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_are_404_and_health_is_ok() {
    let (_app, _provider, browser) = app_and_provider().await;
    let missing = browser.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page not found"));
    let health = browser.get("/healthz").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, "ok");
}

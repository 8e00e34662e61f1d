//! An attacker's view of the login: each forged, replayed or malformed input ends on a 4xx page
//! (or the guest page), never a 5xx or a panic, and leaves a WARN log line with the reason.
//! (`login_flow.rs` has the flows a user goes through; every forged input is here.)

#![allow(clippy::unwrap_used)]

mod support;

use support::{browser::SESSION_COOKIE, query_value, Browser, MockProvider, Page, Tamper, TestApp};

async fn setup() -> (TestApp, MockProvider, Browser) {
    support::capture_logs();
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let browser = app.browser();
    (app, provider, browser)
}

/// The callback was rejected with `reason` and its status (see [`support::assert_rejected`]),
/// and the log has a WARN line containing `logged`.
async fn assert_rejected(
    browser: &Browser,
    callback: &Page,
    reason: &str,
    status: u16,
    logged: &str,
) {
    support::assert_rejected(browser, callback, reason, status).await;
    assert!(
        support::warned(logged),
        "no WARN line containing {logged:?}"
    );
}

/// A login whose ID token the provider signs with `tamper` is rejected as an invalid ID token,
/// and the log says `logged`.
async fn id_token_rejected(tamper: Tamper, logged: &str) {
    let (_app, provider, browser) = setup().await;
    provider.tamper(tamper);
    let callback = browser.log_in(&provider, "/").await;
    assert_rejected(&browser, &callback, "invalid_id_token", 400, logged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_alg_none_id_token_is_rejected() {
    let tamper = Tamper {
        alg_none: true,
        ..Tamper::default()
    };
    id_token_rejected(tamper, "ID token rejected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hs256_signed_with_the_public_key_is_rejected() {
    let tamper = Tamper {
        hs256_with_public_key: true,
        ..Tamper::default()
    };
    id_token_rejected(tamper, "ID token rejected").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonce_mismatch_is_logged() {
    let tamper = Tamper {
        nonce: Some("x".into()),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "Invalid nonce").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_audience_is_logged() {
    let tamper = Tamper {
        audience: Some("another-client".into()),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "Invalid audiences").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_issuer_is_logged() {
    let tamper = Tamper {
        issuer: Some("https://evil.example".into()),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "Invalid issuer").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_logged() {
    let tamper = Tamper {
        expires_in: Some(-300),
        issued_in: Some(-3900),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "Expired").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_from_the_future_is_logged() {
    let tamper = Tamper {
        issued_in: Some(600),
        expires_in: Some(4200),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "in the future").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_hash_mismatch_is_logged() {
    let tamper = Tamper {
        at_hash_of: Some("another-access-token".into()),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "at_hash does not match").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signature_is_logged() {
    let tamper = Tamper {
        foreign_key: Some(support::provider::KEY_2),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "signature verification failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_kid_is_logged() {
    let tamper = Tamper {
        kid: Some("forged".into()),
        ..Tamper::default()
    };
    id_token_rejected(tamper, "No matching key").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_unknown_and_reused_states_are_rejected() {
    let (_app, provider, browser) = setup().await;
    let missing = browser.get("/callback?code=abc").await;
    assert_rejected(
        &browser,
        &missing,
        "invalid_state",
        400,
        "no state parameter",
    )
    .await;

    let unknown = browser.get("/callback?code=abc&state=made-up").await;
    assert_rejected(&browser, &unknown, "invalid_state", 400, "state is unknown").await;

    let started = browser.post_form("/api/login", &[("return_to", "/")]).await;
    let url = started.provider_redirect(&provider);
    let code = provider.authorize(&url);
    let state = query_value(&url, "state");
    assert_eq!(
        browser
            .get(&format!("/callback?code={code}&state={state}"))
            .await
            .status,
        303
    );
    let reused = browser
        .get(&format!("/callback?code={code}&state={state}"))
        .await;
    assert_eq!(
        reused.location.as_deref(),
        Some("/auth/error?reason=invalid_state")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_authorization_code_is_rejected() {
    let (_app, provider, browser) = setup().await;
    // The first login uses the code.
    let first = browser.post_form("/api/login", &[("return_to", "/")]).await;
    let first_url = first.provider_redirect(&provider);
    let code = provider.authorize(&first_url);
    let state = query_value(&first_url, "state");
    assert_eq!(
        browser
            .get(&format!("/callback?code={code}&state={state}"))
            .await
            .status,
        303
    );

    // An attacker replays that code with a fresh, valid state of their own.
    let attacker = browser.stranger();
    let second = attacker
        .post_form("/api/login", &[("return_to", "/")])
        .await;
    let fresh_state = query_value(&second.provider_redirect(&provider), "state");
    let replay = attacker
        .get(&format!("/callback?code={code}&state={fresh_state}"))
        .await;
    assert_rejected(&attacker, &replay, "code_rejected", 400, "invalid_grant").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_is_a_403_page() {
    let (_app, _provider, browser) = setup().await;
    let denied = browser
        .get("/callback?error=access_denied&error_description=nope&state=s")
        .await;
    assert_rejected(&browser, &denied, "access_denied", 403, "returned an error").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_garbled_queries_are_rejected() {
    let (_app, _provider, browser) = setup().await;
    let huge = browser
        .get(&format!("/callback?code=c&state={}", "a".repeat(20 * 1024)))
        .await;
    assert_rejected(
        &browser,
        &huge,
        "malformed_callback",
        400,
        "query string too long",
    )
    .await;

    for garbage in [
        "/callback?code=%FF%FE%FD&state=%C3%28",
        "/callback?%%%%&&&==",
        "/callback?code=a&code=b&state=s",
        "/callback?state=%00%01&code=%E2%82",
    ] {
        let page = browser.get(garbage).await;
        assert!(page.status < 500, "{garbage}: {}", page.status);
        let location = page.location.unwrap_or_default();
        assert!(
            location.starts_with("/auth/error?reason="),
            "{garbage}: {location}"
        );
        assert!(browser.get(&location).await.status < 500);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_and_oversized_cookies_fall_back_to_a_guest() {
    let (_app, provider, browser) = setup().await;
    browser.log_in(&provider, "/").await;
    assert!(support::browser_signed_in(&browser).await);

    let genuine = browser.session_cookie().unwrap();
    let mut tampered = genuine.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    browser.set_cookie(SESSION_COOKIE, Some(String::from_utf8(tampered).unwrap()));
    let page = browser.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Hello Guest"),
        "a cookie with a bad signature is no session"
    );

    browser.set_cookie(SESSION_COOKIE, Some("A".repeat(8 * 1024)));
    let page = browser.get("/").await;
    assert!(page.status < 500, "{}", page.status);
    assert!(page.body.contains("Hello Guest"));

    browser.set_cookie(SESSION_COOKIE, Some("A".repeat(200 * 1024)));
    let page = browser.get("/").await;
    assert!(
        page.status < 500,
        "an oversized header is refused with a 4xx: {}",
        page.status
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_to_cannot_leave_the_origin_in_any_spelling() {
    for attack in [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/%2fevil.example",
        "/%5Cevil.example",
        "https:%2F%2Fevil.example",
        "/\t/evil.example",
        "\\/evil.example",
    ] {
        let (_app, provider, browser) = setup().await;
        let callback = browser.log_in(&provider, attack).await;
        assert_eq!(callback.location.as_deref(), Some("/"), "{attack:?}");
    }
    assert!(support::warned("return path refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_posts_are_refused_and_logged() {
    let (_app, _provider, browser) = setup().await;
    for (endpoint, origin) in [
        ("/api/login", "https://evil.example"),
        ("/api/logout", "https://evil.example"),
        ("/api/refresh", "null"),
    ] {
        let request = browser
            .http()
            .post(format!("{}{endpoint}", browser.base()))
            .header("origin", origin)
            .form(&[("return_to", "/")]);
        assert_eq!(browser.send(request).await.status, 403, "{endpoint}");
    }
    let request = browser
        .http()
        .post(format!("{}/api/logout", browser.base()))
        .header("sec-fetch-site", "cross-site");
    assert_eq!(browser.send(request).await.status, 403);
    assert!(support::warned("cross-site request refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_naming_another_issuer_is_a_mix_up_and_rejected() {
    let (_app, provider, browser) = setup().await;
    let callback_from = |issuer: &str| {
        let browser = &browser;
        let provider = &provider;
        let issuer: String = url::form_urlencoded::byte_serialize(issuer.as_bytes()).collect();
        async move {
            let started = browser.post_form("/api/login", &[("return_to", "/")]).await;
            let authorize = started.provider_redirect(provider);
            let code = provider.authorize(&authorize);
            let state = query_value(&authorize, "state");
            browser
                .get(&format!("/callback?code={code}&state={state}&iss={issuer}"))
                .await
        }
    };
    // RFC 9207: the response says it comes from another issuer (an attacker's provider).
    let mixed_up = callback_from("https://attacker.example").await;
    assert_rejected(&browser, &mixed_up, "provider_error", 400, "mix-up").await;
    assert!(!support::signed_in(&browser.get("/").await));
    // The same check lets FusionAuth's own `iss` through.
    let genuine = callback_from(&provider.issuer).await;
    assert_eq!(genuine.location.as_deref(), Some("/"), "{}", genuine.body);
    assert!(support::signed_in(&browser.get("/").await));
}

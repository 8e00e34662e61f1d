//! The headers that make a browser enforce this app's policy: a real Content-Security-Policy
//! (scripts only from this origin or with the page's nonce), framing only for `/logout`, HSTS
//! and `__Host-` cookies when the app is served over https.

#![allow(clippy::unwrap_used)]

mod support;

use support::{signed_in, MockProvider, TestApp};

fn directives(policy: &str) -> Vec<String> {
    policy.split(';').map(|d| d.trim().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_allow_only_their_own_scripts_and_the_nonce_of_this_response() {
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let browser = app.browser();
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let page = browser.get("/").await;
        let policy = page.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let script_src = directives(&policy)
            .into_iter()
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        let nonce = script_src
            .split(' ')
            .find_map(|source| source.strip_prefix("'nonce-"))
            .unwrap()
            .trim_end_matches('\'')
            .to_owned();
        assert!(
            page.body.contains(&format!("nonce=\"{nonce}\"")),
            "the hydration script carries the header's nonce"
        );
        assert_eq!(
            script_src,
            format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'")
        );
        let all = directives(&policy);
        for expected in [
            "default-src 'self'".to_owned(),
            "connect-src 'self'".to_owned(),
            format!("form-action 'self' {}", provider.issuer),
            "base-uri 'none'".to_owned(),
            "object-src 'none'".to_owned(),
            "frame-ancestors 'none'".to_owned(),
        ] {
            assert!(all.contains(&expected), "{expected} missing from {policy}");
        }
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1], "a fresh nonce per response");
    assert!(!browser
        .get("/")
        .await
        .headers
        .contains_key("strict-transport-security"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_responses_allow_nothing_and_only_logout_may_be_framed() {
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let browser = app.browser();
    let request = browser
        .http()
        .post(format!("{}/api/current_user", browser.base()))
        .header("origin", browser.base());
    let answer = browser.send(request).await;
    let policy = answer.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");

    let logout = browser.get("/logout").await;
    let policy = logout.headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains(&format!("frame-ancestors {}", provider.issuer)),
        "FusionAuth's logout page may frame /logout: {policy}"
    );
    assert!(logout.headers.get("x-frame-options").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_cookies_carry_the_host_prefix_and_hsts_is_sent() {
    let provider = MockProvider::start().await;
    // Behind a TLS-terminating proxy: the app listens on http, its public URL is https.
    let public = "https://localhost";
    let app = TestApp::builder(&provider.issuer)
        .var("APP_URL", public)
        .start()
        .await;
    let browser = app.browser().with_origin(public);
    let callback = browser.log_in(&provider, "/").await;
    assert_eq!(callback.status, 303, "{}", callback.body);
    for name in [
        "__Host-leptos_fusionauth_login",
        "__Host-leptos_fusionauth_session",
    ] {
        let cookie = support::cookie_with_flags(&browser, name, true);
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    let page = browser.get("/").await;
    assert!(signed_in(&page), "{}", page.body);
    assert_eq!(
        page.headers["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_denies_powerful_features_and_foreign_openers() {
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let browser = app.browser();
    for path in ["/", "/logout", "/no-such-page", "/pkg/leptos-fusionauth.js"] {
        let page = browser.get(path).await;
        let header = |name: &str| {
            page.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_else(|| panic!("{path}: no {name}"))
        };
        assert_eq!(
            header("cross-origin-opener-policy"),
            "same-origin",
            "{path}"
        );
        let permissions = header("permissions-policy");
        for feature in ["camera=()", "microphone=()", "geolocation=()", "payment=()"] {
            assert!(permissions.contains(feature), "{path}: {permissions}");
        }
    }
}

/// The nonce of a page's Content-Security-Policy.
fn nonce_of(page: &support::Page) -> String {
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    let start = policy.find("'nonce-").unwrap() + "'nonce-".len();
    let end = start + policy[start..].find('\'').unwrap();
    policy[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_page_is_rendered_once_and_every_answer_has_a_nonce_of_its_own() {
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let (first, second) = (app.browser().get("/").await, app.browser().get("/").await);
    let (one, two) = (nonce_of(&first), nonce_of(&second));
    assert_ne!(one, two, "every answer has a nonce of its own");
    assert_eq!(second.status, first.status);
    assert!(second.body.contains(&format!("nonce=\"{two}\"")));
    assert!(
        !second.body.contains(&one),
        "no trace of the nonce the page was rendered with"
    );
    assert_eq!(
        first.body.replace(&one, "NONCE"),
        second.body.replace(&two, "NONCE"),
        "the same page"
    );
    let names = |page: &support::Page| {
        let mut names: Vec<String> = page
            .headers
            .keys()
            .map(|name| name.as_str().to_owned())
            .filter(|name| {
                !["date", "content-length", "transfer-encoding"].contains(&name.as_str())
            })
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&first), names(&second), "the same headers");
    // A signed-in user, or a guest with a query, gets a page rendered for them.
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    assert!(signed_in(&browser.get("/").await));
    let with_query = app.browser().get("/?tab=a").await;
    assert!(
        with_query.body.contains("return_to\" value=\"/?tab=a\""),
        "{}",
        with_query.body
    );
}

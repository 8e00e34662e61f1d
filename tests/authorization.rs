//! Authorization the FusionAuth way: only users registered for this application get a session,
//! the admin page requires the `admin` role (enforced by its server function, not by hiding a
//! link) and a recent sign-in, roles changed at FusionAuth count from the next refresh, and the
//! account page is filled from FusionAuth with the user's own access token.

#![allow(clippy::unwrap_used)]

mod support;

use support::{query_value, Browser, MockProvider, Page, TestApp};

async fn app() -> (TestApp, MockProvider, Browser) {
    support::capture_logs();
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let browser = app.browser();
    (app, provider, browser)
}

/// Follows `location` (a redirect to `/login?…`) through the provider and back: the callback.
async fn sign_in_via(browser: &Browser, provider: &MockProvider, location: &str) -> Page {
    let started = browser.get(location).await;
    let authorize = started.provider_redirect(provider);
    let code = provider.authorize(&authorize);
    let state = query_value(&authorize, "state");
    browser
        .get(&format!("/callback?code={code}&state={state}"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_not_registered_for_this_application_gets_no_session() {
    let (app, provider, browser) = app().await;
    provider.set_registered(false);
    let callback = browser.log_in(&provider, "/").await;
    assert_eq!(
        callback.location.as_deref(),
        Some("/auth/error?reason=not_registered")
    );
    let page = browser.get("/auth/error?reason=not_registered").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Not registered for this application"));
    assert!(
        page.body.contains("is not registered for this application"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("href=\"/register\""),
        "a Register action"
    );
    assert!(
        page.body.contains("href=\"/login?reauthenticate=always\""),
        "another account"
    );
    assert_eq!(browser.session_cookie(), None, "no session was created");
    assert!(app.open_sessions(support::SUBJECT).await == 0);
    assert!(support::warned("not registered for this application"));

    // "Sign in as someone else" forces FusionAuth's form (prompt=login), whatever its session.
    let again = browser.get("/login?reauthenticate=always").await;
    let authorize = again.provider_redirect(&provider);
    assert_eq!(query_value(&authorize, "prompt"), "login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_is_sent_to_log_in_and_comes_back_to_the_admin_page() {
    let (_app, provider, browser) = app().await;
    provider.set_roles(&["user", "admin"]);
    let admin = browser.get("/admin").await;
    assert_eq!(admin.status, 302, "{}", admin.body);
    let location = admin.location.unwrap();
    assert_eq!(location, "/login?return_to=%2Fadmin");
    let callback = sign_in_via(&browser, &provider, &location).await;
    assert_eq!(callback.location.as_deref(), Some("/admin"));
    let page = browser.get("/admin").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Administration"));
    assert!(
        page.body.contains("with the roles: user, admin"),
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_role_the_page_and_its_server_function_answer_403() {
    let (_app, provider, browser) = app().await;
    browser.log_in(&provider, "/").await;
    let home = browser.get("/").await;
    assert!(
        home.body.contains("Your roles here: user."),
        "{}",
        home.body
    );
    let page = browser.get("/admin").await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(
        page.body.contains("needs the \u{201c}admin\u{201d} role"),
        "{}",
        page.body
    );
    // The server function itself refuses: no data without the role.
    let request = browser
        .http()
        .post(format!("{}/api/admin_overview", browser.base()))
        .header("origin", browser.base());
    let answer = browser.send(request).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert!(!answer.body.contains("open_sessions"), "{}", answer.body);
    assert!(support::warned("refused: role missing"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_sign_in_must_type_the_password_again_and_auth_time_is_checked() {
    let (_app, provider, browser) = app().await;
    provider.set_roles(&["user", "admin"]);
    provider.age_sign_in(3600);
    browser.log_in(&provider, "/").await;
    let admin = browser.get("/admin").await;
    assert_eq!(admin.status, 302);
    let location = admin.location.unwrap();
    assert_eq!(location, "/login?return_to=%2Fadmin&reauthenticate=recent");
    let started = browser.get(&location).await;
    let authorize = started.provider_redirect(&provider);
    assert_eq!(query_value(&authorize, "prompt"), "login");
    assert_eq!(
        query_value(&authorize, "max_age"),
        "300",
        "STEP_UP_MAX_AGE_SECS defaults to 300"
    );
    let code = provider.authorize(&authorize);
    let state = query_value(&authorize, "state");
    let callback = browser
        .get(&format!("/callback?code={code}&state={state}"))
        .await;
    assert_eq!(callback.location.as_deref(), Some("/admin"));
    assert_eq!(browser.get("/admin").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_ignores_the_step_up_request_does_not_pass() {
    let (_app, provider, browser) = app().await;
    provider.set_roles(&["user", "admin"]);
    provider.age_sign_in(3600);
    browser.log_in(&provider, "/").await;
    provider.ignore_reauthentication();
    let location = browser.get("/admin").await.location.unwrap();
    let callback = sign_in_via(&browser, &provider, &location).await;
    assert_eq!(
        callback.location.as_deref(),
        Some("/auth/error?reason=sign_in_not_recent")
    );
    assert_eq!(
        browser
            .get("/auth/error?reason=sign_in_not_recent")
            .await
            .status,
        403
    );
    assert_eq!(browser.get("/admin").await.status, 302, "still not let in");
    assert!(support::warned("the sign-in is not recent enough"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_changed_at_fusionauth_count_from_the_next_refresh() {
    let (_app, provider, browser) = app().await;
    provider.set_access_token_ttl(1);
    browser.log_in(&provider, "/").await;
    provider.set_access_token_ttl(3600);
    provider.set_roles(&["user", "admin"]);
    let home = browser.get("/").await;
    assert!(
        home.body.contains("Your roles here: user, admin."),
        "{}",
        home.body
    );
    assert_eq!(browser.get("/admin").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_never_shows_userinfo_about_another_user() {
    let (_app, provider, browser) = app().await;
    browser.log_in(&provider, "/").await;
    provider.tamper(support::Tamper {
        userinfo_subject: Some("00000000-0000-0000-0000-00000000beef".into()),
        ..support::Tamper::default()
    });
    let page = browser.get("/account").await;
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(
        !page.body.contains("account-name\">Richard"),
        "{}",
        page.body
    );
    assert!(support::warned("userinfo names another subject"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_changed_at_fusionauth_counts_at_the_next_request() {
    support::capture_logs();
    let provider = MockProvider::start().await;
    let app = TestApp::start_with(
        &provider.issuer,
        &[(
            "FUSIONAUTH_WEBHOOK_SECRET",
            support::webhooks::WEBHOOK_SECRET,
        )],
    )
    .await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    provider.set_roles(&["user", "admin"]);
    // A long-lived access token: without FusionAuth's event the roles would wait for its expiry.
    assert!(browser
        .get("/")
        .await
        .body
        .contains("Your roles here: user."));
    let changed = serde_json::json!({ "type": "user.registration.update",
        "applicationId": support::CLIENT_ID, "user": { "id": support::SUBJECT },
        "registration": { "applicationId": support::CLIENT_ID, "roles": ["user", "admin"] } });
    assert_eq!(support::webhooks::deliver_signed(&app, changed).await, 200);
    let home = browser.get("/").await;
    assert!(
        home.body.contains("Your roles here: user, admin."),
        "{}",
        home.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_removed_at_fusionauth_ends_the_session_at_the_next_refresh() {
    let (_app, provider, browser) = app().await;
    provider.set_access_token_ttl(1);
    browser.log_in(&provider, "/").await;
    provider.set_registered(false);
    let page = browser.get("/").await;
    assert!(page.body.contains("Hello Guest"), "{}", page.body);
    assert!(support::warned("no longer registered for this application"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_comes_from_fusionauth_with_the_users_token() {
    let (_app, provider, browser) = app().await;
    let guest = browser.get("/account").await;
    assert_eq!(
        guest.location.as_deref(),
        Some("/login?return_to=%2Faccount")
    );
    browser.log_in(&provider, "/account").await;
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for expected in [
        "Richard Hendricks",
        "richard@example.com",
        "<dd id=\"account-verified\">yes</dd>",
        "<dd id=\"account-roles\">user</dd>",
    ] {
        assert!(
            page.body.contains(expected),
            "{expected} missing: {}",
            page.body
        );
    }
    for token in provider.issued_tokens() {
        assert!(!page.body.contains(&token), "a token reached the page");
    }
    provider.refuse_access_tokens();
    let refused = browser.get("/account").await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.body.contains("no longer accepts this session"));
    assert_eq!(
        provider.refresh_grants(),
        1,
        "the token was refreshed once before giving up"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_due_for_refresh_is_refreshed_before_asking_fusionauth() {
    let (_app, provider, browser) = app().await;
    // A one-second token is due at once: the account page must not send it to FusionAuth.
    provider.set_access_token_ttl(1);
    browser.log_in(&provider, "/account").await;
    provider.set_access_token_ttl(3600);
    let page = browser.get("/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("richard@example.com"), "{}", page.body);
    assert_eq!(
        provider.refresh_grants(),
        1,
        "the token was refreshed once, before FusionAuth was asked"
    );
}

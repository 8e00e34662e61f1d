//! Sign-outs that really end sessions: Logout revokes the refresh token at FusionAuth, "Sign out
//! everywhere" ends every session of the user, and FusionAuth's signed webhooks end sessions
//! here (refused, with a WARN line and nothing changed, unless the signature verifies).

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::json;
use support::{
    browser_signed_in,
    webhooks::{deliver, deliver_signed, signature, signed_delivery, stamped, WEBHOOK_SECRET},
    Browser, MockProvider, TestApp, SUBJECT,
};

async fn app_with_webhooks() -> (TestApp, MockProvider) {
    support::capture_logs();
    let provider = MockProvider::start().await;
    let app = TestApp::start_with(
        &provider.issuer,
        &[("FUSIONAUTH_WEBHOOK_SECRET", WEBHOOK_SECRET)],
    )
    .await;
    (app, provider)
}

async fn signed_in_browser(app: &TestApp, provider: &MockProvider) -> Browser {
    let browser = app.browser();
    browser.log_in(provider, "/").await;
    assert!(browser_signed_in(&browser).await);
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_refresh_token_at_fusionauth() {
    let (app, provider) = app_with_webhooks().await;
    let browser = signed_in_browser(&app, &provider).await;
    let refresh_token = provider.issued_tokens()[1].clone();

    let logout = browser.post_form("/api/logout", &[]).await;
    assert_eq!(logout.status, 302);
    assert_eq!(provider.revocations(), [(refresh_token.clone(), false)]);
    assert_eq!(
        provider.try_refresh(&refresh_token).await,
        (400, Some("invalid_grant".to_owned())),
        "the old refresh token is refused after Logout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_revocation_does_not_block_the_logout() {
    let (app, provider) = app_with_webhooks().await;
    let browser = signed_in_browser(&app, &provider).await;
    provider.go_down();
    let logout = browser.post_form("/api/logout", &[]).await;
    assert_eq!(logout.status, 302, "{}", logout.body);
    assert!(!browser_signed_in(&browser).await);
    assert!(support::warned("sign-out goes on"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_everywhere_ends_the_other_browsers_too() {
    let (app, provider) = app_with_webhooks().await;
    let laptop = signed_in_browser(&app, &provider).await;
    let phone = signed_in_browser(&app, &provider).await;
    let everywhere = laptop.post_form("/api/logout_everywhere", &[]).await;
    assert_eq!(everywhere.status, 302);
    let location = url::Url::parse(everywhere.location.as_deref().unwrap()).unwrap();
    assert_eq!(location.path(), "/oauth2/logout");
    assert!(!browser_signed_in(&laptop).await);
    assert!(
        !browser_signed_in(&phone).await,
        "the other browser's next view is the guest page"
    );
    assert_eq!(provider.revocations().len(), 1);
    assert!(
        provider.revocations()[0].1,
        "global revocation at FusionAuth"
    );
    assert!(app.open_sessions(SUBJECT).await == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_index_follows_login_logout_and_rotation() {
    let (app, provider) = app_with_webhooks().await;
    let ids = || async { app.open_sessions(SUBJECT).await };
    let first = signed_in_browser(&app, &provider).await;
    let second = signed_in_browser(&app, &provider).await;
    assert_eq!(ids().await, 2);
    // A second login in the same browser replaces its session id: still two sessions.
    first.log_in(&provider, "/").await;
    assert_eq!(ids().await, 2);
    second.post_form("/api/logout", &[]).await;
    assert_eq!(ids().await, 1);
    assert!(browser_signed_in(&first).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_revocation_event_ends_every_session_of_the_user() {
    let (app, provider) = app_with_webhooks().await;
    let laptop = signed_in_browser(&app, &provider).await;
    let phone = signed_in_browser(&app, &provider).await;
    let event = json!({ "type": "jwt.refresh-token.revoke", "userId": SUBJECT,
        "applicationTimeToLiveInSeconds": {} });
    let (body, signature) = signed_delivery(event);
    assert_eq!(deliver(&app, &body, Some(signature.clone())).await, 200);
    assert!(!browser_signed_in(&laptop).await);
    assert!(!browser_signed_in(&phone).await);
    assert_eq!(
        deliver(&app, &body, Some(signature)).await,
        200,
        "the same event twice is harmless"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_one_refresh_token_ends_only_the_session_holding_it() {
    let (app, provider) = app_with_webhooks().await;
    let laptop = signed_in_browser(&app, &provider).await;
    let laptop_token = provider.issued_tokens()[1].clone();
    let phone = signed_in_browser(&app, &provider).await;
    let event = json!({ "type": "jwt.refresh-token.revoke", "userId": SUBJECT,
        "applicationId": support::CLIENT_ID,
        "refreshToken": { "id": "t1", "token": laptop_token, "userId": SUBJECT } });
    assert_eq!(deliver_signed(&app, event).await, 200);
    assert!(!browser_signed_in(&laptop).await);
    assert!(
        browser_signed_in(&phone).await,
        "the phone's token was not revoked"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivation_deletion_and_losing_the_registration_end_sessions() {
    let (app, provider) = app_with_webhooks().await;
    let events = [
        json!({ "type": "user.deactivate", "user": { "id": SUBJECT } }),
        json!({ "type": "user.delete", "user": { "id": SUBJECT } }),
        json!({ "type": "user.registration.delete", "applicationId": support::CLIENT_ID,
            "registration": { "applicationId": support::CLIENT_ID }, "user": { "id": SUBJECT } }),
    ];
    for event in events {
        let browser = signed_in_browser(&app, &provider).await;
        assert_eq!(deliver_signed(&app, event.clone()).await, 200);
        assert!(!browser_signed_in(&browser).await, "{event}");
    }
    let browser = signed_in_browser(&app, &provider).await;
    let other_app = json!({ "type": "user.registration.delete", "applicationId": "another-app",
        "registration": { "applicationId": "another-app" }, "user": { "id": SUBJECT } });
    assert_eq!(deliver_signed(&app, other_app).await, 200);
    let unknown = json!({ "type": "user.login.success", "user": { "id": SUBJECT } });
    assert_eq!(
        deliver_signed(&app, unknown).await,
        200,
        "unknown events are ignored"
    );
    assert!(browser_signed_in(&browser).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_oversized_and_malformed_webhooks_are_refused() {
    let (app, provider) = app_with_webhooks().await;
    let browser = signed_in_browser(&app, &provider).await;
    let body = json!({ "event": { "type": "user.delete", "user": { "id": SUBJECT } } }).to_string();
    let body = body.as_bytes();
    let other = br#"{"event":{"type":"user.update","user":{"id":"x"}}}"#;
    let refusals = [
        ("no signature", deliver(&app, body, None).await, 401),
        (
            "forged signature",
            deliver(
                &app,
                body,
                Some(signature("another-secret-0123456789abcdef0123", body)),
            )
            .await,
            401,
        ),
        (
            "valid signature of another body",
            deliver(&app, body, Some(signature(WEBHOOK_SECRET, other))).await,
            401,
        ),
        (
            "garbage signature",
            deliver(&app, body, Some("x.y.z".into())).await,
            401,
        ),
    ];
    for (case, status, expected) in refusals {
        assert_eq!(status, expected, "{case}");
    }
    let huge = vec![b' '; 300 * 1024];
    assert_eq!(
        deliver(&app, &huge, Some(signature(WEBHOOK_SECRET, &huge))).await,
        413
    );
    let malformed = b"{not json";
    assert_eq!(
        deliver(&app, malformed, Some(signature(WEBHOOK_SECRET, malformed))).await,
        400
    );
    assert!(browser_signed_in(&browser).await, "nothing was changed");
    for logged in [
        "webhook refused",
        "does not verify",
        "not the hash of this body",
        "no x-fusionauth-signature-jwt header",
        "not a FusionAuth event",
        "body over",
    ] {
        assert!(
            support::warned(logged),
            "no WARN line containing {logged:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_delivery_never_ends_a_newer_session() {
    let (app, provider) = app_with_webhooks().await;
    let before = signed_in_browser(&app, &provider).await;
    let revoke_all = json!({ "type": "jwt.refresh-token.revoke", "userId": SUBJECT });
    let captured = signed_delivery(revoke_all.clone());
    assert_eq!(
        deliver(&app, &captured.0, Some(captured.1.clone())).await,
        200
    );
    assert!(!browser_signed_in(&before).await);
    // The user signs in again; the captured delivery comes back, as it was (same event id)...
    let after = signed_in_browser(&app, &provider).await;
    assert_eq!(deliver(&app, &captured.0, Some(captured.1)).await, 200);
    assert!(
        browser_signed_in(&after).await,
        "the same delivery twice: no second effect"
    );
    // ...and as another event created at the same moment: it ends only older sessions.
    let created = stamped(revoke_all.clone())["createInstant"]
        .as_i64()
        .unwrap()
        - 5_000;
    let mut resent = revoke_all.clone();
    resent["createInstant"] = json!(created);
    assert_eq!(deliver_signed(&app, resent).await, 200);
    assert!(
        browser_signed_in(&after).await,
        "an event never ends a session that began after it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_future_and_undated_events_are_refused_and_the_header_is_checked_first() {
    let (app, provider) = app_with_webhooks().await;
    let browser = signed_in_browser(&app, &provider).await;
    let revoke_all = |created: Option<i64>| {
        let mut event = json!({ "type": "jwt.refresh-token.revoke", "userId": SUBJECT });
        if let Some(created) = created {
            event["createInstant"] = json!(created);
        }
        event
    };
    let eleven_minutes_ago = support::webhooks::now_ms() - 11 * 60 * 1000;
    assert_eq!(
        deliver_signed(&app, revoke_all(Some(eleven_minutes_ago))).await,
        400
    );
    assert_eq!(
        deliver_signed(&app, revoke_all(Some(1))).await,
        400,
        "createInstant 1"
    );
    let two_minutes_ahead = support::webhooks::now_ms() + 2 * 60 * 1000;
    assert_eq!(
        deliver_signed(&app, revoke_all(Some(two_minutes_ahead))).await,
        400
    );
    let undated = json!({ "event": { "type": "user.delete", "id": "e-undated",
        "user": { "id": SUBJECT } } })
    .to_string();
    let undated = undated.as_bytes();
    assert_eq!(
        deliver(&app, undated, Some(signature(WEBHOOK_SECRET, undated))).await,
        400
    );
    // An unsigned body over the size limit: refused for its signature, before it is read.
    let huge = vec![b' '; 300 * 1024];
    assert_eq!(deliver(&app, &huge, None).await, 401);
    assert!(browser_signed_in(&browser).await, "nothing was changed");
    for logged in ["s old (a replay?)", "ahead", "has no createInstant"] {
        assert!(
            support::warned(logged),
            "no WARN line containing {logged:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configured_secret_every_webhook_is_refused() {
    support::capture_logs();
    let provider = MockProvider::start().await;
    let app = TestApp::start(&provider.issuer).await;
    let browser = signed_in_browser(&app, &provider).await;
    let body = json!({ "event": { "type": "user.delete", "user": { "id": SUBJECT } } }).to_string();
    let status = deliver(
        &app,
        body.as_bytes(),
        Some(signature(WEBHOOK_SECRET, body.as_bytes())),
    )
    .await;
    assert_eq!(status, 401);
    assert!(browser_signed_in(&browser).await);
    assert!(support::warned("FUSIONAUTH_WEBHOOK_SECRET is not set"));
}

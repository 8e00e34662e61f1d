//! Sessions that last and scale out, with the real stores: a `redis-server` started on a free
//! loopback port (Debian's `redis-server` package), PostgreSQL (the server `scripts/test.sh`
//! starts), and SQLite files.

#![allow(clippy::unwrap_used)]

mod support;
// The library's redis-server child process (its store conformance suite uses it too).
#[path = "../crates/leptos-fusionauth/tests/support/redis_server.rs"]
mod redis_server;

use std::time::Duration;

use redis_server::RedisServer;
use serde_json::json;
use support::{
    eventually, query_value, signed_in,
    webhooks::{deliver_signed, WEBHOOK_SECRET},
    Browser, MockProvider, TestApp, SUBJECT,
};

/// The PostgreSQL server `scripts/test.sh` starts (`LEPTOS_FUSIONAUTH_TEST_POSTGRES`), with the
/// sessions' schema dropped: these tests run one at a time, each on an empty store.
async fn fresh_postgres() -> String {
    let url = std::env::var("LEPTOS_FUSIONAUTH_TEST_POSTGRES").expect(
        "LEPTOS_FUSIONAUTH_TEST_POSTGRES must name a PostgreSQL server (scripts/test.sh sets it)",
    );
    let pool = tower_sessions_sqlx_store::sqlx::PgPool::connect(&url)
        .await
        .unwrap();
    tower_sessions_sqlx_store::sqlx::query("drop schema if exists tower_sessions cascade")
        .execute(&pool)
        .await
        .unwrap();
    url
}

async fn instance(provider: &MockProvider, store_url: &str) -> TestApp {
    TestApp::builder(&provider.issuer)
        .store(store_url)
        .start()
        .await
}

/// A browser for `app` that carries `other`'s cookies (the load balancer sends the same browser
/// to another instance).
fn same_browser_on(app: &TestApp, other: &Browser) -> Browser {
    other.on(&app.url)
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
    // Starting a login needs no store (the attempt travels in its own cookie); completing it
    // does, and says so.
    let newcomer = app.browser();
    let callback = newcomer.log_in(&provider, "/").await;
    assert_eq!(
        callback.location.as_deref(),
        Some("/auth/error?reason=session_unavailable")
    );
    assert_eq!(
        newcomer
            .get("/auth/error?reason=session_unavailable")
            .await
            .status,
        503
    );
    let guest = app.browser().get("/").await;
    assert_eq!(
        guest.status, 200,
        "a visitor without a session is still served"
    );

    redis.run().await;
    let recovered = eventually(10, || async { signed_in(&browser.get("/").await) }).await;
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

/// Two instances on one shared store: 16 requests of one session at once, through both, find
/// its access token due — one refresh grant, nobody signed out.
async fn two_instances_never_spend_the_same_refresh_token(store_url: &str) {
    let provider = MockProvider::start().await;
    provider.set_access_token_ttl(1);
    let instance_a = instance(&provider, store_url).await;
    let instance_b = instance(&provider, store_url).await;
    let on_a = instance_a.browser();
    on_a.log_in(&provider, "/").await;
    provider.set_access_token_ttl(3600);
    let on_b = same_browser_on(&instance_b, &on_a);
    // The mock's refresh tokens are one-time use: a second exchange of the same token is
    // refused with invalid_grant, which would sign the user out.
    let requests: Vec<_> = (0..16)
        .map(|i| {
            let browser = if i % 2 == 0 {
                on_a.clone()
            } else {
                on_b.clone()
            };
            tokio::spawn(async move { browser.get("/").await })
        })
        .collect();
    for request in requests {
        let page = request.await.unwrap();
        assert!(signed_in(&page), "a request was signed out: {}", page.body);
    }
    assert_eq!(
        provider.refresh_grants(),
        1,
        "exactly one refresh grant for sixteen requests on two instances"
    );
    assert_eq!(
        provider.refresh_attempts(),
        1,
        "nobody tried the spent token"
    );
    assert!(signed_in(&on_b.get("/").await));
    assert!(signed_in(&on_a.get("/").await));
}

/// Two instances A and B on `redis`, a browser signed in through A (`on_a`) and the same
/// browser on B (`on_b`); its access token is due, and the provider takes 800 ms to refresh it.
async fn due_for_a_slow_refresh_on_two_instances(
    redis: &RedisServer,
) -> (MockProvider, [TestApp; 2], Browser, Browser) {
    let provider = MockProvider::start().await;
    provider.set_access_token_ttl(1);
    let instance_a = instance(&provider, &redis.url()).await;
    let instance_b = instance(&provider, &redis.url()).await;
    let on_a = instance_a.browser();
    on_a.log_in(&provider, "/").await;
    provider.set_access_token_ttl(3600);
    provider.set_refresh_delay(Duration::from_millis(800));
    let on_b = same_browser_on(&instance_b, &on_a);
    (provider, [instance_a, instance_b], on_a, on_b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_waited_for_the_lock_of_a_session_logged_out_meanwhile_spends_nothing() {
    let redis = RedisServer::start().await;
    let (provider, _instances, on_a, on_b) = due_for_a_slow_refresh_on_two_instances(&redis).await;
    // A refreshes (slowly) under the lock; B waits for it; the user logs out through A meanwhile.
    let refreshing = tokio::spawn({
        let on_a = on_a.clone();
        async move { on_a.get("/").await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let waiting = tokio::spawn({
        let on_b = on_b.clone();
        async move { on_b.get("/").await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    on_a.clone().post_form("/api/logout", &[]).await;
    refreshing.await.unwrap();
    let page = waiting.await.unwrap();
    assert!(!signed_in(&page), "{}", page.body);
    assert_eq!(
        provider.refresh_attempts(),
        1,
        "B found the session ended and did not present its (rotated) refresh token again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_two_instances_never_spend_the_same_refresh_token() {
    let redis = RedisServer::start().await;
    two_instances_never_spend_the_same_refresh_token(&redis.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_two_instances_never_spend_the_same_refresh_token() {
    two_instances_never_spend_the_same_refresh_token(&fresh_postgres().await).await;
}

/// The session cookie's name on https (the `__Host-` prefix).
const HTTPS_SESSION_COOKIE: &str = "__Host-leptos_fusionauth_session";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_refreshed_as_the_store_went_down_are_stored_when_it_is_back() {
    let mut redis = RedisServer::start().await;
    let (provider, _instances, on_a, on_b) = due_for_a_slow_refresh_on_two_instances(&redis).await;
    // A's refresh is at the provider when the store goes down: the provider rotates the refresh
    // token the store holds, and A cannot write the new one.
    let refreshing = tokio::spawn({
        let on_a = on_a.clone();
        async move { on_a.get("/").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.stop();
    refreshing.await.unwrap();
    assert_eq!(provider.refresh_attempts(), 1);

    redis.run().await;
    // B never saw the new tokens: it finds them in the store, fresh, without a refresh.
    let fresh_on_b = eventually(10, || async {
        let page = on_b.get("/").await;
        signed_in(&page) && page.body.contains("Access token expires in 59:")
    })
    .await;
    assert!(fresh_on_b, "{}", on_b.get("/").await.body);
    assert_eq!(
        provider.refresh_attempts(),
        1,
        "nobody presented the refresh token the provider had rotated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_while_redis_is_down_fails_closed_and_is_recorded_later() {
    let mut redis = RedisServer::start().await;
    let provider = MockProvider::start().await;
    // On https (behind a TLS-terminating proxy): the session cookie is a `__Host-` cookie, which
    // the test browser, like a real one, removes only when the removal is `Secure` too.
    let public = "https://localhost";
    let app = TestApp::builder(&provider.issuer)
        .store(&redis.url())
        .var("APP_URL", public)
        .start()
        .await;
    let browser = app.browser().with_origin(public);
    browser.log_in(&provider, "/").await;
    let stolen = browser.cookie(HTTPS_SESSION_COOKIE).unwrap();

    redis.stop();
    let logout = browser.post_form("/api/logout", &[]).await;
    assert_eq!(logout.status, 302, "{}", logout.body);
    let location = url::Url::parse(logout.location.as_deref().unwrap()).unwrap();
    assert_eq!(
        location.path(),
        "/oauth2/logout",
        "FusionAuth's logout still runs"
    );
    assert_eq!(query_value(&location, "state"), "local-signout-unrecorded");
    assert_eq!(
        browser.cookie(HTTPS_SESSION_COOKIE),
        None,
        "the browser lost its session cookie"
    );

    // FusionAuth sends the browser back to /logout with the state: the page says what happened.
    let back = browser.get("/logout?state=local-signout-unrecorded").await;
    let notice = back.location.clone().unwrap();
    assert_eq!(notice, "/auth/error?reason=local_signout_unrecorded");
    let page = browser.get(&notice).await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("could not be recorded"), "{}", page.body);

    // Meanwhile this instance treats the session as ended: a stolen cookie opens nothing here.
    let thief = app.browser().with_origin(public);
    thief.set_cookie(HTTPS_SESSION_COOKIE, Some(stolen));
    let meanwhile = thief.get("/").await;
    assert!(
        meanwhile.body.contains("Hello Guest"),
        "a guest at once, not even a read of the store that is down: {}",
        meanwhile.body
    );

    // Once Redis is back, the record is deleted: the stolen cookie opens nothing anywhere.
    redis.run().await;
    let deleted = eventually(15, || async {
        thief.get("/").await.body.contains("Hello Guest")
    })
    .await;
    assert!(
        deleted,
        "the sign-out was recorded once the store came back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_everywhere_while_the_store_is_down_says_it_is_not_done() {
    let mut redis = RedisServer::start().await;
    let provider = MockProvider::start().await;
    let app = instance(&provider, &redis.url()).await;
    let (laptop, phone) = (app.browser(), app.browser());
    laptop.log_in(&provider, "/").await;
    phone.log_in(&provider, "/").await;

    redis.stop();
    let everywhere = laptop.post_form("/api/logout_everywhere", &[]).await;
    let location = url::Url::parse(everywhere.location.as_deref().unwrap()).unwrap();
    assert_eq!(
        location.path(),
        "/oauth2/logout",
        "FusionAuth's logout still runs"
    );
    assert_eq!(
        query_value(&location, "state"),
        "signout-everywhere-incomplete"
    );
    let back = laptop
        .get("/logout?state=signout-everywhere-incomplete")
        .await;
    let page = laptop.get(back.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 503);
    assert!(page.body.contains("could not all be"), "{}", page.body);
    assert!(
        page.body.contains("Not signed out everywhere"),
        "{}",
        page.body
    );

    redis.run().await;
    let phone_still_in = eventually(10, || async { signed_in(&phone.get("/").await) }).await;
    assert!(
        phone_still_in,
        "nothing was ended beyond this browser, and the page said so"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_too_reading_pages_keeps_a_session_and_idleness_ends_it() {
    let redis = RedisServer::start().await;
    let provider = MockProvider::start().await;
    let app = TestApp::builder(&provider.issuer)
        .store(&redis.url())
        .configure(|config| {
            config
                .session_idle(Duration::from_secs(2))
                .session_max(Duration::from_secs(60))
        })
        .start()
        .await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    for _ in 0..10 {
        assert!(signed_in(&browser.get("/").await));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(browser.get("/").await.body.contains("Hello Guest"));
}

/// An instance that accepts FusionAuth's signed webhooks.
async fn instance_with_webhooks(provider: &MockProvider, store_url: &str) -> TestApp {
    TestApp::builder(&provider.issuer)
        .store(store_url)
        .var("FUSIONAUTH_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .start()
        .await
}

/// "Sign out everywhere" and FusionAuth's webhook end sessions held through any instance.
async fn sign_out_everywhere_and_webhooks_end_sessions_held_through_any_instance(store_url: &str) {
    let provider = MockProvider::start().await;
    let instance_a = instance_with_webhooks(&provider, store_url).await;
    let instance_b = instance_with_webhooks(&provider, store_url).await;
    let signed_in_on = |instance: &TestApp| {
        let browser = instance.browser();
        let provider = &provider;
        async move {
            browser.log_in(provider, "/").await;
            assert!(signed_in(&browser.get("/").await));
            browser
        }
    };

    // "Sign out everywhere" through B ends the laptop's session, made and used through A.
    let laptop = signed_in_on(&instance_a).await;
    let phone = signed_in_on(&instance_b).await;
    phone.post_form("/api/logout_everywhere", &[]).await;
    assert!(!signed_in(&laptop.get("/").await), "A sees it ended");
    assert!(
        !signed_in(&same_browser_on(&instance_b, &laptop).get("/").await),
        "B sees it ended"
    );

    // FusionAuth's webhook reaches one instance (A); the tablet uses the other (B).
    let tablet = signed_in_on(&instance_b).await;
    let revoked = json!({ "type": "jwt.refresh-token.revoke", "userId": SUBJECT,
        "applicationTimeToLiveInSeconds": {} });
    assert_eq!(deliver_signed(&instance_a, revoked).await, 200);
    assert!(!signed_in(&tablet.get("/").await));
    assert!(instance_b.open_sessions(SUBJECT).await == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_sign_out_everywhere_and_webhooks_end_sessions_held_through_any_instance() {
    let redis = RedisServer::start().await;
    sign_out_everywhere_and_webhooks_end_sessions_held_through_any_instance(&redis.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_sign_out_everywhere_and_webhooks_end_sessions_held_through_any_instance() {
    let url = fresh_postgres().await;
    sign_out_everywhere_and_webhooks_end_sessions_held_through_any_instance(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_the_user_index_forgets_expired_sessions() {
    let redis = RedisServer::start().await;
    let provider = MockProvider::start().await;
    let app = TestApp::builder(&provider.issuer)
        .store(&redis.url())
        .configure(|config| config.session_idle(Duration::from_secs(2)))
        .start()
        .await;
    let browser = app.browser();
    browser.log_in(&provider, "/").await;
    assert_eq!(app.open_sessions(SUBJECT).await, 1);
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(
        app.open_sessions(SUBJECT).await == 0,
        "an expired session is no longer a session of the user"
    );
}

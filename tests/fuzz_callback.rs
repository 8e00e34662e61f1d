//! Property test of the callback: whatever query string and cookie arrive at `/callback`, the app
//! answers with a redirect to an error page — never a 5xx, never a panic, never a login.
//!
//! CI runs a short version (FUZZ_CASES, default 2 000); `scripts/fuzz-callback.sh` runs 100 000+
//! cases in release mode and records the result in `docs/FUZZING.md`.

#![allow(clippy::unwrap_used)]

mod support;

use axum::{body::Body, http::Request, Router};
use proptest::prelude::*;
use tower::ServiceExt;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000)
}

/// Arbitrary bytes, percent-encoded where a URI needs it (so every case reaches the handler).
fn encode_query(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'='
            | b'&'
            | b'%'
            | b'+' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A query built from the callback's own parameter names, with hostile values.
fn callback_query() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "code",
            "state",
            "error",
            "error_description",
            "iss",
            "locale",
            "userState"
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z_]{1,12}",
    ];
    let value = prop::collection::vec(any::<u8>(), 0..64).prop_map(|bytes| encode_query(&bytes));
    prop::collection::vec((name, value), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn raw_query() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<u8>(), 0..256).prop_map(|bytes| encode_query(&bytes))
}

fn cookie() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[ -~]{0,200}".prop_map(|value| format!("leptos_fusionauth_session={value}")))
}

async fn router() -> Router {
    let provider = support::MockProvider::start().await;
    support::TestApp::builder(&provider.issuer).router().await
}

fn check(
    runtime: &tokio::runtime::Runtime,
    app: &Router,
    query: &str,
    cookie: Option<&str>,
) -> Result<(), TestCaseError> {
    let uri = format!("/callback?{query}");
    let mut request = Request::get(&uri);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let Ok(request) = request.body(Body::empty()) else {
        return Ok(()); // not a valid HTTP request: hyper would refuse it before the app
    };
    let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
    let status = response.status().as_u16();
    prop_assert!(status < 500, "{uri} -> {status}");
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    prop_assert!(
        location.starts_with("/auth/error?reason="),
        "{uri} -> {status} {location}"
    );
    Ok(())
}

#[test]
fn any_callback_query_is_rejected_cleanly() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(router());
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(query in prop_oneof![callback_query(), raw_query()], cookie in cookie())| {
        check(&runtime, &app, &query, cookie.as_deref())?;
    });
}

//! FusionAuth's side of a webhook: an event signed the way FusionAuth signs it
//! (`X-FusionAuth-Signature-JWT`, an HS256 JWT whose `request_body_sha256` is the body's hash),
//! delivered to an app under test.

use std::sync::atomic::{AtomicUsize, Ordering};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::TestApp;

/// The HMAC secret the tests give FusionAuth and the app (`FUSIONAUTH_WEBHOOK_SECRET`).
pub const WEBHOOK_SECRET: &str = "test-webhook-secret-0123456789abcdef";

/// FusionAuth's signature header for `body`, signed with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let claims = json!({ "request_body_sha256": STANDARD.encode(Sha256::digest(body)) });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// POSTs `body` to the app's webhook endpoint with `signature` (if any): the status.
pub async fn deliver(app: &TestApp, body: &[u8], signature: Option<String>) -> u16 {
    let mut request = reqwest::Client::new()
        .post(format!("{}/webhooks/fusionauth", app.url))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("X-FusionAuth-Signature-JWT", signature);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Milliseconds since the Unix epoch, FusionAuth's `createInstant` unit.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// `event` as FusionAuth sends it: with an `id` of its own and created now, unless it says.
pub fn stamped(mut event: serde_json::Value) -> serde_json::Value {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if event.get("id").is_none() {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        event["id"] = json!(format!("event-{}-{n}-{}", std::process::id(), now_ms()));
    }
    if event.get("createInstant").is_none() {
        event["createInstant"] = json!(now_ms());
    }
    event
}

/// The body FusionAuth posts for `event` (stamped) and its signature header: a delivery as a
/// proxy that logs it would capture it.
pub fn signed_delivery(event: serde_json::Value) -> (Vec<u8>, String) {
    let body = json!({ "event": stamped(event) }).to_string().into_bytes();
    let signature = signature(WEBHOOK_SECRET, &body);
    (body, signature)
}

/// Delivers `event` as FusionAuth does (`{"event": …}`, stamped, signed with
/// [`WEBHOOK_SECRET`]).
pub async fn deliver_signed(app: &TestApp, event: serde_json::Value) -> u16 {
    let (body, signature) = signed_delivery(event);
    deliver(app, &body, Some(signature)).await
}

//! FusionAuth's side of a webhook: an event signed the way FusionAuth signs it
//! (`X-FusionAuth-Signature-JWT`, an HS256 JWT whose `request_body_sha256` is the body's hash),
//! delivered to an app under test.

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

/// Delivers `event` as FusionAuth does (`{"event": …}`, signed with [`WEBHOOK_SECRET`]).
pub async fn deliver_signed(app: &TestApp, event: serde_json::Value) -> u16 {
    let body = json!({ "event": event }).to_string();
    deliver(
        app,
        body.as_bytes(),
        Some(signature(WEBHOOK_SECRET, body.as_bytes())),
    )
    .await
}

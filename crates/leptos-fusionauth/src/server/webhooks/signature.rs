//! FusionAuth's webhook signature (1.48+): the header `X-FusionAuth-Signature-JWT` holds a JWT
//! signed with the webhook's signing key — here an HMAC key whose secret the app shares — whose
//! one claim, `request_body_sha256`, is the standard base64 of the SHA-256 of the raw body. A
//! request is accepted only when the JWT verifies and the hash is that of the body received.
//! The JWT is checked before the body is read; `exp`, `nbf` and `iat` are not required (FusionAuth
//! sends none) but checked when present.

use base64::{engine::general_purpose::STANDARD, Engine};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The header FusionAuth puts the signature in.
pub(crate) const SIGNATURE_HEADER: &str = "x-fusionauth-signature-jwt";

/// Why a webhook request was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SignatureError {
    #[error("no {SIGNATURE_HEADER} header")]
    Missing,
    #[error("FUSIONAUTH_WEBHOOK_SECRET is not set: webhooks cannot be verified")]
    NotConfigured,
    #[error("the signature JWT does not verify: {0}")]
    Invalid(String),
    #[error("the signed body hash is not the hash of this body")]
    BodyMismatch,
}

#[derive(Deserialize)]
struct SignatureClaims {
    request_body_sha256: String,
    #[serde(default)]
    iat: Option<i64>,
}

/// The hash a verified signature vouches for; the body must match it.
#[derive(Debug)]
pub(crate) struct SignedBody {
    request_body_sha256: String,
}

impl SignedBody {
    /// Accepts `body` only if it is the one the signature vouches for.
    pub(crate) fn matches(&self, body: &[u8]) -> Result<(), SignatureError> {
        let actual = STANDARD.encode(Sha256::digest(body));
        if constant_time_eq(actual.as_bytes(), self.request_body_sha256.as_bytes()) {
            Ok(())
        } else {
            Err(SignatureError::BodyMismatch)
        }
    }
}

/// A signature issued further in the future than this is refused (clock skew).
const MAX_FUTURE_IAT_SECS: i64 = 60;

/// Verifies webhook requests with the shared HMAC secret.
#[derive(Clone)]
pub(crate) struct WebhookVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl WebhookVerifier {
    /// The key bytes are the secret's UTF-8 bytes, as FusionAuth's JWT library uses them.
    pub(crate) fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        // FusionAuth's signature JWT carries only the body hash: nothing is required, and an
        // `exp` or `nbf` is checked only when present.
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        Self {
            key: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// Verifies the signature header (before the body is read): the hash it vouches for.
    pub(crate) fn verify_header(
        &self,
        signature: Option<&str>,
    ) -> Result<SignedBody, SignatureError> {
        let jwt = signature.ok_or(SignatureError::Missing)?;
        let claims = jsonwebtoken::decode::<SignatureClaims>(jwt, &self.key, &self.validation)
            .map_err(|e| SignatureError::Invalid(e.to_string()))?
            .claims;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if claims
            .iat
            .is_some_and(|iat| iat > now + MAX_FUTURE_IAT_SECS)
        {
            return Err(SignatureError::Invalid("issued in the future (iat)".into()));
        }
        Ok(SignedBody {
            request_body_sha256: claims.request_body_sha256,
        })
    }

    /// Accepts `body` only if `signature` is a valid JWT over its SHA-256.
    #[cfg(test)]
    fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
        self.verify_header(signature)?.matches(body)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "a-webhook-secret-of-at-least-32-chars";

    fn sign(alg: Algorithm, secret: &str, body: &[u8]) -> String {
        let claims = json!({ "request_body_sha256": STANDARD.encode(Sha256::digest(body)) });
        jsonwebtoken::encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn a_body_signed_with_the_shared_secret_is_accepted() {
        let verifier = WebhookVerifier::new(SECRET);
        let body = br#"{"event":{"type":"user.delete"}}"#;
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            assert_eq!(
                verifier.verify(Some(&sign(alg, SECRET, body)), body),
                Ok(())
            );
        }
    }

    #[test]
    fn forged_missing_and_misplaced_signatures_are_refused() {
        let verifier = WebhookVerifier::new(SECRET);
        let body = br#"{"event":{"type":"user.delete"}}"#;
        assert_eq!(verifier.verify(None, body), Err(SignatureError::Missing));
        let forged = sign(
            Algorithm::HS256,
            "another-secret-of-at-least-32-chars",
            body,
        );
        assert!(matches!(
            verifier.verify(Some(&forged), body),
            Err(SignatureError::Invalid(_))
        ));
        assert!(matches!(
            verifier.verify(Some("not.a.jwt"), body),
            Err(SignatureError::Invalid(_))
        ));
        // A valid signature of another body (a replay onto a forged body).
        let other = sign(
            Algorithm::HS256,
            SECRET,
            br#"{"event":{"type":"user.update"}}"#,
        );
        assert_eq!(
            verifier.verify(Some(&other), body),
            Err(SignatureError::BodyMismatch)
        );
    }

    #[test]
    fn exp_and_iat_are_not_required_but_checked_when_present() {
        let verifier = WebhookVerifier::new(SECRET);
        let body = b"{}";
        let hash = STANDARD.encode(Sha256::digest(body));
        let signed = |claims: serde_json::Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(SECRET.as_bytes()),
            )
            .unwrap()
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let fresh = signed(json!({ "request_body_sha256": hash, "iat": now, "exp": now + 60 }));
        assert_eq!(verifier.verify(Some(&fresh), body), Ok(()));
        let expired = signed(json!({ "request_body_sha256": hash, "exp": now - 3600 }));
        assert!(matches!(
            verifier.verify(Some(&expired), body),
            Err(SignatureError::Invalid(_))
        ));
        let future = signed(json!({ "request_body_sha256": hash, "iat": now + 3600 }));
        assert!(matches!(
            verifier.verify(Some(&future), body),
            Err(SignatureError::Invalid(_))
        ));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let verifier = WebhookVerifier::new(SECRET);
        let body = b"{}";
        let claims = STANDARD.encode(Sha256::digest(body));
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!(r#"{{"request_body_sha256":"{claims}"}}"#));
        let unsigned = format!("{header}.{payload}.");
        assert!(matches!(
            verifier.verify(Some(&unsigned), body),
            Err(SignatureError::Invalid(_))
        ));
    }
}

//! Authenticated encryption of values at rest: any serialisable value is sealed with
//! XChaCha20-Poly1305 under a key derived (HKDF-SHA256) from a secret and a purpose, and bound
//! to a context string, so a sealed value copied to another context does not open. A primitive:
//! it knows nothing of what it seals.

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};
use hkdf::Hkdf;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::Sha256;

/// A sealed value: nonce and ciphertext, base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sealed {
    nonce: String,
    ciphertext: String,
}

/// Seals and opens values with one derived key.
#[derive(Clone)]
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

/// The value could not be sealed: it does not serialise.
#[derive(Debug, thiserror::Error)]
#[error("the value cannot be sealed: {0}")]
pub(crate) struct SealError(#[from] serde_json::Error);

/// The sealed value cannot be opened: the secret changed, the context differs, or the value was
/// tampered with.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the sealed value cannot be opened (the secret changed, or it was altered)")]
pub(crate) struct UnsealError;

impl Sealer {
    /// A sealer whose key is derived from `secret` for `purpose` (distinct purposes get
    /// unrelated keys from the same secret).
    pub(crate) fn new(secret: &str, purpose: &[u8]) -> Self {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret.as_bytes())
            .expand(purpose, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    pub(crate) fn seal<T: Serialize>(&self, value: &T, context: &str) -> Result<Sealed, SealError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let plaintext = serde_json::to_vec(value)?;
        let payload = Payload {
            msg: &plaintext,
            aad: context.as_bytes(),
        };
        let ciphertext = self
            .cipher
            .encrypt(&nonce, payload)
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        Ok(Sealed {
            nonce: STANDARD_NO_PAD.encode(nonce),
            ciphertext: STANDARD_NO_PAD.encode(ciphertext),
        })
    }

    pub(crate) fn open<T: DeserializeOwned>(
        &self,
        sealed: &Sealed,
        context: &str,
    ) -> Result<T, UnsealError> {
        let nonce = STANDARD_NO_PAD
            .decode(&sealed.nonce)
            .map_err(|_| UnsealError)?;
        let ciphertext = STANDARD_NO_PAD
            .decode(&sealed.ciphertext)
            .map_err(|_| UnsealError)?;
        if nonce.len() != 24 {
            return Err(UnsealError);
        }
        let payload = Payload {
            msg: &ciphertext,
            aad: context.as_bytes(),
        };
        let plaintext = self
            .cipher
            .decrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| UnsealError)?;
        serde_json::from_slice(&plaintext).map_err(|_| UnsealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Secret {
        token: String,
        expires_at: i64,
    }

    fn value() -> Secret {
        Secret {
            token: "very-secret".into(),
            expires_at: 1_700_000_000,
        }
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_secret_purpose_and_context() {
        let sealer = Sealer::new(SECRET, b"test/v1");
        let sealed = sealer.seal(&value(), "user-1").unwrap();
        assert_eq!(sealer.open::<Secret>(&sealed, "user-1").unwrap(), value());
    }

    #[test]
    fn the_sealed_form_contains_nothing_in_clear() {
        let sealer = Sealer::new(SECRET, b"test/v1");
        let stored = serde_json::to_string(&sealer.seal(&value(), "user-1").unwrap()).unwrap();
        assert!(!stored.contains("secret"), "{stored}");
    }

    #[test]
    fn another_secret_purpose_or_context_or_a_flipped_bit_do_not_open() {
        let sealer = Sealer::new(SECRET, b"test/v1");
        let sealed = sealer.seal(&value(), "user-1").unwrap();
        let other_secret = Sealer::new("fedcba9876543210fedcba9876543210", b"test/v1");
        let other_purpose = Sealer::new(SECRET, b"test/v2");
        assert_eq!(
            other_secret.open::<Secret>(&sealed, "user-1"),
            Err(UnsealError)
        );
        assert_eq!(
            other_purpose.open::<Secret>(&sealed, "user-1"),
            Err(UnsealError)
        );
        assert_eq!(sealer.open::<Secret>(&sealed, "user-2"), Err(UnsealError));
        let mut tampered = sealed.clone();
        let mut bytes = STANDARD_NO_PAD.decode(&tampered.ciphertext).unwrap();
        bytes[0] ^= 1;
        tampered.ciphertext = STANDARD_NO_PAD.encode(bytes);
        assert_eq!(sealer.open::<Secret>(&tampered, "user-1"), Err(UnsealError));
        let garbage = Sealed {
            nonce: "!!".into(),
            ciphertext: "??".into(),
        };
        assert_eq!(sealer.open::<Secret>(&garbage, "user-1"), Err(UnsealError));
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealer = Sealer::new(SECRET, b"test/v1");
        assert_ne!(
            sealer.seal(&value(), "u").unwrap(),
            sealer.seal(&value(), "u").unwrap()
        );
    }
}

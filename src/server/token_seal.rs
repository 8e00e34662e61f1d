//! Encryption of the token set at rest. The session store (a SQLite file today, Redis tomorrow)
//! only ever holds the tokens sealed with XChaCha20-Poly1305 under a key derived from
//! `APP_SECRET_KEY`, so a copied database file or a store snapshot does not leak refresh tokens.

use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::session::TokenSet;

/// Separates this key from every other use of `APP_SECRET_KEY` (the cookie signature).
const KEY_INFO: &[u8] = b"leptos-fusionauth/session-token-set/v1";

/// A token set as stored in the session: nonce and ciphertext, base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedTokens {
    nonce: String,
    ciphertext: String,
}

/// Seals and opens token sets. The subject is authenticated with the ciphertext, so sealed
/// tokens copied into another user's session record do not open.
#[derive(Clone)]
pub struct TokenSealer {
    cipher: XChaCha20Poly1305,
}

/// The sealed tokens cannot be opened: `APP_SECRET_KEY` changed, or the record was tampered with.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the stored token set cannot be decrypted (APP_SECRET_KEY changed, or the record was altered)"
)]
pub struct UnsealError;

impl TokenSealer {
    pub fn from_secret(secret: &str) -> Self {
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret.as_bytes())
            .expand(KEY_INFO, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    pub fn seal(&self, tokens: &TokenSet, subject: &str) -> SealedTokens {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let plaintext = serde_json::to_vec(tokens).expect("a token set serialises");
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: subject.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        SealedTokens {
            nonce: STANDARD_NO_PAD.encode(nonce),
            ciphertext: STANDARD_NO_PAD.encode(ciphertext),
        }
    }

    pub fn open(&self, sealed: &SealedTokens, subject: &str) -> Result<TokenSet, UnsealError> {
        let nonce = STANDARD_NO_PAD
            .decode(&sealed.nonce)
            .map_err(|_| UnsealError)?;
        let ciphertext = STANDARD_NO_PAD
            .decode(&sealed.ciphertext)
            .map_err(|_| UnsealError)?;
        if nonce.len() != 24 {
            return Err(UnsealError);
        }
        let plaintext = self
            .cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: subject.as_bytes(),
                },
            )
            .map_err(|_| UnsealError)?;
        serde_json::from_slice(&plaintext).map_err(|_| UnsealError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: "access-secret".into(),
            refresh_token: Some("refresh-secret".into()),
            id_token: "id-secret".into(),
            access_token_expires_at: Some(1_700_000_000),
        }
    }

    #[test]
    fn sealed_tokens_open_with_the_same_secret_and_subject() {
        let sealer = TokenSealer::from_secret("0123456789abcdef0123456789abcdef");
        let sealed = sealer.seal(&tokens(), "user-1");
        let opened = sealer.open(&sealed, "user-1").unwrap();
        assert_eq!(opened.refresh_token.as_deref(), Some("refresh-secret"));
        assert_eq!(opened.access_token_expires_at, Some(1_700_000_000));
    }

    #[test]
    fn the_stored_form_contains_no_token() {
        let sealer = TokenSealer::from_secret("0123456789abcdef0123456789abcdef");
        let stored = serde_json::to_string(&sealer.seal(&tokens(), "user-1")).unwrap();
        assert!(!stored.contains("secret"), "{stored}");
    }

    #[test]
    fn another_secret_another_subject_or_a_flipped_bit_do_not_open() {
        let sealer = TokenSealer::from_secret("0123456789abcdef0123456789abcdef");
        let sealed = sealer.seal(&tokens(), "user-1");
        let other = TokenSealer::from_secret("fedcba9876543210fedcba9876543210");
        assert_eq!(other.open(&sealed, "user-1").unwrap_err(), UnsealError);
        assert_eq!(sealer.open(&sealed, "user-2").unwrap_err(), UnsealError);
        let mut tampered = sealed.clone();
        let mut bytes = STANDARD_NO_PAD.decode(&tampered.ciphertext).unwrap();
        bytes[0] ^= 1;
        tampered.ciphertext = STANDARD_NO_PAD.encode(bytes);
        assert_eq!(sealer.open(&tampered, "user-1").unwrap_err(), UnsealError);
        let garbage = SealedTokens {
            nonce: "!!".into(),
            ciphertext: "??".into(),
        };
        assert_eq!(sealer.open(&garbage, "user-1").unwrap_err(), UnsealError);
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let sealer = TokenSealer::from_secret("0123456789abcdef0123456789abcdef");
        assert_ne!(sealer.seal(&tokens(), "u"), sealer.seal(&tokens(), "u"));
    }
}

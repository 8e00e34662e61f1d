//! The token policy, on top of `openidconnect`'s signature, issuer, audience and expiry checks:
//! asymmetric algorithms only (no `none`, no HMAC keyed with the client secret), an `iat` not in
//! the future, the nonce of the login attempt, and the `at_hash` of the access token when
//! present. Refreshed ID tokens must name the same subject.
//!
//! FusionAuth's access tokens are JWTs signed with a key of the same JWKS and carry the same
//! registered claims (`iss`, `aud` = client id, `exp`, `iat`, `sub`), so the same verifier checks
//! them; their own claims (`applicationId`, `roles`, `sid`, `auth_time`) are what authorization
//! here rests on — taken only from a token whose signature verified.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use std::str::FromStr;

use openidconnect::{
    core::{
        CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier,
        CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    },
    AccessToken, AccessTokenHash, AdditionalClaims, ClaimsVerificationError, IdToken, Nonce,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Clock skew tolerated for a token's `iat` and `exp`.
pub(crate) const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// Signature algorithms accepted for ID tokens: asymmetric only.
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 9] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The crate's verifier with this app's policy added.
pub(crate) fn strict(verifier: CoreIdTokenVerifier<'_>) -> CoreIdTokenVerifier<'_> {
    verifier
        .set_allowed_algs(ALLOWED_ALGS)
        // Clock skew between FusionAuth and this server: a token is accepted until
        // MAX_CLOCK_SKEW_SECS after its `exp` (JWT times are whole seconds, too).
        .set_time_fn(|| chrono::Utc::now() - chrono::Duration::seconds(MAX_CLOCK_SKEW_SECS))
        .set_issue_time_verifier_fn(|issued_at| {
            let skew = issued_at.timestamp() - time::OffsetDateTime::now_utc().unix_timestamp();
            if skew > MAX_CLOCK_SKEW_SECS {
                Err(format!("issued {skew} s in the future"))
            } else {
                Ok(())
            }
        })
}

/// Verifies the ID token of a login: the strict policy, the attempt's nonce and, when the token
/// carries one, the `at_hash` of the access token it came with.
pub(crate) fn verify_login_id_token(
    verifier: &CoreIdTokenVerifier<'_>,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    access_token: &AccessToken,
) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
    let claims = id_token.claims(verifier, nonce)?.clone();
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(ClaimsVerificationError::SignatureVerification)?;
        let key = id_token
            .signing_key(verifier)
            .map_err(ClaimsVerificationError::SignatureVerification)?;
        let actual = AccessTokenHash::from_token(access_token, alg, key)
            .map_err(|e| ClaimsVerificationError::Other(format!("cannot compute at_hash: {e}")))?;
        if actual != *expected {
            return Err(ClaimsVerificationError::Other(
                "at_hash does not match the access token".into(),
            ));
        }
    }
    Ok(claims)
}

/// What a refreshed ID token proved.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RefreshedIdToken {
    /// Verified and about the same user.
    Valid,
    /// Verified, but about someone else: the refresh must not be used.
    OtherSubject,
}

/// Verifies an ID token from the refresh grant. Refreshed ID tokens carry no nonce (OpenID
/// Connect Core §12.2), so none is checked.
pub(crate) fn verify_refreshed_id_token(
    verifier: &CoreIdTokenVerifier<'_>,
    id_token: &CoreIdToken,
    subject: &str,
) -> Result<RefreshedIdToken, ClaimsVerificationError> {
    let claims = id_token.claims(verifier, |_: Option<&Nonce>| Ok(()))?;
    Ok(if claims.subject().as_str() == subject {
        RefreshedIdToken::Valid
    } else {
        RefreshedIdToken::OtherSubject
    })
}

/// The claims FusionAuth adds to its access tokens.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub(crate) struct FusionAuthAccessClaims {
    /// Present only when the user is registered for the application.
    #[serde(
        rename = "applicationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub application_id: Option<String>,
    /// The registration's roles; present only when the user is registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The refresh token's id (stable across one-time-use rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}
impl AdditionalClaims for FusionAuthAccessClaims {}

/// A FusionAuth access token, read as the JWT it is.
type AccessTokenJwt = IdToken<
    FusionAuthAccessClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// What a verified access token says about the user's standing with this application.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct AccessClaims {
    /// The application the user is registered for (`None`: not registered).
    pub application_id: Option<String>,
    pub roles: Vec<String>,
    /// Unix seconds of the sign-in (unchanged by refreshes).
    pub auth_time: Option<i64>,
    pub refresh_token_id: Option<String>,
}

/// Why an access token was not accepted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AccessTokenError {
    #[error("the access token is not a JWT: {0}")]
    NotAJwt(String),
    #[error("{0}")]
    Claims(#[from] ClaimsVerificationError),
    #[error("the access token names another subject than the ID token")]
    OtherSubject,
}

/// Verifies a FusionAuth access token for `subject` and returns its authorization claims.
pub(crate) fn verify_access_token(
    verifier: &CoreIdTokenVerifier<'_>,
    access_token: &AccessToken,
    subject: &str,
) -> Result<AccessClaims, AccessTokenError> {
    let jwt = AccessTokenJwt::from_str(access_token.secret())
        .map_err(|e| AccessTokenError::NotAJwt(e.to_string()))?;
    // Access tokens carry no nonce.
    let claims = jwt.claims(verifier, |_: Option<&Nonce>| Ok(()))?;
    if claims.subject().as_str() != subject {
        return Err(AccessTokenError::OtherSubject);
    }
    let extra = claims.additional_claims();
    Ok(AccessClaims {
        application_id: extra.application_id.clone(),
        roles: extra.roles.clone().unwrap_or_default(),
        auth_time: claims.auth_time().map(|at| at.timestamp()),
        refresh_token_id: extra.sid.clone(),
    })
}

/// Whether an access token's failure is an unknown signing key (FusionAuth rotated its key).
pub(crate) fn is_unknown_key(error: &AccessTokenError) -> bool {
    matches!(
        error,
        AccessTokenError::Claims(ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey
        ))
    )
}

/// Every claim of an ID token whose signature was already verified, as JSON.
pub(crate) fn verified_payload(id_token: &CoreIdToken) -> Option<Map<String, Value>> {
    let compact = id_token.to_string();
    let payload = compact.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A verification failure as one log line.
pub(crate) fn describe(error: &ClaimsVerificationError) -> String {
    match error {
        ClaimsVerificationError::SignatureVerification(inner) => {
            format!("signature verification failed: {inner}")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use openidconnect::{
        core::{CoreGenderClaim, CoreJsonWebKeySet, CoreRsaPrivateSigningKey},
        Audience, ClientId, ClientSecret, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId,
        PrivateSigningKey, StandardClaims, SubjectIdentifier,
    };

    use super::*;

    const KEY: &str = include_str!("../../../tests/fixtures/test-signing-key-1.pem");
    const ISSUER: &str = "http://localhost:9011";
    const CLIENT_ID: &str = "client";
    const CLIENT_SECRET: &str = "client-secret";

    fn signing_key() -> CoreRsaPrivateSigningKey {
        CoreRsaPrivateSigningKey::from_pem(KEY, Some(JsonWebKeyId::new("k1".into()))).unwrap()
    }

    fn claims(subject: &str, issued_in: i64, nonce: &str) -> CoreIdTokenClaims {
        let now = chrono::Utc::now();
        CoreIdTokenClaims::new(
            IssuerUrl::new(ISSUER.into()).unwrap(),
            vec![Audience::new(CLIENT_ID.into())],
            now + chrono::Duration::seconds(3600),
            now + chrono::Duration::seconds(issued_in),
            StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(subject.into())),
            EmptyAdditionalClaims {},
        )
        .set_nonce(Some(Nonce::new(nonce.into())))
    }

    fn sign(claims: CoreIdTokenClaims, at_hash_of: &str) -> CoreIdToken {
        let access_token = AccessToken::new(at_hash_of.into());
        CoreIdToken::new(
            claims,
            &signing_key(),
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            Some(&access_token),
            None,
        )
        .unwrap()
    }

    fn check(id_token: &CoreIdToken, nonce: &str, access_token: &str) -> Result<(), String> {
        let jwks = CoreJsonWebKeySet::new(vec![signing_key().as_verification_key()]);
        let verifier = strict(CoreIdTokenVerifier::new_confidential_client(
            ClientId::new(CLIENT_ID.into()),
            ClientSecret::new(CLIENT_SECRET.into()),
            IssuerUrl::new(ISSUER.into()).unwrap(),
            jwks,
        ));
        let nonce = Nonce::new(nonce.into());
        verify_login_id_token(
            &verifier,
            id_token,
            &nonce,
            &AccessToken::new(access_token.into()),
        )
        .map(|_| ())
        .map_err(|e| describe(&e))
    }

    /// A compact JWS with these header and claims, HMAC-signed with `secret` or unsigned.
    fn handmade(header: &str, claims: &CoreIdTokenClaims, secret: Option<&[u8]>) -> CoreIdToken {
        use hmac::Mac;
        let encode = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let input = format!(
            "{}.{}",
            encode(header.as_bytes()),
            encode(&serde_json::to_vec(claims).unwrap())
        );
        let signature = secret.map_or(String::new(), |secret| {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
            mac.update(input.as_bytes());
            encode(&mac.finalize().into_bytes())
        });
        CoreIdToken::from_str(&format!("{input}.{signature}")).unwrap()
    }

    #[test]
    fn a_well_formed_token_passes() {
        let token = sign(claims("user", 0, "n"), "access");
        assert_eq!(check(&token, "n", "access"), Ok(()));
        assert_eq!(verified_payload(&token).unwrap()["sub"], "user");
    }

    #[test]
    fn the_nonce_and_the_access_token_hash_must_match() {
        let token = sign(claims("user", 0, "n"), "access");
        assert!(check(&token, "other", "access")
            .unwrap_err()
            .contains("nonce"));
        let error = check(&token, "n", "another-access-token").unwrap_err();
        assert!(error.contains("at_hash"), "{error}");
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused_beyond_the_skew() {
        let within = sign(claims("user", MAX_CLOCK_SKEW_SECS - 5, "n"), "a");
        assert_eq!(check(&within, "n", "a"), Ok(()));
        let beyond = sign(claims("user", MAX_CLOCK_SKEW_SECS + 60, "n"), "a");
        assert!(check(&beyond, "n", "a")
            .unwrap_err()
            .contains("in the future"));
    }

    #[test]
    fn unsigned_and_hmac_tokens_are_refused() {
        let claims = claims("user", 0, "n");
        let none = handmade(r#"{"alg":"none","kid":"k1"}"#, &claims, None);
        assert!(check(&none, "n", "a").is_err());
        // HMAC keyed with the client secret would verify with the crate's defaults.
        let hs256 = handmade(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            &claims,
            Some(CLIENT_SECRET.as_bytes()),
        );
        let error = check(&hs256, "n", "a").unwrap_err();
        assert!(error.contains("signature"), "{error}");
    }

    #[test]
    fn a_refreshed_token_about_someone_else_is_flagged() {
        let jwks = CoreJsonWebKeySet::new(vec![signing_key().as_verification_key()]);
        let verifier = strict(CoreIdTokenVerifier::new_public_client(
            ClientId::new(CLIENT_ID.into()),
            IssuerUrl::new(ISSUER.into()).unwrap(),
            jwks,
        ));
        let token = sign(claims("user", 0, "ignored"), "a");
        assert_eq!(
            verify_refreshed_id_token(&verifier, &token, "user").unwrap(),
            RefreshedIdToken::Valid
        );
        assert_eq!(
            verify_refreshed_id_token(&verifier, &token, "someone-else").unwrap(),
            RefreshedIdToken::OtherSubject
        );
    }
}

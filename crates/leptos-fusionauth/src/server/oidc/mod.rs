//! The OpenID Connect relying party: the authorization request, the code exchange with ID token
//! verification and userinfo, the refresh grant and the RP-initiated logout URL. Built on
//! `openidconnect`; it depends on the configuration alone and knows nothing of pages or
//! sessions. Around the crate it adds what FusionAuth needs: lazy, refreshable discovery and a
//! JWKS re-fetch on an unknown signing key ([`discovery`]), a strict ID token policy
//! ([`verify`]) and FusionAuth's `/oauth2/register` endpoint.

pub(crate) mod discovery;
pub(crate) mod error;
pub(crate) mod types;
pub(crate) mod verify;

use std::{
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    core::{
        CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim,
        CoreIdToken, CoreIdTokenClaims, CoreTokenResponse,
    },
    AccessToken, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId,
    ClientSecret, CsrfToken, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    SignatureVerificationError, TokenResponse, UserInfoClaims, UserInfoError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::config::Config;
use discovery::{ClientIdentity, Discovery, DiscoveryCache, Freshness};
pub(crate) use error::{OidcError, RefreshError, RevocationError};
pub(crate) use types::{
    AuthorizationEndpoint, AuthorizationRequest, PendingLogin, Reauthentication, TokenSet,
    VerifiedLogin,
};
use verify::{AccessClaims, RefreshedIdToken};

/// A refresh's result: the new token set, and what its access token says.
pub(crate) struct RefreshedTokens {
    pub tokens: TokenSet,
    pub access: AccessClaims,
}

/// Userinfo claims FusionAuth adds beyond the standard ones.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct FusionAuthUserInfo {
    #[serde(
        rename = "applicationId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    application_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
}
impl AdditionalClaims for FusionAuthUserInfo {}

/// Why the userinfo endpoint did not describe the user.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UserinfoFailure {
    #[error("the identity provider refused the access token (401)")]
    TokenRefused,
    #[error("userinfo unavailable: {0}")]
    Unavailable(String),
}

/// Which refresh tokens a revocation ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Revocation {
    /// The one presented (this session's).
    ThisToken,
    /// Every refresh token of its owner, in every application, and their SSO session.
    AllOfTheUser,
}

/// The HTTP client could not be built (a TLS backend problem at start-up).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client for the identity provider: {0}")]
pub struct HttpClientError(#[from] reqwest::Error);

/// The app's connection to the identity provider.
pub(crate) struct OidcProvider {
    issuer: String,
    client_id: ClientId,
    post_logout_redirect_uri: PostLogoutRedirectUrl,
    scopes: Vec<Scope>,
    discovery_ttl: Duration,
    http: reqwest::Client,
    discovery: DiscoveryCache,
}

impl OidcProvider {
    pub(crate) fn new(config: &Config) -> Result<Self, HttpClientError> {
        let http = reqwest::Client::builder()
            // Following redirects from the provider would open the app to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.provider_timeout)
            .build()?;
        let identity = ClientIdentity {
            issuer: config.issuer.clone(),
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: ClientSecret::new(config.client_secret.clone()),
            redirect_uri: RedirectUrl::from_url(config.redirect_uri()),
        };
        Ok(Self {
            issuer: config.issuer.clone(),
            client_id: identity.client_id.clone(),
            post_logout_redirect_uri: PostLogoutRedirectUrl::from_url(
                config.post_logout_redirect_uri(),
            ),
            // `openid` is always sent by the client itself.
            scopes: config
                .scopes
                .iter()
                .filter(|scope| *scope != "openid")
                .map(|scope| Scope::new(scope.clone()))
                .collect(),
            discovery_ttl: config.discovery_ttl,
            discovery: DiscoveryCache::new(identity, http.clone()),
            http,
        })
    }

    /// Step 1: the authorization request. Returns the URL to send the browser to and the
    /// attempt to remember until the callback (PKCE verifier, state, nonce).
    pub(crate) async fn begin_login(
        &self,
        request: AuthorizationRequest,
        return_to: String,
        now: i64,
    ) -> Result<(Url, PendingLogin), OidcError> {
        // A login is where a provider outage or a changed configuration should show, so it
        // refreshes discovery once the cached copy is older than the TTL.
        let discovery = self
            .discovery
            .get(Freshness::YoungerThan(self.discovery_ttl))
            .await?;
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let mut authorization = discovery
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(pkce_challenge);
        let max_age_secs = match request.reauthentication {
            Reauthentication::NotRequired => None,
            Reauthentication::Always => {
                authorization = authorization.add_prompt(CoreAuthPrompt::Login);
                None
            }
            Reauthentication::WithinSeconds(seconds) => {
                authorization = authorization
                    .add_prompt(CoreAuthPrompt::Login)
                    .set_max_age(Duration::from_secs(seconds));
                Some(seconds)
            }
        };
        let (mut url, state, nonce) = authorization.url();
        if request.endpoint == AuthorizationEndpoint::Register {
            // FusionAuth's registration endpoint takes exactly the authorize parameters.
            url.set_path(discovery.registration_endpoint.path());
        }
        let pending = PendingLogin {
            state: state.into_secret(),
            pkce_verifier: pkce_verifier.into_secret(),
            nonce: nonce.secret().clone(),
            return_to,
            started_at: now,
            max_age_secs,
        };
        Ok((url, pending))
    }

    /// Steps 2–4: exchange the code (with the PKCE verifier), verify the ID token, fetch
    /// userinfo. The caller has already matched `state` to `pending`.
    pub(crate) async fn finish_login(
        &self,
        code: String,
        pending: &PendingLogin,
        now: i64,
    ) -> Result<VerifiedLogin, OidcError> {
        // Time spent waiting for the provider, so the app's own share can be reported.
        let mut waited = Duration::ZERO;
        let discovery = timed(&mut waited, self.discovery.get(Freshness::Cached)).await?;
        let response = timed(&mut waited, self.exchange_code(&discovery, code, pending)).await?;
        let id_token = response.id_token().ok_or_else(|| {
            OidcError::InvalidIdToken("the token response has no id_token".into())
        })?;
        let nonce = Nonce::new(pending.nonce.clone());
        let verified = timed(
            &mut waited,
            self.verify_with_key_rotation(&discovery, id_token, &nonce, response.access_token()),
        )
        .await?;
        let subject = verified.subject().as_str().to_owned();
        // The ID token's check may have re-fetched the keys: verify with the current copy.
        let current = self.discovery.get(Freshness::Cached).await?;
        let access = self
            .verify_access_token(&current, response.access_token(), &subject)
            .await?;
        let mut claims = verify::verified_payload(id_token)
            .ok_or_else(|| OidcError::InvalidIdToken("payload is not a JSON object".into()))?;
        let userinfo = self.userinfo(&discovery, response.access_token(), &verified);
        if let Some(userinfo) = timed(&mut waited, userinfo).await? {
            merge_claims(&mut claims, userinfo);
        }
        Ok(VerifiedLogin {
            email: display_name(&claims, &subject),
            auth_time: verified.auth_time().map(|at| at.timestamp()),
            subject,
            access,
            claims,
            tokens: token_set(&response, id_token.to_string(), None, now),
            provider_time: waited,
        })
    }

    /// Exchanges the refresh token for a new token set. A refresh token the provider does not
    /// rotate is kept; a new ID token is kept only if it verifies and names the same subject
    /// (it is used as the logout hint).
    pub(crate) async fn refresh(
        &self,
        current: &TokenSet,
        subject: &str,
        now: i64,
    ) -> Result<RefreshedTokens, RefreshError> {
        let refresh_token = current.refresh_token.as_ref().ok_or_else(|| {
            RefreshError::Refused("no refresh token (offline_access not granted)".into())
        })?;
        let discovery = self
            .discovery
            .get(Freshness::Cached)
            .await
            .map_err(|e| RefreshError::Unavailable(e.to_string()))?;
        let response = self.refresh_grant(&discovery, refresh_token).await?;
        let access = self
            .verify_access_token(&discovery, response.access_token(), subject)
            .await
            .map_err(refreshed_token_rejected)?;
        // The access token's check may have re-fetched the keys: the ID token with the new copy.
        let keys = self
            .discovery
            .get(Freshness::Cached)
            .await
            .unwrap_or(discovery);
        let fresh_id_token = match response.id_token() {
            Some(fresh) => keep_refreshed_id_token(&keys, fresh, subject)?,
            None => None,
        };
        let id_token = fresh_id_token.unwrap_or_else(|| current.id_token.clone());
        Ok(RefreshedTokens {
            tokens: token_set(&response, id_token, Some(current), now),
            access,
        })
    }

    /// Revokes refresh tokens with FusionAuth's Logout API (`POST /api/logout`, no API key: the
    /// refresh token itself is the credential). `/oauth2/logout` alone ends only FusionAuth's SSO
    /// session; the refresh token would stay valid for its whole lifetime (30 days in the
    /// kickstart). FusionAuth then sends `jwt.refresh-token.revoke` to every webhook, which is how
    /// other applications (and other instances of this one) learn of it.
    pub(crate) async fn revoke_refresh_token(
        &self,
        refresh_token: &str,
        revocation: Revocation,
    ) -> Result<(), RevocationError> {
        let url = Url::parse(&self.issuer)
            .and_then(|issuer| issuer.join("/api/logout"))
            .map_err(|e| RevocationError(format!("no Logout API URL: {e}")))?;
        let body = serde_json::json!({
            "refreshToken": refresh_token,
            "global": revocation == Revocation::AllOfTheUser,
        });
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| RevocationError(error::error_chain(&e)))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => Err(RevocationError(format!("the Logout API answered {status}"))),
        }
    }

    /// The user as FusionAuth describes them now, asked with the user's own access token at the
    /// userinfo endpoint. (FusionAuth's User API no longer accepts a user's JWT: its JWT
    /// authentication was deprecated in 1.50 and removed in 1.60; userinfo is its replacement.)
    pub(crate) async fn current_userinfo(
        &self,
        access_token: &str,
    ) -> Result<Map<String, Value>, UserinfoFailure> {
        let discovery = self
            .discovery
            .get(Freshness::Cached)
            .await
            .map_err(|e| UserinfoFailure::Unavailable(e.to_string()))?;
        let url = discovery
            .client
            .user_info_url()
            .ok_or_else(|| UserinfoFailure::Unavailable("no userinfo endpoint".into()))?
            .url()
            .clone();
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| UserinfoFailure::Unavailable(error::error_chain(&e)))?;
        match response.status() {
            reqwest::StatusCode::UNAUTHORIZED => Err(UserinfoFailure::TokenRefused),
            status if status.is_success() => response
                .json()
                .await
                .map_err(|e| UserinfoFailure::Unavailable(format!("unreadable userinfo: {e}"))),
            status => Err(UserinfoFailure::Unavailable(format!(
                "userinfo answered {status}"
            ))),
        }
    }

    /// The RP-initiated logout URL (FusionAuth's `/oauth2/logout`), or `None` when the provider
    /// advertises no end-session endpoint or cannot be reached (the local logout still counts).
    /// The ID token is the hint, when the session still had one; `state` comes back to the
    /// post-logout redirect URI.
    pub(crate) async fn logout_url(
        &self,
        id_token: Option<&str>,
        state: Option<&str>,
    ) -> Option<Url> {
        let discovery = match self.discovery.get(Freshness::Cached).await {
            Ok(discovery) => discovery,
            Err(e) => {
                tracing::warn!(reason = %e, "provider logout skipped");
                return None;
            }
        };
        let mut request = LogoutRequest::from(discovery.end_session_endpoint.clone()?)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.post_logout_redirect_uri.clone());
        if let Some(token) = id_token.and_then(|t| CoreIdToken::from_str(t).ok()) {
            request = request.set_id_token_hint(&token);
        }
        if let Some(state) = state {
            request = request.set_state(CsrfToken::new(state.to_owned()));
        }
        Some(request.http_get_url())
    }

    async fn exchange_code(
        &self,
        discovery: &Discovery,
        code: String,
        pending: &PendingLogin,
    ) -> Result<CoreTokenResponse, OidcError> {
        let request = discovery
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::ProviderUnavailable(format!("no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()));
        request
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(response) => {
                    OidcError::CodeRejected(response.error().as_ref().to_owned())
                }
                RequestTokenError::Request(e) => OidcError::ProviderUnavailable(format!(
                    "token request failed: {}",
                    error::error_chain(&e)
                )),
                RequestTokenError::Parse(e, _) => {
                    OidcError::ProviderUnavailable(format!("unreadable token response: {e}"))
                }
                RequestTokenError::Other(e) => {
                    OidcError::ProviderUnavailable(format!("token request failed: {e}"))
                }
            })
    }

    /// Verifies the login's ID token; when it names a key we do not know (FusionAuth rotated
    /// its signing key), fetches the JWKS once and tries again.
    async fn verify_with_key_rotation(
        &self,
        discovery: &Arc<Discovery>,
        id_token: &CoreIdToken,
        nonce: &Nonce,
        access_token: &AccessToken,
    ) -> Result<CoreIdTokenClaims, OidcError> {
        let verify = |discovery: &Discovery| {
            let verifier = verify::strict(discovery.client.id_token_verifier());
            verify::verify_login_id_token(&verifier, id_token, nonce, access_token)
        };
        match verify(discovery) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let refreshed = self.discovery.refetch_after_unknown_key(discovery).await?;
                verify(&refreshed)
            }
            other => other,
        }
        .map_err(|e| OidcError::InvalidIdToken(verify::describe(&e)))
    }

    /// Verifies the access token like the ID token (same JWKS; an unknown key re-fetches it,
    /// or waits for the re-fetch under way) and returns the claims authorization rests on. A key
    /// still unknown after that is [`OidcError::UnknownKey`].
    async fn verify_access_token(
        &self,
        discovery: &Arc<Discovery>,
        access_token: &AccessToken,
        subject: &str,
    ) -> Result<AccessClaims, OidcError> {
        let verify = |discovery: &Discovery| {
            let verifier = verify::strict(discovery.client.id_token_verifier());
            verify::verify_access_token(&verifier, access_token, subject)
        };
        let verified = match verify(discovery) {
            Err(e) if verify::is_unknown_key(&e) => {
                let refreshed = self.discovery.refetch_after_unknown_key(discovery).await?;
                verify(&refreshed)
            }
            other => other,
        };
        verified.map_err(|e| match verify::is_unknown_key(&e) {
            true => OidcError::UnknownKey(e.to_string()),
            false => OidcError::InvalidAccessToken(e.to_string()),
        })
    }

    /// This application's client id.
    pub(crate) fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    async fn refresh_grant(
        &self,
        discovery: &Discovery,
        refresh_token: &str,
    ) -> Result<CoreTokenResponse, RefreshError> {
        let refresh_token = RefreshToken::new(refresh_token.to_owned());
        let request = discovery
            .client
            .exchange_refresh_token(&refresh_token)
            .map_err(|e| RefreshError::Unavailable(format!("no token endpoint: {e}")))?;
        request
            .request_async(&self.http)
            .await
            .map_err(refresh_failure)
    }

    /// Userinfo claims, or `None` when the provider has no userinfo endpoint or it fails: the
    /// verified ID token is enough to sign in. A userinfo answer about another subject is an
    /// attack, not an outage, and rejects the login.
    async fn userinfo(
        &self,
        discovery: &Discovery,
        access_token: &AccessToken,
        claims: &CoreIdTokenClaims,
    ) -> Result<Option<Map<String, Value>>, OidcError> {
        let Ok(request) = discovery
            .client
            .user_info(access_token.clone(), Some(claims.subject().clone()))
        else {
            return Ok(None);
        };
        let result: Result<UserInfoClaims<FusionAuthUserInfo, CoreGenderClaim>, _> =
            request.request_async(&self.http).await;
        match result {
            Ok(userinfo) => match serde_json::to_value(&userinfo) {
                Ok(Value::Object(map)) => Ok(Some(map)),
                _ => Ok(None),
            },
            Err(UserInfoError::ClaimsVerification(e)) => Err(OidcError::InvalidIdToken(format!(
                "userinfo does not match the ID token: {}",
                verify::describe(&e)
            ))),
            Err(e) => {
                tracing::warn!(reason = %error::error_chain(&e), "userinfo unavailable; using ID token claims only");
                Ok(None)
            }
        }
    }
}

/// Only `invalid_grant` (the refresh token is revoked, expired or already used) ends the session;
/// every other answer — `invalid_client`, `server_error`, `temporarily_unavailable`, a 5xx page,
/// a timeout — is the provider's or the configuration's trouble, not the user's, and is retried.
fn refresh_failure<E: std::error::Error + 'static>(
    error: RequestTokenError<E, TokenErrorResponse>,
) -> RefreshError {
    match error {
        RequestTokenError::ServerResponse(response)
            if *response.error() == CoreErrorResponseType::InvalidGrant =>
        {
            RefreshError::Refused(describe_error_response(&response))
        }
        RequestTokenError::ServerResponse(response) => {
            RefreshError::Unavailable(describe_error_response(&response))
        }
        other => RefreshError::Unavailable(error::error_chain(&other)),
    }
}

/// A refreshed access token that did not verify. A key rotation under way, a JWKS that cannot
/// be fetched now, or a provider that cannot be reached is the provider's trouble (the session
/// stays, the refresh is retried); a token that verifies badly (another subject, audience or
/// issuer) ends the session.
fn refreshed_token_rejected(error: OidcError) -> RefreshError {
    match error {
        OidcError::UnknownKey(reason) | OidcError::ProviderUnavailable(reason) => {
            RefreshError::Unavailable(format!(
                "the new access token cannot be checked yet: {reason}"
            ))
        }
        other => RefreshError::Refused(other.to_string()),
    }
}

/// The error answer of the token endpoint.
type TokenErrorResponse = openidconnect::StandardErrorResponse<CoreErrorResponseType>;

/// `invalid_grant: The refresh_token is invalid.`
fn describe_error_response(response: &TokenErrorResponse) -> String {
    match response.error_description() {
        Some(description) => format!("{}: {description}", response.error().as_ref()),
        None => response.error().as_ref().to_owned(),
    }
}

/// The new ID token from a refresh when it verifies and names the same user; `None` (keep the
/// current one) when it does not verify.
fn keep_refreshed_id_token(
    discovery: &Discovery,
    fresh: &CoreIdToken,
    subject: &str,
) -> Result<Option<String>, RefreshError> {
    let verifier = verify::strict(discovery.client.id_token_verifier());
    match verify::verify_refreshed_id_token(&verifier, fresh, subject) {
        Ok(RefreshedIdToken::Valid) => Ok(Some(fresh.to_string())),
        Ok(RefreshedIdToken::OtherSubject) => Err(RefreshError::Refused(
            "the refreshed ID token names another subject".into(),
        )),
        Err(e) => {
            tracing::warn!(reason = %verify::describe(&e), "refreshed ID token ignored");
            Ok(None)
        }
    }
}

/// The token set of a token response with a verified `id_token`. After a refresh, a refresh
/// token the provider does not rotate is kept from `previous`.
fn token_set(
    response: &CoreTokenResponse,
    id_token: String,
    previous: Option<&TokenSet>,
    now: i64,
) -> TokenSet {
    TokenSet {
        access_token: response.access_token().secret().clone(),
        refresh_token: response
            .refresh_token()
            .map(|t| t.secret().clone())
            .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
        id_token,
        access_token_expires_at: response
            .expires_in()
            .map(|lifetime| now + lifetime.as_secs() as i64),
    }
}

/// Userinfo claims added to the ID token's (nulls are skipped).
fn merge_claims(claims: &mut Map<String, Value>, userinfo: Map<String, Value>) {
    for (name, value) in userinfo {
        if !value.is_null() {
            claims.insert(name, value);
        }
    }
}

/// The name the profile greets: the email, else the username, else the subject.
fn display_name(claims: &Map<String, Value>, subject: &str) -> String {
    ["email", "preferred_username"]
        .iter()
        .find_map(|name| claims.get(*name).and_then(Value::as_str))
        .unwrap_or(subject)
        .to_owned()
}

/// Awaits `future`, adding the time it took to `spent`.
async fn timed<T>(spent: &mut Duration, future: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let output = future.await;
    *spent += started.elapsed();
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_greets_by_email_then_username_then_subject() {
        let mut claims = Map::new();
        assert_eq!(display_name(&claims, "sub-1"), "sub-1");
        claims.insert("preferred_username".into(), "richard".into());
        assert_eq!(display_name(&claims, "sub-1"), "richard");
        claims.insert("email".into(), "richard@example.com".into());
        assert_eq!(display_name(&claims, "sub-1"), "richard@example.com");
    }

    #[test]
    fn userinfo_adds_claims_but_never_nulls() {
        let mut claims = Map::new();
        claims.insert("email".into(), "a@b.c".into());
        let mut userinfo = Map::new();
        userinfo.insert("email".into(), Value::Null);
        userinfo.insert("name".into(), "A B".into());
        merge_claims(&mut claims, userinfo);
        assert_eq!(claims["email"], "a@b.c");
        assert_eq!(claims["name"], "A B");
    }
}

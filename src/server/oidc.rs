//! The OpenID Connect relying party: discovery, the authorization request, the code exchange,
//! ID token verification, userinfo and the RP-initiated logout URL. Built on `openidconnect`;
//! this module only adds what FusionAuth needs around it: lazy and refreshable discovery, a JWKS
//! re-fetch on an unknown signing key, and FusionAuth's `/oauth2/register` endpoint.

use std::{
    str::FromStr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use openidconnect::{
    core::{
        CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreIdTokenClaims,
        CoreIdTokenVerifier, CoreJwsSigningAlgorithm, CoreTokenResponse,
    },
    AccessToken, AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError,
    ClientId, ClientSecret, CsrfToken, EndSessionUrl, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse, UserInfoClaims,
    UserInfoError,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::{
    config::AppConfig,
    session::{PendingLogin, TokenSet},
};
use crate::auth::AuthFailure;

/// The client type `from_provider_metadata` yields: authorization endpoint set, token and
/// userinfo endpoints present when the provider advertises them.
type FusionAuthClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A key-triggered JWKS refresh happens at most this often, so forged `kid`s cannot make the app
/// hammer the provider.
const KEY_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(30);
/// Clock skew tolerated for an ID token's `iat`.
const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// Which FusionAuth page the login starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginFlow {
    SignIn,
    Register,
}

/// Why a protocol step failed. Each maps to an [`AuthFailure`] the user sees; the text is for
/// the log and never contains a token.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider unreachable: {0}")]
    ProviderUnavailable(String),
    #[error("token endpoint refused the authorization code: {0}")]
    CodeRejected(String),
    #[error("ID token rejected: {0}")]
    InvalidIdToken(String),
}

/// Why a refresh did not produce new tokens.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The provider refused the refresh token (revoked, expired, already used): the session is
    /// over.
    #[error("refresh token refused: {0}")]
    Refused(String),
    /// The provider could not be asked; the current tokens stay, a later request tries again.
    #[error("identity provider unreachable: {0}")]
    Unavailable(String),
}

impl OidcError {
    pub fn failure(&self) -> AuthFailure {
        match self {
            Self::ProviderUnavailable(_) => AuthFailure::ProviderUnavailable,
            Self::CodeRejected(_) => AuthFailure::CodeRejected,
            Self::InvalidIdToken(_) => AuthFailure::InvalidIdToken,
        }
    }
}

/// A completed, verified login.
pub struct VerifiedLogin {
    pub subject: String,
    pub email: String,
    /// Verified ID token claims merged with userinfo.
    pub claims: Map<String, Value>,
    pub tokens: TokenSet,
    /// How long the login waited for the provider (token, userinfo, JWKS requests).
    pub provider_time: Duration,
}

/// Awaits `future`, adding the time it took to `spent`.
async fn timed<T>(spent: &mut Duration, future: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let output = future.await;
    *spent += started.elapsed();
    output
}

/// What discovery yields, ready to use.
struct Discovery {
    client: FusionAuthClient,
    end_session_endpoint: Option<EndSessionUrl>,
    registration_endpoint: Url,
    fetched_at: Instant,
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

/// The app's connection to the identity provider. Discovery is lazy: the app starts and serves
/// guests while FusionAuth is still down, and picks it up on the next login.
pub struct OidcProvider {
    issuer: String,
    client_id: ClientId,
    client_secret: ClientSecret,
    redirect_uri: RedirectUrl,
    post_logout_redirect_uri: PostLogoutRedirectUrl,
    scopes: Vec<Scope>,
    discovery_ttl: Duration,
    http: reqwest::Client,
    cached: tokio::sync::RwLock<Option<Arc<Discovery>>>,
    /// Serialises fetches so concurrent logins trigger one discovery request, not many.
    fetching: tokio::sync::Mutex<()>,
    last_key_refresh: Mutex<Option<Instant>>,
}

impl OidcProvider {
    pub fn new(config: &AppConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            // Following redirects from the provider would open the app to SSRF.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.provider_timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            issuer: config.issuer.clone(),
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: ClientSecret::new(config.client_secret.clone()),
            redirect_uri: RedirectUrl::from_url(config.redirect_uri()),
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
            http,
            cached: tokio::sync::RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            last_key_refresh: Mutex::new(None),
        })
    }

    /// Step 1: the authorization request. Returns the URL to send the browser to and the
    /// attempt to remember in the session (PKCE verifier, state, nonce).
    pub async fn begin_login(
        &self,
        flow: LoginFlow,
        return_to: String,
        now: i64,
    ) -> Result<(Url, PendingLogin), OidcError> {
        // A login is where a provider outage or a changed configuration should show, so it
        // refreshes discovery once the cached copy is older than the TTL.
        let discovery = self.discovery(Some(self.discovery_ttl)).await?;
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let (mut url, state, nonce) = discovery
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(pkce_challenge)
            .url();
        if flow == LoginFlow::Register {
            // FusionAuth's registration endpoint takes exactly the authorize parameters.
            url.set_path(discovery.registration_endpoint.path());
        }
        let pending = PendingLogin {
            state: state.into_secret(),
            pkce_verifier: pkce_verifier.into_secret(),
            nonce: nonce.secret().clone(),
            return_to,
            started_at: now,
        };
        Ok((url, pending))
    }

    /// Steps 2–4: exchange the code (with the PKCE verifier), verify the ID token, fetch
    /// userinfo. The caller has already matched `state` to `pending`.
    pub async fn finish_login(
        &self,
        code: String,
        pending: &PendingLogin,
        now: i64,
    ) -> Result<VerifiedLogin, OidcError> {
        // Time spent waiting for the provider, so the app's own share can be reported.
        let mut waited = Duration::ZERO;
        let discovery = timed(&mut waited, self.discovery(None)).await?;
        let token_response =
            timed(&mut waited, self.exchange_code(&discovery, code, pending)).await?;
        let id_token = token_response.id_token().ok_or_else(|| {
            OidcError::InvalidIdToken("the token response has no id_token".into())
        })?;
        let nonce = Nonce::new(pending.nonce.clone());
        let access_token = token_response.access_token();

        let claims = match verify_id_token(&discovery.client, id_token, &nonce, access_token) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                // FusionAuth rotated its signing key: fetch the new JWKS once and try again.
                let refreshed = timed(&mut waited, self.refresh_after_unknown_key()).await?;
                verify_id_token(&refreshed.client, id_token, &nonce, access_token)
            }
            other => other,
        }
        .map_err(|e| OidcError::InvalidIdToken(describe_claims_error(&e)))?;

        let mut all_claims = id_token_payload(id_token)?;
        if let Some(userinfo) = timed(
            &mut waited,
            self.userinfo(&discovery, access_token, &claims),
        )
        .await?
        {
            for (name, value) in userinfo {
                if !value.is_null() {
                    all_claims.insert(name, value);
                }
            }
        }

        let subject = claims.subject().as_str().to_owned();
        let email = ["email", "preferred_username"]
            .iter()
            .find_map(|name| all_claims.get(*name).and_then(Value::as_str))
            .unwrap_or(&subject)
            .to_owned();
        let tokens = TokenSet {
            access_token: access_token.secret().clone(),
            refresh_token: token_response.refresh_token().map(|t| t.secret().clone()),
            id_token: id_token.to_string(),
            access_token_expires_at: access_token_expiry(&token_response, now),
        };
        Ok(VerifiedLogin {
            subject,
            email,
            claims: all_claims,
            tokens,
            provider_time: waited,
        })
    }

    /// Exchanges the refresh token for a new token set. A refresh token the provider does not
    /// rotate is kept; a new ID token is kept only if it verifies and names the same subject
    /// (it is used as the logout hint).
    pub async fn refresh(
        &self,
        current: &TokenSet,
        subject: &str,
        now: i64,
    ) -> Result<TokenSet, RefreshError> {
        let refresh_token = current
            .refresh_token
            .as_ref()
            .map(|t| RefreshToken::new(t.clone()))
            .ok_or_else(|| {
                RefreshError::Refused("no refresh token (offline_access not granted)".into())
            })?;
        let discovery = self
            .discovery(None)
            .await
            .map_err(|e| RefreshError::Unavailable(e.to_string()))?;
        let request = discovery
            .client
            .exchange_refresh_token(&refresh_token)
            .map_err(|e| RefreshError::Unavailable(format!("no token endpoint: {e}")))?;
        let response: CoreTokenResponse =
            request
                .request_async(&self.http)
                .await
                .map_err(|e| match e {
                    RequestTokenError::ServerResponse(response) => {
                        RefreshError::Refused(response.error().as_ref().to_owned())
                    }
                    other => RefreshError::Unavailable(error_chain(&other)),
                })?;
        let id_token = match response.id_token() {
            Some(fresh) => {
                let verifier = strict_verifier(&discovery.client);
                // Refreshed ID tokens carry no nonce (OpenID Connect Core §12.2).
                match fresh.claims(&verifier, |_: Option<&Nonce>| Ok(())) {
                    Ok(claims) if claims.subject().as_str() == subject => fresh.to_string(),
                    Ok(_) => {
                        return Err(RefreshError::Refused(
                            "the refreshed ID token names another subject".into(),
                        ))
                    }
                    Err(e) => {
                        tracing::warn!(reason = %describe_claims_error(&e), "refreshed ID token ignored");
                        current.id_token.clone()
                    }
                }
            }
            None => current.id_token.clone(),
        };
        Ok(TokenSet {
            access_token: response.access_token().secret().clone(),
            refresh_token: response
                .refresh_token()
                .map(|t| t.secret().clone())
                .or_else(|| current.refresh_token.clone()),
            id_token,
            access_token_expires_at: access_token_expiry(&response, now),
        })
    }

    /// The RP-initiated logout URL (FusionAuth's `/oauth2/logout`), or `None` when the provider
    /// advertises no end-session endpoint or cannot be reached (the local logout still counts).
    pub async fn logout_url(&self, id_token: &str) -> Option<Url> {
        let discovery = match self.discovery(None).await {
            Ok(discovery) => discovery,
            Err(e) => {
                tracing::warn!(reason = %e, "provider logout skipped");
                return None;
            }
        };
        let mut request = LogoutRequest::from(discovery.end_session_endpoint.clone()?)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.post_logout_redirect_uri.clone());
        if let Ok(token) = CoreIdToken::from_str(id_token) {
            request = request.set_id_token_hint(&token);
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
                    error_chain(&e)
                )),
                RequestTokenError::Parse(e, _) => {
                    OidcError::ProviderUnavailable(format!("unreadable token response: {e}"))
                }
                RequestTokenError::Other(e) => {
                    OidcError::ProviderUnavailable(format!("token request failed: {e}"))
                }
            })
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
                describe_claims_error(&e)
            ))),
            Err(e) => {
                tracing::warn!(reason = %error_chain(&e), "userinfo unavailable; using ID token claims only");
                Ok(None)
            }
        }
    }

    /// The cached discovery if it is younger than `max_age` (`None`: any age), else a fresh one.
    async fn discovery(&self, max_age: Option<Duration>) -> Result<Arc<Discovery>, OidcError> {
        let usable = |discovery: &Option<Arc<Discovery>>| {
            discovery
                .as_ref()
                .filter(|d| max_age.is_none_or(|max| d.fetched_at.elapsed() < max))
                .cloned()
        };
        if let Some(discovery) = usable(&*self.cached.read().await) {
            return Ok(discovery);
        }
        let _single_flight = self.fetching.lock().await;
        if let Some(discovery) = usable(&*self.cached.read().await) {
            return Ok(discovery);
        }
        self.fetch_and_cache().await
    }

    /// Re-fetches discovery and JWKS after an ID token named a key we do not know, at most once
    /// per [`KEY_REFRESH_MIN_INTERVAL`].
    async fn refresh_after_unknown_key(&self) -> Result<Arc<Discovery>, OidcError> {
        {
            let mut last = self
                .last_key_refresh
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < KEY_REFRESH_MIN_INTERVAL) {
                return Err(OidcError::InvalidIdToken(
                    "signed with an unknown key (JWKS was refreshed moments ago)".into(),
                ));
            }
            *last = Some(Instant::now());
        }
        tracing::info!("ID token signed with an unknown key; re-fetching the provider's JWKS");
        let _single_flight = self.fetching.lock().await;
        self.fetch_and_cache().await
    }

    async fn fetch_and_cache(&self) -> Result<Arc<Discovery>, OidcError> {
        let discovery = Arc::new(self.fetch_discovery().await?);
        *self.cached.write().await = Some(discovery.clone());
        Ok(discovery)
    }

    async fn fetch_discovery(&self) -> Result<Discovery, OidcError> {
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| OidcError::ProviderUnavailable(format!("invalid issuer URL: {e}")))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                OidcError::ProviderUnavailable(format!(
                    "discovery at {} failed: {}",
                    self.issuer,
                    error_chain(&e)
                ))
            })?;
        let end_session_endpoint = metadata.additional_metadata().end_session_endpoint.clone();
        let registration_endpoint = registration_endpoint(metadata.authorization_endpoint().url());
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            Some(self.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_uri.clone());
        tracing::info!(issuer = %self.issuer, "fetched the provider's discovery document and keys");
        Ok(Discovery {
            client,
            end_session_endpoint,
            registration_endpoint,
            fetched_at: Instant::now(),
        })
    }
}

/// Verifies signature (asymmetric algorithms only), issuer, audience, expiry, `iat`, nonce and,
/// when present, `at_hash`.
fn verify_id_token(
    client: &FusionAuthClient,
    id_token: &CoreIdToken,
    nonce: &Nonce,
    access_token: &AccessToken,
) -> Result<CoreIdTokenClaims, ClaimsVerificationError> {
    let verifier = strict_verifier(client);
    let claims = id_token.claims(&verifier, nonce)?.clone();
    if let Some(expected) = claims.access_token_hash() {
        let alg = id_token
            .signing_alg()
            .map_err(ClaimsVerificationError::SignatureVerification)?;
        let key = id_token
            .signing_key(&verifier)
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

/// The ID token checks shared by login and refresh: asymmetric algorithms only and an `iat`
/// not in the future, on top of the crate's signature, issuer, audience and expiry checks.
fn strict_verifier(client: &FusionAuthClient) -> CoreIdTokenVerifier<'_> {
    client
        .id_token_verifier()
        // No HMAC (its key would be the client secret) and never `none`.
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
            CoreJwsSigningAlgorithm::RsaSsaPssSha256,
            CoreJwsSigningAlgorithm::RsaSsaPssSha384,
            CoreJwsSigningAlgorithm::RsaSsaPssSha512,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::EcdsaP384Sha384,
            CoreJwsSigningAlgorithm::EdDsa,
        ])
        .set_issue_time_verifier_fn(|issued_at| {
            let skew = issued_at.timestamp() - time::OffsetDateTime::now_utc().unix_timestamp();
            if skew > MAX_CLOCK_SKEW_SECS {
                Err(format!("issued {skew} s in the future"))
            } else {
                Ok(())
            }
        })
}

/// Unix seconds at which the access token of `response` expires, when the provider said.
fn access_token_expiry(response: &CoreTokenResponse, now: i64) -> Option<i64> {
    response
        .expires_in()
        .map(|lifetime| now + lifetime.as_secs() as i64)
}

/// Every claim of an ID token whose signature was already verified, as JSON.
fn id_token_payload(id_token: &CoreIdToken) -> Result<Map<String, Value>, OidcError> {
    let compact = id_token.to_string();
    let payload = compact
        .split('.')
        .nth(1)
        .ok_or_else(|| OidcError::InvalidIdToken("not a compact JWS".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| OidcError::InvalidIdToken(format!("payload is not base64url: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| OidcError::InvalidIdToken(format!("payload is not a JSON object: {e}")))
}

/// FusionAuth serves registration at `/oauth2/register`, next to `/oauth2/authorize`; it is not
/// in the discovery document.
fn registration_endpoint(authorization_endpoint: &Url) -> Url {
    let mut url = authorization_endpoint.clone();
    let path = url.path().to_owned();
    let register_path = match path.strip_suffix("authorize") {
        Some(prefix) => format!("{prefix}register"),
        None => "/oauth2/register".to_owned(),
    };
    url.set_path(&register_path);
    url
}

fn describe_claims_error(error: &ClaimsVerificationError) -> String {
    match error {
        ClaimsVerificationError::SignatureVerification(inner) => {
            format!("signature verification failed: {inner}")
        }
        other => other.to_string(),
    }
}

/// An error and its sources on one line, e.g. "Request failed: connection refused".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_endpoint_sits_next_to_authorize() {
        let authorize = Url::parse("http://localhost:9011/oauth2/authorize").unwrap();
        assert_eq!(
            registration_endpoint(&authorize).as_str(),
            "http://localhost:9011/oauth2/register"
        );
        let other = Url::parse("https://idp.example/auth").unwrap();
        assert_eq!(
            registration_endpoint(&other).as_str(),
            "https://idp.example/oauth2/register"
        );
    }

    #[test]
    fn oidc_errors_map_to_user_facing_failures() {
        assert_eq!(
            OidcError::ProviderUnavailable("x".into()).failure(),
            AuthFailure::ProviderUnavailable
        );
        assert_eq!(
            OidcError::CodeRejected("x".into()).failure(),
            AuthFailure::CodeRejected
        );
        assert_eq!(
            OidcError::InvalidIdToken("x".into()).failure(),
            AuthFailure::InvalidIdToken
        );
    }
}

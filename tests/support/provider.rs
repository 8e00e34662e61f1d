//! An OpenID provider the test controls, shaped like FusionAuth: discovery, JWKS, token
//! (client_secret_basic, PKCE S256), userinfo. It can issue bad ID tokens, rotate its key,
//! revoke refresh tokens and be down.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Form, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use openidconnect::{
    core::{
        CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet,
        CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
    },
    AccessToken, Audience, EmptyAdditionalClaims, EndUserEmail, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

/// The claims FusionAuth puts in access tokens beyond the standard ones.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
struct FusionAuthAccessClaims {
    #[serde(rename = "applicationId", skip_serializing_if = "Option::is_none")]
    application_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}
impl openidconnect::AdditionalClaims for FusionAuthAccessClaims {}

use super::{free_port, CLIENT_ID, CLIENT_SECRET, EMAIL, SUBJECT};

pub const KEY_1: &str =
    include_str!("../../crates/leptos-fusionauth/tests/fixtures/test-signing-key-1.pem");
pub const KEY_2: &str =
    include_str!("../../crates/leptos-fusionauth/tests/fixtures/test-signing-key-2.pem");
pub const KEY_1_PUBLIC_PEM: &str =
    include_str!("../../crates/leptos-fusionauth/tests/fixtures/test-signing-key-1.pub.pem");

/// How the token endpoint fails refresh requests.
#[derive(Clone, Debug)]
pub enum RefreshFailure {
    /// An OAuth error answer: status and `error` code.
    OAuth(u16, &'static str),
    /// A gateway's HTML error page.
    Html(u16),
}

/// How the provider misbehaves when it signs the next ID token.
#[derive(Clone, Debug, Default)]
pub struct Tamper {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub nonce: Option<String>,
    /// Seconds relative to now.
    pub expires_in: Option<i64>,
    pub issued_in: Option<i64>,
    /// Sign with this PEM key but keep the advertised `kid` (a forged signature).
    pub foreign_key: Option<&'static str>,
    /// Put this `kid` in the header.
    pub kid: Option<String>,
    /// Compute at_hash over another access token.
    pub at_hash_of: Option<String>,
    /// An unsigned token: `"alg": "none"` and an empty signature.
    pub alg_none: bool,
    /// Algorithm confusion: HS256 with the provider's RSA public key (PEM) as the HMAC secret.
    pub hs256_with_public_key: bool,
    /// Userinfo describes this subject instead of the token's user.
    pub userinfo_subject: Option<String>,
}

/// A compact JWS with the given header and claims, signed by `sign` (or unsigned).
fn handmade_jwt(
    header: serde_json::Value,
    claims: &CoreIdTokenClaims,
    sign: Option<&[u8]>,
) -> String {
    let encode = |value: &[u8]| URL_SAFE_NO_PAD.encode(value);
    let signing_input = format!(
        "{}.{}",
        encode(&serde_json::to_vec(&header).unwrap()),
        encode(&serde_json::to_vec(claims).unwrap())
    );
    let signature = match sign {
        Some(secret) => {
            use hmac::Mac;
            let mut mac = hmac::Hmac::<Sha256>::new_from_slice(secret).unwrap();
            mac.update(signing_input.as_bytes());
            encode(&mac.finalize().into_bytes())
        }
        None => String::new(),
    };
    format!("{signing_input}.{signature}")
}

struct Grant {
    nonce: String,
    code_challenge: String,
    redirect_uri: String,
}

/// The user's standing with the application, as FusionAuth puts it in access tokens.
#[derive(Clone, Debug)]
struct Standing {
    /// Registered for the application (`applicationId` and `roles` in the access token).
    registered: bool,
    roles: Vec<String>,
    /// Unix seconds of the user's last password sign-in (`auth_time`).
    signed_in_at: Option<i64>,
    /// Ignore `prompt=login`/`max_age` (a provider that does not honour step-up).
    ignore_reauthentication: bool,
    /// Userinfo answers 401 to every access token.
    refuse_access_tokens: bool,
}

impl Default for Standing {
    fn default() -> Self {
        Self {
            registered: true,
            roles: vec!["user".into()],
            signed_in_at: None,
            ignore_reauthentication: false,
            refuse_access_tokens: false,
        }
    }
}

struct ProviderState {
    issuer: String,
    /// Lifetime of the access tokens handed out from now on.
    access_token_ttl: i64,
    /// Refresh tokens that are still good (one-time use: each refresh replaces its token).
    live_refresh_tokens: Vec<String>,
    refresh_grants: usize,
    /// Every refresh_token request, answered or not.
    refresh_attempts: usize,
    /// Every call of the Logout API: (refresh token, global).
    revocations: Vec<(String, bool)>,
    standing: Standing,
    /// How the token endpoint answers refresh requests instead of granting them.
    refresh_failure: Option<RefreshFailure>,
    /// How long a refresh request takes.
    refresh_delay: std::time::Duration,
    /// Published keys (kid, PEM); the last one signs.
    keys: Vec<(String, &'static str)>,
    grants: HashMap<String, Grant>,
    tamper: Tamper,
    issued_tokens: Vec<String>,
    jwks_fetches: usize,
    discovery_fetches: usize,
    counter: usize,
}

/// A provider shaped like FusionAuth: discovery, JWKS, token (client_secret_basic, PKCE S256),
/// userinfo and logout, on a loopback port.
#[derive(Clone)]
pub struct MockProvider {
    pub issuer: String,
    state: Arc<Mutex<ProviderState>>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    address: SocketAddr,
}

impl MockProvider {
    pub async fn start() -> Self {
        let provider = Self::unstarted(free_port().await);
        provider.come_up().await;
        provider
    }

    /// A provider whose port is reserved but not listening yet ("FusionAuth is still down").
    pub fn unstarted(address: SocketAddr) -> Self {
        let issuer = format!("http://{address}");
        Self {
            issuer: issuer.clone(),
            state: Arc::new(Mutex::new(ProviderState {
                issuer,
                access_token_ttl: 3600,
                live_refresh_tokens: Vec::new(),
                refresh_grants: 0,
                refresh_attempts: 0,
                revocations: Vec::new(),
                standing: Standing::default(),
                refresh_failure: None,
                // Slow enough that concurrent requests of one session overlap.
                refresh_delay: std::time::Duration::from_millis(150),
                keys: vec![("key-1".into(), KEY_1)],
                grants: HashMap::new(),
                tamper: Tamper::default(),
                issued_tokens: Vec::new(),
                jwks_fetches: 0,
                discovery_fetches: 0,
                counter: 0,
            })),
            task: Arc::new(Mutex::new(None)),
            address,
        }
    }

    pub async fn come_up(&self) {
        let listener = TcpListener::bind(self.address)
            .await
            .expect("provider port");
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/.well-known/jwks.json", get(jwks))
            .route("/oauth2/token", post(token))
            .route("/oauth2/userinfo", get(userinfo))
            .route("/api/logout", post(logout_api))
            .with_state(self.state.clone());
        let handle = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        *self.task.lock().unwrap() = Some(handle);
    }

    pub fn go_down(&self) {
        if let Some(handle) = self.task.lock().unwrap().take() {
            handle.abort();
        }
    }

    /// The user logs in at the provider: returns the code the provider redirects back with.
    pub fn authorize(&self, authorize_url: &url::Url) -> String {
        let query: HashMap<String, String> = authorize_url.query_pairs().into_owned().collect();
        assert_eq!(query.get("response_type").map(String::as_str), Some("code"));
        assert_eq!(query.get("client_id").map(String::as_str), Some(CLIENT_ID));
        assert_eq!(
            query.get("code_challenge_method").map(String::as_str),
            Some("S256")
        );
        let mut state = self.state.lock().unwrap();
        let reauthenticate = query.get("prompt").is_some_and(|p| p.contains("login"))
            && !state.standing.ignore_reauthentication;
        if reauthenticate || state.standing.signed_in_at.is_none() {
            // The user types the password: a new sign-in.
            state.standing.signed_in_at = Some(chrono::Utc::now().timestamp());
        }
        state.counter += 1;
        let code = format!("code-{}", state.counter);
        state.grants.insert(
            code.clone(),
            Grant {
                nonce: query["nonce"].clone(),
                code_challenge: query["code_challenge"].clone(),
                redirect_uri: query["redirect_uri"].clone(),
            },
        );
        code
    }

    pub fn tamper(&self, tamper: Tamper) {
        self.state.lock().unwrap().tamper = tamper;
    }

    /// FusionAuth key rotation: a new key signs, the old one leaves the JWKS.
    pub fn rotate_key(&self) {
        self.state.lock().unwrap().keys = vec![("key-2".into(), KEY_2)];
    }

    pub fn set_access_token_ttl(&self, seconds: i64) {
        self.state.lock().unwrap().access_token_ttl = seconds;
    }

    /// Revokes every refresh token (as FusionAuth's Refresh Token API would).
    pub fn revoke_refresh_tokens(&self) {
        self.state.lock().unwrap().live_refresh_tokens.clear();
    }

    /// How many refresh_token grants the token endpoint has answered.
    pub fn refresh_grants(&self) -> usize {
        self.state.lock().unwrap().refresh_grants
    }

    /// The user is (not) registered for the application from the next token on.
    pub fn set_registered(&self, registered: bool) {
        self.state.lock().unwrap().standing.registered = registered;
    }

    /// The user's roles from the next token on (FusionAuth: roles changed by an admin).
    pub fn set_roles(&self, roles: &[&str]) {
        self.state.lock().unwrap().standing.roles = roles.iter().map(|r| (*r).to_owned()).collect();
    }

    /// The user's last password sign-in was `seconds` ago.
    pub fn age_sign_in(&self, seconds: i64) {
        let signed_in_at = chrono::Utc::now().timestamp() - seconds;
        self.state.lock().unwrap().standing.signed_in_at = Some(signed_in_at);
    }

    /// Ignores `prompt=login` and `max_age` from now on (a provider that fakes step-up).
    pub fn ignore_reauthentication(&self) {
        self.state.lock().unwrap().standing.ignore_reauthentication = true;
    }

    /// Userinfo refuses every access token (401) from now on.
    pub fn refuse_access_tokens(&self) {
        self.state.lock().unwrap().standing.refuse_access_tokens = true;
    }

    /// The Logout API calls so far: (refresh token, global).
    pub fn revocations(&self) -> Vec<(String, bool)> {
        self.state.lock().unwrap().revocations.clone()
    }

    /// A refresh_token grant with `refresh_token`, as another client would send it: the
    /// token endpoint's status and `error`.
    pub async fn try_refresh(&self, refresh_token: &str) -> (u16, Option<String>) {
        let response = reqwest::Client::new()
            .post(format!("{}/oauth2/token", self.issuer))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        (status, body["error"].as_str().map(str::to_owned))
    }

    /// How many refresh_token requests reached the token endpoint (granted or not).
    pub fn refresh_attempts(&self) -> usize {
        self.state.lock().unwrap().refresh_attempts
    }

    /// Answers refresh requests with `failure` from now on (`None`: grants them again).
    pub fn fail_refreshes(&self, failure: Option<RefreshFailure>) {
        self.state.lock().unwrap().refresh_failure = failure;
    }

    /// Makes every refresh request take this long.
    pub fn set_refresh_delay(&self, delay: std::time::Duration) {
        self.state.lock().unwrap().refresh_delay = delay;
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.lock().unwrap().jwks_fetches
    }

    /// Every token the provider handed out: none may ever reach the browser.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.lock().unwrap().issued_tokens.clone()
    }
}

/// FusionAuth's Logout API: `{"refreshToken", "global"}`, no API key. Revokes the token, or
/// with `global` every token (this provider has one user). 200 with no body.
async fn logout_api(
    State(state): State<Arc<Mutex<ProviderState>>>,
    Json(body): Json<serde_json::Value>,
) -> StatusCode {
    let token = body["refreshToken"].as_str().unwrap_or_default().to_owned();
    let global = body["global"].as_bool().unwrap_or(false);
    let mut state = state.lock().unwrap();
    if global {
        state.live_refresh_tokens.clear();
    } else {
        state.live_refresh_tokens.retain(|live| *live != token);
    }
    state.revocations.push((token, global));
    StatusCode::OK
}

async fn discovery(State(state): State<Arc<Mutex<ProviderState>>>) -> Json<serde_json::Value> {
    let mut state = state.lock().unwrap();
    state.discovery_fetches += 1;
    let issuer = &state.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "userinfo_endpoint": format!("{issuer}/oauth2/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{issuer}/oauth2/logout"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

fn signing_key(kid: &str, pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
}

async fn jwks(State(state): State<Arc<Mutex<ProviderState>>>) -> Json<CoreJsonWebKeySet> {
    let mut state = state.lock().unwrap();
    state.jwks_fetches += 1;
    let keys = state
        .keys
        .iter()
        .map(|(kid, pem)| signing_key(kid, pem).as_verification_key())
        .collect();
    Json(CoreJsonWebKeySet::new(keys))
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

async fn token(
    State(state): State<Arc<Mutex<ProviderState>>>,
    headers: HeaderMap,
    Form(request): Form<TokenRequest>,
) -> Response {
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(&expected_auth)
    {
        return oauth_error("invalid_client");
    }
    match request.grant_type.as_str() {
        "authorization_code" => authorization_code_grant(&state, request),
        "refresh_token" => {
            let (delay, failure) = {
                let mut state = state.lock().unwrap();
                state.refresh_attempts += 1;
                (state.refresh_delay, state.refresh_failure.clone())
            };
            tokio::time::sleep(delay).await;
            match failure {
                Some(RefreshFailure::OAuth(status, error)) => {
                    let status = StatusCode::from_u16(status).unwrap();
                    (status, Json(json!({ "error": error }))).into_response()
                }
                Some(RefreshFailure::Html(status)) => {
                    let status = StatusCode::from_u16(status).unwrap();
                    (status, "<html><body>Bad gateway</body></html>").into_response()
                }
                None => refresh_token_grant(&state, request),
            }
        }
        _ => oauth_error("unsupported_grant_type"),
    }
}

fn oauth_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

fn authorization_code_grant(state: &Mutex<ProviderState>, request: TokenRequest) -> Response {
    let mut state = state.lock().unwrap();
    // A code is good once: a replay finds nothing.
    let Some(grant) = request.code.and_then(|code| state.grants.remove(&code)) else {
        return oauth_error("invalid_grant");
    };
    let verifier = request.code_verifier.unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != grant.code_challenge
        || request.redirect_uri.as_deref() != Some(&grant.redirect_uri)
    {
        return oauth_error("invalid_grant");
    }
    issue_tokens(&mut state, Some(&grant.nonce))
}

fn refresh_token_grant(state: &Mutex<ProviderState>, request: TokenRequest) -> Response {
    let mut state = state.lock().unwrap();
    let presented = request.refresh_token.unwrap_or_default();
    let Some(index) = state
        .live_refresh_tokens
        .iter()
        .position(|t| *t == presented)
    else {
        return oauth_error("invalid_grant");
    };
    state.live_refresh_tokens.remove(index);
    state.refresh_grants += 1;
    issue_tokens(&mut state, None)
}

fn issue_tokens(state: &mut ProviderState, nonce: Option<&str>) -> Response {
    state.counter += 1;
    let access_token = sign_access_token(state);
    let refresh_token = format!("refresh-{}-{}", state.counter, "y".repeat(24));
    let id_token = sign_id_token(state, nonce, &access_token);
    state.live_refresh_tokens.push(refresh_token.clone());
    state.issued_tokens.extend([
        access_token.clone(),
        refresh_token.clone(),
        id_token.clone(),
    ]);
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": state.access_token_ttl,
        "refresh_token": refresh_token,
        "id_token": id_token,
    }))
    .into_response()
}

/// The claims FusionAuth puts in access tokens beyond the standard ones.
type AccessTokenJwt = openidconnect::IdToken<
    FusionAuthAccessClaims,
    CoreGenderClaim,
    openidconnect::core::CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// An access token shaped like FusionAuth's: a JWT with `applicationId` and `roles` only while
/// the user is registered, `auth_time`, and `sid`; signed with the current key.
fn sign_access_token(state: &ProviderState) -> String {
    let now = chrono::Utc::now();
    let standing = &state.standing;
    let extra = FusionAuthAccessClaims {
        application_id: standing.registered.then(|| CLIENT_ID.to_owned()),
        roles: standing.registered.then(|| standing.roles.clone()),
        sid: Some(format!("refresh-token-id-{}", state.counter)),
    };
    let signed_in_at = standing
        .signed_in_at
        .and_then(|at| chrono::DateTime::from_timestamp(at, 0));
    let claims = openidconnect::IdTokenClaims::new(
        IssuerUrl::new(state.issuer.clone()).unwrap(),
        vec![Audience::new(CLIENT_ID.into())],
        now + chrono::Duration::seconds(state.access_token_ttl),
        now,
        StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(SUBJECT.into())),
        extra,
    )
    .set_auth_time(signed_in_at);
    let (kid, pem) = state.keys.last().unwrap();
    AccessTokenJwt::new(
        claims,
        &signing_key(kid, pem),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap()
    .to_string()
}

/// The ID token's claims, as the test's tampering says.
fn id_token_claims(state: &ProviderState, nonce: Option<&str>) -> CoreIdTokenClaims {
    let tamper = &state.tamper;
    let now = chrono::Utc::now();
    let seconds = chrono::Duration::seconds;
    let issuer = tamper
        .issuer
        .clone()
        .unwrap_or_else(|| state.issuer.clone());
    let audience = tamper.audience.clone().unwrap_or_else(|| CLIENT_ID.into());
    let signed_in_at = state
        .standing
        .signed_in_at
        .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
        .unwrap_or(now);
    CoreIdTokenClaims::new(
        IssuerUrl::new(issuer).unwrap(),
        vec![Audience::new(audience)],
        now + seconds(tamper.expires_in.unwrap_or(3600)),
        now + seconds(tamper.issued_in.unwrap_or(0)),
        StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new(SUBJECT.into()))
            .set_email(Some(EndUserEmail::new(EMAIL.into())))
            .set_email_verified(Some(true)),
        EmptyAdditionalClaims {},
    )
    .set_nonce(
        tamper
            .nonce
            .clone()
            .or(nonce.map(str::to_owned))
            .map(Nonce::new),
    )
    .set_auth_time(Some(signed_in_at))
}

fn sign_id_token(state: &ProviderState, nonce: Option<&str>, access_token: &str) -> String {
    let tamper = &state.tamper;
    let claims = id_token_claims(state, nonce);
    let (kid, pem) = state.keys.last().unwrap();
    let kid = tamper.kid.clone().unwrap_or_else(|| kid.clone());
    if tamper.alg_none {
        return handmade_jwt(json!({ "alg": "none", "kid": kid }), &claims, None);
    }
    if tamper.hs256_with_public_key {
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": kid });
        return handmade_jwt(header, &claims, Some(KEY_1_PUBLIC_PEM.as_bytes()));
    }
    let key = signing_key(&kid, tamper.foreign_key.unwrap_or(pem));
    let hashed = AccessToken::new(
        tamper
            .at_hash_of
            .clone()
            .unwrap_or_else(|| access_token.into()),
    );
    CoreIdToken::new(
        claims,
        &key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&hashed),
        None,
    )
    .unwrap()
    .to_string()
}

async fn userinfo(State(state): State<Arc<Mutex<ProviderState>>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let state = state.lock().unwrap();
    let known = bearer.is_some_and(|token| state.issued_tokens.iter().any(|t| t == token));
    if !known || state.standing.refuse_access_tokens {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let subject = state.tamper.userinfo_subject.as_deref().unwrap_or(SUBJECT);
    Json(json!({
        "sub": subject,
        "email": EMAIL,
        "email_verified": true,
        "given_name": "Richard",
        "family_name": "Hendricks",
        "name": "Richard Hendricks",
        "roles": ["user"],
        "applicationId": CLIENT_ID,
    }))
    .into_response()
}

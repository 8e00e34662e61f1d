//! The state every handler and server function shares (server functions get it as context).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use tower_cookies::Key;

use super::{
    config::AppConfig,
    csp::ContentSecurityPolicy,
    login_attempts::LoginCookie,
    oidc::{HttpClientError, OidcProvider},
    refresh::TokenRefresher,
    seal::Sealer,
    session::{store::AppSessionStore, token_sealer},
    webhooks::signature::WebhookVerifier,
};

/// Cloned for every request (each layer with state, the page and server-function handlers): every
/// field is a cheap handle (an `Arc`, or a few bytes of key), never a deep copy.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<AppConfig>,
    pub oidc: Arc<OidcProvider>,
    /// Encrypts the token set before it reaches the session store.
    pub sealer: Sealer,
    /// Signs the session cookie and encrypts the login-attempt cookie (derived from
    /// `APP_SECRET_KEY`: one half signs, the other encrypts).
    pub cookie_key: Key,
    pub login_cookie: Arc<LoginCookie>,
    pub sessions: AppSessionStore,
    pub refresher: Arc<TokenRefresher>,
    pub csp: Arc<ContentSecurityPolicy>,
    /// Verifies FusionAuth's webhooks; `None` without `FUSIONAUTH_WEBHOOK_SECRET`.
    pub webhooks: Option<Arc<WebhookVerifier>>,
}

impl AppState {
    pub fn new(
        config: AppConfig,
        leptos_options: LeptosOptions,
        sessions: AppSessionStore,
    ) -> Result<Self, HttpClientError> {
        let oidc = Arc::new(OidcProvider::new(&config)?);
        let sealer = token_sealer(&config.app_secret_key);
        let cookie_key = Key::derive_from(config.app_secret_key.as_bytes());
        let login_cookie = Arc::new(LoginCookie::new(
            config.login_cookie_name(),
            config.cookies_secure(),
            cookie_key.clone(),
        ));
        let refresher = TokenRefresher::new(oidc.clone(), sealer.clone(), sessions.clone());
        Ok(Self {
            webhooks: config
                .webhook_secret
                .as_deref()
                .map(|secret| Arc::new(WebhookVerifier::new(secret))),
            csp: Arc::new(ContentSecurityPolicy::new(&config, &leptos_options)),
            refresher: Arc::new(refresher),
            sessions,
            login_cookie,
            cookie_key,
            sealer,
            oidc,
            leptos_options,
            config: Arc::new(config),
        })
    }
}

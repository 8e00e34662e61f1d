//! The state every handler and server function shares (server functions get it as context).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::{
    config::AppConfig,
    oidc::{HttpClientError, OidcProvider},
    refresh::TokenRefresher,
    seal::Sealer,
    session::token_sealer,
};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<AppConfig>,
    pub oidc: Arc<OidcProvider>,
    /// Encrypts the token set before it reaches the session store.
    pub sealer: Sealer,
    pub refresher: Arc<TokenRefresher>,
}

impl AppState {
    pub fn new(config: AppConfig, leptos_options: LeptosOptions) -> Result<Self, HttpClientError> {
        let oidc = Arc::new(OidcProvider::new(&config)?);
        let sealer = token_sealer(&config.app_secret_key);
        Ok(Self {
            refresher: Arc::new(TokenRefresher::new(oidc.clone(), sealer.clone())),
            sealer,
            oidc,
            leptos_options,
            config: Arc::new(config),
        })
    }
}

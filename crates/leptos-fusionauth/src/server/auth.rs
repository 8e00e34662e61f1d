//! [`FusionAuth`]: the one handle an app holds. It owns the connection to FusionAuth, the
//! session store, the keys and the policies; the routes, the layer and the server-function
//! helpers all reach it through the request (it rides in the request's extensions), so the app
//! never threads it through its own state.

use std::{fmt, ops::Deref, sync::Arc};

use leptos::config::LeptosOptions;
use tower_cookies::Key;

use super::{
    config::Config,
    csp::ContentSecurityPolicy,
    login_attempts::LoginCookie,
    oidc::{HttpClientError, OidcProvider},
    page_cache::GuestPages,
    refresh::TokenRefresher,
    seal::Sealer,
    session::token_sealer,
    store::{lifetime::SessionLifetimes, SessionBackend, Sessions, StoreError, StoreOpenError},
    webhooks::signature::WebhookVerifier,
};

/// Why [`FusionAuth`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The session store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreOpenError),
    /// The HTTP client for FusionAuth could not be built.
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
}

/// FusionAuth login for one app: build it once at start-up, give pages its
/// [`context`](Self::context), and [`install`](Self::install) it on the router. Cheap to clone.
#[derive(Clone)]
pub struct FusionAuth {
    inner: Arc<Inner>,
}

/// What the handle holds; every field is shared by all requests. Public only as the target of
/// the handle's (hidden) `Deref`: nothing outside the crate can name it or reach a field.
#[allow(unreachable_pub)]
pub struct Inner {
    pub(crate) config: Config,
    pub(crate) oidc: Arc<OidcProvider>,
    /// Encrypts the token set before it reaches the session store.
    pub(crate) sealer: Sealer,
    /// Signs the session cookie and encrypts the login-attempt cookie (derived from
    /// `APP_SECRET_KEY`: one half signs, the other encrypts).
    pub(crate) cookie_key: Key,
    pub(crate) login_cookie: LoginCookie,
    pub(crate) sessions: Sessions,
    pub(crate) refresher: TokenRefresher,
    pub(crate) csp: ContentSecurityPolicy,
    /// Verifies FusionAuth's webhooks; `None` without a webhook secret.
    pub(crate) webhooks: Option<WebhookVerifier>,
    /// The guest pages rendered once (see `page_cache`).
    pub(crate) guest_pages: GuestPages,
}

#[doc(hidden)]
impl Deref for FusionAuth {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl fmt::Debug for FusionAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FusionAuth")
            .field("config", &self.config)
            .field("sessions", &self.sessions)
            .finish_non_exhaustive()
    }
}

impl FusionAuth {
    /// Opens the session store `config` names and sets everything up. `options` are the app's
    /// Leptos settings (in development, the Content-Security-Policy admits the live-reload
    /// socket).
    pub async fn new(config: Config, options: &LeptosOptions) -> Result<Self, SetupError> {
        let lifetimes = lifetimes(&config);
        let sessions = Sessions::open(config.session_store(), lifetimes).await?;
        Ok(Self::with_sessions(config, options, sessions)?)
    }

    /// Sets everything up on a session backend of your own (see [`SessionBackend`]).
    pub fn with_backend(
        config: Config,
        options: &LeptosOptions,
        backend: Arc<dyn SessionBackend>,
    ) -> Result<Self, SetupError> {
        let sessions = Sessions::new(backend, lifetimes(&config));
        Ok(Self::with_sessions(config, options, sessions)?)
    }

    fn with_sessions(
        config: Config,
        options: &LeptosOptions,
        sessions: Sessions,
    ) -> Result<Self, HttpClientError> {
        let oidc = Arc::new(OidcProvider::new(&config)?);
        let sealer = token_sealer(&config.app_secret_key);
        let cookie_key = Key::derive_from(config.app_secret_key.as_bytes());
        let login_cookie = LoginCookie::new(
            config.login_cookie_name().to_owned(),
            config.cookies_secure(),
            cookie_key.clone(),
        );
        let refresher = TokenRefresher::new(
            oidc.clone(),
            sealer.clone(),
            sessions.clone(),
            config.provider_timeout,
        );
        let inner = Inner {
            webhooks: config.webhook_secret.as_deref().map(WebhookVerifier::new),
            csp: ContentSecurityPolicy::new(&config, options),
            guest_pages: GuestPages::default(),
            refresher,
            sessions,
            login_cookie,
            cookie_key,
            sealer,
            oidc,
            config,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts the store's background work (expired records swept; sign-outs and refreshed
    /// tokens that could not reach the store written when it answers again). Abort the handles
    /// when the server stops.
    pub fn spawn_background_tasks(&self) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = self.sessions.spawn_background_tasks();
        tasks.push(self.refresher.spawn_late_writes());
        tasks
    }

    /// How many sessions `subject` (FusionAuth's user id) has open, on any instance.
    pub async fn open_sessions(&self, subject: &str) -> Result<usize, StoreError> {
        Ok(self.sessions.sessions_of(subject).await?.len())
    }

    /// Ends every session of `subject` here (not at FusionAuth); answers how many there were.
    pub async fn end_sessions(&self, subject: &str) -> Result<usize, StoreError> {
        self.sessions.end_sessions_of(subject).await
    }
}

fn lifetimes(config: &Config) -> SessionLifetimes {
    SessionLifetimes {
        idle: config.session_idle,
        max: config.session_max,
    }
}

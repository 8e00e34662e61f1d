//! Everything that only runs on the server. Compiled with the `ssr` feature only.

pub mod config;
pub mod flows;
pub mod oidc;
pub mod provisioning;
pub mod refresh;
pub mod return_to;
pub mod routes;
pub mod session;
pub mod store;
pub mod token_seal;

use std::{path::Path, process::ExitCode, sync::Arc};

use axum::{extract::FromRef, middleware, routing::get, Router};
use leptos::config::{get_configuration, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;
use tower_sessions::{
    cookie::{Key, SameSite},
    Expiry, SessionManagerLayer, SessionStore,
};

use crate::app::{shell, App};
use config::AppConfig;
use oidc::OidcProvider;
pub use store::{open_sqlite_store, AppSessionStore};
use token_seal::TokenSealer;

/// The session cookie's name: distinct from FusionAuth's own cookies, which share `localhost`
/// with the app during development.
pub const SESSION_COOKIE: &str = "leptos_fusionauth_session";

/// Shared by every handler and server function (server functions get it as context).
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<AppConfig>,
    pub oidc: Arc<OidcProvider>,
    /// Encrypts the token set before it reaches the session store.
    pub sealer: TokenSealer,
    pub refresh_flights: Arc<refresh::RefreshFlights>,
}

impl AppState {
    pub fn new(config: AppConfig, leptos_options: LeptosOptions) -> Result<Self, String> {
        let oidc = OidcProvider::new(&config)?;
        Ok(Self {
            sealer: TokenSealer::from_secret(&config.app_secret_key),
            refresh_flights: Arc::default(),
            leptos_options,
            config: Arc::new(config),
            oidc: Arc::new(oidc),
        })
    }
}

/// The whole HTTP application: auth routes, the Leptos pages and server functions, static
/// files, sessions and security headers.
pub fn router<S>(state: AppState, store: S) -> Router
where
    S: SessionStore + Clone,
{
    let pages = generate_route_list(App);
    Router::new()
        .route("/callback", get(routes::callback))
        .route("/logout", get(routes::front_channel_logout))
        .route("/healthz", get(routes::healthz))
        .leptos_routes(&state, pages, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), routes::reject_cross_site_posts))
        .layer(middleware::from_fn(routes::log_rejected_session_cookies))
        .layer(session_layer(store, &state.config))
        .layer(middleware::from_fn(routes::explain_session_store_failures))
        .layer(middleware::from_fn(routes::security_headers))
        .layer(
            // Log the path only: the callback's query carries the authorization code.
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::info_span!("request", method = %request.method(), path = request.uri().path())
            }),
        )
        .with_state(state)
}

/// Session cookie: HttpOnly, SameSite=Lax (Strict would drop it on the redirect back from
/// FusionAuth), Secure on https, signed with a key derived from `APP_SECRET_KEY`.
fn session_layer<S: SessionStore + Clone>(
    store: S,
    config: &AppConfig,
) -> SessionManagerLayer<S, tower_sessions::service::SignedCookie> {
    let idle = time::Duration::try_from(config.session_idle).unwrap_or(time::Duration::hours(8));
    SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.cookies_secure())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        .with_signed(Key::derive_from(config.app_secret_key.as_bytes()))
}

/// Leptos settings: cargo-leptos passes them as `LEPTOS_*` variables; a binary started on its
/// own (a container, `target/release/leptos-fusionauth`) reads `Leptos.toml` instead.
fn leptos_options() -> Result<LeptosOptions, String> {
    let under_cargo_leptos = std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let file = (!under_cargo_leptos && Path::new("Leptos.toml").exists()).then_some("Leptos.toml");
    get_configuration(file)
        .map(|conf| conf.leptos_options)
        .map_err(|e| format!("cannot read the Leptos settings: {e}"))
}

/// The server's `main`: configuration, session store, router, graceful shutdown.
pub async fn run() -> ExitCode {
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(e) if e.not_found() => {}
        Err(e) => return fail(format!(".env cannot be read: {e}")),
    }
    init_tracing();
    let config = match AppConfig::from_env() {
        Ok(config) => config,
        Err(e) => return fail(e.to_string()),
    };
    let leptos_options = match leptos_options() {
        Ok(options) => options,
        Err(e) => return fail(e),
    };
    let store = match AppSessionStore::open(&config.session_database_url).await {
        Ok(store) => store,
        Err(e) => return fail(e),
    };
    let cleanup = store.spawn_expiry_cleanup();
    let address = leptos_options.site_addr;
    let public_url = config.app_url.clone();
    let state = match AppState::new(config, leptos_options) {
        Ok(state) => state,
        Err(e) => return fail(e),
    };
    let listener = match tokio::net::TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(e) => return fail(format!("cannot listen on {address}: {e}")),
    };
    tracing::info!(%address, %public_url, "listening; open the public URL in a browser");
    let served = axum::serve(listener, router(state, store))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    if let Some(cleanup) = cleanup {
        cleanup.abort();
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("server error: {e}")),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}

/// Resolves on Ctrl-C or SIGTERM; in-flight requests then finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

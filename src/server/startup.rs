//! Start-up: configuration, the session store, the router with its layers, serving with a
//! graceful shutdown. Every start-up failure is one line on stderr and exit status 2.

use std::{net::SocketAddr, path::Path, process::ExitCode};

use axum::{
    middleware as axum_middleware,
    routing::{get, post},
    Router,
};
use leptos::{
    config::{get_configuration, LeptosOptions},
    prelude::use_context,
};
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};
use tower_http::trace::TraceLayer;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use super::{
    config::{AppConfig, ConfigError},
    csp::ContentSecurityPolicy,
    middleware,
    oidc::HttpClientError,
    routes,
    session::store::{lifetime::SessionLifetimes, AppSessionStore, StoreOpenError},
    state::AppState,
    webhooks,
};
use crate::app::{shell, App};

/// Why the server did not start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(".env cannot be read: {0}")]
    DotEnv(#[from] dotenvy::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read the Leptos settings: {0}")]
    LeptosSettings(String),
    #[error(transparent)]
    SessionStore(#[from] StoreOpenError),
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// The whole HTTP application: auth routes, the Leptos pages and server functions, static
/// files, sessions and security headers.
pub fn router(state: AppState) -> Router {
    let pages = generate_route_list(App);
    let page_context = page_context(state.csp.clone());
    // FusionAuth's webhooks: no session, no browser Origin check.
    let webhooks = Router::new()
        .route("/webhooks/fusionauth", post(webhooks::receive))
        .with_state(state.clone());
    Router::new()
        .route("/login", get(routes::login))
        .route("/register", get(routes::register))
        .route("/callback", get(routes::callback))
        .route("/logout", get(routes::front_channel_logout))
        .route("/healthz", get(routes::healthz))
        .leptos_routes_with_context(&state, pages, page_context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            page_context,
            shell,
        ))
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::reject_cross_site_posts,
        ))
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::log_rejected_session_cookies,
        ))
        .layer(session_layer(&state))
        .layer(axum_middleware::from_fn(
            middleware::explain_session_store_failures,
        ))
        .merge(webhooks)
        .layer(axum_middleware::from_fn_with_state(
            state.clone(),
            middleware::security_headers,
        ))
        .layer(
            // Log the path only: the callback's query carries the authorization code.
            TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
                tracing::info_span!("request", method = %request.method(), path = request.uri().path())
            }),
        )
        .with_state(state)
}

/// Runs for every rendered page: its Content-Security-Policy names the nonce Leptos put on the
/// page's scripts.
fn page_context(csp: std::sync::Arc<ContentSecurityPolicy>) -> impl Fn() + Clone + Send + 'static {
    move || {
        let nonce = leptos::nonce::use_nonce();
        if let (Some(nonce), Some(response)) = (nonce, use_context::<ResponseOptions>()) {
            if let Ok(value) = http::HeaderValue::from_str(&csp.page(&nonce)) {
                response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
            }
        }
    }
}

/// Session cookie: HttpOnly, SameSite=Lax (Strict would drop it on the redirect back from
/// FusionAuth), Secure and `__Host-` on https, signed with a key derived from `APP_SECRET_KEY`.
/// It lives until the browser closes; the session itself ends on the server (idle timeout,
/// absolute lifetime, logout), whatever the browser keeps.
fn session_layer(
    state: &AppState,
) -> SessionManagerLayer<AppSessionStore, tower_sessions::service::SignedCookie> {
    SessionManagerLayer::new(state.sessions.clone())
        .with_name(state.config.session_cookie_name())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookies_secure())
        .with_path("/")
        .with_expiry(Expiry::OnSessionEnd)
        .with_signed(state.cookie_key.clone())
}

/// Leptos settings: cargo-leptos passes them as `LEPTOS_*` variables; a binary started on its
/// own (a container, `target/release/leptos-fusionauth`) reads `Leptos.toml` instead.
fn leptos_options() -> Result<LeptosOptions, StartupError> {
    let under_cargo_leptos = std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let file = (!under_cargo_leptos && Path::new("Leptos.toml").exists()).then_some("Leptos.toml");
    get_configuration(file)
        .map(|conf| conf.leptos_options)
        .map_err(|e| StartupError::LeptosSettings(e.to_string()))
}

/// The server's `main`: configuration, session store, router, graceful shutdown.
pub async fn run() -> ExitCode {
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn serve() -> Result<(), StartupError> {
    load_dotenv()?;
    init_tracing();
    let config = AppConfig::from_env()?;
    let leptos_options = leptos_options()?;
    let store = AppSessionStore::open(&config.session_store, session_lifetimes(&config)).await?;
    let background = store.spawn_background_tasks();
    let address = leptos_options.site_addr;
    let public_url = config.app_url.clone();
    let state = AppState::new(config, leptos_options, store)?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| StartupError::Listen { address, source })?;
    tracing::info!(%address, %public_url, "listening; open the public URL in a browser");
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    for task in background {
        task.abort();
    }
    served.map_err(StartupError::Serve)
}

/// The configured idle timeout and absolute lifetime of a session.
pub fn session_lifetimes(config: &AppConfig) -> SessionLifetimes {
    SessionLifetimes {
        idle: config.session_idle,
        max: config.session_max,
    }
}

/// `.env` is optional; one that exists but cannot be read is an error.
fn load_dotenv() -> Result<(), StartupError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
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

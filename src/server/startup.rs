//! Start-up: settings, the `leptos-fusionauth` library, the router with this app's pages,
//! serving with a graceful shutdown. Every start-up failure is one line on stderr and exit
//! status 2.

use std::{net::SocketAddr, path::Path, process::ExitCode};

use axum::{routing::get, Router};
use leptos::config::{get_configuration, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_fusionauth::{Config, ConfigBuilder, ConfigError, FusionAuth, SetupError};
use tower_http::trace::TraceLayer;

use super::examples::committed_example_secrets;
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
    Auth(#[from] SetupError),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// The whole HTTP application: this app's pages, server functions and static files, with
/// FusionAuth login (its routes and layers) installed around them.
pub fn router(auth: &FusionAuth, options: LeptosOptions) -> Router {
    let pages = generate_route_list(App);
    let app = Router::new()
        .route("/healthz", get(healthz))
        .leptos_routes_with_context(&options, pages, auth.context(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            LeptosOptions,
            _,
        >(auth.context(), shell))
        .with_state(options);
    auth.install(app).layer(
        // Log the path only: the callback's query carries the authorization code.
        TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<_>| {
            tracing::info_span!("request", method = %request.method(), path = request.uri().path())
        }),
    )
}

/// The library's settings from the environment: the tutorial's `.env` names, with this
/// repository's committed example secrets refused beyond this machine, and the home page's
/// guest view (the same for every guest) rendered once.
pub fn settings(lookup: impl Fn(&str) -> Option<String>) -> Result<ConfigBuilder, ConfigError> {
    Ok(ConfigBuilder::from_lookup(lookup)?
        .refuse_secrets(committed_example_secrets())
        .cache_guest_pages(["/"]))
}

/// `GET /healthz`: the process is up and serving.
async fn healthz() -> &'static str {
    "ok"
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

/// The server's `main`: settings, the library, router, graceful shutdown.
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
    let config: Config = settings(|name| std::env::var(name).ok())?.build()?;
    let options = leptos_options()?;
    let address = options.site_addr;
    let public_url = config.app_url().clone();
    let auth = FusionAuth::new(config, &options).await?;
    let background = auth.spawn_background_tasks();
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| StartupError::Listen { address, source })?;
    tracing::info!(%address, %public_url, "listening; open the public URL in a browser");
    let served = axum::serve(listener, router(&auth, options))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    for task in background {
        task.abort();
    }
    served.map_err(StartupError::Serve)
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

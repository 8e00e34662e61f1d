//! The server: FusionAuth login from the settings in `.env`, installed around the app.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use axum::Router;
    use leptos::prelude::*;
    use leptos_axum::{generate_route_list, LeptosRoutes};
    use leptos_fusionauth::{Config, FusionAuth};
    use minimal::{shell, App};

    dotenvy::dotenv().ok();
    tracing_subscriber::fmt::init();
    let options = get_configuration(None)?.leptos_options;
    let auth = FusionAuth::new(Config::from_env()?, &options).await?;
    let app = Router::new()
        .leptos_routes_with_context(&options, generate_route_list(App), auth.context(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options.clone());
    let listener = tokio::net::TcpListener::bind(options.site_addr).await?;
    axum::serve(listener, auth.install(app)).await?;
    Ok(())
}

#[cfg(not(feature = "ssr"))]
fn main() {}

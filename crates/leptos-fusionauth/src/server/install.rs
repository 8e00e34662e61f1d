//! Putting the library on an app's router: its routes (login, register, callback, logout, the
//! webhook), and the layers in the order they must run — security headers outermost (every
//! answer carries them, the webhook's too), then the session (its cookie from [`SessionCookie`]),
//! then the visitor resolved once, then the browser Origin check.
//! The webhook sits outside the session and the Origin check: FusionAuth is not a browser.

use axum::{
    middleware::from_fn_with_state,
    routing::{get, post},
    Router,
};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::ResponseOptions;

use super::{
    auth::FusionAuth,
    cookie::SessionCookie,
    middleware::{around_every_answer, inside_the_session},
    routes, webhooks,
};

impl FusionAuth {
    /// Adds the library's routes and layers to `app`, the router of the app's pages and server
    /// functions (with its state given). Serve what it answers: the layers run before the app's
    /// routing, so a guest page kept in memory costs no routing and no handler at all.
    pub fn install(&self, app: Router) -> Router {
        let paths = &self.config.paths;
        let routes = Router::new()
            .route(&paths.login, get(routes::login))
            .route(&paths.register, get(routes::register))
            .route(&paths.callback, get(routes::callback))
            .route(&paths.logout, get(routes::front_channel_logout))
            .with_state(self.clone());
        let webhooks = Router::new()
            .route(&paths.webhook, post(webhooks::receive))
            .with_state(self.clone());
        let with_session = Router::new()
            .fallback_service(app.merge(routes))
            .layer(from_fn_with_state(self.clone(), inside_the_session))
            .layer(SessionCookie::of(&self.config).layer(self));
        webhooks
            .fallback_service(with_session)
            .layer(from_fn_with_state(self.clone(), around_every_answer))
    }

    /// The Leptos context of every rendered page and server function (pass it to
    /// `leptos_routes_with_context`): this handle (`use_context::<FusionAuth>()`), and the
    /// page's Content-Security-Policy naming the nonce Leptos put on its scripts.
    pub fn context(&self) -> impl Fn() + Clone + Send + Sync + 'static {
        let auth = self.clone();
        move || {
            provide_context(auth.clone());
            let nonce = leptos::nonce::use_nonce();
            if let (Some(nonce), Some(response)) = (nonce, use_context::<ResponseOptions>()) {
                if let Ok(value) = http::HeaderValue::from_str(&auth.csp.page(&nonce)) {
                    response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
                }
            }
        }
    }
}

//! Putting the library on an app's router: its routes (login, register, callback, logout, the
//! webhook), and the layers in the order they must run — security headers outermost (every
//! answer carries them, the webhook's too), then the session (its cookie from [`SessionCookie`]),
//! then the visitor resolved once, then the browser Origin check.
//! The webhook sits outside the session and the Origin check: FusionAuth is not a browser.

use axum::{
    middleware::{from_fn, from_fn_with_state},
    routing::{get, post},
    Router,
};
use leptos::prelude::{provide_context, use_context};
use leptos_axum::ResponseOptions;

use super::{
    auth::FusionAuth,
    cookie::SessionCookie,
    middleware::{
        explain_session_store_failures, log_rejected_session_cookies, reject_cross_site_posts,
        resolve_user, security_headers,
    },
    routes, webhooks,
};

impl FusionAuth {
    /// Adds the library's routes and layers to `router`, which holds the app's pages and server
    /// functions. Call it last: routes added afterwards are outside the layers.
    pub fn install<S>(&self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
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
        router
            .merge(routes)
            .layer(from_fn_with_state(self.clone(), reject_cross_site_posts))
            .layer(from_fn_with_state(self.clone(), resolve_user))
            .layer(from_fn_with_state(
                self.clone(),
                log_rejected_session_cookies,
            ))
            .layer(SessionCookie::of(&self.config).layer(self))
            .layer(from_fn(explain_session_store_failures))
            .merge(webhooks)
            .layer(from_fn_with_state(self.clone(), security_headers))
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

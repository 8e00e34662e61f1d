//! The Content-Security-Policy of every response. Pages may run only this origin's scripts and
//! the inline hydration script that carries the request's nonce (Leptos adds the nonce to the
//! scripts it renders), plus WebAssembly; they may talk only to this origin, and their forms may
//! lead only here or to the identity provider (the login form's redirect goes there). Nothing
//! may frame them, except FusionAuth's logout page, which frames `/logout`.

use axum::http::HeaderValue;
use leptos::config::{Env, LeptosOptions};

use super::config::Config;

/// The policies of this app, built once at start-up.
#[derive(Clone, Debug)]
pub(crate) struct ContentSecurityPolicy {
    /// For pages: everything but the nonce, which differs per response.
    page_before_nonce: String,
    page_after_nonce: String,
    /// For everything that is not a page (server-function answers, redirects, files).
    other: HeaderValue,
    /// For `/logout`, which FusionAuth's logout page loads in a hidden iframe.
    front_channel_logout: HeaderValue,
}

impl ContentSecurityPolicy {
    pub(crate) fn new(config: &Config, leptos: &LeptosOptions) -> Self {
        let issuer = url::Url::parse(&config.issuer)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default();
        // `cargo leptos watch` reloads the page through a WebSocket on its own port.
        let live_reload = match leptos.env {
            Env::DEV => format!(
                " ws://{}:{}",
                config.app_url.host_str().unwrap_or("localhost"),
                leptos.reload_port
            ),
            Env::PROD => String::new(),
        };
        let common = "base-uri 'none'; object-src 'none'";
        Self {
            page_before_nonce: "default-src 'self'; script-src 'self' 'nonce-".to_owned(),
            page_after_nonce: format!(
                "' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
                 connect-src 'self'{live_reload}; form-action 'self' {issuer}; \
                 frame-ancestors 'none'; {common}"
            ),
            other: header_value(format!(
                "default-src 'none'; form-action 'none'; frame-ancestors 'none'; {common}"
            )),
            front_channel_logout: header_value(format!(
                "default-src 'none'; form-action 'none'; frame-ancestors {issuer}; {common}"
            )),
        }
    }

    /// The policy of a page rendered with `nonce`.
    pub(crate) fn page(&self, nonce: &str) -> String {
        format!("{}{nonce}{}", self.page_before_nonce, self.page_after_nonce)
    }

    /// The policy of a response that is not a page.
    pub(crate) fn other(&self) -> HeaderValue {
        self.other.clone()
    }

    /// The policy of `/logout`.
    pub(crate) fn front_channel_logout(&self) -> HeaderValue {
        self.front_channel_logout.clone()
    }
}

/// A policy as a header value, made once. The policies are built from the configuration's
/// validated URLs (visible ASCII); an invalid one would be a bug, answered with the strictest
/// policy rather than a panic.
fn header_value(policy: String) -> HeaderValue {
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

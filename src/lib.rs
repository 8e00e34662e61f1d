//! The demo app of `leptos-fusionauth`: FusionAuth's Flask tutorial as a Leptos 0.8 full-stack
//! app that signs people in through the `leptos-fusionauth` crate, as a backend-for-frontend
//! (tokens never leave the server).
//!
//! * [`app`] — the HTML shell and the router (shared by server and browser).
//! * [`auth`] — the server functions the pages call (one line each into the library, or into
//!   `server` for the protected pages) and the types the browser may see.
//! * [`pages`] — the views.
//! * `server` — start-up and the protected pages' server-function bodies, compiled only with
//!   the `ssr` feature.
//! * `setup` — the `leptos-fusionauth setup` command that configures an existing FusionAuth
//!   (also `ssr` only).

pub mod app;
pub mod auth;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod setup;

/// Browser entry point: hydrates the islands of the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panic messages in the console while developing; release builds leave it out
    // (the bundle size budget) and abort on panic anyway.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Every server-function redirect in this app leaves the single-page app on purpose: to
    // FusionAuth, or to an error page that must arrive with its real HTTP status. The first hook
    // registered wins, so this one takes precedence over the router's client-side navigation.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = leptos::prelude::window().location().set_href(location);
    });
    leptos::mount::hydrate_islands();
    mark_hydrated();
}

/// Tells tests and the time-to-interactive benchmark that every island is live:
/// `<html data-hydrated="true">` and a `hydrated` performance mark.
#[cfg(feature = "hydrate")]
fn mark_hydrated() {
    use leptos::prelude::{document, window};
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
    if let Some(performance) = window().performance() {
        let _ = performance.mark("hydrated");
    }
}

//! The views. Each page calls the server functions of [`crate::auth`]; none knows the protocol.

mod auth_error;
mod home;
mod not_found;

pub use auth_error::AuthErrorPage;
pub use home::HomePage;
pub use not_found::NotFoundPage;

use leptos::prelude::*;

/// Sets the HTTP status of the server-rendered response (no-op in the browser).
fn set_http_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(code)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        response.set_status(code);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// Marks the document once the browser has hydrated a page: `<html data-hydrated="true">` and a
/// `hydrated` performance mark, which the browser tests and the time-to-interactive benchmark
/// wait for. Effects only run in the browser, so the server never sets it.
fn mark_hydrated_when_interactive() {
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
        if let Some(performance) = window().performance() {
            let _ = performance.mark("hydrated");
        }
    });
}

//! The views. Each page calls the server functions of [`crate::auth`]; none knows the protocol.

mod auth_error;
mod home;
mod not_found;

pub use auth_error::AuthErrorPage;
pub use home::HomePage;
pub use not_found::NotFoundPage;

/// Sets the HTTP status of the server-rendered response (no-op in the browser).
fn set_http_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(code)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(status),
    ) {
        response.set_status(code);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

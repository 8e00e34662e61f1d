//! What the pages may ask of authentication: the server functions, and the types the browser is
//! allowed to see (re-exported from the leaf modules [`types`], [`failure`] and [`admin`]). The
//! protocol itself lives in `crate::server` and only runs on the server: each server function
//! here is one call down into `crate::server::flows`.

pub mod admin;
pub mod failure;
pub mod types;

use leptos::prelude::*;

pub use admin::{AccountUnavailable, AccountView, AdminView, Denied, ADMIN_ROLE};
pub use failure::AuthFailure;
pub use types::{LoginFlow, UserView, Visitor};

/// Returns the signed-in user (refreshing the access token when it is about to expire).
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Visitor, ServerFnError> {
    crate::server::flows::current_user().await
}

/// Refreshes the session's access token now; returns its new expiry (Unix seconds). When the
/// provider refuses, the session is over and the browser is sent to the guest page.
#[server(endpoint = "refresh")]
pub async fn refresh_tokens() -> Result<Option<i64>, ServerFnError> {
    crate::server::flows::refresh_now().await
}

/// Starts the authorization code flow and redirects the browser to FusionAuth's login page.
/// `return_to` is the same-origin path to come back to after login.
#[server(endpoint = "login")]
pub async fn login(return_to: Option<String>) -> Result<(), ServerFnError> {
    crate::server::flows::start_login(LoginFlow::SignIn, return_to).await
}

/// Same as [`login`], but lands on FusionAuth's self-service registration form.
#[server(endpoint = "register")]
pub async fn register(return_to: Option<String>) -> Result<(), ServerFnError> {
    crate::server::flows::start_login(LoginFlow::Register, return_to).await
}

/// Ends this session (its refresh token revoked at FusionAuth), then FusionAuth's single sign-on
/// session.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    crate::server::flows::sign_out(crate::server::flows::SignOutScope::ThisSession).await
}

/// Ends every session of the user — other browsers and devices, every application (all their
/// refresh tokens revoked) — then FusionAuth's single sign-on session.
#[server(endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), ServerFnError> {
    crate::server::flows::sign_out(crate::server::flows::SignOutScope::Everywhere).await
}

/// The admin page's data. Requires the `admin` role and a recent sign-in: guests and stale
/// sign-ins are sent through FusionAuth (and back); a user without the role gets a 403.
#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<Result<AdminView, Denied>, ServerFnError> {
    crate::server::flows::admin_overview().await
}

/// The account page's data, which the server asks FusionAuth for with the user's access token.
#[server(endpoint = "account")]
pub async fn account() -> Result<Result<AccountView, AccountUnavailable>, ServerFnError> {
    crate::server::flows::account().await
}

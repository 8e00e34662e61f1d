//! What the pages may ask of authentication: the server functions — each a one-line call into
//! the `leptos-fusionauth` crate, or into this app's own [`crate::server`] for its protected
//! pages — and the types the browser may see (the crate's, and this app's in [`admin`]).

pub mod admin;

use leptos::prelude::*;

pub use admin::{AccountUnavailable, AccountView, AdminView, ADMIN_ROLE};
pub use leptos_fusionauth::{AuthError, AuthFailure, LoginFlow, UserView, Visitor};

/// Returns who is looking at the page (the layer refreshed the access token when it was due).
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<Visitor, ServerFnError> {
    leptos_fusionauth::visitor().map_err(|e| ServerFnError::new(e.to_string()))
}

/// Refreshes the session's access token now; returns its new expiry (Unix seconds). When the
/// provider refuses, the session is over and the browser is sent to the guest page.
#[server(endpoint = "refresh")]
pub async fn refresh_tokens() -> Result<Option<i64>, ServerFnError> {
    leptos_fusionauth::refresh_now().await
}

/// Starts the authorization code flow and redirects the browser to FusionAuth's login page.
/// `return_to` is the same-origin path to come back to after login.
#[server(endpoint = "login")]
pub async fn login(return_to: Option<String>) -> Result<(), ServerFnError> {
    leptos_fusionauth::login(LoginFlow::SignIn, return_to).await
}

/// Same as [`login`], but lands on FusionAuth's self-service registration form.
#[server(endpoint = "register")]
pub async fn register(return_to: Option<String>) -> Result<(), ServerFnError> {
    leptos_fusionauth::login(LoginFlow::Register, return_to).await
}

/// Ends this session (its refresh token revoked at FusionAuth), then FusionAuth's single sign-on
/// session.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    leptos_fusionauth::logout(leptos_fusionauth::SignOutScope::ThisSession).await
}

/// Ends every session of the user — other browsers and devices, every application (all their
/// refresh tokens revoked) — then FusionAuth's single sign-on session.
#[server(endpoint = "logout_everywhere")]
pub async fn logout_everywhere() -> Result<(), ServerFnError> {
    leptos_fusionauth::logout(leptos_fusionauth::SignOutScope::Everywhere).await
}

/// The admin page's data. Requires the `admin` role and a recent sign-in: guests and stale
/// sign-ins are sent through FusionAuth (and back); a user without the role gets a 403.
#[server(endpoint = "admin_overview")]
pub async fn admin_overview() -> Result<AdminView, AuthError> {
    crate::server::protected::admin_overview().await
}

/// The account page's data, which the server asks FusionAuth for with the user's access token.
#[server(endpoint = "account")]
pub async fn account() -> Result<Result<AccountView, AccountUnavailable>, AuthError> {
    crate::server::protected::account().await
}

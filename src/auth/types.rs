//! The types the browser may see about the signed-in user. A leaf module: it imports nothing of
//! the crate, so both the pages and the server can depend on it.

use serde::{Deserialize, Serialize};

/// The signed-in user as the browser sees it: the claims to show, never a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub email: String,
    /// Verified ID token claims merged with userinfo, pretty-printed on the server so the
    /// browser bundle needs no JSON formatter.
    pub claims_json: String,
    /// Unix seconds at which the session's access token expires, if known.
    pub access_token_expires_at: Option<i64>,
    /// The server's clock when this view was made: the countdown starts from it, so the server
    /// and the browser render the same first frame.
    pub rendered_at: i64,
    /// Whether a refresh token is held ("Refresh now" is offered).
    pub can_refresh: bool,
    /// When the session ends at the latest, whatever the activity, e.g. "2026-12-03 14:05 UTC".
    pub session_ends: String,
    /// The user's roles in this application (from the verified access token).
    pub roles: Vec<String>,
}

/// Who is looking at the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    /// `None` for a guest.
    pub user: Option<UserView>,
    /// A message for the guest view, e.g. after the provider refused to refresh the session.
    pub notice: Option<String>,
}

/// Which FusionAuth page a login starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginFlow {
    /// The hosted login form (`/oauth2/authorize`).
    SignIn,
    /// The self-service registration form (`/oauth2/register`).
    Register,
}

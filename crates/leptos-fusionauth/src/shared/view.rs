//! The signed-in user as the browser may see it: claims to show, never a token. A leaf module:
//! it imports nothing of the crate, so pages and the server can both depend on it.

use serde::{Deserialize, Serialize};

#[cfg(not(feature = "ssr"))]
use super::error::AuthError;

/// The signed-in user as a page shows it. Built on the server from the verified session; it
/// carries no token, so it may be rendered into HTML or sent to the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserView {
    /// FusionAuth's user id (`sub`).
    pub subject: String,
    /// The email address, else the username, else the subject: what a greeting says.
    pub email: String,
    /// The user's full name, when FusionAuth told it (`name`, or given and family name).
    pub name: Option<String>,
    /// Verified ID token claims merged with userinfo, pretty-printed on the server so the
    /// browser bundle needs no JSON formatter.
    pub claims_json: String,
    /// The user's roles in this application (from the verified access token).
    pub roles: Vec<String>,
    /// Unix seconds at which the session's access token expires, if known.
    pub access_token_expires_at: Option<i64>,
    /// Whether a refresh token is held (a "Refresh now" button can work).
    pub can_refresh: bool,
    /// Unix seconds at which the user last typed their password (`auth_time`), if known.
    pub authenticated_at: Option<i64>,
    /// Unix seconds at which the session ends at the latest, whatever the activity.
    pub session_ends_at: i64,
    /// The server's clock when this view was made: a countdown that starts from it renders the
    /// same first frame on the server and in the browser.
    pub rendered_at: i64,
}

impl UserView {
    /// Whether the user holds `role` in this application.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }
}

/// Who is looking at the page: a signed-in user, or a guest (perhaps with a notice saying why
/// their session ended).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Visitor {
    /// `None` for a guest.
    pub user: Option<UserView>,
    /// A message for a guest, e.g. after the identity provider refused to refresh the session.
    pub notice: Option<String>,
}

impl Visitor {
    /// A signed-in visitor.
    pub fn signed_in(user: UserView) -> Self {
        Self {
            user: Some(user),
            notice: None,
        }
    }

    /// A guest, with an optional notice.
    pub fn guest(notice: Option<String>) -> Self {
        Self { user: None, notice }
    }
}

/// Who is looking at the page. Pages render on the server, where this is the request's visitor
/// (built with the `ssr` feature); in a browser build there is no request, and a component that
/// runs there (an island) gets a guest: pass it the user's view as a prop instead.
#[cfg(not(feature = "ssr"))]
pub fn visitor() -> Result<Visitor, AuthError> {
    Ok(Visitor::default())
}

/// Which FusionAuth page a login starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoginFlow {
    /// The hosted login form (`/oauth2/authorize`).
    SignIn,
    /// The self-service registration form (`/oauth2/register`).
    Register,
}

//! What the browser may see of this app's role-protected pages: the admin page and the account
//! page. A leaf module.

use serde::{Deserialize, Serialize};

/// The role the admin page requires.
pub const ADMIN_ROLE: &str = "admin";

/// The admin page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub email: String,
    pub roles: Vec<String>,
    /// When the user last typed their password, e.g. "2026-12-02 14:05 UTC".
    pub authenticated_at: String,
    /// How many sessions the user has open here (this browser and others).
    pub open_sessions: usize,
}

/// The account page's data: the user as FusionAuth describes them now, fetched by the server
/// with the user's own access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub name: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    /// The application the verified access token registers the user for.
    pub registered_for: Option<String>,
    pub roles: Vec<String>,
    pub authenticated_at: String,
}

/// The account page when FusionAuth did not answer with the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountUnavailable {
    /// FusionAuth refused the access token (401) even after a refresh.
    TokenRefused,
    /// FusionAuth could not be reached.
    ProviderUnavailable,
}

/// "2026-12-02 14:05 UTC", or "unknown" (both the server and the pages format times so).
pub fn display_time(unix: Option<i64>) -> String {
    let at = unix.and_then(|at| time::OffsetDateTime::from_unix_timestamp(at).ok());
    match at {
        Some(at) => format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute()),
        None => "unknown".to_owned(),
    }
}

//! The signed-in user of a request, read once per request by the library's layer (the access
//! token refreshed first when it is due) and handed to everything after it: axum handlers take
//! [`User`] as an extractor, pages and server functions find it in Leptos context.

use std::{fmt, sync::Arc};

use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::{
    auth::FusionAuth,
    session::{unix_now, SignedInUser},
};
use crate::shared::view::UserView;

/// A signed-in user: who they are, what FusionAuth says about them, their roles. It holds no
/// token in clear (the tokens stay sealed in the session).
///
/// As an axum extractor it refuses guests: a page request is sent to sign in and back, anything
/// else gets a 401. Take `Option<User>` to serve guests too.
#[derive(Clone)]
pub struct User {
    pub(crate) signed_in: Arc<SignedInUser>,
    pub(crate) session_ends_at: i64,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("subject", &self.subject())
            .field("email", &self.email())
            .field("roles", &self.roles())
            .finish_non_exhaustive()
    }
}

impl User {
    /// FusionAuth's user id (`sub`).
    pub fn subject(&self) -> &str {
        &self.signed_in.subject
    }

    /// The email address (else the username, else the subject).
    pub fn email(&self) -> &str {
        &self.signed_in.email
    }

    /// The full name, when FusionAuth told it.
    pub fn name(&self) -> Option<&str> {
        self.signed_in.name.as_deref()
    }

    /// The verified ID token's claims, merged with userinfo (parsed on each call).
    pub fn claims(&self) -> Map<String, Value> {
        self.signed_in.claims()
    }

    /// The user's roles in this application (from the latest verified access token).
    pub fn roles(&self) -> &[String] {
        &self.signed_in.roles
    }

    /// Whether the user holds `role` in this application.
    pub fn has_role(&self, role: &str) -> bool {
        self.signed_in.has_role(role)
    }

    /// Unix seconds at which the user last typed their password (`auth_time`), if known.
    pub fn authenticated_at(&self) -> Option<i64> {
        self.signed_in.authenticated_at
    }

    /// Unix seconds at which this session ends at the latest, whatever the activity.
    pub fn session_ends_at(&self) -> i64 {
        self.session_ends_at
    }

    /// What a page may show of the user (no token).
    pub fn view(&self) -> UserView {
        let user = &self.signed_in;
        UserView {
            subject: user.subject.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            claims_json: user.claims_json().to_owned(),
            roles: user.roles.clone(),
            access_token_expires_at: user.access_token_expires_at,
            can_refresh: user.has_refresh_token,
            authenticated_at: user.authenticated_at,
            session_ends_at: self.session_ends_at,
            rendered_at: unix_now(),
        }
    }
}

/// Who a request comes from, as the layer found it.
#[derive(Clone, Debug)]
pub(crate) enum Resolved {
    /// No session, or one without a user. `notice`: the session just ended at the provider.
    Guest {
        notice: bool,
    },
    SignedIn(User),
    /// The session store could not be read.
    Unavailable,
}

/// What the layer puts in every request's extensions: the library's handle and the visitor.
#[derive(Clone, Debug)]
pub(crate) struct RequestAuth {
    pub(crate) auth: FusionAuth,
    pub(crate) resolved: Resolved,
}

impl RequestAuth {
    /// The request's [`RequestAuth`]; `None` when the library's layer is not installed.
    pub(crate) fn of(parts: &Parts) -> Option<&Self> {
        parts.extensions.get::<Self>()
    }
}

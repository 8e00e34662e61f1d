//! The one check every protected page, handler and server function goes through: signed in
//! (the layer refreshed the access token first when it was due, so roles changed at FusionAuth
//! count), holding the role, and — for sensitive pages — signed in recently enough. Hiding a
//! link is not a check: the server answers with the refusal.
//!
//! A refusal is always the same answer, whoever asks: a guest is sent to sign in and back, a
//! stale sign-in to type the password again (step-up) and back, a missing role is a 403 that
//! names it, a store outage a 503.

use std::{marker::PhantomData, ops::Deref};

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::{
    session::unix_now,
    user::{RequestAuth, Resolved, User},
};
use crate::shared::{error::AuthError, failure::AuthFailure};

/// What a page, handler or server function requires of the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requirement {
    role: Option<&'static str>,
    recent_sign_in: bool,
}

impl Requirement {
    /// Any signed-in user.
    pub const fn signed_in() -> Self {
        Self {
            role: None,
            recent_sign_in: false,
        }
    }

    /// A signed-in user with `role` in this application.
    pub const fn role(role: &'static str) -> Self {
        Self {
            role: Some(role),
            recent_sign_in: false,
        }
    }

    /// And a sign-in (password typed) no older than the configured step-up age
    /// (`STEP_UP_MAX_AGE_SECS`); an older one is sent through FusionAuth's form again.
    pub const fn recent_sign_in(self) -> Self {
        Self {
            recent_sign_in: true,
            ..self
        }
    }

    /// The request's user, if they meet the requirement.
    pub(crate) fn check_request(&self, parts: &Parts) -> Result<User, Refusal> {
        let request = RequestAuth::of(parts).ok_or(Refusal::NotInstalled)?;
        let user = match &request.resolved {
            Resolved::SignedIn(user) => user,
            Resolved::Guest { .. } => {
                return Err(Refusal::SignInFirst(return_path(request, parts)))
            }
            Resolved::Unavailable => return Err(Refusal::Failed(AuthFailure::SessionUnavailable)),
        };
        if let Some(role) = self.role.filter(|role| !user.has_role(role)) {
            tracing::warn!(subject = %user.subject(), role, "refused: role missing");
            return Err(Refusal::MissingRole(role.to_owned()));
        }
        let max_age = request.auth.config.step_up_max_age.as_secs() as i64;
        let stale = user
            .authenticated_at()
            .is_none_or(|at| unix_now() - at > max_age);
        if self.recent_sign_in && stale {
            return Err(Refusal::SignInAgain(return_path(request, parts)));
        }
        Ok(user.clone())
    }
}

/// Checks `requirement` in a page being rendered or a server function: the user, or the refusal
/// — with the answer's status or redirect already set (a guest is sent to sign in and back to
/// the page, a missing role is a 403, …).
pub fn require(requirement: Requirement) -> Result<User, AuthError> {
    let Some(parts) = use_context::<Parts>() else {
        return Err(Refusal::NotInstalled.into_auth_error(None));
    };
    requirement
        .check_request(&parts)
        .map_err(|refusal| refusal.into_auth_error(Some(&parts)))
}

/// A requirement named by a type, for the [`Authorized`] extractor.
pub trait Policy: Send + Sync + 'static {
    /// What the policy requires.
    const REQUIREMENT: Requirement;
}

/// An axum extractor: the user, if they meet `P`'s requirement; otherwise the refusal is the
/// answer (sign in, sign in again, 403, 503).
pub struct Authorized<P: Policy> {
    user: User,
    policy: PhantomData<P>,
}

impl<P: Policy> Authorized<P> {
    /// The authorized user.
    pub fn into_user(self) -> User {
        self.user
    }
}

impl<P: Policy> Deref for Authorized<P> {
    type Target = User;

    fn deref(&self) -> &User {
        &self.user
    }
}

impl<P: Policy, S: Send + Sync> FromRequestParts<S> for Authorized<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        P::REQUIREMENT
            .check_request(parts)
            .map(|user| Self {
                user,
                policy: PhantomData,
            })
            .map_err(|refusal| page_or_status(refusal, parts))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Requirement::signed_in()
            .check_request(parts)
            .map_err(|refusal| page_or_status(refusal, parts))
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for User {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match RequestAuth::of(parts).map(|request| &request.resolved) {
            Some(Resolved::SignedIn(user)) => Ok(Some(user.clone())),
            Some(Resolved::Guest { .. }) => Ok(None),
            Some(Resolved::Unavailable) => {
                Err(Refusal::Failed(AuthFailure::SessionUnavailable).into_response())
            }
            None => Err(Refusal::NotInstalled.into_response()),
        }
    }
}

/// Why a request did not pass, and where to come back to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A guest: sign in, then come back to this path.
    SignInFirst(String),
    /// Signed in too long ago: type the password again, then come back.
    SignInAgain(String),
    /// Signed in, without the role.
    MissingRole(String),
    /// The session could not be read.
    Failed(AuthFailure),
    /// The library's layer is not installed on this route (a programming error).
    NotInstalled,
}

impl Refusal {
    /// Where a sign-in (or a step-up) starts, coming back to the refused page.
    fn login_location(&self, parts: Option<&Parts>) -> Option<String> {
        let login = parts
            .and_then(RequestAuth::of)
            .map_or("/login", |request| request.auth.config.paths.login.as_str());
        let back =
            |path: &str| url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
        match self {
            Self::SignInFirst(page) => Some(format!("{login}?return_to={}", back(page))),
            Self::SignInAgain(page) => Some(format!(
                "{login}?return_to={}&reauthenticate=recent",
                back(page)
            )),
            _ => None,
        }
    }

    /// The refusal as a server function's error, with the answer's status or redirect set.
    fn into_auth_error(self, parts: Option<&Parts>) -> AuthError {
        if let Some(target) = self.login_location(parts) {
            send_to(&target, parts);
        } else if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(self.status());
        }
        match self {
            Self::SignInFirst(_) => AuthError::SignInRequired,
            Self::SignInAgain(_) => AuthError::RecentSignInRequired,
            Self::MissingRole(role) => AuthError::MissingRole(role),
            Self::Failed(failure) => AuthError::Failure(failure),
            Self::NotInstalled => {
                tracing::error!(
                    "leptos-fusionauth: FusionAuth::install was not applied to this route"
                );
                AuthError::Failure(AuthFailure::Unknown)
            }
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::SignInFirst(_) | Self::SignInAgain(_) => StatusCode::UNAUTHORIZED,
            Self::MissingRole(_) => StatusCode::FORBIDDEN,
            Self::Failed(failure) => {
                StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
            }
            Self::NotInstalled => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// For axum handlers: a page request (a GET) is redirected to sign in; anything else gets the
/// status and a sentence.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let message = match &self {
            Self::SignInFirst(_) => AuthError::SignInRequired.to_string(),
            Self::SignInAgain(_) => AuthError::RecentSignInRequired.to_string(),
            Self::MissingRole(role) => AuthError::MissingRole(role.clone()).to_string(),
            Self::Failed(failure) => failure.message().to_owned(),
            Self::NotInstalled => "The authentication layer is not installed on this route.".into(),
        };
        (self.status(), message).into_response()
    }
}

/// The refused request's own path (a page), or for a server function the page that called it
/// (its same-origin `Referer`), or home.
fn return_path(request: &RequestAuth, parts: &Parts) -> String {
    let paths = &request.auth.config.paths;
    let path = parts.uri.path();
    if !path.starts_with(&paths.server_functions) {
        return parts
            .uri
            .path_and_query()
            .map_or_else(|| path.to_owned(), |p| p.as_str().to_owned());
    }
    let origin = request.auth.config.app_url.origin().ascii_serialization();
    parts
        .headers
        .get(header::REFERER)
        .and_then(|referer| referer.to_str().ok())
        .and_then(|referer| referer.strip_prefix(&origin))
        .filter(|path| path.starts_with('/'))
        .map_or_else(|| paths.home.clone(), str::to_owned)
}

/// Redirects the request: a page being rendered answers 302 whatever its `Accept` header (a
/// script must not get the page's shell instead); a server function called by a hydrated page
/// answers the way `leptos_axum` tells its client to navigate.
fn send_to(target: &str, parts: Option<&Parts>) {
    let rendering_a_page = parts.is_some_and(|parts| {
        let prefix = RequestAuth::of(parts).map_or("/api/", |request| {
            request.auth.config.paths.server_functions.as_str()
        });
        !parts.uri.path().starts_with(prefix)
    });
    match use_context::<ResponseOptions>() {
        Some(response) if rendering_a_page => {
            if let Ok(location) = HeaderValue::from_str(target) {
                response.insert_header(header::LOCATION, location);
                response.set_status(StatusCode::FOUND);
            }
        }
        _ => leptos_axum::redirect(target),
    }
}

/// Axum's answer for a page request that must sign in first: a redirect (`GET`/`HEAD`), else the
/// refusal's status.
pub(crate) fn page_or_status(refusal: Refusal, parts: &Parts) -> Response {
    match refusal.login_location(Some(parts)) {
        Some(target) if parts.method == Method::GET || parts.method == Method::HEAD => {
            Redirect::to(&target).into_response()
        }
        _ => refusal.into_response(),
    }
}

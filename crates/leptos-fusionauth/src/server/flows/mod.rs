//! The flows: each ties the protocol ([`super::oidc`]) to the session ([`super::session`]) and
//! turns every failure into an [`AuthFailure`](crate::AuthFailure) ([`failures`]). The public
//! functions here are the bodies of the app's server functions (login, logout, refresh, the
//! visitor); the rest serve the library's routes and layer.

pub(crate) mod callback;
mod context;
pub(crate) mod failures;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod user;
pub(crate) mod userinfo;

pub(crate) use callback::{complete, CallbackParams, CallbackRequest};
pub(crate) use logout::end_local_session;

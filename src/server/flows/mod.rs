//! The bodies of the server functions in [`crate::auth`] and of the `/callback` and `/logout`
//! routes: each ties the protocol ([`super::oidc`]) to the session ([`super::session`]) and
//! turns every failure into an [`crate::auth::failure::AuthFailure`] ([`failures`]).

pub mod callback;
mod context;
pub mod failures;
pub mod guard;
pub mod login;
pub mod logout;
pub mod protected;
pub mod user;

pub use callback::{complete, CallbackParams, CallbackRequest, CompletedLogin};
pub use login::start_login;
pub use logout::{end_local_session, sign_out, SignOutScope};
pub use protected::{account, admin_overview};
pub use user::{current_user, refresh_now};

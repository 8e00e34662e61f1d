//! The views. Each page calls the server functions of [`crate::auth`]; none knows the protocol.

mod account;
mod admin;
mod auth_error;
mod home;
mod not_found;
mod status;

pub use account::AccountPage;
pub use admin::AdminPage;
pub use auth_error::AuthErrorPage;
pub use home::HomePage;
pub use not_found::NotFoundPage;

//! What the browser may see: the signed-in user's view ([`view`]), every way a sign-in can fail
//! ([`failure`]) and the typed error of guarded server functions ([`error`]). These modules
//! compile for `wasm32` with the crate's default features and import nothing of the server.

pub(crate) mod error;
pub(crate) mod failure;
pub(crate) mod view;

//! Everything that only runs on the server, compiled with the `ssr` feature only. Dependencies
//! point one way: `config` ← `oidc` ← `store` ← `session` (+ `seal`) ← `refresh` ← `flows` ←
//! `user`/`guard` ← `routes`/`middleware`/`webhooks` ← `install`; `auth` (the handle) is what
//! the flows run with.

pub(crate) mod auth;
pub(crate) mod config;
pub(crate) mod cookie;
pub(crate) mod csp;
pub(crate) mod flows;
pub(crate) mod guard;
pub(crate) mod install;
pub(crate) mod login_attempts;
pub(crate) mod middleware;
pub(crate) mod oidc;
pub(crate) mod page_cache;
pub(crate) mod refresh;
pub(crate) mod return_to;
pub(crate) mod routes;
pub(crate) mod seal;
pub(crate) mod session;
pub(crate) mod store;
pub(crate) mod user;
pub(crate) mod webhooks;

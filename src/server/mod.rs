//! Everything that only runs on the server, compiled with the `ssr` feature only. The chain of
//! dependencies runs one way: `config` ← `oidc` ← `session` (+ `seal`) ← `refresh` ← `flows`
//! ← `routes`/`middleware` ← `startup`; this file only declares the modules and re-exports
//! what the binary and the tests use.

pub mod config;
pub mod csp;
pub mod flows;
pub mod login_attempts;
pub mod middleware;
pub mod oidc;
pub mod refresh;
pub mod return_to;
pub mod routes;
pub mod seal;
pub mod session;
pub mod startup;
pub mod state;
pub mod webhooks;

pub use session::store::AppSessionStore;
pub use startup::{router, run};
pub use state::AppState;

//! This app's server side, compiled with the `ssr` feature only: start-up (settings, the
//! library, the router with the pages), the bodies of its protected pages' server functions,
//! and the example secrets committed in this repository (which the library refuses beyond this
//! machine).

pub mod examples;
pub mod protected;
pub mod startup;

pub use startup::{router, run};

//! `leptos-fusionauth setup`: configures an existing FusionAuth for this app through its REST
//! API — the Rust port of the Flask tutorial's setup script, made idempotent. Not server code:
//! a command-line tool that shares the binary.
//!
//! * [`cli`] — arguments, environment and usage;
//! * [`target`] — what FusionAuth should end up with (the kickstart's values);
//! * [`api`] — the small REST client and its errors;
//! * [`steps`] — one function per provisioning step, each returning a [`finding::Finding`]:
//!   what is in place, or the change that would put it there;
//! * [`run`] — the list of steps, applied (or, in a dry run, only reported);
//! * [`env_file`] — the `.env` editor.

pub mod api;
pub mod cli;
pub mod env_file;
pub mod finding;
pub mod run;
pub mod steps;
pub mod target;

pub use api::SetupError;
pub use cli::{cli, parse_options};
pub use run::{run_setup, Outcome, SetupOptions, StepReport};
pub use target::TargetConfiguration;

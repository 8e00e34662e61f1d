#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// Everything not in the `pub use` list below is `pub(crate)`.
#![warn(unreachable_pub)]

mod shared;

pub use shared::{
    error::AuthError,
    failure::{sign_in_failure, AuthFailure},
    view::{LoginFlow, UserView, Visitor},
};

#[cfg(not(feature = "ssr"))]
pub use shared::view::visitor;

#[cfg(feature = "ssr")]
mod server;

#[cfg(feature = "ssr")]
pub use server::{
    auth::{FusionAuth, SetupError},
    config::{
        is_loopback, Config, ConfigBuilder, ConfigError, Paths, SessionStoreUrl,
        PUBLIC_EXAMPLE_SECRETS,
    },
    flows::{
        login::login,
        logout::{logout, SignOutScope},
        user::{refresh_now, visitor},
        userinfo::{userinfo, UserinfoError},
    },
    guard::{require, Authorized, Policy, Requirement},
    store::{LockToken, SessionBackend, StoreError, StoreOpenError, StoreResult},
    user::User,
    webhooks::event::WEBHOOK_EVENTS,
};

#[cfg(feature = "postgres")]
pub use server::store::PostgresBackend;
#[cfg(feature = "redis")]
pub use server::store::RedisBackend;
#[cfg(feature = "sqlite")]
pub use server::store::SqliteBackend;

//! The bodies of this app's protected server functions: the admin page (role `admin` and a
//! recent sign-in) and the account page (signed in; filled from FusionAuth with the user's own
//! access token — the backend-for-frontend using the token so the browser never has to see it).
//! The guards and the FusionAuth call are the library's; what the pages show is this app's.

use http::StatusCode;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use leptos_fusionauth::{
    require, userinfo, AuthError, FusionAuth, Requirement, User, UserinfoError,
};
use serde_json::{Map, Value};

use crate::auth::admin::{display_time, AccountUnavailable, AccountView, AdminView, ADMIN_ROLE};

/// `/admin` needs the `admin` role and a sign-in no older than `STEP_UP_MAX_AGE_SECS`.
const ADMIN: Requirement = Requirement::role(ADMIN_ROLE).recent_sign_in();

/// `/admin`: who the admin is, and how many sessions they have open (on any instance).
pub async fn admin_overview() -> Result<AdminView, AuthError> {
    let user = require(ADMIN)?;
    let open_sessions = match use_context::<FusionAuth>() {
        Some(auth) => auth.open_sessions(user.subject()).await.unwrap_or(1),
        None => 1,
    };
    Ok(AdminView {
        email: user.email().to_owned(),
        roles: user.roles().to_vec(),
        authenticated_at: display_time(user.authenticated_at()),
        open_sessions,
    })
}

/// `/account`: the user as FusionAuth describes them now.
pub async fn account() -> Result<Result<AccountView, AccountUnavailable>, AuthError> {
    let user = require(Requirement::signed_in())?;
    Ok(match userinfo(&user).await {
        Ok(info) => Ok(account_view(&user, &info)),
        Err(e) => {
            tracing::warn!(reason = %e, "account page without FusionAuth's answer");
            Err(unavailable(e))
        }
    })
}

/// The page's message for a missing answer, and the answer's status (401 or 503).
fn unavailable(error: UserinfoError) -> AccountUnavailable {
    let (problem, status) = match error {
        UserinfoError::TokenRefused => (AccountUnavailable::TokenRefused, StatusCode::UNAUTHORIZED),
        _ => (
            AccountUnavailable::ProviderUnavailable,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    };
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(status);
    }
    problem
}

fn account_view(user: &User, info: &Map<String, Value>) -> AccountView {
    let text = |name: &str| info.get(name).and_then(Value::as_str).map(str::to_owned);
    AccountView {
        name: text("name"),
        email: text("email"),
        email_verified: info.get("email_verified").and_then(Value::as_bool),
        registered_for: use_context::<FusionAuth>()
            .map(|auth| auth.config().client_id().to_owned()),
        roles: user.roles().to_vec(),
        authenticated_at: display_time(user.authenticated_at()),
    }
}

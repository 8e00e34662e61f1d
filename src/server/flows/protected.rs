//! The bodies of the role-protected server functions: the admin page (role `admin` and a recent
//! sign-in) and the account page (signed in; filled from FusionAuth with the user's own access
//! token — the backend-for-frontend using the token so the browser never has to see it).

use leptos::prelude::*;

use super::{
    context::{app_state, request_session},
    guard::{refuse, require, Requirement},
};
use crate::{
    auth::admin::{AccountUnavailable, AccountView, AdminView, Denied, ADMIN_ROLE},
    server::{
        oidc::UserinfoFailure,
        refresh::RefreshWhen,
        session::{unix_now, AuthSession, SignedInUser},
        state::AppState,
    },
};

/// `/admin`: requires the `admin` role and a sign-in no older than `STEP_UP_MAX_AGE_SECS`.
pub async fn admin_overview() -> Result<Result<AdminView, Denied>, ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let requirement = Requirement {
        role: Some(ADMIN_ROLE),
        recent_sign_in: Some(app.config.step_up_max_age.as_secs()),
    };
    let user = match require(&app, &session, requirement).await? {
        Ok(user) => user,
        Err(gate) => return refuse(gate, "/admin"),
    };
    let open_sessions = app
        .sessions
        .sessions_of(&user.subject)
        .await
        .map(|records| records.len())
        .unwrap_or(1);
    Ok(Ok(AdminView {
        email: user.email.clone(),
        roles: user.roles.clone(),
        authenticated_at: display_time(user.authenticated_at),
        open_sessions,
    }))
}

/// `/account`: the user as FusionAuth describes them now.
pub async fn account() -> Result<Result<AccountView, AccountUnavailable>, ServerFnError> {
    let app = app_state()?;
    let session = request_session().await?;
    let everyone = Requirement {
        role: None,
        recent_sign_in: None,
    };
    let user = match require(&app, &session, everyone).await? {
        Ok(user) => user,
        Err(gate) => {
            return refuse::<AccountView>(gate, "/account")
                .map(|_| Err(AccountUnavailable::TokenRefused))
        }
    };
    let userinfo = match fetch_userinfo(&app, &user).await {
        Err(UserinfoFailure::TokenRefused) => retry_after_refresh(&app, &session).await,
        other => other,
    };
    Ok(userinfo
        .map(|info| account_view(&app, &user, &info))
        .map_err(|e| {
            tracing::warn!(reason = %e, "account page without FusionAuth's answer");
            unavailable(e)
        }))
}

async fn fetch_userinfo(
    app: &AppState,
    user: &SignedInUser,
) -> Result<serde_json::Map<String, serde_json::Value>, UserinfoFailure> {
    let tokens = user
        .tokens(&app.sealer)
        .map_err(|e| UserinfoFailure::Unavailable(e.to_string()))?;
    app.oidc.current_userinfo(&tokens.access_token).await
}

/// FusionAuth refused the access token: refresh it once and ask again.
async fn retry_after_refresh(
    app: &AppState,
    session: &tower_sessions::Session,
) -> Result<serde_json::Map<String, serde_json::Value>, UserinfoFailure> {
    let mut auth = AuthSession::load(session)
        .await
        .map_err(|e| UserinfoFailure::Unavailable(e.to_string()))?;
    app.refresher
        .refresh_session(session, &mut auth, RefreshWhen::Now, unix_now())
        .await;
    match auth.user {
        Some(user) => fetch_userinfo(app, &user).await,
        None => Err(UserinfoFailure::TokenRefused),
    }
}

fn unavailable(failure: UserinfoFailure) -> AccountUnavailable {
    let status = match failure {
        UserinfoFailure::TokenRefused => (
            AccountUnavailable::TokenRefused,
            http::StatusCode::UNAUTHORIZED,
        ),
        UserinfoFailure::Unavailable(_) => (
            AccountUnavailable::ProviderUnavailable,
            http::StatusCode::SERVICE_UNAVAILABLE,
        ),
    };
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status.1);
    }
    status.0
}

fn account_view(
    app: &AppState,
    user: &SignedInUser,
    info: &serde_json::Map<String, serde_json::Value>,
) -> AccountView {
    let text = |name: &str| info.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    AccountView {
        name: text("name"),
        email: text("email"),
        email_verified: info.get("email_verified").and_then(|v| v.as_bool()),
        registered_for: Some(app.config.client_id.clone()),
        roles: user.roles.clone(),
        authenticated_at: display_time(user.authenticated_at),
    }
}

/// "2026-12-02 14:05 UTC", or "unknown".
pub fn display_time(unix: Option<i64>) -> String {
    unix.and_then(|at| time::OffsetDateTime::from_unix_timestamp(at).ok())
        .map(|at| format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute()))
        .unwrap_or_else(|| "unknown".to_owned())
}

//! `POST /webhooks/fusionauth`: FusionAuth's signed events end sessions here — the back-channel
//! logout FusionAuth does not have. Exempt from the session layer and the browser Origin check
//! (FusionAuth is not a browser), so it is mounted outside them. Every refusal is a 4xx and a
//! WARN line; nothing is changed unless the signature verifies. Idempotent: ending sessions that
//! are gone is a no-op, so a retried event is harmless.

pub mod event;
pub mod signature;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};

use super::{session::AuthSession, state::AppState};
use event::{session_action, SessionAction};
use signature::{SignatureError, SIGNATURE_HEADER};

/// FusionAuth's events are small JSON documents; anything larger is refused unread.
pub const MAX_WEBHOOK_BODY_BYTES: usize = 256 * 1024;

pub async fn receive(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let Ok(body) = axum::body::to_bytes(body, MAX_WEBHOOK_BODY_BYTES).await else {
        tracing::warn!("webhook refused: body over {MAX_WEBHOOK_BODY_BYTES} bytes");
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let verified = match &app.webhooks {
        Some(verifier) => verifier.verify(signature, &body),
        None => Err(SignatureError::NotConfigured),
    };
    if let Err(e) = verified {
        tracing::warn!(reason = %e, "webhook refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let action = match session_action(&body, &app.config.client_id) {
        Ok(action) => action,
        Err(e) => {
            tracing::warn!(reason = %e, "webhook refused");
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    match perform(&app, action).await {
        Ok(()) => StatusCode::OK.into_response(),
        // FusionAuth retries a failed delivery: the store is down, try again later.
        Err(e) => {
            tracing::warn!(reason = %e, "webhook not applied: session store unavailable");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn perform(
    app: &AppState,
    action: SessionAction,
) -> Result<(), tower_sessions::session_store::Error> {
    match action {
        SessionAction::EndAll { user_id } => {
            let count = app.sessions.end_sessions_of(&user_id).await?;
            tracing::info!(subject = %user_id, count, "sessions ended by a FusionAuth event");
        }
        SessionAction::EndHolding {
            user_id,
            refresh_token,
        } => {
            let count = end_sessions_holding(app, &user_id, &refresh_token).await?;
            tracing::info!(subject = %user_id, count, "session ended: its refresh token was revoked");
        }
        SessionAction::Ignore(reason) => tracing::debug!(%reason, "webhook event ignored"),
    }
    Ok(())
}

/// Ends the sessions of `user_id` whose (sealed) token set holds `refresh_token`.
async fn end_sessions_holding(
    app: &AppState,
    user_id: &str,
    refresh_token: &str,
) -> Result<usize, tower_sessions::session_store::Error> {
    use tower_sessions::SessionStore;
    let mut ended = 0;
    for record in app.sessions.sessions_of(user_id).await? {
        let holds = AuthSession::from_record(&record)
            .and_then(|contents| contents.user)
            .and_then(|user| user.tokens(&app.sealer).ok())
            .is_some_and(|tokens| tokens.refresh_token.as_deref() == Some(refresh_token));
        if holds {
            app.sessions.delete(&record.id).await?;
            ended += 1;
        }
    }
    Ok(ended)
}

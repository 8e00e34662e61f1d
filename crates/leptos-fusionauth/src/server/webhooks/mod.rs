//! The webhook route: FusionAuth's signed events end (or refresh) sessions here — the
//! back-channel logout FusionAuth does not have. Exempt from the session layer and the browser
//! Origin check (FusionAuth is not a browser), so it is mounted outside them.
//!
//! Nothing is changed unless every check passed, in this order: the signature header verifies
//! (before the body is read), the body is small and is the one signed, the event is dated within
//! the window (default 10 minutes old, at most a minute ahead) and its id was not seen before on
//! any instance. An event then ends only sessions that began **before** it was created, so a
//! replayed delivery never ends a newer session. Every refusal is a 4xx and a WARN line.

pub(crate) mod event;
pub(crate) mod signature;

use std::time::Duration;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use time::OffsetDateTime;
use tower_sessions::session::Record;

use super::{
    auth::FusionAuth,
    session::{AuthSession, SignedInUser},
    store::StoreError,
};
use event::{parse_event, Event, SessionAction};
use signature::{SignatureError, SIGNATURE_HEADER};

/// FusionAuth's events are small JSON documents; anything larger is refused unread.
pub(crate) const MAX_WEBHOOK_BODY_BYTES: usize = 256 * 1024;
/// An event dated further ahead than this (FusionAuth's clock against ours) is refused.
const MAX_FUTURE: Duration = Duration::from_secs(60);

pub(crate) async fn receive(
    State(app): State<FusionAuth>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let signed = match &app.webhooks {
        Some(verifier) => verifier.verify_header(signature),
        None => Err(SignatureError::NotConfigured),
    };
    let signed = match signed {
        Ok(signed) => signed,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, &e),
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_WEBHOOK_BODY_BYTES).await else {
        tracing::warn!("webhook refused: body over {MAX_WEBHOOK_BODY_BYTES} bytes");
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if let Err(e) = signed.matches(&body) {
        return refuse(StatusCode::UNAUTHORIZED, &e);
    }
    let event = match parse_event(&body, &app.config.client_id) {
        Ok(event) => event,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    if let Err(problem) = dated_within(&event, app.config.webhook_max_age, now_ms()) {
        return refuse(StatusCode::BAD_REQUEST, &problem);
    }
    apply_once(&app, event).await
}

fn refuse(status: StatusCode, reason: &dyn std::fmt::Display) -> Response {
    tracing::warn!(%reason, %status, "webhook refused");
    status.into_response()
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Whether the event was created within `max_age` before `now_ms` (and not too far ahead).
fn dated_within(event: &Event, max_age: Duration, now_ms: i64) -> Result<(), String> {
    let age_ms = now_ms - event.created_at_ms;
    if age_ms > max_age.as_millis() as i64 {
        return Err(format!(
            "event {} is {} s old (a replay?); the window is {} s",
            event.id,
            age_ms / 1000,
            max_age.as_secs()
        ));
    }
    if -age_ms > MAX_FUTURE.as_millis() as i64 {
        return Err(format!(
            "event {} is dated {} s ahead",
            event.id,
            -age_ms / 1000
        ));
    }
    Ok(())
}

/// Applies an event the first time its id is seen (on any instance); a repeat answers 200 and
/// changes nothing. A failure forgets the id again, so FusionAuth's retry can apply it.
async fn apply_once(app: &FusionAuth, event: Event) -> Response {
    let key = format!("webhook-event:{}", event.id);
    let remembered_for = app.config.webhook_max_age + MAX_FUTURE;
    match app.sessions.remember(&key, remembered_for).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(event = %event.id, "webhook event seen before: nothing done");
            return StatusCode::OK.into_response();
        }
        Err(e) => return unavailable(&e),
    }
    match perform(app, &event).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => {
            if let Err(forgetting) = app.sessions.forget(&key).await {
                tracing::warn!(reason = %forgetting, "webhook event id not forgotten");
            }
            unavailable(&e)
        }
    }
}

/// FusionAuth retries a failed delivery: the store is down, try again later.
fn unavailable(error: &StoreError) -> Response {
    tracing::warn!(reason = %error, "webhook not applied: session store unavailable");
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

async fn perform(app: &FusionAuth, event: &Event) -> Result<(), StoreError> {
    let (user_id, holding) = match &event.action {
        SessionAction::Ignore(reason) => {
            tracing::debug!(%reason, "webhook event ignored");
            return Ok(());
        }
        SessionAction::EndAll { user_id } | SessionAction::RefreshAll { user_id } => {
            (user_id, None)
        }
        SessionAction::EndHolding {
            user_id,
            refresh_token,
        } => (user_id, Some(refresh_token.as_str())),
    };
    let mut affected = 0;
    for record in app.sessions.sessions_of(user_id).await? {
        let Some(user) = AuthSession::from_record(&record).and_then(|contents| contents.user)
        else {
            continue;
        };
        // A replay (or a late delivery) never touches a session that began after the event.
        let concerned = user.began_before(event.created_at_ms)
            && holding.is_none_or(|token| holds(app, &user, token));
        if !concerned {
            continue;
        }
        match event.action {
            SessionAction::RefreshAll { .. } => request_refresh(app, record).await?,
            _ => app.sessions.end(&record.id, Some(user_id)).await?,
        }
        affected += 1;
    }
    tracing::info!(subject = %user_id, event = %event.id, action = ?event.action, affected, "FusionAuth event applied");
    Ok(())
}

/// Whether `user`'s (sealed) token set holds `refresh_token`.
fn holds(app: &FusionAuth, user: &SignedInUser, refresh_token: &str) -> bool {
    user.tokens(&app.sealer)
        .is_ok_and(|tokens| tokens.refresh_token.as_deref() == Some(refresh_token))
}

/// Marks the session so its next request refreshes the tokens (and with them the roles).
async fn request_refresh(app: &FusionAuth, mut record: Record) -> Result<(), StoreError> {
    let Some(mut contents) = AuthSession::from_record(&record) else {
        return Ok(());
    };
    if let Some(user) = contents.user.as_mut() {
        user.refresh_requested = true;
    }
    let value = serde_json::to_value(&contents).map_err(StoreError::new)?;
    record.data.insert(AuthSession::KEY.to_owned(), value);
    app.sessions.rewrite(&record).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(created_at_ms: i64) -> Event {
        Event {
            id: "e".into(),
            created_at_ms,
            action: SessionAction::Ignore(String::new()),
        }
    }

    #[test]
    fn only_events_of_the_last_window_are_accepted() {
        let window = Duration::from_secs(600);
        let now = 1_700_000_000_000;
        assert!(dated_within(&event(now), window, now).is_ok());
        assert!(dated_within(&event(now - 599_000), window, now).is_ok());
        assert!(dated_within(&event(now - 601_000), window, now).is_err());
        assert!(
            dated_within(&event(1), window, now).is_err(),
            "createInstant 1"
        );
        assert!(dated_within(&event(now + 59_000), window, now).is_ok());
        assert!(dated_within(&event(now + 61_000), window, now).is_err());
    }
}

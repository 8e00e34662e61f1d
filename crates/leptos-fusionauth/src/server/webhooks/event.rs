//! FusionAuth's events, as far as the library acts on them, and what each means for the sessions
//! here. FusionAuth has no OpenID back-channel logout; its signed webhooks are the substitute
//! (its documented single-logout pattern: an application revokes refresh tokens, FusionAuth emits
//! `jwt.refresh-token.revoke`, every application ends its sessions).
//!
//! [`HANDLED_EVENTS`] is the one table: the handler acts on exactly these, and the events a
//! FusionAuth tenant and webhook must send ([`WEBHOOK_EVENTS`]) are its names.

use serde::Deserialize;

/// What an event of FusionAuth does to the sessions of this application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Refresh tokens were revoked: one (the sessions holding it end) or all of the user's (all
    /// their sessions end) — for this application or every application.
    TokensRevoked,
    /// The user can no longer sign in anywhere: every session ends.
    UserGone,
    /// The user lost their registration: their sessions end, if it was for this application.
    RegistrationRemoved,
    /// The user's registration changed (roles): their sessions refresh at the next request, so
    /// the roles follow at once.
    RegistrationChanged,
}

/// Every FusionAuth event the library acts on.
pub(crate) const HANDLED_EVENTS: [(&str, Effect); 5] = [
    ("jwt.refresh-token.revoke", Effect::TokensRevoked),
    ("user.deactivate", Effect::UserGone),
    ("user.delete", Effect::UserGone),
    ("user.registration.delete", Effect::RegistrationRemoved),
    ("user.registration.update", Effect::RegistrationChanged),
];

/// The FusionAuth events the webhook must receive (enable them on the tenant and the webhook):
/// the names of the events the library acts on.
pub const WEBHOOK_EVENTS: [&str; 5] = {
    let mut names = [""; 5];
    let mut i = 0;
    while i < HANDLED_EVENTS.len() {
        names[i] = HANDLED_EVENTS[i].0;
        i += 1;
    }
    names
};

/// The body FusionAuth posts: `{"event": {...}}`.
#[derive(Debug, Deserialize)]
struct EventRequest {
    event: RawEvent,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    /// Milliseconds since the Unix epoch, FusionAuth's clock.
    #[serde(default)]
    create_instant: Option<i64>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    user: Option<Identified>,
    #[serde(default)]
    application_id: Option<String>,
    #[serde(default)]
    refresh_token: Option<RefreshTokenRef>,
    #[serde(default)]
    registration: Option<RegistrationRef>,
}

#[derive(Debug, Deserialize)]
struct Identified {
    id: String,
}

#[derive(Debug, Deserialize)]
struct RefreshTokenRef {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegistrationRef {
    #[serde(default)]
    application_id: Option<String>,
}

/// What an event asks of this application's sessions.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SessionAction {
    /// End every session of the user.
    EndAll { user_id: String },
    /// End the session(s) of the user that hold this refresh token.
    EndHolding {
        user_id: String,
        refresh_token: String,
    },
    /// Refresh every session of the user at its next request.
    RefreshAll { user_id: String },
    /// Nothing to do; the reason is logged.
    Ignore(String),
}

/// An event, identified and dated, and what it asks.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// FusionAuth's id of the event (the same for every retry of a delivery).
    pub(crate) id: String,
    /// When FusionAuth created it: milliseconds since the Unix epoch.
    pub(crate) created_at_ms: i64,
    pub(crate) action: SessionAction,
}

/// Why an event body was not understood.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EventError {
    #[error("not a FusionAuth event: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error("the event has no {0} (replays could not be told apart)")]
    Missing(&'static str),
}

/// What the event in `body` means for the sessions of application `client_id`.
pub(crate) fn parse_event(body: &[u8], client_id: &str) -> Result<Event, EventError> {
    let EventRequest { event } = serde_json::from_slice(body)?;
    let id = event.id.clone().ok_or(EventError::Missing("id"))?;
    let created_at_ms = event
        .create_instant
        .ok_or(EventError::Missing("createInstant"))?;
    let effect = HANDLED_EVENTS
        .iter()
        .find(|(kind, _)| *kind == event.kind)
        .map(|(_, effect)| *effect);
    let action = match effect {
        Some(effect) => act(effect, event, client_id),
        None => SessionAction::Ignore(format!("{} does not concern sessions", event.kind)),
    };
    Ok(Event {
        id,
        created_at_ms,
        action,
    })
}

fn act(effect: Effect, event: RawEvent, client_id: &str) -> SessionAction {
    let Some(user_id) = event
        .user_id
        .clone()
        .or_else(|| event.user.as_ref().map(|user| user.id.clone()))
    else {
        return SessionAction::Ignore(format!("{} names no user", event.kind));
    };
    // Without an application: all of the user's tokens, in every application.
    let ours = |application: Option<&String>| application.is_none_or(|id| id == client_id);
    let registration_application = || {
        event
            .registration
            .as_ref()
            .and_then(|r| r.application_id.clone())
            .or(event.application_id.clone())
    };
    match effect {
        Effect::TokensRevoked if !ours(event.application_id.as_ref()) => {
            SessionAction::Ignore("refresh tokens of another application".into())
        }
        Effect::TokensRevoked => match event.refresh_token.and_then(|token| token.token) {
            Some(refresh_token) => SessionAction::EndHolding {
                user_id,
                refresh_token,
            },
            None => SessionAction::EndAll { user_id },
        },
        Effect::UserGone => SessionAction::EndAll { user_id },
        Effect::RegistrationRemoved | Effect::RegistrationChanged
            if registration_application().as_deref() != Some(client_id) =>
        {
            SessionAction::Ignore("a registration to another application".into())
        }
        Effect::RegistrationRemoved => SessionAction::EndAll { user_id },
        Effect::RegistrationChanged => SessionAction::RefreshAll { user_id },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const APP: &str = "app-id";

    fn action(mut event: serde_json::Value) -> SessionAction {
        event["id"] = json!("event-1");
        event["createInstant"] = json!(1_700_000_000_000_i64);
        let body = json!({ "event": event }).to_string();
        parse_event(body.as_bytes(), APP).unwrap().action
    }

    #[test]
    fn the_table_names_every_event_the_webhook_needs() {
        assert_eq!(
            WEBHOOK_EVENTS,
            [
                "jwt.refresh-token.revoke",
                "user.deactivate",
                "user.delete",
                "user.registration.delete",
                "user.registration.update"
            ]
        );
    }

    #[test]
    fn revoking_all_of_a_users_tokens_ends_all_their_sessions() {
        let event = json!({ "type": "jwt.refresh-token.revoke", "userId": "u1",
            "applicationTimeToLiveInSeconds": { APP: 3600 } });
        let all = SessionAction::EndAll {
            user_id: "u1".into(),
        };
        assert_eq!(action(event), all);
        let for_this_app =
            json!({ "type": "jwt.refresh-token.revoke", "userId": "u1", "applicationId": APP });
        assert_eq!(action(for_this_app), all);
    }

    #[test]
    fn revoking_one_token_ends_the_session_that_holds_it() {
        let event = json!({ "type": "jwt.refresh-token.revoke", "userId": "u1", "applicationId": APP,
            "refreshToken": { "id": "t-id", "token": "the-token", "userId": "u1" } });
        assert_eq!(
            action(event),
            SessionAction::EndHolding {
                user_id: "u1".into(),
                refresh_token: "the-token".into()
            }
        );
    }

    #[test]
    fn events_of_other_applications_are_ignored() {
        let other =
            json!({ "type": "jwt.refresh-token.revoke", "userId": "u1", "applicationId": "other" });
        assert!(matches!(action(other), SessionAction::Ignore(_)));
        for kind in ["user.registration.delete", "user.registration.update"] {
            let registration = json!({ "type": kind, "applicationId": "other",
                "registration": { "applicationId": "other" }, "user": { "id": "u1" } });
            assert!(matches!(action(registration), SessionAction::Ignore(_)));
        }
    }

    #[test]
    fn deactivation_deletion_and_losing_the_registration_end_sessions() {
        for kind in ["user.deactivate", "user.delete"] {
            let event = json!({ "type": kind, "user": { "id": "u2", "email": "a@b.c" } });
            assert_eq!(
                action(event),
                SessionAction::EndAll {
                    user_id: "u2".into()
                }
            );
        }
        let event = json!({ "type": "user.registration.delete", "applicationId": APP,
            "registration": { "applicationId": APP }, "user": { "id": "u3" } });
        assert_eq!(
            action(event),
            SessionAction::EndAll {
                user_id: "u3".into()
            }
        );
    }

    #[test]
    fn a_changed_registration_refreshes_the_sessions() {
        let event = json!({ "type": "user.registration.update", "applicationId": APP,
            "registration": { "applicationId": APP, "roles": ["admin"] }, "user": { "id": "u4" } });
        assert_eq!(
            action(event),
            SessionAction::RefreshAll {
                user_id: "u4".into()
            }
        );
    }

    #[test]
    fn unknown_events_garbage_and_undated_events() {
        assert!(matches!(
            action(json!({ "type": "user.login.success", "user": { "id": "u" } })),
            SessionAction::Ignore(_)
        ));
        assert!(matches!(
            action(json!({ "type": "user.delete" })),
            SessionAction::Ignore(_)
        ));
        assert!(parse_event(b"{not json", APP).is_err());
        assert!(parse_event(br#"{"no":"event"}"#, APP).is_err());
        let undated =
            json!({ "event": { "type": "user.delete", "id": "e", "user": { "id": "u" } } });
        assert!(matches!(
            parse_event(undated.to_string().as_bytes(), APP),
            Err(EventError::Missing("createInstant"))
        ));
        let anonymous = json!({ "event": { "type": "user.delete", "createInstant": 1, "user": { "id": "u" } } });
        assert!(matches!(
            parse_event(anonymous.to_string().as_bytes(), APP),
            Err(EventError::Missing("id"))
        ));
    }
}

//! FusionAuth's events, as far as this app acts on them, and what each means for the sessions
//! here. FusionAuth has no OpenID back-channel logout; its signed webhooks are the substitute
//! (its documented single-logout pattern: an application revokes refresh tokens, FusionAuth emits
//! `jwt.refresh-token.revoke`, every application ends its sessions).

use serde::Deserialize;

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

/// What an event asks of this app's sessions.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionAction {
    /// End every session of the user.
    EndAll { user_id: String },
    /// End the session(s) of the user that hold this refresh token.
    EndHolding {
        user_id: String,
        refresh_token: String,
    },
    /// Nothing to do; the reason is logged.
    Ignore(String),
}

/// Why an event body was not understood.
#[derive(Debug, thiserror::Error)]
#[error("not a FusionAuth event: {0}")]
pub struct EventError(#[from] serde_json::Error);

/// What the event in `body` means for the sessions of application `client_id`.
pub fn session_action(body: &[u8], client_id: &str) -> Result<SessionAction, EventError> {
    let EventRequest { event } = serde_json::from_slice(body)?;
    let user_id = event
        .user_id
        .clone()
        .or_else(|| event.user.as_ref().map(|user| user.id.clone()));
    let ours = |application: Option<&String>| application.is_none_or(|id| id == client_id);
    let action = match (event.kind.as_str(), user_id) {
        // Without an application: all of the user's tokens, in every application.
        ("jwt.refresh-token.revoke", Some(user_id)) if ours(event.application_id.as_ref()) => {
            match event.refresh_token.and_then(|token| token.token) {
                Some(refresh_token) => SessionAction::EndHolding {
                    user_id,
                    refresh_token,
                },
                None => SessionAction::EndAll { user_id },
            }
        }
        ("jwt.refresh-token.revoke", Some(_)) => {
            SessionAction::Ignore("refresh tokens of another application".into())
        }
        ("user.deactivate" | "user.delete", Some(user_id)) => SessionAction::EndAll { user_id },
        ("user.registration.delete", Some(user_id)) => {
            let application = event
                .registration
                .and_then(|r| r.application_id)
                .or(event.application_id);
            match application {
                Some(id) if id == client_id => SessionAction::EndAll { user_id },
                _ => SessionAction::Ignore("a registration to another application".into()),
            }
        }
        (kind, Some(_)) => SessionAction::Ignore(format!("{kind} does not end sessions")),
        (kind, None) => SessionAction::Ignore(format!("{kind} names no user")),
    };
    Ok(action)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const APP: &str = "app-id";

    fn action(event: serde_json::Value) -> SessionAction {
        session_action(json!({ "event": event }).to_string().as_bytes(), APP).unwrap()
    }

    #[test]
    fn revoking_all_of_a_users_tokens_ends_all_their_sessions() {
        let event = json!({ "type": "jwt.refresh-token.revoke", "userId": "u1",
            "applicationTimeToLiveInSeconds": { APP: 3600 } });
        assert_eq!(
            action(event),
            SessionAction::EndAll {
                user_id: "u1".into()
            }
        );
        let for_this_app =
            json!({ "type": "jwt.refresh-token.revoke", "userId": "u1", "applicationId": APP });
        assert_eq!(
            action(for_this_app),
            SessionAction::EndAll {
                user_id: "u1".into()
            }
        );
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
        let registration = json!({ "type": "user.registration.delete", "applicationId": "other",
            "registration": { "applicationId": "other" }, "user": { "id": "u1" } });
        assert!(matches!(action(registration), SessionAction::Ignore(_)));
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
    fn unknown_events_and_garbage() {
        assert!(matches!(
            action(json!({ "type": "user.login.success", "user": { "id": "u" } })),
            SessionAction::Ignore(_)
        ));
        assert!(matches!(
            action(json!({ "type": "user.delete" })),
            SessionAction::Ignore(_)
        ));
        assert!(session_action(b"{not json", APP).is_err());
        assert!(session_action(br#"{"no":"event"}"#, APP).is_err());
    }
}

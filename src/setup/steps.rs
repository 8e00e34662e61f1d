//! One function per provisioning step. Each looks at FusionAuth (or the `.env` file) and returns
//! a [`Finding`]: what is in place already, or the one change that would put it in place.
//!
//! 1. the first tenant's `issuer` and enabled events (<https://fusionauth.io/docs/apis/tenants>);
//! 2. the RS256 signing key (<https://fusionauth.io/docs/apis/keys>);
//! 3. the HMAC key FusionAuth signs the app's webhooks with, and the webhook itself
//!    (<https://fusionauth.io/docs/apis/webhooks>);
//! 4. the application, with refresh tokens, self-service registration and roles, which the
//!    tutorial's script left out (<https://fusionauth.io/docs/apis/applications>);
//! 5. the user's full name (<https://fusionauth.io/docs/apis/users>);
//! 6. the user's registration to the application (<https://fusionauth.io/docs/apis/registrations>);
//! 7. `CLIENT_ID`, `CLIENT_SECRET`, `ISSUER` and `FUSIONAUTH_WEBHOOK_SECRET` in the app's `.env`.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Map, Value};

use super::{
    api::{string_at, FusionAuthApi, SetupError},
    env_file::plan_env_update,
    finding::{Change, Finding},
    target::{TargetConfiguration, WEBHOOK_ID, WEBHOOK_KEY_ID},
};

/// The tenant the tutorial configures: the first one.
pub async fn first_tenant(api: &FusionAuthApi) -> Result<Value, SetupError> {
    let tenants = api.call(Method::GET, "/api/tenant", None, None).await?;
    tenants
        .get("tenants")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .cloned()
        .ok_or_else(|| SetupError::Invalid("FusionAuth has no tenant".into()))
}

/// 1. The tenant: its issuer must be the app's `ISSUER` (FusionAuth's default, `acme.com`, is
///    not a URL that strict OpenID Connect clients accept), and the events the app's webhook
///    receives must be enabled on it.
pub fn tenant(tenant: &Value, tenant_id: &str, target: &TargetConfiguration) -> Finding {
    let wanted = target.tenant_patch();
    let Some(missing) = merge_missing(&wanted["tenant"], tenant) else {
        return Finding::in_place(format!(
            "tenant {tenant_id}: issuer is {}, webhook events enabled",
            target.issuer
        ));
    };
    Finding::change(
        format!(
            "tenant {tenant_id}: set issuer to {} and enable the webhook events",
            target.issuer
        ),
        Change::Api {
            method: Method::PATCH,
            path: format!("/api/tenant/{tenant_id}"),
            body: json!({ "tenant": missing }),
            tenant_id: None,
        },
    )
}

/// 2. The RS256 key that signs the application's tokens.
pub async fn signing_key(
    api: &FusionAuthApi,
    target: &TargetConfiguration,
) -> Result<Finding, SetupError> {
    let Some(found) = api.find(&format!("/api/key/{}", target.key_id)).await? else {
        return Ok(Finding::change(
            format!("key {}: generate an RS256 2048-bit key", target.key_id),
            Change::Api {
                method: Method::POST,
                path: format!("/api/key/generate/{}", target.key_id),
                body: target.key_request(),
                tenant_id: None,
            },
        ));
    };
    let algorithm = found
        .pointer("/key/algorithm")
        .and_then(Value::as_str)
        .unwrap_or("?");
    if algorithm != "RS256" {
        return Err(SetupError::Invalid(format!(
            "key {} exists but is {algorithm}, not RS256",
            target.key_id
        )));
    }
    Ok(Finding::in_place(format!(
        "key {}: RS256 key exists",
        target.key_id
    )))
}

/// 3a. The HMAC key that signs the webhook. FusionAuth never hands a key's secret back, so an
///     existing key is taken to hold the secret `.env` has (both are written by this command).
pub async fn webhook_key(
    api: &FusionAuthApi,
    target: &TargetConfiguration,
) -> Result<Finding, SetupError> {
    let Some(found) = api.find(&format!("/api/key/{WEBHOOK_KEY_ID}")).await? else {
        return Ok(Finding::change(
            format!("key {WEBHOOK_KEY_ID}: import the webhook's HMAC signing key"),
            Change::Api {
                method: Method::POST,
                path: format!("/api/key/import/{WEBHOOK_KEY_ID}"),
                body: target.webhook_key_request(),
                tenant_id: None,
            },
        ));
    };
    match found.pointer("/key/type").and_then(Value::as_str) {
        Some("HMAC") => Ok(Finding::in_place(format!(
            "key {WEBHOOK_KEY_ID}: the webhook's HMAC key exists (its secret must equal \
             FUSIONAUTH_WEBHOOK_SECRET)"
        ))),
        other => Err(SetupError::Invalid(format!(
            "key {WEBHOOK_KEY_ID} exists but is {}, not an HMAC key",
            other.unwrap_or("?")
        ))),
    }
}

/// 3b. The webhook: every tenant, the events that end sessions, signed with the HMAC key.
pub async fn webhook(
    api: &FusionAuthApi,
    target: &TargetConfiguration,
) -> Result<Finding, SetupError> {
    let path = format!("/api/webhook/{WEBHOOK_ID}");
    let wanted = target.webhook();
    let Some(found) = api.find(&path).await? else {
        return Ok(Finding::change(
            format!(
                "webhook {WEBHOOK_ID}: send signed events to {}",
                target.webhook_url
            ),
            Change::Api {
                method: Method::POST,
                path,
                body: json!({ "webhook": wanted }),
                tenant_id: None,
            },
        ));
    };
    let existing = found.get("webhook").cloned().unwrap_or(Value::Null);
    Ok(match merge_missing(&wanted, &existing) {
        None => Finding::in_place(format!(
            "webhook {WEBHOOK_ID}: signed events go to {}",
            target.webhook_url
        )),
        Some(patch) => Finding::change(
            format!("webhook {WEBHOOK_ID}: update its URL, events or signing"),
            Change::Api {
                method: Method::PATCH,
                path,
                body: json!({ "webhook": patch }),
                tenant_id: None,
            },
        ),
    })
}

/// What step 4 found about the application.
pub struct ApplicationFinding {
    pub finding: Finding,
    /// The client secret `.env` must hold: an existing application keeps its own.
    pub client_secret: String,
    /// The application as it was, if it existed.
    pub existing: Option<Value>,
}

/// 4. The application: created when missing, completed (never replaced) when it exists.
pub async fn application(
    api: &FusionAuthApi,
    target: &TargetConfiguration,
    tenant_id: &str,
) -> Result<ApplicationFinding, SetupError> {
    let path = format!("/api/application/{}", target.client_id);
    let Some(found) = api.find(&path).await? else {
        let finding = Finding::change(
            format!(
                "application {} ({}): create",
                target.app_name, target.client_id
            ),
            Change::Api {
                method: Method::POST,
                path,
                body: json!({ "application": target.application() }),
                tenant_id: Some(tenant_id.to_owned()),
            },
        );
        return Ok(ApplicationFinding {
            finding,
            client_secret: target.client_secret.clone(),
            existing: None,
        });
    };
    let existing = found.get("application").cloned().unwrap_or(Value::Null);
    // An existing secret is kept: other clients may use it. `.env` gets the real one.
    let secret = existing
        .pointer("/oauthConfiguration/clientSecret")
        .and_then(Value::as_str)
        .unwrap_or(&target.client_secret)
        .to_owned();
    let finding = complete_application(&existing, target, path, tenant_id);
    Ok(ApplicationFinding {
        finding,
        client_secret: secret,
        existing: Some(existing),
    })
}

/// 4b. The roles of an application that existed before (a new one is created with them): each
///     missing role is added with the role API. `existing` is the application as step 4 found it.
pub fn application_roles(existing: Option<&Value>, target: &TargetConfiguration) -> Vec<Finding> {
    let Some(existing) = existing else {
        return Vec::new();
    };
    let have: Vec<&str> = existing
        .pointer("/roles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|role| role.get("name").and_then(Value::as_str))
        .collect();
    let wanted = target.roles();
    let client_id = &target.client_id;
    wanted
        .as_array()
        .into_iter()
        .flatten()
        .map(|role| {
            let name = role.get("name").and_then(Value::as_str).unwrap_or("?");
            if have.contains(&name) {
                return Finding::in_place(format!("application {client_id}: role {name} exists"));
            }
            Finding::change(
                format!("application {client_id}: add the role {name}"),
                Change::Api {
                    method: Method::POST,
                    path: format!("/api/application/{client_id}/role"),
                    body: json!({ "role": role }),
                    tenant_id: None,
                },
            )
        })
        .collect()
}

/// What an existing application lacks, as a PATCH that keeps everything it has (its secret
/// included; roles change through the role API).
fn complete_application(
    existing: &Value,
    target: &TargetConfiguration,
    path: String,
    tenant_id: &str,
) -> Finding {
    let mut wanted = target.application();
    if let Some(oauth) = wanted
        .get_mut("oauthConfiguration")
        .and_then(Value::as_object_mut)
    {
        oauth.remove("clientSecret");
    }
    if let Some(application) = wanted.as_object_mut() {
        application.remove("roles");
    }
    match merge_missing(&wanted, existing) {
        None => Finding::in_place(format!(
            "application {}: configured as needed",
            target.client_id
        )),
        Some(patch) => Finding::change(
            format!(
                "application {}: update redirect URLs, grants, refresh tokens, registration \
                 and signing keys",
                target.client_id
            ),
            Change::Api {
                method: Method::PATCH,
                path,
                body: json!({ "application": patch }),
                tenant_id: Some(tenant_id.to_owned()),
            },
        ),
    }
}

/// The user with `email`, or — as the tutorial's script does — the only user there is.
pub async fn find_user(api: &FusionAuthApi, email: Option<&str>) -> Result<Value, SetupError> {
    if let Some(email) = email {
        let path = format!("/api/user?email={}", urlencode(email));
        return api
            .find(&path)
            .await?
            .and_then(|found| found.get("user").cloned())
            .ok_or_else(|| {
                SetupError::Invalid(format!("no FusionAuth user has the email {email}"))
            });
    }
    let found = api
        .call(Method::GET, "/api/user/search?queryString=*", None, None)
        .await?;
    let users = found
        .get("users")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match users.as_slice() {
        [only] => Ok(only.clone()),
        [] => Err(SetupError::Invalid(
            "FusionAuth has no user to register".into(),
        )),
        many => Err(SetupError::Invalid(format!(
            "FusionAuth has {} users: name one with --user-email",
            many.len()
        ))),
    }
}

/// 5. The user's full name, from first and last name (the profile shows `name`).
pub fn full_name(user: &Value) -> Result<Finding, SetupError> {
    let user_id = string_at(user, "/id")?;
    let email = user_email(user);
    let text = |pointer: &str| user.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let wanted = format!("{} {}", text("/firstName"), text("/lastName"))
        .trim()
        .to_owned();
    let current = text("/fullName");
    if wanted.is_empty() || current == wanted {
        return Ok(Finding::in_place(format!(
            "user {email}: full name is {current:?}"
        )));
    }
    Ok(Finding::change(
        format!("user {email}: set full name to {wanted:?}"),
        Change::Api {
            method: Method::PATCH,
            path: format!("/api/user/{user_id}"),
            body: json!({ "user": { "fullName": wanted } }),
            tenant_id: None,
        },
    ))
}

/// 6. The user's registration to the application (`requireRegistration` is on).
pub fn registration(user: &Value, target: &TargetConfiguration) -> Result<Finding, SetupError> {
    let user_id = string_at(user, "/id")?;
    let email = user_email(user);
    let registered = user
        .pointer("/registrations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| r.get("applicationId").and_then(Value::as_str) == Some(target.client_id.as_str()));
    if registered {
        return Ok(Finding::in_place(format!(
            "user {email}: registered to the application"
        )));
    }
    Ok(Finding::change(
        format!("user {email}: register to the application"),
        Change::Api {
            method: Method::POST,
            path: format!("/api/user/registration/{user_id}"),
            body: json!({ "registration": { "applicationId": target.client_id } }),
            tenant_id: None,
        },
    ))
}

/// 0. The secrets this run is about to give FusionAuth, saved in the settings file before any
///    change there: the webhook's HMAC secret, and the client secret of an application this
///    run creates. A run that fails half-way then leaves both sides agreeing, and a re-run
///    (which reads the file) sends the same secrets again instead of new random ones.
pub fn secrets_first(path: &Path, target: &TargetConfiguration, new_application: bool) -> Finding {
    let mut updates = vec![("FUSIONAUTH_WEBHOOK_SECRET", target.webhook_secret.as_str())];
    if new_application {
        updates.push(("CLIENT_ID", target.client_id.as_str()));
        updates.push(("CLIENT_SECRET", target.client_secret.as_str()));
    }
    let names: Vec<&str> = updates.iter().map(|(name, _)| *name).collect();
    let (before, after) = plan_env_update(path, &updates);
    if before.as_deref() == Some(after.as_str()) {
        return Finding::in_place(format!(
            "{}: the secrets sent to FusionAuth ({}) are saved",
            path.display(),
            names.join(", ")
        ));
    }
    Finding::change(
        format!(
            "{}: save {} before changing FusionAuth",
            path.display(),
            names.join(", ")
        ),
        Change::WriteFile {
            path: path.to_owned(),
            contents: after,
        },
    )
}

/// 7. The app's `.env`: the client it signs in as, the issuer it trusts, and the secret it
///    verifies webhooks with. `before_run` is the file as it was when this run began (the run
///    saved its secrets in it first): what the run as a whole changes.
pub fn env_file(
    path: &Path,
    target: &TargetConfiguration,
    client_secret: &str,
    before_run: Option<&str>,
) -> Finding {
    let updates = [
        ("CLIENT_ID", target.client_id.as_str()),
        ("CLIENT_SECRET", client_secret),
        ("ISSUER", target.issuer.as_str()),
        ("FUSIONAUTH_WEBHOOK_SECRET", target.webhook_secret.as_str()),
    ];
    let (_, after) = plan_env_update(path, &updates);
    if before_run == Some(after.as_str()) {
        return Finding::in_place(format!(
            "{}: CLIENT_ID, CLIENT_SECRET, ISSUER, FUSIONAUTH_WEBHOOK_SECRET up to date",
            path.display()
        ));
    }
    Finding::change(
        format!(
            "{}: write CLIENT_ID, CLIENT_SECRET, ISSUER, FUSIONAUTH_WEBHOOK_SECRET",
            path.display()
        ),
        Change::WriteFile {
            path: path.to_owned(),
            contents: after,
        },
    )
}

fn user_email(user: &Value) -> String {
    user.pointer("/email")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned()
}

/// The fields of `wanted` that `existing` lacks or differs in, as a PATCH body; `None` when
/// nothing is missing. Lists are merged (the union), so URLs and grants someone added by hand
/// survive the PATCH, which replaces lists whole.
pub fn merge_missing(wanted: &Value, existing: &Value) -> Option<Value> {
    match (wanted, existing) {
        (Value::Object(wanted), Value::Object(existing)) => {
            let mut patch = Map::new();
            for (key, value) in wanted {
                let current = existing.get(key).unwrap_or(&Value::Null);
                if let Some(change) = merge_missing(value, current) {
                    patch.insert(key.clone(), change);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        (Value::Array(wanted), Value::Array(existing)) => {
            let missing: Vec<&Value> = wanted.iter().filter(|v| !existing.contains(v)).collect();
            if missing.is_empty() {
                return None;
            }
            let mut union = existing.clone();
            union.extend(missing.into_iter().cloned());
            Some(Value::Array(union))
        }
        (wanted, existing) if wanted == existing => None,
        (wanted, _) => Some(wanted.clone()),
    }
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_missing_keeps_what_is_there_and_adds_what_is_not() {
        let wanted = json!({ "a": 1, "list": ["x", "y"], "nested": { "b": true } });
        assert_eq!(merge_missing(&wanted, &wanted), None);
        let existing = json!({ "a": 1, "list": ["z", "x"], "nested": { "b": false, "c": 3 } });
        assert_eq!(
            merge_missing(&wanted, &existing),
            Some(json!({ "list": ["z", "x", "y"], "nested": { "b": true } }))
        );
    }
}

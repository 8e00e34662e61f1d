//! What FusionAuth should end up with. The defaults are the demo values of `.env.example` and
//! `kickstart/kickstart.json` (a unit test keeps them equal), so both provisioning paths
//! configure the same application.

use serde_json::{json, Value};

/// The demo application's id (OAuth client id), as in `.env.example` and the kickstart.
pub const DEMO_CLIENT_ID: &str = "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e";
/// The demo client secret: for development on loopback only.
pub const DEMO_CLIENT_SECRET: &str = "change-this-in-production-to-be-a-real-secret";
/// The signing key id of the Flask tutorial.
pub const DEMO_KEY_ID: &str = "356a6624-b33c-471a-b707-48bbfcfbc593";
/// The HMAC key FusionAuth signs the app's webhooks with.
pub const WEBHOOK_KEY_ID: &str = "7d8e1a41-5a2b-4c8e-9f3a-2b6c1d0e9f10";
/// The webhook that tells the app about revoked refresh tokens and removed users.
pub const WEBHOOK_ID: &str = "b9c4a7e2-3d1f-4e6a-8c5b-0f2e1d3c4b5a";
/// The demo webhook secret (`.env.example`): for development on loopback only.
pub const DEMO_WEBHOOK_SECRET: &str = "dev-only-webhook-secret-6a1f0c9e2b7d4e83a5c1f9d02b6e7a48";

/// The FusionAuth events the app's webhook handles: the library's table of them.
pub use leptos_fusionauth::WEBHOOK_EVENTS;

/// The tenant issuer, signing key and application this app needs.
#[derive(Clone, Debug)]
pub struct TargetConfiguration {
    pub issuer: String,
    pub key_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub app_url: String,
    pub app_name: String,
    /// The secret of the webhook's HMAC signing key (the app's `FUSIONAUTH_WEBHOOK_SECRET`).
    pub webhook_secret: String,
    /// Where FusionAuth sends the webhook (`FUSIONAUTH_WEBHOOK_URL`; default
    /// `APP_URL/webhooks/fusionauth`).
    pub webhook_url: String,
}

impl Default for TargetConfiguration {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:9011".into(),
            key_id: DEMO_KEY_ID.into(),
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            app_url: "http://localhost:5001".into(),
            app_name: "LeptosExampleApp".into(),
            webhook_secret: DEMO_WEBHOOK_SECRET.into(),
            webhook_url: "http://localhost:5001/webhooks/fusionauth".into(),
        }
    }
}

impl TargetConfiguration {
    /// `PATCH /api/tenant/{id}` body: the issuer, and the events the app's webhook receives
    /// enabled on the tenant (FusionAuth sends an event only when the tenant and the webhook
    /// both enable it).
    pub fn tenant_patch(&self) -> Value {
        let events: serde_json::Map<String, Value> = WEBHOOK_EVENTS
            .iter()
            .map(|event| {
                let setting = json!({ "enabled": true, "transactionType": "None" });
                ((*event).to_owned(), setting)
            })
            .collect();
        json!({ "tenant": { "issuer": self.issuer, "eventConfiguration": { "events": events } } })
    }

    /// `POST /api/key/import/{id}` body: the webhook's HMAC key, with the secret the app knows
    /// (FusionAuth never returns a key's secret, so the key is imported, not generated).
    pub fn webhook_key_request(&self) -> Value {
        json!({ "key": {
            "type": "HMAC",
            "algorithm": "HS256",
            "name": format!("{} webhook signing key", self.app_name),
            "secret": self.webhook_secret
        } })
    }

    /// `POST /api/webhook/{id}` body (the `webhook` object): every tenant, the events that end
    /// sessions (and role changes), signed with the HMAC key.
    pub fn webhook(&self) -> Value {
        let events: serde_json::Map<String, Value> = WEBHOOK_EVENTS
            .iter()
            .map(|event| ((*event).to_owned(), Value::Bool(true)))
            .collect();
        json!({
            "url": self.webhook_url,
            "connectTimeout": 1000,
            "readTimeout": 2000,
            "global": true,
            "description": format!(
                "{}: ends app sessions when FusionAuth revokes refresh tokens or removes a user's access",
                self.app_name
            ),
            "eventsEnabled": events,
            "signatureConfiguration": { "enabled": true, "signingKeyId": WEBHOOK_KEY_ID }
        })
    }

    /// The application's roles (created with the application; added one by one to an existing
    /// one through the role API).
    pub fn roles(&self) -> Value {
        json!([
            { "name": "user", "description": "Signed-in user", "isDefault": true },
            { "name": "admin", "description": "Administrator of this app" }
        ])
    }

    /// `POST /api/key/generate/{id}` body.
    pub fn key_request(&self) -> Value {
        json!({ "key": { "algorithm": "RS256", "name": format!("{} signing key", self.app_name), "length": 2048 } })
    }

    /// `POST /api/application/{id}` body (the `application` object).
    pub fn application(&self) -> Value {
        let app = self.app_url.trim_end_matches('/');
        json!({
            "name": self.app_name,
            "oauthConfiguration": {
                "authorizedRedirectURLs": [format!("{app}/callback"), format!("{app}/logout")],
                "logoutURL": format!("{app}/logout"),
                "clientSecret": self.client_secret,
                "clientAuthenticationPolicy": "Required",
                "proofKeyForCodeExchangePolicy": "Required",
                "requireRegistration": true,
                "enabledGrants": ["authorization_code", "refresh_token"],
                "generateRefreshTokens": true
            },
            "registrationConfiguration": {
                "enabled": true,
                "type": "basic",
                "loginIdType": "email",
                "firstName": { "enabled": true, "required": true },
                "lastName": { "enabled": true, "required": true }
            },
            "jwtConfiguration": {
                "enabled": true,
                "accessTokenKeyId": self.key_id,
                "idTokenKeyId": self.key_id,
                "timeToLiveInSeconds": 3600,
                "refreshTokenTimeToLiveInMinutes": 43200,
                "refreshTokenUsagePolicy": "Reusable"
            },
            "roles": self.roles()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kickstart with its `#{name}` variables resolved, as FusionAuth does.
    fn kickstart() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/kickstart/kickstart.json");
        let text = std::fs::read_to_string(path).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let mut resolved = text.clone();
        for (name, value) in parsed["variables"].as_object().unwrap() {
            resolved = resolved.replace(&format!("#{{{name}}}"), value.as_str().unwrap());
        }
        serde_json::from_str(&resolved).unwrap()
    }

    fn kickstart_request(url: &str) -> Value {
        kickstart()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["url"].as_str().unwrap() == url)
            .unwrap_or_else(|| panic!("the kickstart has no request to {url}"))["body"]
            .clone()
    }

    #[test]
    fn setup_and_kickstart_configure_the_same_application() {
        let target = TargetConfiguration::default();
        let vars = &kickstart()["variables"];
        let at =
            |prefix: &str, variable: &str| format!("{prefix}{}", vars[variable].as_str().unwrap());
        assert_eq!(
            kickstart_request(&at("/api/application/", "clientId"))["application"],
            target.application()
        );
        assert_eq!(
            kickstart_request(&at("/api/key/generate/", "keyId")),
            target.key_request()
        );
        assert_eq!(
            kickstart_request(&at("/api/tenant/", "defaultTenantId")),
            target.tenant_patch()
        );
        // The kickstart takes the webhook's secret and URL from FusionAuth's environment.
        let from_kickstart_env = TargetConfiguration {
            webhook_secret: "#{ENV.FUSIONAUTH_WEBHOOK_SECRET}".into(),
            webhook_url: "#{ENV.FUSIONAUTH_WEBHOOK_URL}".into(),
            ..TargetConfiguration::default()
        };
        assert_eq!(
            kickstart_request(&at("/api/key/import/", "webhookKeyId")),
            from_kickstart_env.webhook_key_request()
        );
        assert_eq!(
            kickstart_request(&at("/api/webhook/", "webhookId"))["webhook"],
            from_kickstart_env.webhook()
        );
        assert_eq!(vars["webhookKeyId"], WEBHOOK_KEY_ID);
        assert_eq!(vars["webhookId"], WEBHOOK_ID);
        assert_eq!(vars["clientId"], target.client_id.as_str());
        assert_eq!(vars["clientSecret"], target.client_secret.as_str());
        assert_eq!(vars["keyId"], target.key_id.as_str());
    }
}

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

/// The tenant issuer, signing key and application this app needs.
#[derive(Clone, Debug)]
pub struct TargetConfiguration {
    pub issuer: String,
    pub key_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub app_url: String,
    pub app_name: String,
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
        }
    }
}

impl TargetConfiguration {
    /// `PATCH /api/tenant/{id}` body.
    pub fn tenant_patch(&self) -> Value {
        json!({ "tenant": { "issuer": self.issuer } })
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
            }
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

    fn kickstart_request(url_prefix: &str) -> Value {
        kickstart()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["url"].as_str().unwrap().starts_with(url_prefix))
            .unwrap()["body"]
            .clone()
    }

    #[test]
    fn setup_and_kickstart_configure_the_same_application() {
        let target = TargetConfiguration::default();
        assert_eq!(
            kickstart_request("/api/application/")["application"],
            target.application()
        );
        assert_eq!(
            kickstart_request("/api/key/generate/"),
            target.key_request()
        );
        assert_eq!(kickstart_request("/api/tenant/"), target.tenant_patch());
        let vars = &kickstart()["variables"];
        assert_eq!(vars["clientId"], target.client_id.as_str());
        assert_eq!(vars["clientSecret"], target.client_secret.as_str());
        assert_eq!(vars["keyId"], target.key_id.as_str());
    }
}

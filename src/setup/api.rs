//! A small client for FusionAuth's API-key-authenticated REST API, and the one-line errors
//! `setup` reports (<https://fusionauth.io/docs/apis/errors>).

use std::time::Duration;

use reqwest::{header, Method, StatusCode};
use serde_json::Value;
use url::Url;

/// A failure, as one line for the terminal.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("FusionAuth is unreachable at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "FusionAuth rejected the API key (401): check FUSIONAUTH_API_KEY, and that the key \
         may call the tenant, key, application, user and registration APIs"
    )]
    ApiKeyRejected,
    #[error("the API key lacks permission for {path} (403)")]
    Forbidden { path: String },
    #[error("FusionAuth refused {path} (400): {details}")]
    Validation { path: String, details: String },
    #[error("FusionAuth answered {method} {path} with HTTP {status}")]
    Unexpected {
        method: String,
        path: String,
        status: u16,
    },
    #[error("{0}")]
    Invalid(String),
}

/// A small client for FusionAuth's API-key-authenticated REST API.
pub struct FusionAuthApi {
    http: reqwest::Client,
    base: Url,
    api_key: String,
}

impl FusionAuthApi {
    pub fn new(base: Url, api_key: String) -> Result<Self, SetupError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SetupError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            api_key,
        })
    }

    /// GET, with 404 as `None`.
    pub async fn find(&self, path: &str) -> Result<Option<Value>, SetupError> {
        match self.call(Method::GET, path, None, None).await {
            Err(SetupError::Unexpected { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        tenant_id: Option<&str>,
    ) -> Result<Value, SetupError> {
        let url = self
            .base
            .join(path)
            .map_err(|e| SetupError::Invalid(format!("bad API path {path}: {e}")))?;
        // FusionAuth takes the API key as the whole Authorization header, without a scheme.
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(header::AUTHORIZATION, &self.api_key)
            .header(header::ACCEPT, "application/json");
        if let Some(tenant_id) = tenant_id {
            request = request.header("X-FusionAuth-TenantId", tenant_id);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| SetupError::Unreachable {
            url: self.base.to_string(),
            reason: innermost_cause(&e),
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        match status {
            s if s.is_success() => Ok(serde_json::from_str(&text).unwrap_or(Value::Null)),
            StatusCode::UNAUTHORIZED => Err(SetupError::ApiKeyRejected),
            StatusCode::FORBIDDEN => Err(SetupError::Forbidden { path: path.into() }),
            StatusCode::BAD_REQUEST => Err(SetupError::Validation {
                path: path.into(),
                details: validation_details(&text),
            }),
            other => Err(SetupError::Unexpected {
                method: method.to_string(),
                path: path.into(),
                status: other.as_u16(),
            }),
        }
    }
}

/// The innermost cause ("Connection refused") rather than reqwest's generic top line.
fn innermost_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// FusionAuth's 400 body: `{"fieldErrors": {field: [{code, message}]}, "generalErrors": [...]}`
/// (<https://fusionauth.io/docs/apis/errors>), flattened to one line.
fn validation_details(body: &str) -> String {
    let Ok(errors) = serde_json::from_str::<Value>(body) else {
        return "no details".into();
    };
    let mut parts = Vec::new();
    if let Some(fields) = errors.get("fieldErrors").and_then(Value::as_object) {
        for (field, list) in fields {
            for error in list.as_array().into_iter().flatten() {
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("invalid");
                parts.push(format!("{field}: {message}"));
            }
        }
    }
    for error in errors
        .get("generalErrors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(message) = error.get("message").and_then(Value::as_str) {
            parts.push(message.to_owned());
        }
    }
    if parts.is_empty() {
        "no details".into()
    } else {
        parts.join("; ")
    }
}

/// The string at `pointer` in one of FusionAuth's answers.
pub fn string_at(value: &Value, pointer: &str) -> Result<String, SetupError> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| SetupError::Invalid(format!("FusionAuth's answer has no {pointer}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_become_one_line() {
        let body = r#"{"fieldErrors":{"application.name":[{"code":"[duplicate]application.name","message":"An application with that name already exists."}]},"generalErrors":[{"code":"x","message":"Something general."}]}"#;
        assert_eq!(
            validation_details(body),
            "application.name: An application with that name already exists.; Something general."
        );
        assert_eq!(validation_details("<html>"), "no details");
    }
}

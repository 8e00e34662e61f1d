//! `leptos-fusionauth setup`: configures an existing FusionAuth for this app through its REST
//! API — the Rust port of the Flask tutorial's setup script, made idempotent.
//!
//! Steps (each reports what it did, or what it found already done):
//! 1. the first tenant's `issuer` (<https://fusionauth.io/docs/apis/tenants>);
//! 2. the RS256 signing key (<https://fusionauth.io/docs/apis/keys>);
//! 3. the application, with refresh tokens and self-service registration, which the tutorial's
//!    script left out (<https://fusionauth.io/docs/apis/applications>);
//! 4. the user's full name (<https://fusionauth.io/docs/apis/users>);
//! 5. the user's registration to the application (<https://fusionauth.io/docs/apis/registrations>);
//! 6. `CLIENT_ID`, `CLIENT_SECRET` and `ISSUER` in the app's `.env`.
//!
//! The desired values are the ones `kickstart/kickstart.json` provisions a fresh FusionAuth with
//! (a unit test keeps them equal), so both paths configure the same application.

use std::{fmt, path::PathBuf, process::ExitCode, time::Duration};

use reqwest::{header, Method, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

/// What the application should look like; defaults match `.env.example` and the kickstart.
#[derive(Clone, Debug)]
pub struct Desired {
    pub issuer: String,
    pub key_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub app_url: String,
    pub app_name: String,
}

impl Default for Desired {
    fn default() -> Self {
        Self {
            issuer: "http://localhost:9011".into(),
            key_id: "356a6624-b33c-471a-b707-48bbfcfbc593".into(),
            client_id: "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e".into(),
            client_secret: "change-this-in-production-to-be-a-real-secret".into(),
            app_url: "http://localhost:5001".into(),
            app_name: "LeptosExampleApp".into(),
        }
    }
}

impl Desired {
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

/// Everything `setup` was asked to do.
#[derive(Clone, Debug)]
pub struct SetupOptions {
    pub fusionauth_url: Url,
    pub api_key: String,
    pub dry_run: bool,
    /// The user to name and register; `None`: the only user there is (as the tutorial does).
    pub user_email: Option<String>,
    pub env_file: PathBuf,
    pub desired: Desired,
}

/// A failure, as one line for the terminal.
#[derive(Debug, PartialEq, Eq)]
pub enum SetupError {
    Unreachable {
        url: String,
        reason: String,
    },
    ApiKeyRejected,
    Forbidden {
        path: String,
    },
    Validation {
        path: String,
        details: String,
    },
    Unexpected {
        method: String,
        path: String,
        status: u16,
    },
    Invalid(String),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreachable { url, reason } => {
                write!(f, "FusionAuth is unreachable at {url}: {reason}")
            }
            Self::ApiKeyRejected => write!(
                f,
                "FusionAuth rejected the API key (401): check FUSIONAUTH_API_KEY, and that the key \
                 may call the tenant, key, application, user and registration APIs"
            ),
            Self::Forbidden { path } => {
                write!(f, "the API key lacks permission for {path} (403)")
            }
            Self::Validation { path, details } => {
                write!(f, "FusionAuth refused {path} (400): {details}")
            }
            Self::Unexpected {
                method,
                path,
                status,
            } => {
                write!(f, "FusionAuth answered {method} {path} with HTTP {status}")
            }
            Self::Invalid(message) => f.write_str(message),
        }
    }
}

/// What one step did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    AlreadyDone,
    Done,
    WouldDo,
}

#[derive(Clone, Debug)]
pub struct StepReport {
    pub outcome: Outcome,
    pub message: String,
}

impl fmt::Display for StepReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.outcome {
            Outcome::AlreadyDone => "ok     ",
            Outcome::Done => "done   ",
            Outcome::WouldDo => "plan   ",
        };
        write!(f, "{tag} {}", self.message)
    }
}

/// A small client for FusionAuth's API-key-authenticated REST API.
struct FusionAuthApi {
    http: reqwest::Client,
    base: Url,
    api_key: String,
}

impl FusionAuthApi {
    fn new(base: Url, api_key: String) -> Result<Self, SetupError> {
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
    async fn find(&self, path: &str) -> Result<Option<Value>, SetupError> {
        match self.call(Method::GET, path, None, None).await {
            Err(SetupError::Unexpected { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    async fn call(
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

/// Runs every step; the reports say what was done (or, with `dry_run`, what would be).
pub async fn run_setup(options: &SetupOptions) -> Result<Vec<StepReport>, SetupError> {
    let api = FusionAuthApi::new(options.fusionauth_url.clone(), options.api_key.clone())?;
    let desired = &options.desired;
    let mut reports = Vec::new();
    let mut report = |outcome: Outcome, message: String| {
        reports.push(StepReport { outcome, message });
    };
    let act = if options.dry_run {
        Outcome::WouldDo
    } else {
        Outcome::Done
    };

    // 1. Tenant issuer: the tutorial patches the first tenant; so do we.
    let tenants = api.call(Method::GET, "/api/tenant", None, None).await?;
    let tenant = tenants
        .get("tenants")
        .and_then(Value::as_array)
        .and_then(|list| list.first())
        .cloned()
        .ok_or_else(|| SetupError::Invalid("FusionAuth has no tenant".into()))?;
    let tenant_id = string_at(&tenant, "/id")?;
    if tenant.pointer("/issuer").and_then(Value::as_str) == Some(desired.issuer.as_str()) {
        report(
            Outcome::AlreadyDone,
            format!("tenant {tenant_id}: issuer is {}", desired.issuer),
        );
    } else {
        if !options.dry_run {
            let path = format!("/api/tenant/{tenant_id}");
            api.call(Method::PATCH, &path, Some(&desired.tenant_patch()), None)
                .await?;
        }
        report(
            act.clone(),
            format!("tenant {tenant_id}: set issuer to {}", desired.issuer),
        );
    }

    // 2. Signing key.
    let key_path = format!("/api/key/{}", desired.key_id);
    match api.find(&key_path).await? {
        Some(found) => {
            let algorithm = found
                .pointer("/key/algorithm")
                .and_then(Value::as_str)
                .unwrap_or("?");
            if algorithm != "RS256" {
                return Err(SetupError::Invalid(format!(
                    "key {} exists but is {algorithm}, not RS256",
                    desired.key_id
                )));
            }
            report(
                Outcome::AlreadyDone,
                format!("key {}: RS256 key exists", desired.key_id),
            );
        }
        None => {
            if !options.dry_run {
                let path = format!("/api/key/generate/{}", desired.key_id);
                api.call(Method::POST, &path, Some(&desired.key_request()), None)
                    .await?;
            }
            report(
                act.clone(),
                format!("key {}: generate an RS256 2048-bit key", desired.key_id),
            );
        }
    }

    // 3. Application.
    let app_path = format!("/api/application/{}", desired.client_id);
    let wanted = desired.application();
    let client_secret = match api.find(&app_path).await? {
        None => {
            if !options.dry_run {
                let body = json!({ "application": wanted });
                api.call(Method::POST, &app_path, Some(&body), Some(&tenant_id))
                    .await?;
            }
            report(
                act.clone(),
                format!(
                    "application {} ({}): create",
                    desired.app_name, desired.client_id
                ),
            );
            desired.client_secret.clone()
        }
        Some(found) => {
            let existing = found.get("application").cloned().unwrap_or(Value::Null);
            // An existing secret is kept: other clients may use it. `.env` gets the real one.
            let secret = existing
                .pointer("/oauthConfiguration/clientSecret")
                .and_then(Value::as_str)
                .unwrap_or(&desired.client_secret)
                .to_owned();
            let mut wanted_here = wanted.clone();
            if let Some(oauth) = wanted_here
                .get_mut("oauthConfiguration")
                .and_then(Value::as_object_mut)
            {
                oauth.remove("clientSecret");
            }
            match merge_missing(&wanted_here, &existing) {
                None => report(
                    Outcome::AlreadyDone,
                    format!("application {}: configured as needed", desired.client_id),
                ),
                Some(patch) => {
                    if !options.dry_run {
                        let body = json!({ "application": patch });
                        api.call(Method::PATCH, &app_path, Some(&body), Some(&tenant_id))
                            .await?;
                    }
                    report(
                        act.clone(),
                        format!(
                            "application {}: update redirect URLs, grants, refresh tokens, \
                             registration and signing keys",
                            desired.client_id
                        ),
                    );
                }
            }
            secret
        }
    };

    // 4. The user's full name.
    let user = find_user(&api, options.user_email.as_deref()).await?;
    let user_id = string_at(&user, "/id")?;
    let email = user
        .pointer("/email")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_owned();
    let first = user
        .pointer("/firstName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let last = user
        .pointer("/lastName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let full_name = format!("{first} {last}").trim().to_owned();
    let current = user
        .pointer("/fullName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if full_name.is_empty() || current == full_name {
        report(
            Outcome::AlreadyDone,
            format!("user {email}: full name is {current:?}"),
        );
    } else {
        if !options.dry_run {
            let body = json!({ "user": { "fullName": full_name } });
            api.call(
                Method::PATCH,
                &format!("/api/user/{user_id}"),
                Some(&body),
                None,
            )
            .await?;
        }
        report(
            act.clone(),
            format!("user {email}: set full name to {full_name:?}"),
        );
    }

    // 5. Registration to the application.
    let registered = user
        .pointer("/registrations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| {
            r.get("applicationId").and_then(Value::as_str) == Some(desired.client_id.as_str())
        });
    if registered {
        report(
            Outcome::AlreadyDone,
            format!("user {email}: registered to the application"),
        );
    } else {
        if !options.dry_run {
            let body = json!({ "registration": { "applicationId": desired.client_id } });
            let path = format!("/api/user/registration/{user_id}");
            api.call(Method::POST, &path, Some(&body), None).await?;
        }
        report(
            act.clone(),
            format!("user {email}: register to the application"),
        );
    }

    // 6. The app's .env.
    let updates = [
        ("CLIENT_ID", desired.client_id.as_str()),
        ("CLIENT_SECRET", client_secret.as_str()),
        ("ISSUER", desired.issuer.as_str()),
    ];
    let path = &options.env_file;
    let before = std::fs::read_to_string(path).ok();
    let base = match &before {
        Some(text) => text.clone(),
        None => std::fs::read_to_string(".env.example").unwrap_or_default(),
    };
    let after = update_env(&base, &updates);
    if before.as_deref() == Some(after.as_str()) {
        report(
            Outcome::AlreadyDone,
            format!(
                "{}: CLIENT_ID, CLIENT_SECRET, ISSUER up to date",
                path.display()
            ),
        );
    } else {
        if !options.dry_run {
            std::fs::write(path, &after).map_err(|e| {
                SetupError::Invalid(format!("cannot write {}: {e}", path.display()))
            })?;
        }
        report(
            act,
            format!("{}: write CLIENT_ID, CLIENT_SECRET, ISSUER", path.display()),
        );
    }
    Ok(reports)
}

/// The user with `email`, or — as the tutorial's script does — the only user there is.
async fn find_user(api: &FusionAuthApi, email: Option<&str>) -> Result<Value, SetupError> {
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

/// Sets `KEY=value` lines, keeping every other line (comments included) as it was.
pub fn update_env(text: &str, updates: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for (key, value) in updates {
        let prefix = format!("{key}=");
        let line = format!("{key}={value}");
        match lines
            .iter_mut()
            .find(|l| l.trim_start().starts_with(&prefix))
        {
            Some(existing) => *existing = line,
            None => lines.push(line),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn string_at(value: &Value, pointer: &str) -> Result<String, SetupError> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| SetupError::Invalid(format!("FusionAuth's answer has no {pointer}")))
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

const USAGE: &str =
    "usage: leptos-fusionauth setup [--dry-run] [--user-email EMAIL] [--env-file PATH]

Configures an existing FusionAuth for this app, idempotently: tenant issuer, RS256 signing key,
application (refresh tokens, registration), the user's full name and registration, then writes
CLIENT_ID, CLIENT_SECRET and ISSUER into .env.

environment (or .env):
  FUSIONAUTH_API_KEY   an API key (the tutorial's `fusionauth_api_key` works too)   required
  FUSIONAUTH_URL       FusionAuth's address                  default http://localhost:9011
  ISSUER               the issuer to set on the tenant       default FUSIONAUTH_URL
  APP_URL              this app's public URL                 default http://localhost:5001
  CLIENT_ID, CLIENT_SECRET   the application to create       defaults as in .env.example";

/// Parses the `setup` arguments and environment, runs, prints one line per step.
pub async fn cli(args: &[String]) -> ExitCode {
    let _ = dotenvy::dotenv();
    let options = match parse_options(args, |name| std::env::var(name).ok()) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print_line(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    if options.dry_run {
        print_line("dry run: nothing will be changed");
    }
    match run_setup(&options).await {
        Ok(reports) => {
            for report in reports {
                print_line(&report.to_string());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Like `println!`, but a closed pipe (`setup | head`) is not a panic.
fn print_line(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{text}");
}

/// `Ok(None)` means `--help`.
pub fn parse_options(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<SetupOptions>, String> {
    let mut dry_run = false;
    let mut user_email = None;
    let mut env_file = PathBuf::from(".env");
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--dry-run" => dry_run = true,
            "--user-email" => {
                user_email = Some(rest.next().ok_or("--user-email needs a value")?.clone())
            }
            "--env-file" => {
                env_file = PathBuf::from(rest.next().ok_or("--env-file needs a value")?)
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    let value = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let api_key = value("FUSIONAUTH_API_KEY")
        .or_else(|| value("fusionauth_api_key"))
        .ok_or("FUSIONAUTH_API_KEY is not set (an API key from FusionAuth's admin UI, Settings → API Keys)")?;
    let raw_url = value("FUSIONAUTH_URL").unwrap_or_else(|| "http://localhost:9011".into());
    let fusionauth_url = Url::parse(&raw_url)
        .map_err(|e| format!("FUSIONAUTH_URL is not a valid URL ({e}): {raw_url}"))?;
    let defaults = Desired::default();
    let desired = Desired {
        issuer: value("ISSUER").unwrap_or_else(|| raw_url.trim_end_matches('/').to_owned()),
        app_url: value("APP_URL").unwrap_or(defaults.app_url),
        client_id: value("CLIENT_ID").unwrap_or(defaults.client_id),
        client_secret: value("CLIENT_SECRET").unwrap_or(defaults.client_secret),
        ..Desired::default()
    };
    Ok(Some(SetupOptions {
        fusionauth_url,
        api_key,
        dry_run,
        user_email,
        env_file,
        desired,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kickstart's value for `#{name}` variables, resolved like FusionAuth does.
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
        let desired = Desired::default();
        assert_eq!(
            kickstart_request("/api/application/")["application"],
            desired.application()
        );
        assert_eq!(
            kickstart_request("/api/key/generate/"),
            desired.key_request()
        );
        assert_eq!(kickstart_request("/api/tenant/"), desired.tenant_patch());
        let vars = &kickstart()["variables"];
        assert_eq!(vars["clientId"], desired.client_id.as_str());
        assert_eq!(vars["keyId"], desired.key_id.as_str());
    }

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

    #[test]
    fn update_env_replaces_and_appends_keeping_comments() {
        let text = "# comment\nCLIENT_ID=old\nOTHER=1\n";
        let updated = update_env(text, &[("CLIENT_ID", "new"), ("ISSUER", "http://x")]);
        assert_eq!(
            updated,
            "# comment\nCLIENT_ID=new\nOTHER=1\nISSUER=http://x\n"
        );
        assert_eq!(update_env(&updated, &[("CLIENT_ID", "new")]), updated);
    }

    #[test]
    fn validation_errors_become_one_line() {
        let body = r#"{"fieldErrors":{"application.name":[{"code":"[duplicate]application.name","message":"An application with that name already exists."}]},"generalErrors":[{"code":"x","message":"Something general."}]}"#;
        assert_eq!(
            validation_details(body),
            "application.name: An application with that name already exists.; Something general."
        );
        assert_eq!(validation_details("<html>"), "no details");
    }

    #[test]
    fn options_come_from_arguments_and_environment() {
        let env = |name: &str| match name {
            "fusionauth_api_key" => Some("key-from-tutorial-name".to_owned()),
            "APP_URL" => Some("https://app.example".to_owned()),
            _ => None,
        };
        let args: Vec<String> = ["--dry-run", "--user-email", "a@b.c"]
            .map(String::from)
            .to_vec();
        let options = parse_options(&args, env).unwrap().unwrap();
        assert!(options.dry_run);
        assert_eq!(options.api_key, "key-from-tutorial-name");
        assert_eq!(options.user_email.as_deref(), Some("a@b.c"));
        assert_eq!(options.desired.issuer, "http://localhost:9011");
        assert_eq!(options.desired.app_url, "https://app.example");

        assert!(parse_options(&[], |_| None)
            .unwrap_err()
            .starts_with("FUSIONAUTH_API_KEY"));
        assert!(parse_options(&["--bogus".into()], env).is_err());
        assert!(parse_options(&["--help".into()], env).unwrap().is_none());
    }
}

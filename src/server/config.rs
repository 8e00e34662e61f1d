//! Configuration: read from the environment (and `.env`) once at start-up, validated, typed.
//! A bad value stops the server with one line naming the variable and the problem.

use std::{fmt, time::Duration};

use url::Url;

/// Everything the server needs to know, validated.
#[derive(Clone)]
pub struct AppConfig {
    /// OAuth client id of the FusionAuth application (`CLIENT_ID`).
    pub client_id: String,
    /// OAuth client secret (`CLIENT_SECRET`).
    pub client_secret: String,
    /// FusionAuth's issuer exactly as the provider spells it, e.g. `http://localhost:9011`
    /// (`ISSUER`). Kept as text: ID tokens must match it character for character.
    pub issuer: String,
    /// Secret that signs the session cookie (`APP_SECRET_KEY`, at least 32 bytes).
    pub app_secret_key: String,
    /// The public origin of this app as the browser sees it (`APP_URL`). The redirect URI and the
    /// post-logout redirect URI are derived from it.
    pub app_url: Url,
    /// Scopes requested at login (`OIDC_SCOPES`, space separated, must contain `openid`).
    pub scopes: Vec<String>,
    /// Where sessions live (`SESSION_DATABASE_URL`: a `sqlite:` URL, or `redis://` to share
    /// sessions between several instances).
    pub session_store: SessionStoreUrl,
    /// How long a session lives without any request (`SESSION_IDLE_MINUTES`).
    pub session_idle: Duration,
    /// How long a signed-in session lives at most, whatever the activity (`SESSION_MAX_HOURS`).
    pub session_max: Duration,
    /// How long fetched discovery metadata and keys are reused before a login refreshes them
    /// (`OIDC_DISCOVERY_TTL_SECS`).
    pub discovery_ttl: Duration,
    /// Timeout for every request to the identity provider (`OIDC_HTTP_TIMEOUT_SECS`).
    pub provider_timeout: Duration,
    /// How recent a sign-in must be for sensitive pages (`STEP_UP_MAX_AGE_SECS`, FusionAuth's `max_age`): older ones
    /// are sent through FusionAuth's password form again.
    pub step_up_max_age: Duration,
    /// The HMAC secret FusionAuth signs its webhooks with (`FUSIONAUTH_WEBHOOK_SECRET`). Without
    /// it the webhook endpoint refuses every event.
    pub webhook_secret: Option<String>,
}

/// One invalid or missing variable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// The session store named by `SESSION_DATABASE_URL`, parsed once: the store module opens
/// whichever this says, and nothing else spells out the schemes.
#[derive(Clone, PartialEq, Eq)]
pub enum SessionStoreUrl {
    /// `sqlite:…`: an embedded file, one instance.
    Sqlite(String),
    /// `redis://…` or `rediss://…`: shared by several instances.
    Redis(String),
}

impl SessionStoreUrl {
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(url.to_owned()))
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            Ok(Self::Redis(url.to_owned()))
        } else {
            Err(ConfigError::new(
                "SESSION_DATABASE_URL",
                "must be a sqlite: or redis:// URL, e.g. \
                 sqlite://data/sessions.sqlite?mode=rwc or redis://127.0.0.1:6379",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Sqlite(url) | Self::Redis(url) => url,
        }
    }
}

/// A Redis URL may carry a password: the log gets the URL without it.
impl fmt::Debug for SessionStoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match Url::parse(self.as_str()) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("<redacted>"));
                url.to_string()
            }
            _ => self.as_str().to_owned(),
        };
        f.write_str(&shown)
    }
}

/// Secrets stay out of logs even if someone prints the configuration.
impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("app_secret_key", &"<redacted>")
            .field("app_url", &self.app_url.as_str())
            .field("scopes", &self.scopes)
            .field("session_store", &self.session_store)
            .field("session_idle", &self.session_idle)
            .field("session_max", &self.session_max)
            .field("discovery_ttl", &self.discovery_ttl)
            .field("provider_timeout", &self.provider_timeout)
            .field("step_up_max_age", &self.step_up_max_age)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

pub const DEFAULT_APP_URL: &str = "http://localhost:5001";
pub const DEFAULT_SCOPES: &str = "openid profile email offline_access";
pub const DEFAULT_SESSION_DATABASE_URL: &str = "sqlite://data/sessions.sqlite?mode=rwc";
const MIN_SECRET_KEY_BYTES: usize = 32;

impl AppConfig {
    /// Reads the process environment (after `.env` was loaded into it).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let config = Self::parse(&Variables(&lookup))?;
        config.refuse_example_secrets()?;
        Ok(config)
    }

    fn parse(vars: &Variables<'_, impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        Ok(Self {
            client_id: vars.required("CLIENT_ID")?,
            client_secret: vars.required("CLIENT_SECRET")?,
            issuer: parse_issuer(vars.required("ISSUER")?)?,
            app_secret_key: long_secret("APP_SECRET_KEY", vars.required("APP_SECRET_KEY")?)?,
            app_url: parse_app_url(&vars.or("APP_URL", DEFAULT_APP_URL))?,
            scopes: parse_scopes(&vars.or("OIDC_SCOPES", DEFAULT_SCOPES))?,
            session_store: SessionStoreUrl::parse(
                &vars.or("SESSION_DATABASE_URL", DEFAULT_SESSION_DATABASE_URL),
            )?,
            session_idle: Duration::from_secs(60 * vars.number("SESSION_IDLE_MINUTES", 8 * 60, 1)?),
            session_max: Duration::from_secs(3600 * vars.number("SESSION_MAX_HOURS", 24, 1)?),
            discovery_ttl: Duration::from_secs(vars.number("OIDC_DISCOVERY_TTL_SECS", 300, 0)?),
            provider_timeout: Duration::from_secs(vars.number("OIDC_HTTP_TIMEOUT_SECS", 5, 1)?),
            step_up_max_age: Duration::from_secs(vars.number("STEP_UP_MAX_AGE_SECS", 300, 1)?),
            webhook_secret: vars
                .get("FUSIONAUTH_WEBHOOK_SECRET")
                .map(|secret| long_secret("FUSIONAUTH_WEBHOOK_SECRET", secret))
                .transpose()?,
        })
    }

    /// `APP_URL/callback`: the redirect URI registered at FusionAuth.
    pub fn redirect_uri(&self) -> Url {
        self.app_url
            .join("callback")
            .expect("a base URL joins a relative path")
    }

    /// `APP_URL/logout`: FusionAuth sends the browser here after ending its session.
    pub fn post_logout_redirect_uri(&self) -> Url {
        self.app_url
            .join("logout")
            .expect("a base URL joins a relative path")
    }

    /// Cookies get the `Secure` flag when the app is served over https.
    pub fn cookies_secure(&self) -> bool {
        self.app_url.scheme() == "https"
    }

    /// The session cookie's name. On https it carries the `__Host-` prefix: browsers then accept
    /// it only when Secure, for the whole host and set by the host itself (no `Domain`), so a
    /// sibling subdomain cannot plant or overwrite it. Plain http cannot carry the prefix.
    pub fn session_cookie_name(&self) -> String {
        self.cookie_name("leptos_fusionauth_session")
    }

    /// The name of the cookie that carries login attempts in flight (same prefix rule).
    pub fn login_cookie_name(&self) -> String {
        self.cookie_name("leptos_fusionauth_login")
    }

    fn cookie_name(&self, base: &str) -> String {
        if self.cookies_secure() {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    /// Whether the app's public URL is on this machine (development), where the example secrets
    /// committed in this repository are acceptable.
    pub fn is_local(&self) -> bool {
        is_loopback(&self.app_url)
    }

    /// Refuses to serve anyone but this machine with a secret that is public in this repository.
    fn refuse_example_secrets(&self) -> Result<(), ConfigError> {
        if self.is_local() {
            return Ok(());
        }
        if is_example_secret(&self.app_secret_key) {
            return Err(ConfigError::new(
                "APP_SECRET_KEY",
                format!(
                    "is the example value committed in this repository, and APP_URL ({}) is not \
                     on this machine: generate a real one with `openssl rand -hex 32`",
                    self.app_url
                ),
            ));
        }
        if self
            .webhook_secret
            .as_deref()
            .is_some_and(is_example_secret)
        {
            return Err(ConfigError::new(
                "FUSIONAUTH_WEBHOOK_SECRET",
                format!(
                    "is the example value committed in this repository, and APP_URL ({}) is not \
                     on this machine: generate a real one with `openssl rand -hex 32` and give \
                     FusionAuth's webhook signing key the same",
                    self.app_url
                ),
            ));
        }
        if is_example_secret(&self.client_secret) {
            return Err(ConfigError::new(
                "CLIENT_SECRET",
                format!(
                    "is the example value committed in this repository, and APP_URL ({}) is not \
                     on this machine: use the secret FusionAuth generated for the application \
                     (`leptos-fusionauth setup` lets FusionAuth generate one and writes it to .env)",
                    self.app_url
                ),
            ));
        }
        Ok(())
    }
}

/// An http(s) URL without query or fragment; a trailing slash is not significant.
fn parse_base_url(variable: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let invalid = |problem: String| ConfigError::new(variable, problem);
    let url = Url::parse(raw).map_err(|e| invalid(format!("is not a valid URL ({e}): {raw}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "must start with http:// or https://: {raw}"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!("must not have a query or fragment: {raw}")));
    }
    Ok(url)
}

/// Whether `url` names this machine: `localhost`, `*.localhost` or a loopback address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost" || name.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether `value` is one of the secrets committed in this repository.
pub fn is_example_secret(value: &str) -> bool {
    committed_example_secrets()
        .iter()
        .any(|example| example == value)
}

/// Every secret committed in this repository for development: the values of secret-named
/// settings in `.env.example` and `compose.env`, and of the kickstart's secret variables. Read
/// from the files themselves (compiled in), so a new example secret cannot be forgotten here.
pub fn committed_example_secrets() -> Vec<String> {
    const ENV_FILES: [&str; 2] = [
        include_str!("../../.env.example"),
        include_str!("../../compose.env"),
    ];
    const KICKSTART: &str = include_str!("../../kickstart/kickstart.json");
    let secret_name = |name: &str| {
        let name = name.to_ascii_uppercase();
        ["SECRET", "PASSWORD", "API_KEY"]
            .iter()
            .any(|part| name.contains(part))
    };
    let from_env_files = ENV_FILES
        .iter()
        .flat_map(|file| file.lines())
        .filter_map(|line| {
            let (name, value) = line.trim().split_once('=')?;
            (!name.starts_with('#') && secret_name(name)).then(|| value.trim().to_owned())
        });
    let kickstart: serde_json::Value = serde_json::from_str(KICKSTART).unwrap_or_default();
    let from_kickstart = kickstart["variables"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| secret_name(name))
        .filter_map(|(_, value)| value.as_str().map(str::to_owned))
        .filter(|value| !value.starts_with("#{"));
    from_env_files
        .chain(from_kickstart)
        .filter(|value| !value.is_empty())
        .collect()
}

/// The variables as the configuration sees them: trimmed, and empty meaning unset.
struct Variables<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Variables<'_, F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn or(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or_else(|| default.to_owned())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.get(name).ok_or_else(|| {
            ConfigError::new(
                name,
                "is not set (copy .env.example to .env, or set it in the environment)",
            )
        })
    }

    fn number(&self, name: &'static str, default: u64, minimum: u64) -> Result<u64, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        match raw.parse::<u64>() {
            Ok(number) if number >= minimum => Ok(number),
            _ => Err(ConfigError::new(
                name,
                format!("must be a whole number ≥ {minimum}, got `{raw}`"),
            )),
        }
    }
}

fn parse_issuer(issuer: String) -> Result<String, ConfigError> {
    parse_base_url("ISSUER", &issuer)?;
    Ok(issuer)
}

/// A secret of at least [`MIN_SECRET_KEY_BYTES`] characters.
fn long_secret(variable: &'static str, secret: String) -> Result<String, ConfigError> {
    if secret.len() < MIN_SECRET_KEY_BYTES {
        return Err(ConfigError::new(
            variable,
            format!(
                "must be at least {MIN_SECRET_KEY_BYTES} characters long (it is {}); \
                 generate one with `openssl rand -hex 32`",
                secret.len()
            ),
        ));
    }
    Ok(secret)
}

fn parse_app_url(raw: &str) -> Result<Url, ConfigError> {
    let app_url = parse_base_url("APP_URL", raw)?;
    if app_url.path() != "/" {
        return Err(ConfigError::new(
            "APP_URL",
            "must be an origin without a path, e.g. http://localhost:5001",
        ));
    }
    Ok(app_url)
}

fn parse_scopes(raw: &str) -> Result<Vec<String>, ConfigError> {
    let scopes: Vec<String> = raw.split_whitespace().map(str::to_owned).collect();
    if !scopes.iter().any(|scope| scope == "openid") {
        return Err(ConfigError::new(
            "OIDC_SCOPES",
            "must include the `openid` scope",
        ));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config_with(overrides: &[(&str, &str)]) -> Result<AppConfig, ConfigError> {
        let mut vars: HashMap<String, String> = [
            ("CLIENT_ID", "e9fdb985-9173-4e01-9d73-ac2d60d1dc8e"),
            (
                "CLIENT_SECRET",
                "change-this-in-production-to-be-a-real-secret",
            ),
            ("ISSUER", "http://localhost:9011"),
            ("APP_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (key, value) in overrides {
            vars.insert((*key).to_owned(), (*value).to_owned());
        }
        AppConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_tutorial() {
        let config = config_with(&[]).unwrap();
        assert_eq!(config.app_url.as_str(), "http://localhost:5001/");
        assert_eq!(
            config.redirect_uri().as_str(),
            "http://localhost:5001/callback"
        );
        assert_eq!(
            config.post_logout_redirect_uri().as_str(),
            "http://localhost:5001/logout"
        );
        assert_eq!(
            config.scopes,
            ["openid", "profile", "email", "offline_access"]
        );
        assert!(!config.cookies_secure());
    }

    #[test]
    fn missing_variable_is_named() {
        let err = config_with(&[("CLIENT_ID", "  ")]).unwrap_err();
        assert_eq!(err.variable, "CLIENT_ID");
        assert!(err.to_string().starts_with("CLIENT_ID is not set"));
    }

    #[test]
    fn short_secret_key_is_rejected() {
        let err = config_with(&[("APP_SECRET_KEY", "too-short")]).unwrap_err();
        assert_eq!(err.variable, "APP_SECRET_KEY");
    }

    #[test]
    fn issuer_must_be_http_url() {
        assert_eq!(
            config_with(&[("ISSUER", "localhost:9011")])
                .unwrap_err()
                .variable,
            "ISSUER"
        );
        assert_eq!(
            config_with(&[("ISSUER", "ftp://x")]).unwrap_err().variable,
            "ISSUER"
        );
        assert_eq!(
            config_with(&[("ISSUER", "http://x/?a=b")])
                .unwrap_err()
                .variable,
            "ISSUER"
        );
    }

    #[test]
    fn app_url_must_be_an_origin() {
        let err = config_with(&[("APP_URL", "http://localhost:5001/app")]).unwrap_err();
        assert_eq!(err.variable, "APP_URL");
    }

    #[test]
    fn https_app_url_makes_cookies_secure() {
        let config = config_with(&[
            ("APP_URL", "https://app.example.com"),
            ("CLIENT_SECRET", "a-real-secret-from-fusionauth"),
        ])
        .unwrap();
        assert!(config.cookies_secure());
        assert_eq!(
            config.session_cookie_name(),
            "__Host-leptos_fusionauth_session"
        );
        assert_eq!(config.login_cookie_name(), "__Host-leptos_fusionauth_login");
        let plain = config_with(&[]).unwrap();
        assert_eq!(plain.session_cookie_name(), "leptos_fusionauth_session");
        assert_eq!(
            config.redirect_uri().as_str(),
            "https://app.example.com/callback"
        );
    }

    #[test]
    fn scopes_must_include_openid() {
        let err = config_with(&[("OIDC_SCOPES", "profile email")]).unwrap_err();
        assert_eq!(err.variable, "OIDC_SCOPES");
        let config = config_with(&[("OIDC_SCOPES", "openid email")]).unwrap();
        assert_eq!(config.scopes, ["openid", "email"]);
    }

    #[test]
    fn session_store_is_sqlite_or_redis() {
        assert!(config_with(&[("SESSION_DATABASE_URL", "redis://127.0.0.1:6379")]).is_ok());
        assert!(config_with(&[("SESSION_DATABASE_URL", "sqlite::memory:")]).is_ok());
        let err = config_with(&[("SESSION_DATABASE_URL", "postgres://db")]).unwrap_err();
        assert_eq!(err.variable, "SESSION_DATABASE_URL");
    }

    #[test]
    fn numbers_are_validated() {
        let err = config_with(&[("OIDC_DISCOVERY_TTL_SECS", "soon")]).unwrap_err();
        assert_eq!(err.variable, "OIDC_DISCOVERY_TTL_SECS");
        let err = config_with(&[("SESSION_IDLE_MINUTES", "0")]).unwrap_err();
        assert_eq!(err.variable, "SESSION_IDLE_MINUTES");
        let config = config_with(&[("OIDC_DISCOVERY_TTL_SECS", "0")]).unwrap();
        assert_eq!(config.discovery_ttl, Duration::ZERO);
    }

    #[test]
    fn example_secrets_are_refused_beyond_this_machine() {
        let examples = committed_example_secrets();
        for value in [
            "dev-only-0f6c3b1e9a4d47c2b8e5a1d3c7f90b24",
            "change-this-in-production-to-be-a-real-secret",
        ] {
            assert!(
                examples.iter().any(|e| e == value),
                "{value} is found in the files"
            );
        }
        let real_secret = ("CLIENT_SECRET", "a-real-secret-from-fusionauth");
        let public = ("APP_URL", "https://app.example.com");
        let example_key = (
            "APP_SECRET_KEY",
            "dev-only-0f6c3b1e9a4d47c2b8e5a1d3c7f90b24",
        );
        let err = config_with(&[public, real_secret, example_key]).unwrap_err();
        assert_eq!(err.variable, "APP_SECRET_KEY");
        assert!(err.problem.contains("openssl rand -hex 32"), "{err}");
        let err = config_with(&[public]).unwrap_err();
        assert_eq!(err.variable, "CLIENT_SECRET");
        let example_webhook = (
            "FUSIONAUTH_WEBHOOK_SECRET",
            "dev-only-webhook-secret-6a1f0c9e2b7d4e83a5c1f9d02b6e7a48",
        );
        let err = config_with(&[public, real_secret, example_webhook]).unwrap_err();
        assert_eq!(err.variable, "FUSIONAUTH_WEBHOOK_SECRET");
        assert!(config_with(&[public, real_secret]).is_ok());
        for local in [
            "http://localhost:5001",
            "http://127.0.0.1:5001",
            "http://[::1]:5001",
            "http://app.localhost:5001",
        ] {
            assert!(
                config_with(&[("APP_URL", local), example_key]).is_ok(),
                "{local}"
            );
        }
    }

    #[test]
    fn the_absolute_session_lifetime_defaults_to_a_day() {
        assert_eq!(
            config_with(&[]).unwrap().session_max,
            Duration::from_secs(24 * 3600)
        );
        let config = config_with(&[("SESSION_MAX_HOURS", "2")]).unwrap();
        assert_eq!(config.session_max, Duration::from_secs(7200));
        assert_eq!(
            config_with(&[("SESSION_MAX_HOURS", "0")])
                .unwrap_err()
                .variable,
            "SESSION_MAX_HOURS"
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let rendered = format!("{:?}", config_with(&[]).unwrap());
        assert!(!rendered.contains("change-this-in-production"));
        assert!(!rendered.contains("0123456789abcdef"));
    }
}

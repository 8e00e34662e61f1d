//! Configuration: from the environment (the FusionAuth tutorial's `.env` names) or from a
//! builder, validated once, typed. A bad value is one [`ConfigError`] naming the setting and the
//! problem; nothing here reads a file.

use std::{fmt, time::Duration};

use url::Url;

/// Everything the library needs to know, validated. Build it with [`Config::from_env`] or
/// [`Config::builder`].
#[derive(Clone)]
pub struct Config {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// Kept as text: ID tokens must match it character for character.
    pub(crate) issuer: String,
    pub(crate) app_secret_key: String,
    pub(crate) app_url: Url,
    pub(crate) scopes: Vec<String>,
    pub(crate) session_store: SessionStoreUrl,
    pub(crate) session_idle: Duration,
    pub(crate) session_max: Duration,
    pub(crate) discovery_ttl: Duration,
    pub(crate) provider_timeout: Duration,
    pub(crate) step_up_max_age: Duration,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) webhook_max_age: Duration,
    pub(crate) paths: Paths,
    pub(crate) cookie_name: String,
    pub(crate) guest_pages: Vec<String>,
    /// `app_url`'s origin, serialised once (every POST compares its `Origin` with it).
    pub(crate) app_origin: String,
    /// The cookie names, made once (`__Host-` on https).
    session_cookie: String,
    login_cookie: String,
}

/// One invalid or missing setting, named by its environment variable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{variable} {problem}")]
#[non_exhaustive]
pub struct ConfigError {
    /// The environment variable (or the builder method of the same name) at fault.
    pub variable: &'static str,
    /// What is wrong with it, in words.
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

/// The session store named by `SESSION_DATABASE_URL`, parsed once: which backend to open.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStoreUrl {
    /// `sqlite:…`: an embedded file, one host.
    Sqlite(String),
    /// `redis://…` or `rediss://…`: shared by several instances.
    Redis(String),
    /// `postgres://…` or `postgresql://…`: shared by several instances.
    Postgres(String),
}

impl SessionStoreUrl {
    /// Recognises the backend by the URL's scheme.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let url = url.to_owned();
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(url))
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            Ok(Self::Redis(url))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url))
        } else {
            Err(ConfigError::new(
                "SESSION_DATABASE_URL",
                "must be a sqlite:, redis:// or postgres:// URL, e.g. \
                 sqlite://data/sessions.sqlite?mode=rwc, redis://127.0.0.1:6379 or \
                 postgres://app@127.0.0.1/sessions",
            ))
        }
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sqlite(url) | Self::Redis(url) | Self::Postgres(url) => url,
        }
    }
}

/// A store URL may carry a password: the log gets the URL without it.
impl fmt::Debug for SessionStoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_password(self.as_str()))
    }
}

/// `url` with its password (if any) replaced by `<redacted>`.
pub(crate) fn redact_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("<redacted>"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The paths the library answers and sends browsers to. The defaults are the tutorial's
/// (`/login`, `/callback`, `/logout`) and this crate's own; change a field to move one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Paths {
    /// Starts a login (`GET`, `?return_to=` and `?reauthenticate=always|recent`).
    pub login: String,
    /// Starts a login on FusionAuth's registration form.
    pub register: String,
    /// The redirect URI registered at FusionAuth (`APP_URL` + this).
    pub callback: String,
    /// The application's logout URL at FusionAuth: ends the local session (idempotent GET that
    /// FusionAuth may load in a hidden iframe).
    pub logout: String,
    /// Where FusionAuth posts its signed webhooks.
    pub webhook: String,
    /// The app's page that explains a failed sign-in (`?reason=<code>`).
    pub error_page: String,
    /// Where a signed-out browser lands.
    pub home: String,
    /// The prefix of the app's server functions (`leptos_axum` answers their redirects).
    pub server_functions: String,
    /// The prefix of hashed static assets, the only responses that may be cached.
    pub assets: String,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            login: "/login".into(),
            register: "/register".into(),
            callback: "/callback".into(),
            logout: "/logout".into(),
            webhook: "/webhooks/fusionauth".into(),
            error_page: "/auth/error".into(),
            home: "/".into(),
            server_functions: "/api/".into(),
            assets: "/pkg/".into(),
        }
    }
}

impl Paths {
    fn validate(&self) -> Result<(), ConfigError> {
        let all = [
            &self.login,
            &self.register,
            &self.callback,
            &self.logout,
            &self.webhook,
            &self.error_page,
            &self.home,
            &self.server_functions,
            &self.assets,
        ];
        match all
            .iter()
            .find(|path| !path.starts_with('/') || path.contains(['?', '#']))
        {
            Some(path) => Err(ConfigError::new(
                "paths",
                format!("must be absolute paths without query or fragment, got `{path}`"),
            )),
            None => Ok(()),
        }
    }
}

/// Secrets stay out of logs even if someone prints the configuration.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
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
            .field("webhook_max_age", &self.webhook_max_age)
            .field("paths", &self.paths)
            .field("cookie_name", &self.cookie_name)
            .field("guest_pages", &self.guest_pages)
            .finish()
    }
}

/// The public URL of the app when none is given (the tutorial's port).
pub(crate) const DEFAULT_APP_URL: &str = "http://localhost:5001";
const DEFAULT_SCOPES: &str = "openid profile email offline_access";
const DEFAULT_SESSION_DATABASE_URL: &str = "sqlite://data/sessions.sqlite?mode=rwc";
const MIN_SECRET_KEY_BYTES: usize = 32;
/// The longest wait for the identity provider that may be configured: the refresh lock's
/// lifetime is derived from it, so it stays short.
pub(crate) const MAX_PROVIDER_TIMEOUT: Duration = Duration::from_secs(30);

/// Secrets that are public because FusionAuth's own tutorial and examples print them; refused
/// beyond this machine whatever else the app adds with [`ConfigBuilder::refuse_secrets`].
pub const PUBLIC_EXAMPLE_SECRETS: &[&str] = &["change-this-in-production-to-be-a-real-secret"];

/// Builds a [`Config`] in code, from the environment, or both (set values win over variables
/// read before them).
#[derive(Clone, Default)]
pub struct ConfigBuilder {
    client_id: Option<String>,
    client_secret: Option<String>,
    issuer: Option<String>,
    app_secret_key: Option<String>,
    app_url: Option<String>,
    scopes: Option<String>,
    session_store: Option<String>,
    session_idle: Option<Duration>,
    session_max: Option<Duration>,
    discovery_ttl: Option<Duration>,
    provider_timeout: Option<Duration>,
    step_up_max_age: Option<Duration>,
    webhook_secret: Option<String>,
    webhook_max_age: Option<Duration>,
    paths: Paths,
    cookie_name: Option<String>,
    refused_secrets: Vec<String>,
    guest_pages: Vec<String>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("client_id", &self.client_id)
            .field("issuer", &self.issuer)
            .field("app_url", &self.app_url)
            .finish_non_exhaustive()
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => $field:ident),* $(,)?) => {$(
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$field = Some(value.into());
            self
        }
    )*};
}

impl ConfigBuilder {
    setters! {
        /// The OAuth client id of the FusionAuth application (`CLIENT_ID`).
        client_id: impl Into<String> => client_id,
        /// The application's client secret (`CLIENT_SECRET`).
        client_secret: impl Into<String> => client_secret,
        /// FusionAuth's issuer exactly as its tenant spells it, e.g. `http://localhost:9011`
        /// (`ISSUER`).
        issuer: impl Into<String> => issuer,
        /// At least 32 characters: signs the session cookie and encrypts the login-attempt
        /// cookie and the tokens at rest (`APP_SECRET_KEY`).
        app_secret_key: impl Into<String> => app_secret_key,
        /// The app's public origin as the browser sees it (`APP_URL`, default
        /// `http://localhost:5001`); the redirect URI is derived from it.
        app_url: impl Into<String> => app_url,
        /// Space-separated scopes, `openid` among them (`OIDC_SCOPES`, default
        /// `openid profile email offline_access`).
        scopes: impl Into<String> => scopes,
        /// Where sessions live (`SESSION_DATABASE_URL`): `sqlite:`, `redis://` or `postgres://`.
        session_store: impl Into<String> => session_store,
        /// A session without any request for this long ends (`SESSION_IDLE_MINUTES`, 8 h).
        session_idle: Duration => session_idle,
        /// A session ends this long after the sign-in whatever the activity
        /// (`SESSION_MAX_HOURS`, 24 h).
        session_max: Duration => session_max,
        /// How long discovery and keys are reused before a login re-fetches them
        /// (`OIDC_DISCOVERY_TTL_SECS`, 5 min).
        discovery_ttl: Duration => discovery_ttl,
        /// Timeout of every request to FusionAuth (`OIDC_HTTP_TIMEOUT_SECS`, 5 s, at most 30 s).
        provider_timeout: Duration => provider_timeout,
        /// How recent a sign-in a step-up requirement asks for (`STEP_UP_MAX_AGE_SECS`, 5 min).
        step_up_max_age: Duration => step_up_max_age,
        /// The HMAC secret of FusionAuth's webhook signing key (`FUSIONAUTH_WEBHOOK_SECRET`);
        /// without it every webhook is refused.
        webhook_secret: impl Into<String> => webhook_secret,
        /// Webhook events older than this are refused as replays
        /// (`FUSIONAUTH_WEBHOOK_MAX_AGE_SECS`, 10 min).
        webhook_max_age: Duration => webhook_max_age,
        /// The base of the cookie names (default `leptos_fusionauth`: `…_session`, `…_login`;
        /// with the `__Host-` prefix on https).
        cookie_name: impl Into<String> => cookie_name,
    }

    /// Reads the process environment (load `.env` into it first, e.g. with `dotenvy`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (tests need not touch the process environment).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Variables(&lookup);
        Ok(Self {
            client_id: vars.get("CLIENT_ID"),
            client_secret: vars.get("CLIENT_SECRET"),
            issuer: vars.get("ISSUER"),
            app_secret_key: vars.get("APP_SECRET_KEY"),
            app_url: vars.get("APP_URL"),
            scopes: vars.get("OIDC_SCOPES"),
            session_store: vars.get("SESSION_DATABASE_URL"),
            session_idle: vars.duration("SESSION_IDLE_MINUTES", 60, 1)?,
            session_max: vars.duration("SESSION_MAX_HOURS", 3600, 1)?,
            discovery_ttl: vars.duration("OIDC_DISCOVERY_TTL_SECS", 1, 0)?,
            provider_timeout: vars.duration("OIDC_HTTP_TIMEOUT_SECS", 1, 1)?,
            step_up_max_age: vars.duration("STEP_UP_MAX_AGE_SECS", 1, 1)?,
            webhook_secret: vars.get("FUSIONAUTH_WEBHOOK_SECRET"),
            webhook_max_age: vars.duration("FUSIONAUTH_WEBHOOK_MAX_AGE_SECS", 1, 1)?,
            ..Self::default()
        })
    }

    /// The paths the library serves and redirects to (see [`Paths`]).
    pub fn paths(mut self, paths: Paths) -> Self {
        self.paths = paths;
        self
    }

    /// Paths whose guest view is the same for every guest (no query): rendered once, then served
    /// from memory with a fresh nonce per answer. Leave out pages that show anything that
    /// changes (a time, a counter) to guests.
    pub fn cache_guest_pages<S: Into<String>>(
        mut self,
        paths: impl IntoIterator<Item = S>,
    ) -> Self {
        self.guest_pages.extend(paths.into_iter().map(Into::into));
        self
    }

    /// Secrets that are public (committed example values): with an `APP_URL` beyond this
    /// machine, a configuration that uses one of them as a secret is refused. The values of
    /// [`PUBLIC_EXAMPLE_SECRETS`] are always refused.
    pub fn refuse_secrets<S: Into<String>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.refused_secrets
            .extend(secrets.into_iter().map(Into::into));
        self
    }

    /// Validates everything and builds the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        self.paths.validate()?;
        let app_url = parse_app_url(self.app_url.as_deref().unwrap_or(DEFAULT_APP_URL))?;
        let cookie_name = self
            .cookie_name
            .unwrap_or_else(|| "leptos_fusionauth".into());
        let prefix = if app_url.scheme() == "https" {
            "__Host-"
        } else {
            ""
        };
        let config = Config {
            app_origin: app_url.origin().ascii_serialization(),
            session_cookie: format!("{prefix}{cookie_name}_session"),
            login_cookie: format!("{prefix}{cookie_name}_login"),
            client_id: required("CLIENT_ID", self.client_id)?,
            client_secret: required("CLIENT_SECRET", self.client_secret)?,
            issuer: parse_issuer(required("ISSUER", self.issuer)?)?,
            app_secret_key: long_secret(
                "APP_SECRET_KEY",
                required("APP_SECRET_KEY", self.app_secret_key)?,
            )?,
            app_url,
            scopes: parse_scopes(self.scopes.as_deref().unwrap_or(DEFAULT_SCOPES))?,
            session_store: SessionStoreUrl::parse(
                self.session_store
                    .as_deref()
                    .unwrap_or(DEFAULT_SESSION_DATABASE_URL),
            )?,
            session_idle: self.session_idle.unwrap_or(Duration::from_secs(8 * 3600)),
            session_max: self.session_max.unwrap_or(Duration::from_secs(24 * 3600)),
            discovery_ttl: self.discovery_ttl.unwrap_or(Duration::from_secs(300)),
            provider_timeout: provider_timeout(self.provider_timeout)?,
            step_up_max_age: self.step_up_max_age.unwrap_or(Duration::from_secs(300)),
            webhook_secret: self
                .webhook_secret
                .map(|secret| long_secret("FUSIONAUTH_WEBHOOK_SECRET", secret))
                .transpose()?,
            webhook_max_age: self.webhook_max_age.unwrap_or(Duration::from_secs(600)),
            paths: self.paths,
            cookie_name,
            guest_pages: self.guest_pages,
        };
        config.refuse_public_secrets(&self.refused_secrets)?;
        Ok(config)
    }
}

impl Config {
    /// A builder with nothing set.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Reads and validates the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        ConfigBuilder::from_env()?.build()
    }

    /// The OAuth client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// FusionAuth's issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The app's public origin.
    pub fn app_url(&self) -> &Url {
        &self.app_url
    }

    /// The configured session store.
    pub fn session_store(&self) -> &SessionStoreUrl {
        &self.session_store
    }

    /// The paths the library serves and redirects to.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Whether the app's public URL is on this machine (development).
    pub fn is_local(&self) -> bool {
        is_loopback(&self.app_url)
    }

    /// `APP_URL` + the callback path: the redirect URI registered at FusionAuth.
    pub(crate) fn redirect_uri(&self) -> Url {
        self.app_url_with(&self.paths.callback)
    }

    /// `APP_URL` + the logout path: FusionAuth sends the browser there after its logout.
    pub(crate) fn post_logout_redirect_uri(&self) -> Url {
        self.app_url_with(&self.paths.logout)
    }

    fn app_url_with(&self, path: &str) -> Url {
        let mut url = self.app_url.clone();
        url.set_path(path);
        url
    }

    /// Cookies get the `Secure` flag when the app is served over https.
    pub(crate) fn cookies_secure(&self) -> bool {
        self.app_url.scheme() == "https"
    }

    /// The session cookie's name. On https it carries the `__Host-` prefix: browsers then accept
    /// it only when Secure, for the whole host and set by the host itself (no `Domain`), so a
    /// sibling subdomain cannot plant or overwrite it. Plain http cannot carry the prefix.
    pub(crate) fn session_cookie_name(&self) -> &str {
        &self.session_cookie
    }

    /// The name of the cookie that carries login attempts in flight (same prefix rule).
    pub(crate) fn login_cookie_name(&self) -> &str {
        &self.login_cookie
    }

    /// Refuses to serve anyone but this machine with a secret that is public.
    fn refuse_public_secrets(&self, refused: &[String]) -> Result<(), ConfigError> {
        if self.is_local() {
            return Ok(());
        }
        let public = |value: &str| {
            PUBLIC_EXAMPLE_SECRETS.contains(&value) || refused.iter().any(|r| r == value)
        };
        let beyond = format!(
            "is a public example value, and APP_URL ({}) is not on this machine",
            self.app_url
        );
        if public(&self.app_secret_key) {
            return Err(ConfigError::new(
                "APP_SECRET_KEY",
                format!("{beyond}: generate a real one with `openssl rand -hex 32`"),
            ));
        }
        if self.webhook_secret.as_deref().is_some_and(public) {
            return Err(ConfigError::new(
                "FUSIONAUTH_WEBHOOK_SECRET",
                format!(
                    "{beyond}: generate a real one with `openssl rand -hex 32` and give \
                     FusionAuth's webhook signing key the same"
                ),
            ));
        }
        if public(&self.client_secret) {
            return Err(ConfigError::new(
                "CLIENT_SECRET",
                format!("{beyond}: use the secret FusionAuth generated for the application"),
            ));
        }
        Ok(())
    }
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

/// The variables as the configuration sees them: trimmed, and empty meaning unset.
struct Variables<'a, F: Fn(&str) -> Option<String>>(&'a F);

impl<F: Fn(&str) -> Option<String>> Variables<'_, F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A whole number ≥ `minimum` of units of `unit_secs` seconds, if set.
    fn duration(
        &self,
        name: &'static str,
        unit_secs: u64,
        minimum: u64,
    ) -> Result<Option<Duration>, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(None);
        };
        match raw.parse::<u64>() {
            Ok(number) if number >= minimum => {
                Ok(Some(Duration::from_secs(number.saturating_mul(unit_secs))))
            }
            _ => Err(ConfigError::new(
                name,
                format!("must be a whole number ≥ {minimum}, got `{raw}`"),
            )),
        }
    }
}

fn required(name: &'static str, value: Option<String>) -> Result<String, ConfigError> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
        ConfigError::new(
            name,
            "is not set (copy .env.example to .env, or set it in the environment)",
        )
    })
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

/// The provider timeout, at most [`MAX_PROVIDER_TIMEOUT`] (default 5 s).
fn provider_timeout(value: Option<Duration>) -> Result<Duration, ConfigError> {
    let timeout = value.unwrap_or(Duration::from_secs(5));
    if timeout.is_zero() || timeout > MAX_PROVIDER_TIMEOUT {
        return Err(ConfigError::new(
            "OIDC_HTTP_TIMEOUT_SECS",
            format!(
                "must be between 1 and {} seconds, got {} s",
                MAX_PROVIDER_TIMEOUT.as_secs(),
                timeout.as_secs()
            ),
        ));
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const EXAMPLE_KEY: &str = "dev-only-0f6c3b1e9a4d47c2b8e5a1d3c7f90b24";

    fn config_with(overrides: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
        ConfigBuilder::from_lookup(|name| vars.get(name).cloned())?
            .refuse_secrets([EXAMPLE_KEY])
            .build()
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
        assert_eq!(config.webhook_max_age, Duration::from_secs(600));
    }

    #[test]
    fn the_builder_alone_makes_a_configuration_and_paths_move() {
        let paths = Paths {
            callback: "/auth/callback".into(),
            ..Paths::default()
        };
        let config = Config::builder()
            .client_id("client")
            .client_secret("a-secret")
            .issuer("https://auth.example.com")
            .app_secret_key("0123456789abcdef0123456789abcdef")
            .app_url("https://app.example.com")
            .paths(paths)
            .build()
            .unwrap();
        assert_eq!(
            config.redirect_uri().as_str(),
            "https://app.example.com/auth/callback"
        );
        let bad = Paths {
            logout: "logout".into(),
            ..Paths::default()
        };
        let err = Config::builder().paths(bad).build().unwrap_err();
        assert_eq!(err.variable, "paths");
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
        for bad in ["localhost:9011", "ftp://x", "http://x/?a=b"] {
            assert_eq!(
                config_with(&[("ISSUER", bad)]).unwrap_err().variable,
                "ISSUER"
            );
        }
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
    fn session_store_is_sqlite_redis_or_postgres() {
        for url in [
            "redis://127.0.0.1:6379",
            "sqlite::memory:",
            "postgres://app@127.0.0.1/sessions",
            "postgresql://app@127.0.0.1/sessions",
        ] {
            assert!(
                config_with(&[("SESSION_DATABASE_URL", url)]).is_ok(),
                "{url}"
            );
        }
        let err = config_with(&[("SESSION_DATABASE_URL", "mysql://db")]).unwrap_err();
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
    fn the_provider_timeout_has_an_upper_bound() {
        let err = config_with(&[("OIDC_HTTP_TIMEOUT_SECS", "120")]).unwrap_err();
        assert_eq!(err.variable, "OIDC_HTTP_TIMEOUT_SECS");
        let config = config_with(&[("OIDC_HTTP_TIMEOUT_SECS", "30")]).unwrap();
        assert_eq!(config.provider_timeout, Duration::from_secs(30));
    }

    #[test]
    fn example_secrets_are_refused_beyond_this_machine() {
        let real_secret = ("CLIENT_SECRET", "a-real-secret-from-fusionauth");
        let public = ("APP_URL", "https://app.example.com");
        let example_key = ("APP_SECRET_KEY", EXAMPLE_KEY);
        let err = config_with(&[public, real_secret, example_key]).unwrap_err();
        assert_eq!(err.variable, "APP_SECRET_KEY");
        assert!(err.problem.contains("openssl rand -hex 32"), "{err}");
        // The tutorial's client secret is refused without the app naming it.
        let err = config_with(&[public]).unwrap_err();
        assert_eq!(err.variable, "CLIENT_SECRET");
        let example_webhook = ("FUSIONAUTH_WEBHOOK_SECRET", EXAMPLE_KEY);
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
        let config = config_with(&[
            (
                "FUSIONAUTH_WEBHOOK_SECRET",
                "webhook-secret-0123456789abcdef-xyz",
            ),
            (
                "SESSION_DATABASE_URL",
                "redis://user:hunter2-password@127.0.0.1:6379",
            ),
        ])
        .unwrap();
        let rendered = format!("{config:?} {:?}", Config::builder().client_secret("s3cr3t"));
        for secret in [
            "change-this-in-production",
            "0123456789abcdef",
            "webhook-secret",
            "hunter2",
            "s3cr3t",
        ] {
            assert!(!rendered.contains(secret), "{secret} in {rendered}");
        }
    }
}

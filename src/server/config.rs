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
    pub session_database_url: String,
    /// How long an idle session lives (`SESSION_IDLE_MINUTES`).
    pub session_idle: Duration,
    /// How long fetched discovery metadata and keys are reused before a login refreshes them
    /// (`OIDC_DISCOVERY_TTL_SECS`).
    pub discovery_ttl: Duration,
    /// Timeout for every request to the identity provider (`OIDC_HTTP_TIMEOUT_SECS`).
    pub provider_timeout: Duration,
}

/// One invalid or missing variable.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

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
            .field("session_database_url", &self.session_database_url)
            .field("session_idle", &self.session_idle)
            .field("discovery_ttl", &self.discovery_ttl)
            .field("provider_timeout", &self.provider_timeout)
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
        let value = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let required = |name: &'static str| {
            value(name).ok_or_else(|| ConfigError {
                variable: name,
                problem: "is not set (copy .env.example to .env, or set it in the environment)"
                    .into(),
            })
        };

        let client_id = required("CLIENT_ID")?;
        let client_secret = required("CLIENT_SECRET")?;
        let issuer = required("ISSUER")?;
        parse_base_url("ISSUER", &issuer)?;
        let app_secret_key = required("APP_SECRET_KEY")?;
        if app_secret_key.len() < MIN_SECRET_KEY_BYTES {
            return Err(ConfigError {
                variable: "APP_SECRET_KEY",
                problem: format!(
                    "must be at least {MIN_SECRET_KEY_BYTES} characters long (it is {}); \
                     generate one with `openssl rand -hex 32`",
                    app_secret_key.len()
                ),
            });
        }
        let app_url = parse_base_url(
            "APP_URL",
            &value("APP_URL").unwrap_or_else(|| DEFAULT_APP_URL.into()),
        )?;
        if app_url.path() != "/" {
            return Err(ConfigError {
                variable: "APP_URL",
                problem: "must be an origin without a path, e.g. http://localhost:5001".into(),
            });
        }
        let scopes: Vec<String> = value("OIDC_SCOPES")
            .unwrap_or_else(|| DEFAULT_SCOPES.into())
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if !scopes.iter().any(|scope| scope == "openid") {
            return Err(ConfigError {
                variable: "OIDC_SCOPES",
                problem: "must include the `openid` scope".into(),
            });
        }
        let session_database_url =
            value("SESSION_DATABASE_URL").unwrap_or_else(|| DEFAULT_SESSION_DATABASE_URL.into());
        if !["sqlite:", "redis://", "rediss://"]
            .iter()
            .any(|scheme| session_database_url.starts_with(scheme))
        {
            return Err(ConfigError {
                variable: "SESSION_DATABASE_URL",
                problem: "must be a sqlite: or redis:// URL, e.g. \
                          sqlite://data/sessions.sqlite?mode=rwc or redis://127.0.0.1:6379"
                    .into(),
            });
        }
        let session_idle =
            Duration::from_secs(60 * parse_number(&value, "SESSION_IDLE_MINUTES", 8 * 60, 1)?);
        let discovery_ttl =
            Duration::from_secs(parse_number(&value, "OIDC_DISCOVERY_TTL_SECS", 300, 0)?);
        let provider_timeout =
            Duration::from_secs(parse_number(&value, "OIDC_HTTP_TIMEOUT_SECS", 5, 1)?);

        Ok(Self {
            client_id,
            client_secret,
            issuer,
            app_secret_key,
            app_url,
            scopes,
            session_database_url,
            session_idle,
            discovery_ttl,
            provider_timeout,
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
}

/// An http(s) URL without query or fragment; a trailing slash is not significant.
fn parse_base_url(variable: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let invalid = |problem: String| ConfigError { variable, problem };
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

fn parse_number(
    value: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u64,
    minimum: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = value(variable) else {
        return Ok(default);
    };
    match raw.parse::<u64>() {
        Ok(number) if number >= minimum => Ok(number),
        _ => Err(ConfigError {
            variable,
            problem: format!("must be a whole number ≥ {minimum}, got `{raw}`"),
        }),
    }
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
        let config = config_with(&[("APP_URL", "https://app.example.com")]).unwrap();
        assert!(config.cookies_secure());
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
    fn debug_output_hides_secrets() {
        let rendered = format!("{:?}", config_with(&[]).unwrap());
        assert!(!rendered.contains("change-this-in-production"));
        assert!(!rendered.contains("0123456789abcdef"));
    }
}

//! The `setup` command line: arguments, environment (or `.env`), usage, one line per step.

use std::{path::PathBuf, process::ExitCode};

use chacha20poly1305::aead::{rand_core::RngCore, OsRng};
use url::Url;

use leptos_fusionauth::is_loopback;

use crate::server::examples::is_example_secret;

use super::{
    run::{run_setup, SetupOptions},
    target::TargetConfiguration,
};

/// The command line or the environment is not usable.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("unknown argument {0:?} (see --help)")]
    UnknownArgument(String),
    #[error(
        "FUSIONAUTH_API_KEY is not set (an API key from FusionAuth's admin UI, Settings → API Keys)"
    )]
    MissingApiKey,
    #[error("FUSIONAUTH_URL is not a valid URL ({reason}): {raw}")]
    InvalidUrl { raw: String, reason: String },
}

const USAGE: &str =
    "usage: leptos-fusionauth setup [--dry-run] [--user-email EMAIL] [--env-file PATH]

Configures an existing FusionAuth for this app, idempotently: tenant issuer and events, RS256
signing key, the signed webhook (HMAC key + webhook), application (refresh tokens, registration,
roles), the user's full name and registration, then writes CLIENT_ID, CLIENT_SECRET, ISSUER and
FUSIONAUTH_WEBHOOK_SECRET into .env (mode 0600).

environment (or .env):
  FUSIONAUTH_API_KEY   an API key (the tutorial's `fusionauth_api_key` works too)   required
  FUSIONAUTH_URL       FusionAuth's address                  default http://localhost:9011
  ISSUER               the issuer to set on the tenant       default FUSIONAUTH_URL
  APP_URL              this app's public URL                 default http://localhost:5001
  CLIENT_ID, CLIENT_SECRET   the application to create       defaults as in .env.example
  FUSIONAUTH_WEBHOOK_SECRET  the webhook's HMAC secret        default as in .env.example
  FUSIONAUTH_WEBHOOK_URL     where FusionAuth sends events    default APP_URL/webhooks/fusionauth
Example secrets are sent only to a FusionAuth on this machine; elsewhere random ones are made.";

/// Parses the `setup` arguments and environment, runs, prints one line per step.
pub async fn cli(args: &[String]) -> ExitCode {
    // The file this run will write is also the one it reads: a re-run must see the secrets the
    // first run wrote there (elsewhere than loopback they are random), or it would make new ones.
    let _ = dotenvy::from_path(settings_file(args));
    let options = match parse_options(args, |name| std::env::var(name).ok()) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print_line(USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}");
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

/// The flags of the command line.
#[derive(Default)]
struct Flags {
    dry_run: bool,
    user_email: Option<String>,
    env_file: Option<PathBuf>,
}

/// `Ok(None)` means `--help`.
fn parse_flags(args: &[String]) -> Result<Option<Flags>, UsageError> {
    let mut flags = Flags::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let mut value =
            |flag: &'static str| rest.next().cloned().ok_or(UsageError::MissingValue(flag));
        match arg.as_str() {
            "--dry-run" => flags.dry_run = true,
            "--user-email" => flags.user_email = Some(value("--user-email")?),
            "--env-file" => flags.env_file = Some(PathBuf::from(value("--env-file")?)),
            "-h" | "--help" => return Ok(None),
            other => return Err(UsageError::UnknownArgument(other.to_owned())),
        }
    }
    Ok(Some(flags))
}

/// The settings file of this run: `--env-file PATH`, or `.env`.
fn settings_file(args: &[String]) -> PathBuf {
    parse_flags(args)
        .ok()
        .flatten()
        .and_then(|flags| flags.env_file)
        .unwrap_or_else(|| PathBuf::from(".env"))
}

/// The options from the command line and the environment; `Ok(None)` means `--help`.
pub fn parse_options(
    args: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<SetupOptions>, UsageError> {
    let Some(flags) = parse_flags(args)? else {
        return Ok(None);
    };
    let value = |name: &str| {
        env(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let api_key = value("FUSIONAUTH_API_KEY")
        .or_else(|| value("fusionauth_api_key"))
        .ok_or(UsageError::MissingApiKey)?;
    let raw_url = value("FUSIONAUTH_URL").unwrap_or_else(|| "http://localhost:9011".into());
    let fusionauth_url = Url::parse(&raw_url).map_err(|e| UsageError::InvalidUrl {
        raw: raw_url.clone(),
        reason: e.to_string(),
    })?;
    let defaults = TargetConfiguration::default();
    let client_secret = value("CLIENT_SECRET").unwrap_or(defaults.client_secret);
    let webhook_secret = value("FUSIONAUTH_WEBHOOK_SECRET").unwrap_or(defaults.webhook_secret);
    let app_url = value("APP_URL").unwrap_or(defaults.app_url);
    let target = TargetConfiguration {
        issuer: value("ISSUER").unwrap_or_else(|| raw_url.trim_end_matches('/').to_owned()),
        webhook_url: value("FUSIONAUTH_WEBHOOK_URL")
            .unwrap_or_else(|| format!("{}/webhooks/fusionauth", app_url.trim_end_matches('/'))),
        app_url,
        client_id: value("CLIENT_ID").unwrap_or(defaults.client_id),
        client_secret: secret_for(&fusionauth_url, client_secret),
        webhook_secret: secret_for(&fusionauth_url, webhook_secret),
        ..TargetConfiguration::default()
    };
    Ok(Some(SetupOptions {
        fusionauth_url,
        api_key,
        dry_run: flags.dry_run,
        user_email: flags.user_email,
        env_file: flags.env_file.unwrap_or_else(|| PathBuf::from(".env")),
        target,
    }))
}

/// The secret a new application (or webhook key) gets: the one asked for, except that a secret
/// committed in this repository is never sent to a FusionAuth beyond this machine — a random one
/// is (and written to `.env`).
fn secret_for(fusionauth_url: &Url, wanted: String) -> String {
    if is_loopback(fusionauth_url) || !is_example_secret(&wanted) {
        return wanted;
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_file_read_is_the_one_written() {
        let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(settings_file(&args(&[])), PathBuf::from(".env"));
        assert_eq!(
            settings_file(&args(&["--dry-run", "--env-file", "deploy/prod.env"])),
            PathBuf::from("deploy/prod.env")
        );
        let options = parse_options(&args(&["--env-file", "deploy/prod.env"]), |name| {
            (name == "FUSIONAUTH_API_KEY").then(|| "key".to_owned())
        })
        .unwrap()
        .unwrap();
        assert_eq!(options.env_file, PathBuf::from("deploy/prod.env"));
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
        assert_eq!(options.target.issuer, "http://localhost:9011");
        assert_eq!(options.target.app_url, "https://app.example");

        assert!(parse_options(&[], |_| None)
            .unwrap_err()
            .to_string()
            .starts_with("FUSIONAUTH_API_KEY"));
        assert!(parse_options(&["--bogus".into()], env).is_err());
        assert!(parse_options(&["--help".into()], env).unwrap().is_none());
        assert_eq!(
            parse_options(&["--user-email".into()], env).unwrap_err(),
            UsageError::MissingValue("--user-email")
        );
    }

    #[test]
    fn an_example_secret_never_goes_to_a_fusionauth_beyond_this_machine() {
        let remote = |name: &str| match name {
            "FUSIONAUTH_API_KEY" => Some("key".to_owned()),
            "FUSIONAUTH_URL" => Some("https://auth.example.com".to_owned()),
            _ => None,
        };
        let options = parse_options(&[], remote).unwrap().unwrap();
        let secret = &options.target.client_secret;
        assert!(!is_example_secret(secret), "{secret}");
        assert_eq!(secret.len(), 64);
        assert!(!is_example_secret(&options.target.webhook_secret));
        let again = parse_options(&[], remote).unwrap().unwrap();
        assert_ne!(&again.target.client_secret, secret, "random each time");

        let chosen = |name: &str| match name {
            "CLIENT_SECRET" => Some("my-own-secret".to_owned()),
            other => remote(other),
        };
        let options = parse_options(&[], chosen).unwrap().unwrap();
        assert_eq!(options.target.client_secret, "my-own-secret");

        let local = |name: &str| (name == "FUSIONAUTH_API_KEY").then(|| "key".to_owned());
        let options = parse_options(&[], local).unwrap().unwrap();
        assert!(
            is_example_secret(&options.target.client_secret),
            "the demo works on loopback"
        );
    }
}

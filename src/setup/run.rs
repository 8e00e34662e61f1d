//! The setup as a list of steps. Each step finds what is to be done ([`Finding`]); this module
//! applies the change — or, in a dry run, only reports it — and says what happened.

use std::fmt;

use url::Url;

use super::{
    api::{string_at, FusionAuthApi, SetupError},
    finding::{Change, Finding},
    steps,
    target::TargetConfiguration,
};

/// Everything `setup` was asked to do.
#[derive(Clone, Debug)]
pub struct SetupOptions {
    pub fusionauth_url: Url,
    pub api_key: String,
    pub dry_run: bool,
    /// The user to name and register; `None`: the only user there is (as the tutorial does).
    pub user_email: Option<String>,
    pub env_file: std::path::PathBuf,
    pub target: TargetConfiguration,
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

/// Makes the changes steps find, unless this is a dry run.
struct Applier<'a> {
    api: &'a FusionAuthApi,
    dry_run: bool,
}

impl Applier<'_> {
    async fn apply(&self, finding: Finding) -> Result<StepReport, SetupError> {
        let outcome = match finding.change {
            None => Outcome::AlreadyDone,
            Some(_) if self.dry_run => Outcome::WouldDo,
            Some(change) => {
                self.make(change).await?;
                Outcome::Done
            }
        };
        Ok(StepReport {
            outcome,
            message: finding.message,
        })
    }

    async fn make(&self, change: Change) -> Result<(), SetupError> {
        match change {
            Change::Api {
                method,
                path,
                body,
                tenant_id,
            } => {
                self.api
                    .call(method, &path, Some(&body), tenant_id.as_deref())
                    .await?;
            }
            Change::WriteFile { path, contents } => {
                write_private(&path, &contents).map_err(|e| {
                    SetupError::Invalid(format!("cannot write {}: {e}", path.display()))
                })?;
            }
        }
        Ok(())
    }
}

/// Writes a file only its owner may read (`.env` holds the client secret): mode 0600 on unix.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // A file that existed keeps its mode on open: narrow it too.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(contents.as_bytes())
}

/// Runs every step; the reports say what was done (or, with `dry_run`, what would be).
pub async fn run_setup(options: &SetupOptions) -> Result<Vec<StepReport>, SetupError> {
    let api = FusionAuthApi::new(options.fusionauth_url.clone(), options.api_key.clone())?;
    let applier = Applier {
        api: &api,
        dry_run: options.dry_run,
    };
    let target = &options.target;
    let mut reports = Vec::new();

    let tenant = steps::first_tenant(&api).await?;
    let tenant_id = string_at(&tenant, "/id")?;
    let application = steps::application(&api, target, &tenant_id).await?;
    let env_before_run = std::fs::read_to_string(&options.env_file).ok();
    if !options.dry_run {
        let new_application = application.existing.is_none();
        let secrets = steps::secrets_first(&options.env_file, target, new_application);
        reports.push(applier.apply(secrets).await?);
    }
    reports.push(
        applier
            .apply(steps::tenant(&tenant, &tenant_id, target))
            .await?,
    );
    let signing_key = steps::signing_key(&api, target).await?;
    reports.push(applier.apply(signing_key).await?);
    let webhook_key = steps::webhook_key(&api, target).await?;
    reports.push(applier.apply(webhook_key).await?);
    let webhook = steps::webhook(&api, target).await?;
    reports.push(applier.apply(webhook).await?);
    reports.push(applier.apply(application.finding).await?);
    for role in steps::application_roles(application.existing.as_ref(), target) {
        reports.push(applier.apply(role).await?);
    }
    let user = steps::find_user(&api, options.user_email.as_deref()).await?;
    reports.push(applier.apply(steps::full_name(&user)?).await?);
    reports.push(applier.apply(steps::registration(&user, target)?).await?);
    let env_file = steps::env_file(
        &options.env_file,
        target,
        &application.client_secret,
        env_before_run.as_deref(),
    );
    reports.push(applier.apply(env_file).await?);
    Ok(reports)
}

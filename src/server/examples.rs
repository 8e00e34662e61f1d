//! The secrets committed in this repository for development, read from the files themselves
//! (compiled in), so a new example secret cannot be forgotten: the library refuses them as
//! secrets when the app is served beyond this machine, and `setup` never sends them to a
//! FusionAuth elsewhere.

/// Every secret committed in this repository: the values of secret-named settings in
/// `.env.example` and `compose.env`, and of the kickstart's secret variables.
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

/// Whether `value` is one of the secrets committed in this repository (or one FusionAuth's own
/// tutorial prints).
pub fn is_example_secret(value: &str) -> bool {
    leptos_fusionauth::PUBLIC_EXAMPLE_SECRETS.contains(&value)
        || committed_example_secrets()
            .iter()
            .any(|example| example == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_example_secrets_are_found_in_the_files() {
        for value in [
            "dev-only-0f6c3b1e9a4d47c2b8e5a1d3c7f90b24",
            "dev-only-webhook-secret-6a1f0c9e2b7d4e83a5c1f9d02b6e7a48",
            "change-this-in-production-to-be-a-real-secret",
        ] {
            assert!(is_example_secret(value), "{value} is found in the files");
        }
        assert!(!is_example_secret("a-real-secret-from-fusionauth"));
    }
}

//! The `.env` editor: sets `KEY=value` lines and leaves every other line as it was.

use std::path::Path;

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

/// The file's text now (`None` if there is none) and after the updates. A missing `.env`
/// starts from `.env.example`, so its comments come along.
pub fn plan_env_update(path: &Path, updates: &[(&str, &str)]) -> (Option<String>, String) {
    let before = std::fs::read_to_string(path).ok();
    let base = match &before {
        Some(text) => text.clone(),
        None => std::fs::read_to_string(".env.example").unwrap_or_default(),
    };
    let after = update_env(&base, updates);
    (before, after)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

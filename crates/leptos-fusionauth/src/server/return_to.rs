//! Where to send the browser after login: only a path on this app, never another origin.

/// Longest return path kept; anything longer falls back to `/`. Tight on purpose: return paths
/// travel in the login-attempt cookie, several at once, and cookies hold 4 KB.
pub(crate) const MAX_RETURN_PATH: usize = 256;

/// Returns `requested` if it is a plain same-origin path (with optional query), else `/`.
///
/// Browsers treat `//host`, `/\host` and `\\host` as other origins, and strip tabs and newlines
/// before parsing, so anything containing a backslash, a control character or starting with two
/// slashes is refused outright rather than "cleaned".
pub(crate) fn safe_return_path(requested: Option<&str>) -> String {
    let Some(path) = requested else {
        return "/".into();
    };
    let acceptable = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= MAX_RETURN_PATH
        && !path.contains('\\')
        && !path.contains('#')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
        && !starts_with_encoded_slash(path);
    if acceptable {
        path.to_owned()
    } else {
        "/".into()
    }
}

/// `/%2F…` and `/%5C…` decode to `//` and `/\` in some servers and proxies.
fn starts_with_encoded_slash(path: &str) -> bool {
    let second = path.get(1..4).unwrap_or_default().to_ascii_lowercase();
    second == "%2f" || second == "%5c"
}

#[cfg(test)]
mod tests {
    use super::safe_return_path;

    #[test]
    fn keeps_same_origin_paths() {
        assert_eq!(safe_return_path(Some("/")), "/");
        assert_eq!(
            safe_return_path(Some("/?section=claims")),
            "/?section=claims"
        );
        assert_eq!(
            safe_return_path(Some("/profile/settings?a=1&b=2")),
            "/profile/settings?a=1&b=2"
        );
    }

    #[test]
    fn refuses_other_origins() {
        for attack in [
            "//evil.example",
            "//evil.example/path",
            "https://evil.example",
            "http:evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2Fevil.example",
            "/%2fevil.example",
            "/%5Cevil.example",
            "/\tevil",
            "/\n/evil.example",
            " //evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_return_path(Some(attack)), "/", "{attack:?}");
        }
    }

    #[test]
    fn refuses_fragments_and_oversized_paths() {
        assert_eq!(safe_return_path(Some("/#x")), "/");
        assert_eq!(
            safe_return_path(Some(&format!("/{}", "a".repeat(2000)))),
            "/"
        );
    }

    #[test]
    fn missing_means_home() {
        assert_eq!(safe_return_path(None), "/");
    }
}

//! Why a protocol step failed, in the protocol's own terms. The flow layer maps these to what
//! the user sees; the text is for the log and never contains a token.

/// Why a login step failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OidcError {
    #[error("identity provider unreachable: {0}")]
    ProviderUnavailable(String),
    #[error("token endpoint refused the authorization code: {0}")]
    CodeRejected(String),
    #[error("ID token rejected: {0}")]
    InvalidIdToken(String),
    #[error("access token rejected: {0}")]
    InvalidAccessToken(String),
    /// A token names a signing key the provider's current JWKS does not have (a key rotation
    /// under way, or a forged `kid`).
    #[error("unknown signing key: {0}")]
    UnknownKey(String),
}

/// Why a refresh did not produce new tokens.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RefreshError {
    /// The provider refused the refresh token (revoked, expired, already used): the session is
    /// over.
    #[error("refresh token refused: {0}")]
    Refused(String),
    /// The provider could not be asked; the current tokens stay, a later request tries again.
    #[error("identity provider unreachable: {0}")]
    Unavailable(String),
}

/// FusionAuth's Logout API did not revoke the refresh token.
#[derive(Debug, thiserror::Error)]
#[error("refresh token not revoked: {0}")]
pub(crate) struct RevocationError(pub String);

/// An error and its sources on one line, e.g. "Request failed: connection refused".
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

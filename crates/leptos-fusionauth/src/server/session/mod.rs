//! Everything the library keeps in a session, in one typed struct ([`AuthSession`]) stored
//! under one key. The tokens inside are sealed before they reach the store. A session exists
//! only once someone signed in (login attempts travel in their own cookie, see
//! `login_attempts`).

use serde::{Deserialize, Serialize};
use tower_sessions::{session::Record, Session};

use super::{
    oidc::{verify::AccessClaims, TokenSet, VerifiedLogin},
    seal::{SealError, Sealed, Sealer, UnsealError},
    store::lifetime::SESSION_KEY,
};

/// Separates the token set's key from every other use of `APP_SECRET_KEY` (the cookie signature).
const TOKEN_SEAL_PURPOSE: &[u8] = b"leptos-fusionauth/session-token-set/v1";

/// The sealer for token sets at rest, keyed from `APP_SECRET_KEY`.
pub(crate) fn token_sealer(app_secret_key: &str) -> Sealer {
    Sealer::new(app_secret_key, TOKEN_SEAL_PURPOSE)
}

/// The session's contents: the signed-in user, or a notice for the guest page.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct AuthSession {
    #[serde(default)]
    pub(crate) user: Option<SignedInUser>,
    /// Set when a refused token refresh ended the session; the guest view says so once.
    #[serde(default)]
    pub(crate) session_ended_notice: bool,
}

/// A token refresh that could not reach the provider, and when to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RefreshRetry {
    /// Failed attempts in a row.
    pub(crate) failures: u32,
    /// Unix seconds before which no new attempt is made.
    pub(crate) not_before: i64,
}

/// A signed-in user: what the views show, and the tokens, which never leave the server and are
/// stored only encrypted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct SignedInUser {
    pub(crate) subject: String,
    pub(crate) email: String,
    /// Verified ID token claims merged with userinfo, as the pretty JSON the profile shows
    /// (serialised once, at sign-in: a page view only copies it).
    #[serde(default)]
    claims_json: String,
    /// The user's full name, when FusionAuth told it (`name`, or given and family name).
    #[serde(default)]
    pub(crate) name: Option<String>,
    /// How records written before `claims_json` kept the claims.
    #[serde(default, rename = "claims", skip_serializing)]
    legacy_claims: Option<serde_json::Map<String, serde_json::Value>>,
    /// Unix seconds of the sign-in: the session's absolute lifetime counts from it.
    #[serde(default)]
    pub(crate) signed_in_at: i64,
    /// The sign-in in milliseconds: a webhook event ends only sessions that began before it.
    #[serde(default)]
    pub(crate) signed_in_at_ms: Option<i64>,
    /// Unix seconds at which the user last typed their password (`auth_time`): step-up asks
    /// for a recent one.
    #[serde(default)]
    pub(crate) authenticated_at: Option<i64>,
    /// The user's roles in this application, from the latest verified access token.
    #[serde(default)]
    pub(crate) roles: Vec<String>,
    /// Unix seconds at which the access token expires, when the provider said (not a secret).
    pub(crate) access_token_expires_at: Option<i64>,
    /// Unix seconds at which the current token set was obtained.
    pub(crate) tokens_issued_at: i64,
    /// Whether the sealed set holds a refresh token (so the view need not decrypt to know).
    #[serde(default)]
    pub(crate) has_refresh_token: bool,
    /// Set while the provider cannot be reached for a refresh.
    #[serde(default)]
    pub(crate) refresh_retry: Option<RefreshRetry>,
    /// Set when FusionAuth said the user's registration changed: the next request refreshes.
    #[serde(default)]
    pub(crate) refresh_requested: bool,
    /// The [`TokenSet`], sealed with the user's subject as context (a sealed set copied into
    /// another user's record does not open).
    tokens: Sealed,
}

impl SignedInUser {
    /// The user a verified login signs in.
    pub(crate) fn new(login: &VerifiedLogin, now: i64, sealer: &Sealer) -> Result<Self, SealError> {
        let tokens = &login.tokens;
        Ok(Self {
            tokens: sealer.seal(tokens, &login.subject)?,
            signed_in_at: now,
            signed_in_at_ms: Some(unix_now_ms()),
            refresh_requested: false,
            authenticated_at: login.auth_time.or(login.access.auth_time),
            roles: login.access.roles.clone(),
            access_token_expires_at: tokens.access_token_expires_at,
            tokens_issued_at: now,
            has_refresh_token: tokens.refresh_token.is_some(),
            refresh_retry: None,
            subject: login.subject.clone(),
            email: login.email.clone(),
            claims_json: serde_json::to_string_pretty(&login.claims).unwrap_or_default(),
            name: full_name(&login.claims),
            legacy_claims: None,
        })
    }

    /// The decrypted token set.
    pub(crate) fn tokens(&self, sealer: &Sealer) -> Result<TokenSet, UnsealError> {
        sealer.open(&self.tokens, &self.subject)
    }

    /// Whether the session began before `instant_ms` (Unix milliseconds). A session recorded
    /// with seconds only counts as beginning at the end of its second.
    pub(crate) fn began_before(&self, instant_ms: i64) -> bool {
        let began_ms = self
            .signed_in_at_ms
            .unwrap_or(self.signed_in_at.saturating_mul(1000));
        began_ms < instant_ms
    }

    /// Whether both hold the very same sealed token set (every refresh seals anew).
    pub(crate) fn holds_same_tokens_as(&self, other: &SignedInUser) -> bool {
        self.tokens == other.tokens
    }

    /// The claims as pretty JSON, as the profile shows them.
    pub(crate) fn claims_json(&self) -> &str {
        &self.claims_json
    }

    /// The claims, parsed (for the rare caller that wants one of them).
    pub(crate) fn claims(&self) -> serde_json::Map<String, serde_json::Value> {
        match &self.legacy_claims {
            Some(claims) => claims.clone(),
            None => serde_json::from_str(&self.claims_json).unwrap_or_default(),
        }
    }

    /// A record written before `claims_json` existed, brought up to date after reading.
    pub(crate) fn upgraded(mut self) -> Self {
        if let Some(claims) = self.legacy_claims.take() {
            self.claims_json = serde_json::to_string_pretty(&claims).unwrap_or_default();
            self.name = full_name(&claims);
        }
        self
    }

    /// Whether the user holds `role` in this application.
    pub(crate) fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }

    /// Replaces the token set after a refresh; the roles follow the new access token.
    pub(crate) fn set_tokens(
        &mut self,
        tokens: &TokenSet,
        access: &AccessClaims,
        now: i64,
        sealer: &Sealer,
    ) -> Result<(), SealError> {
        self.tokens = sealer.seal(tokens, &self.subject)?;
        self.roles = access.roles.clone();
        self.access_token_expires_at = tokens.access_token_expires_at;
        self.tokens_issued_at = now;
        self.has_refresh_token = tokens.refresh_token.is_some();
        self.refresh_retry = None;
        self.refresh_requested = false;
        Ok(())
    }
}

impl AuthSession {
    /// The session key under which the contents are stored.
    pub(crate) const KEY: &'static str = SESSION_KEY;

    /// Reads the session's contents; an empty session is a guest.
    pub(crate) async fn load(session: &Session) -> Result<Self, tower_sessions::session::Error> {
        Ok(session.get::<Self>(Self::KEY).await?.unwrap_or_default())
    }

    /// Writes the contents back (the session layer persists them after the response).
    pub(crate) async fn store(
        &self,
        session: &Session,
    ) -> Result<(), tower_sessions::session::Error> {
        session.insert(Self::KEY, self).await
    }

    /// The contents of a record read from the store directly (not through a request's session).
    pub(crate) fn from_record(record: &Record) -> Option<Self> {
        // Deserialized from the borrowed value: no copy of the record's JSON.
        Self::deserialize(record.data.get(Self::KEY)?).ok()
    }
}

/// `name`, else given and family name, else either.
fn full_name(claims: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    match (text("name"), text("given_name"), text("family_name")) {
        (Some(name), _, _) => Some(name.to_owned()),
        (None, Some(given), Some(family)) => Some(format!("{given} {family}")),
        (None, given, family) => given.or(family).map(str::to_owned),
    }
}

/// Current time in Unix seconds.
pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Current time in Unix milliseconds.
pub(crate) fn unix_now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::lifetime::{record_owner, RecordOwner};

    fn sealer() -> Sealer {
        token_sealer("0123456789abcdef0123456789abcdef")
    }

    fn tokens() -> TokenSet {
        TokenSet {
            access_token: "access".into(),
            refresh_token: Some("refresh".into()),
            id_token: "id".into(),
            access_token_expires_at: Some(3700),
        }
    }

    fn login(subject: &str) -> VerifiedLogin {
        VerifiedLogin {
            subject: subject.into(),
            email: "a@b.c".into(),
            access: AccessClaims {
                application_id: Some("app".into()),
                roles: vec!["user".into()],
                auth_time: Some(90),
                refresh_token_id: None,
            },
            auth_time: Some(95),
            claims: Default::default(),
            tokens: tokens(),
            provider_time: Default::default(),
        }
    }

    fn record_with(contents: &AuthSession) -> Record {
        let mut record = Record {
            id: Default::default(),
            data: Default::default(),
            expiry_date: time::OffsetDateTime::now_utc(),
        };
        let value = serde_json::to_value(contents).unwrap();
        record.data.insert(AuthSession::KEY.into(), value);
        record
    }

    #[test]
    fn the_store_reads_the_owner_without_the_tokens() {
        let user = SignedInUser::new(&login("sub-1"), 100, &sealer()).unwrap();
        let signed_in = AuthSession {
            user: Some(user),
            session_ended_notice: false,
        };
        let owner = record_owner(&record_with(&signed_in));
        assert_eq!(owner.subject.as_deref(), Some("sub-1"));
        assert_eq!(owner.signed_in_at, 100);
        let guest = AuthSession {
            user: None,
            session_ended_notice: true,
        };
        assert_eq!(record_owner(&record_with(&guest)), RecordOwner::default());
        let read_back = AuthSession::from_record(&record_with(&signed_in)).unwrap();
        assert_eq!(read_back.user.unwrap().subject, "sub-1");
    }

    #[test]
    fn a_refresh_clears_the_retry_updates_the_roles_and_keeps_the_sign_in_time() {
        let mut user = SignedInUser::new(&login("s"), 100, &sealer()).unwrap();
        assert_eq!(user.authenticated_at, Some(95), "the ID token's auth_time");
        assert!(user.has_role("user") && !user.has_role("admin"));
        user.refresh_retry = Some(RefreshRetry {
            failures: 2,
            not_before: 500,
        });
        let promoted = AccessClaims {
            roles: vec!["user".into(), "admin".into()],
            ..AccessClaims::default()
        };
        user.set_tokens(&tokens(), &promoted, 400, &sealer())
            .unwrap();
        assert_eq!(user.refresh_retry, None);
        assert!(
            user.has_role("admin"),
            "roles follow the refreshed access token"
        );
        assert_eq!((user.signed_in_at, user.tokens_issued_at), (100, 400));
        assert_eq!(user.authenticated_at, Some(95));
        let opened = user.tokens(&sealer()).unwrap();
        assert_eq!(opened.refresh_token.as_deref(), Some("refresh"));
    }
}

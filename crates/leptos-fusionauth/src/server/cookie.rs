//! The session cookie, built in one place for setting it (the session layer) and for removing
//! it (a logout while the store is down): a browser ignores the removal of a `__Host-` cookie
//! that is not `Secure`, so both must carry the very same attributes.

use tower_cookies::{cookie::SameSite, Cookie};
use tower_sessions::{service::SignedCookie, Expiry, SessionManagerLayer};

use super::{auth::FusionAuth, config::Config, store::Sessions};

/// The session cookie: HttpOnly, SameSite=Lax (Strict would drop it on the redirect back from
/// FusionAuth), Secure and `__Host-` on https, for the whole site, signed with a key derived
/// from `APP_SECRET_KEY`. It lives until the browser closes; the session itself ends on the
/// server (idle timeout, absolute lifetime, logout), whatever the browser keeps. Setting it (the
/// session layer) and removing it (a logout while the store is down) use these same attributes:
/// a browser ignores a removal of a `__Host-` cookie that is not `Secure`.
pub(crate) struct SessionCookie {
    name: String,
    secure: bool,
}

impl SessionCookie {
    const PATH: &'static str = "/";
    const SAME_SITE: SameSite = SameSite::Lax;

    pub(crate) fn of(config: &Config) -> Self {
        Self {
            name: config.session_cookie_name().to_owned(),
            secure: config.cookies_secure(),
        }
    }

    pub(crate) fn layer(&self, auth: &FusionAuth) -> SessionManagerLayer<Sessions, SignedCookie> {
        SessionManagerLayer::new(auth.sessions.clone())
            .with_name(self.name.clone())
            .with_http_only(true)
            .with_same_site(Self::SAME_SITE)
            .with_secure(self.secure)
            .with_path(Self::PATH)
            .with_expiry(Expiry::OnSessionEnd)
            .with_signed(auth.cookie_key.clone())
    }

    /// The cookie that removes the session cookie from the browser.
    pub(crate) fn removal(&self) -> Cookie<'static> {
        let mut cookie = Cookie::build((self.name.clone(), ""))
            .http_only(true)
            .same_site(Self::SAME_SITE)
            .secure(self.secure)
            .path(Self::PATH)
            .build();
        cookie.make_removal();
        cookie
    }
}

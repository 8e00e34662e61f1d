//! The session as the store holds it while this instance holds its refresh lock. Only a
//! session still holding the tokens a request read may spend its refresh token; refreshed tokens
//! are written back only while the lock is still ours (a fenced write).

use tower_sessions::session::Id;

use crate::server::{
    session::{AuthSession, SignedInUser},
    store::{RefreshLock, Sessions},
};

/// What the store holds of a session, compared with the tokens a request read.
pub(super) enum Stored {
    /// Another instance refreshed since: its tokens are the ones to use.
    RefreshedElsewhere(Box<SignedInUser>),
    Unchanged,
    /// Gone or another user's (a logout or a webhook on any instance): its token is revoked or
    /// rotated, and presenting it again would be a one-time token spent twice.
    Ended,
    /// The store did not answer.
    Unreadable,
}

/// Session `id` as stored now, compared with `user` (every refresh seals the tokens anew, so
/// different sealed tokens mean a refresh).
pub(super) async fn stored_now(store: &Sessions, id: &Id, user: &SignedInUser) -> Stored {
    let record = match store.load_untouched(id).await {
        Ok(Some(record)) => record,
        Ok(None) => return Stored::Ended,
        Err(_) => return Stored::Unreadable,
    };
    match AuthSession::from_record(&record).and_then(|contents| contents.user) {
        Some(stored) if stored.subject != user.subject => Stored::Ended,
        Some(stored) if !stored.holds_same_tokens_as(user) => {
            Stored::RefreshedElsewhere(Box::new(stored))
        }
        Some(_) => Stored::Unchanged,
        None => Stored::Ended,
    }
}

/// What became of a write of refreshed tokens.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Written {
    Stored,
    /// Not written and never will be: the session ended, or the lock is no longer ours.
    Refused,
    /// Not written yet: the store did not answer.
    StoreDown,
}

/// Writes the refreshed `user` into the stored record, keeping the rest of the record as it
/// is — only while `lock` is still ours and the session still exists.
pub(super) async fn write_refreshed(
    store: &Sessions,
    lock: &RefreshLock,
    user: &SignedInUser,
) -> Written {
    let mut record = match store.load_untouched(lock.session()).await {
        Ok(Some(record)) => record,
        Ok(None) => {
            tracing::info!("refreshed tokens not stored: the session ended meanwhile");
            return Written::Refused;
        }
        Err(e) => {
            tracing::warn!(reason = %e, "refreshed tokens not stored yet: the store did not answer");
            return Written::StoreDown;
        }
    };
    let mut contents = AuthSession::from_record(&record).unwrap_or_default();
    contents.user = Some(user.clone());
    match serde_json::to_value(&contents) {
        Ok(value) => record.data.insert(AuthSession::KEY.to_owned(), value),
        Err(e) => {
            tracing::warn!(reason = %e, "refreshed tokens not stored");
            return Written::Refused;
        }
    };
    match store.save_locked(&record, lock).await {
        Ok(true) => Written::Stored,
        Ok(false) => {
            tracing::warn!(
                "refreshed tokens not stored: the session ended or its refresh lock expired"
            );
            Written::Refused
        }
        Err(e) => {
            tracing::warn!(reason = %e, "refreshed tokens not stored yet: the store did not answer");
            Written::StoreDown
        }
    }
}

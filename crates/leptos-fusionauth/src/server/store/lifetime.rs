//! How long a session record lives, and how often reading it pushes its expiry forward; and
//! who a record belongs to, read from the record without its tokens.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

/// The key under which the session's contents are stored in a record.
pub(crate) const SESSION_KEY: &str = "auth";

/// A record without a signed-in user (it only carries a notice for the guest page) lives this long.
pub(crate) const GUEST_RECORD_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// Reading a signed-in record pushes its expiry forward at most this often (per instance).
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// The configured lifetimes of a signed-in session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SessionLifetimes {
    /// Without any request for this long, the session ends (`SESSION_IDLE_MINUTES`).
    pub idle: Duration,
    /// A signed-in session ends this long after the sign-in, whatever the activity
    /// (`SESSION_MAX_HOURS`).
    pub max: Duration,
}

/// What the store needs to know about a record to give it its lifetime.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RecordOwner {
    /// The signed-in user's subject; `None` for a record without a user.
    pub subject: Option<String>,
    /// Unix seconds of the sign-in.
    pub signed_in_at: i64,
}

impl SessionLifetimes {
    /// When a record written (or read) `now` expires.
    pub(crate) fn expiry(&self, owner: &RecordOwner, now: OffsetDateTime) -> OffsetDateTime {
        if owner.subject.is_none() {
            return now + GUEST_RECORD_LIFETIME;
        }
        let idle_end = now + self.idle;
        let absolute_end = self.deadline(owner.signed_in_at);
        with_fraction(idle_end.min(absolute_end))
    }

    /// The absolute end of a session signed in at `signed_in_at` (Unix seconds).
    pub(crate) fn deadline(&self, signed_in_at: i64) -> OffsetDateTime {
        let signed_in =
            OffsetDateTime::from_unix_timestamp(signed_in_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        signed_in + self.max
    }

    /// How often a read may push the expiry forward: a minute, or less for tiny idle timeouts.
    fn touch_interval(&self) -> Duration {
        TOUCH_INTERVAL.min(self.idle / 8)
    }
}

/// `tower-sessions-sqlx-store` keeps expiries as RFC 3339 text and compares them as text:
/// `…:05Z` (a whole second, written without a fraction) sorts *after* `…:05.4Z`, so a record
/// expiring on a whole second would outlive its expiry by up to a second. One nanosecond
/// earlier it is written with a fraction and compares right.
fn with_fraction(at: OffsetDateTime) -> OffsetDateTime {
    if at.nanosecond() == 0 {
        at - time::Duration::nanoseconds(1)
    } else {
        at
    }
}

/// When this instance last pushed each session's expiry forward, so that a user reading pages
/// costs one small update a minute, not one per request.
#[derive(Default)]
pub(crate) struct TouchLog {
    last: Mutex<HashMap<Id, Instant>>,
}

impl TouchLog {
    /// Whether `id` should be touched now (and, if so, records that it is).
    pub(crate) fn due(&self, id: Id, lifetimes: &SessionLifetimes) -> bool {
        let interval = lifetimes.touch_interval();
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last
            .get(&id)
            .is_some_and(|at| now.duration_since(*at) < interval)
        {
            return false;
        }
        if last.len() >= 4096 {
            // Forget sessions idle for longer than the interval: the map stays as small as the
            // number of sessions active in the last minute.
            last.retain(|_, at| now.duration_since(*at) < interval);
        }
        last.insert(id, now);
        true
    }

    /// Forgets `id` (deleted or rotated).
    pub(crate) fn forget(&self, id: &Id) {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// Who a record belongs to, read without the tokens (its lifetimes and the owner index).
pub(crate) fn record_owner(record: &Record) -> RecordOwner {
    #[derive(Deserialize)]
    struct Owner {
        subject: String,
        #[serde(default)]
        signed_in_at: i64,
    }
    #[derive(Deserialize)]
    struct Contents {
        #[serde(default)]
        user: Option<Owner>,
    }
    record
        .data
        .get(SESSION_KEY)
        .and_then(|value| Contents::deserialize(value).ok())
        .and_then(|contents| contents.user)
        .map(|user| RecordOwner {
            subject: Some(user.subject),
            signed_in_at: user.signed_in_at,
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    fn lifetimes() -> SessionLifetimes {
        SessionLifetimes {
            idle: Duration::from_secs(8 * HOUR as u64),
            max: Duration::from_secs(24 * HOUR as u64),
        }
    }

    fn at(unix: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(unix).unwrap()
    }

    fn user(signed_in_at: i64) -> RecordOwner {
        RecordOwner {
            subject: Some("user".into()),
            signed_in_at,
        }
    }

    #[test]
    fn a_signed_in_record_lives_until_idle_or_the_deadline_whichever_is_first() {
        let lifetimes = lifetimes();
        // Signed in at 0, active at 1 h: idle end 9 h.
        let expiry = lifetimes.expiry(&user(0), at(HOUR) + time::Duration::milliseconds(5));
        assert_eq!(expiry, at(9 * HOUR) + time::Duration::milliseconds(5));
        // Active at 20 h: idle end 28 h, but the deadline is 24 h (written a nanosecond
        // earlier, so that SQLite's text comparison of expiries is right).
        let expiry = lifetimes.expiry(&user(0), at(20 * HOUR));
        assert_eq!(expiry, at(24 * HOUR) - time::Duration::nanoseconds(1));
    }

    #[test]
    fn a_record_without_a_user_lives_ten_minutes() {
        let expiry = lifetimes().expiry(&RecordOwner::default(), at(HOUR));
        assert_eq!(expiry, at(HOUR + 600));
    }

    #[test]
    fn reads_touch_at_most_once_per_interval() {
        let log = TouchLog::default();
        let id = Id::default();
        assert!(log.due(id, &lifetimes()));
        assert!(!log.due(id, &lifetimes()), "a second read within a minute");
        assert!(log.due(Id::default(), &lifetimes()), "another session");
        log.forget(&id);
        assert!(log.due(id, &lifetimes()), "forgotten: touched again");
        let tiny = SessionLifetimes {
            idle: Duration::from_millis(80),
            max: Duration::from_secs(60),
        };
        assert_eq!(tiny.touch_interval(), Duration::from_millis(10));
    }
}

//! One conformance suite, run against every session backend the crate ships: the guarantees
//! `SessionBackend` states — records that are never overwritten and never come back, expiry, the
//! owner index ("sign out everywhere"), the refresh lock with its fenced write, remembered keys,
//! and several instances refreshing one session at once — asserted the same way for SQLite, Redis
//! and PostgreSQL.
//!
//! Redis: a `redis-server` child process per test (Debian's `redis-server`). PostgreSQL: the
//! server at `LEPTOS_FUSIONAUTH_TEST_POSTGRES` (a URL; `scripts/test.sh` starts the cluster and
//! sets it), a schema of its own per test. A missing server fails the test: nothing is skipped.

#![allow(clippy::unwrap_used)]

mod support;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use leptos_fusionauth::{LockToken, SessionBackend};
use serde_json::json;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

/// A fresh backend of one kind, and what keeps its server alive.
type Opened = (Arc<dyn SessionBackend>, support::Server);

/// A record of `subject` expiring `seconds` from now.
fn record(subject: &str, seconds: i64) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert(
        "auth".to_owned(),
        json!({ "user": { "subject": subject, "signed_in_at": 0 }, "version": 0 }),
    );
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + time::Duration::seconds(seconds),
    }
}

fn version(record: &Record) -> i64 {
    record.data["auth"]["version"].as_i64().unwrap()
}

fn with_version(mut record: Record, version: i64) -> Record {
    record.data.get_mut("auth").unwrap()["version"] = json!(version);
    record
}

async fn records_are_never_overwritten_and_never_come_back(backend: Arc<dyn SessionBackend>) {
    let mut first = record("alice", 60);
    backend.create(&mut first).await.unwrap();
    assert_eq!(backend.load(&first.id).await.unwrap(), Some(first.clone()));
    let mut collision = with_version(first.clone(), 7);
    backend.create(&mut collision).await.unwrap();
    assert_ne!(
        collision.id, first.id,
        "create picks a new id on a collision"
    );
    assert_eq!(version(&backend.load(&first.id).await.unwrap().unwrap()), 0);

    let updated = with_version(first.clone(), 1);
    assert!(backend.update(&updated).await.unwrap());
    assert_eq!(version(&backend.load(&first.id).await.unwrap().unwrap()), 1);

    backend.delete(&first.id, Some("alice")).await.unwrap();
    assert_eq!(backend.load(&first.id).await.unwrap(), None);
    let late = with_version(first.clone(), 2);
    assert!(
        !backend.update(&late).await.unwrap(),
        "an update never re-creates"
    );
    assert_eq!(backend.load(&first.id).await.unwrap(), None);
    backend.delete(&first.id, None).await.unwrap();
}

async fn expired_records_are_gone_and_stay_gone(backend: Arc<dyn SessionBackend>) {
    let mut short = record("bob", 1);
    backend.create(&mut short).await.unwrap();
    let mut long = record("bob", 60);
    backend.create(&mut long).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(backend.load(&short.id).await.unwrap(), None);
    assert!(!backend
        .update(&with_version(short.clone(), 1))
        .await
        .unwrap());
    assert_eq!(backend.load(&short.id).await.unwrap(), None);
    backend.delete_expired().await.unwrap();
    assert!(backend.load(&long.id).await.unwrap().is_some());
}

async fn the_owner_index_finds_every_session_of_a_user(backend: Arc<dyn SessionBackend>) {
    let subject = format!("carol-{}", Id::default());
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let mut session = record(&subject, 2);
        backend.create(&mut session).await.unwrap();
        backend
            .index_owner(&session.id, &subject, session.expiry_date)
            .await
            .unwrap();
        sessions.push(session);
    }
    let mut other = record("dave", 60);
    backend.create(&mut other).await.unwrap();
    backend
        .index_owner(&other.id, "dave", other.expiry_date)
        .await
        .unwrap();
    let mut found = backend.sessions_of(&subject).await.unwrap();
    found.sort_by_key(|id| id.to_string());
    let mut expected: Vec<Id> = sessions.iter().map(|s| s.id).collect();
    expected.sort_by_key(|id| id.to_string());
    assert_eq!(found, expected);

    backend
        .forget_owner(&sessions[0].id, &subject)
        .await
        .unwrap();
    backend
        .delete(&sessions[1].id, Some(&subject))
        .await
        .unwrap();
    assert_eq!(
        backend.sessions_of(&subject).await.unwrap(),
        [sessions[2].id]
    );

    // Reading pages pushes the expiry forward, and the index follows it.
    let later = OffsetDateTime::now_utc() + time::Duration::seconds(60);
    backend
        .set_expiry(&sessions[2].id, &subject, later)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(backend.load(&sessions[2].id).await.unwrap().is_some());
    assert_eq!(
        backend.sessions_of(&subject).await.unwrap(),
        [sessions[2].id]
    );
    assert_eq!(backend.sessions_of("dave").await.unwrap(), [other.id]);
}

async fn sign_out_everywhere_ends_every_session_of_the_user_only(backend: Arc<dyn SessionBackend>) {
    let subject = format!("erin-{}", Id::default());
    for _ in 0..4 {
        let mut session = record(&subject, 60);
        backend.create(&mut session).await.unwrap();
        backend
            .index_owner(&session.id, &subject, session.expiry_date)
            .await
            .unwrap();
    }
    let mut bystander = record("frank", 60);
    backend.create(&mut bystander).await.unwrap();
    backend
        .index_owner(&bystander.id, "frank", bystander.expiry_date)
        .await
        .unwrap();
    for id in backend.sessions_of(&subject).await.unwrap() {
        backend.delete(&id, Some(&subject)).await.unwrap();
        assert_eq!(backend.load(&id).await.unwrap(), None);
    }
    assert!(backend.sessions_of(&subject).await.unwrap().is_empty());
    assert!(backend.load(&bystander.id).await.unwrap().is_some());
}

async fn the_refresh_lock_has_one_holder_and_a_lifetime(backend: Arc<dyn SessionBackend>) {
    let id = Id::default();
    let (a, b, c) = (LockToken::new(), LockToken::new(), LockToken::new());
    let ttl = Duration::from_millis(900);
    assert!(backend.try_lock(&id, &a, ttl).await.unwrap());
    assert!(!backend.try_lock(&id, &b, ttl).await.unwrap(), "held");
    assert!(backend.extend_lock(&id, &a, ttl).await.unwrap());
    assert!(!backend.extend_lock(&id, &b, ttl).await.unwrap(), "not b's");
    backend.unlock(&id, &b).await.unwrap();
    assert!(
        !backend.try_lock(&id, &c, ttl).await.unwrap(),
        "b cannot release a's lock"
    );
    backend.unlock(&id, &a).await.unwrap();
    assert!(backend.try_lock(&id, &c, ttl).await.unwrap(), "released");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(!backend.extend_lock(&id, &c, ttl).await.unwrap(), "expired");
    assert!(
        backend.try_lock(&id, &a, ttl).await.unwrap(),
        "an expired lock is free"
    );
    assert!(
        backend.try_lock(&Id::default(), &b, ttl).await.unwrap(),
        "one lock per session"
    );
}

async fn only_the_lock_holder_writes_the_refreshed_tokens(backend: Arc<dyn SessionBackend>) {
    let mut session = record("grace", 60);
    backend.create(&mut session).await.unwrap();
    let (slow, fast) = (LockToken::new(), LockToken::new());
    assert!(backend
        .try_lock(&session.id, &slow, Duration::from_millis(500))
        .await
        .unwrap());
    assert!(!backend
        .update_if_locked(&with_version(session.clone(), 9), &fast)
        .await
        .unwrap());
    assert!(backend
        .update_if_locked(&with_version(session.clone(), 1), &slow)
        .await
        .unwrap());
    // The slow holder's lock expires under a slow provider; another instance takes over.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(backend
        .try_lock(&session.id, &fast, Duration::from_secs(5))
        .await
        .unwrap());
    assert!(backend
        .update_if_locked(&with_version(session.clone(), 2), &fast)
        .await
        .unwrap());
    assert!(
        !backend
            .update_if_locked(&with_version(session.clone(), 3), &slow)
            .await
            .unwrap(),
        "a lock that expired writes nothing"
    );
    assert_eq!(
        version(&backend.load(&session.id).await.unwrap().unwrap()),
        2
    );
    backend.delete(&session.id, None).await.unwrap();
    assert!(
        !backend
            .update_if_locked(&with_version(session.clone(), 4), &fast)
            .await
            .unwrap(),
        "a deleted session is not re-created, lock or not"
    );
    assert_eq!(backend.load(&session.id).await.unwrap(), None);
}

async fn keys_are_remembered_for_their_lifetime(backend: Arc<dyn SessionBackend>) {
    let key = format!("event-{}", Id::default());
    assert!(backend
        .remember(&key, Duration::from_millis(800))
        .await
        .unwrap());
    assert!(!backend
        .remember(&key, Duration::from_millis(800))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        backend
            .remember(&key, Duration::from_secs(60))
            .await
            .unwrap(),
        "expired"
    );
    backend.forget(&key).await.unwrap();
    assert!(
        backend
            .remember(&key, Duration::from_secs(60))
            .await
            .unwrap(),
        "forgotten"
    );
    backend.forget("never-remembered").await.unwrap();
}

/// Eight instances (each its own connection to the store) find the session's tokens due at the
/// same moment: exactly one refreshes, the others take its tokens over.
async fn several_instances_refresh_one_session_once(instances: Vec<Arc<dyn SessionBackend>>) {
    let mut session = record("heidi", 60);
    instances[0].create(&mut session).await.unwrap();
    let refreshes = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = instances
        .into_iter()
        .map(|backend| {
            let (id, refreshes) = (session.id, refreshes.clone());
            tokio::spawn(async move { refresh_once(backend, id, refreshes).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(
            task.await.unwrap(),
            1,
            "every instance ends with the new tokens"
        );
    }
    assert_eq!(
        refreshes.load(Ordering::SeqCst),
        1,
        "one refresh for eight instances"
    );
}

/// What the crate's refresher does: take the lock (waiting for it), re-read, refresh only if no
/// other instance did, write while the lock is still ours, release. The version it ends with.
async fn refresh_once(
    backend: Arc<dyn SessionBackend>,
    id: Id,
    refreshes: Arc<AtomicUsize>,
) -> i64 {
    let token = LockToken::new();
    while !backend
        .try_lock(&id, &token, Duration::from_secs(5))
        .await
        .unwrap()
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stored = backend.load(&id).await.unwrap().unwrap();
    let current = version(&stored);
    if current == 0 {
        refreshes.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await; // the provider's answer
        assert!(backend
            .update_if_locked(&with_version(stored, 1), &token)
            .await
            .unwrap());
    }
    backend.unlock(&id, &token).await.unwrap();
    version(&backend.load(&id).await.unwrap().unwrap())
}

/// The same tests, for one backend: `$open` makes a fresh store, `$instances` eight handles on
/// one store.
macro_rules! conformance {
    ($backend:ident) => {
        mod $backend {
            use super::*;

            async fn open() -> Opened {
                support::$backend::open().await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn records_are_never_overwritten_and_never_come_back() {
                let (backend, _server) = open().await;
                super::records_are_never_overwritten_and_never_come_back(backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn expired_records_are_gone_and_stay_gone() {
                let (backend, _server) = open().await;
                super::expired_records_are_gone_and_stay_gone(backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_owner_index_finds_every_session_of_a_user() {
                let (backend, _server) = open().await;
                super::the_owner_index_finds_every_session_of_a_user(backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sign_out_everywhere_ends_every_session_of_the_user_only() {
                let (backend, _server) = open().await;
                super::sign_out_everywhere_ends_every_session_of_the_user_only(backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_refresh_lock_has_one_holder_and_a_lifetime() {
                let (backend, _server) = open().await;
                super::the_refresh_lock_has_one_holder_and_a_lifetime(backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn only_the_lock_holder_writes_the_refreshed_tokens() {
                let (backend, _server) = open().await;
                super::only_the_lock_holder_writes_the_refreshed_tokens(backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn keys_are_remembered_for_their_lifetime() {
                let (backend, _server) = open().await;
                super::keys_are_remembered_for_their_lifetime(backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn several_instances_refresh_one_session_once() {
                let (instances, _server) = support::$backend::instances(8).await;
                super::several_instances_refresh_one_session_once(instances).await;
            }
        }
    };
}

conformance!(sqlite);
conformance!(redis);
conformance!(postgres);

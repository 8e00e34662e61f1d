//! The provider's discovery document and signing keys, fetched lazily and cached: the app starts
//! and serves guests while FusionAuth is still down, concurrent logins share one fetch, a login
//! re-fetches once the copy is older than the configured TTL, and an ID token signed with an
//! unknown key may force one re-fetch (rate-limited, so forged `kid`s cannot hammer FusionAuth).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use openidconnect::{
    core::CoreClient, ClientId, ClientSecret, EndSessionUrl, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, ProviderMetadataWithLogout, RedirectUrl,
};
use url::Url;

use super::error::{error_chain, OidcError};

/// The client type `from_provider_metadata` yields: authorization endpoint set, token and
/// userinfo endpoints present when the provider advertises them.
pub(crate) type FusionAuthClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A key-triggered JWKS refresh happens at most this often.
pub(crate) const KEY_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(30);

/// What discovery yields, ready to use.
pub(crate) struct Discovery {
    pub client: FusionAuthClient,
    pub end_session_endpoint: Option<EndSessionUrl>,
    /// FusionAuth's `/oauth2/register`, which discovery does not advertise.
    pub registration_endpoint: Url,
    fetched_at: Instant,
}

/// How old a cached discovery may be for the caller.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Freshness {
    /// Whatever is cached (fetch only when nothing is).
    Cached,
    /// Re-fetch when the cached copy is at least this old.
    YoungerThan(Duration),
}

impl Freshness {
    fn accepts(self, age: Duration) -> bool {
        match self {
            Self::Cached => true,
            Self::YoungerThan(max) => age < max,
        }
    }
}

/// Who this app is at the provider: what the client is built with after each fetch.
pub(crate) struct ClientIdentity {
    pub issuer: String,
    pub client_id: ClientId,
    pub client_secret: ClientSecret,
    pub redirect_uri: RedirectUrl,
}

/// Allows an action at most once per interval.
struct RateLimit {
    min_interval: Duration,
    last: Mutex<Option<Instant>>,
}

impl RateLimit {
    fn new(min_interval: Duration) -> Self {
        Self {
            min_interval,
            last: Mutex::new(None),
        }
    }

    /// Whether the action may run now; if so, the interval starts again.
    fn try_acquire(&self, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| now.duration_since(at) < self.min_interval) {
            return false;
        }
        *last = Some(now);
        true
    }
}

/// The cached discovery document and JWKS.
pub(crate) struct DiscoveryCache {
    identity: ClientIdentity,
    http: reqwest::Client,
    cached: tokio::sync::RwLock<Option<Arc<Discovery>>>,
    /// Serialises fetches so concurrent logins trigger one discovery request, not many.
    fetching: tokio::sync::Mutex<()>,
    key_refreshes: RateLimit,
}

impl DiscoveryCache {
    pub(crate) fn new(identity: ClientIdentity, http: reqwest::Client) -> Self {
        Self {
            identity,
            http,
            cached: tokio::sync::RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            key_refreshes: RateLimit::new(KEY_REFRESH_MIN_INTERVAL),
        }
    }

    /// The cached discovery if `freshness` accepts its age, else a fresh one.
    pub(crate) async fn get(&self, freshness: Freshness) -> Result<Arc<Discovery>, OidcError> {
        let usable = |discovery: &Option<Arc<Discovery>>| {
            discovery
                .as_ref()
                .filter(|d| freshness.accepts(d.fetched_at.elapsed()))
                .cloned()
        };
        if let Some(discovery) = usable(&*self.cached.read().await) {
            return Ok(discovery);
        }
        let _single_flight = self.fetching.lock().await;
        if let Some(discovery) = usable(&*self.cached.read().await) {
            return Ok(discovery);
        }
        self.fetch_and_cache().await
    }

    /// Re-fetches discovery and JWKS after a token named a key missing from `seen` (the copy it
    /// was checked against). A re-fetch already under way is waited for, and a copy newer than
    /// `seen` is used as it is; otherwise at most one re-fetch per
    /// [`KEY_REFRESH_MIN_INTERVAL`] (forged `kid`s cannot hammer FusionAuth).
    pub(crate) async fn refetch_after_unknown_key(
        &self,
        seen: &Arc<Discovery>,
    ) -> Result<Arc<Discovery>, OidcError> {
        let _single_flight = self.fetching.lock().await;
        if let Some(current) = self.cached.read().await.clone() {
            if !Arc::ptr_eq(&current, seen) {
                return Ok(current);
            }
        }
        if !self.key_refreshes.try_acquire(Instant::now()) {
            return Err(OidcError::UnknownKey(
                "signed with a key the provider's JWKS, fetched moments ago, does not have".into(),
            ));
        }
        tracing::info!("a token is signed with an unknown key; re-fetching the provider's JWKS");
        self.fetch_and_cache().await
    }

    async fn fetch_and_cache(&self) -> Result<Arc<Discovery>, OidcError> {
        let discovery = Arc::new(self.fetch().await?);
        *self.cached.write().await = Some(discovery.clone());
        Ok(discovery)
    }

    async fn fetch(&self) -> Result<Discovery, OidcError> {
        let identity = &self.identity;
        let issuer = IssuerUrl::new(identity.issuer.clone())
            .map_err(|e| OidcError::ProviderUnavailable(format!("invalid issuer URL: {e}")))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                OidcError::ProviderUnavailable(format!(
                    "discovery at {} failed: {}",
                    identity.issuer,
                    error_chain(&e)
                ))
            })?;
        let end_session_endpoint = metadata.additional_metadata().end_session_endpoint.clone();
        let registration_endpoint = registration_endpoint(metadata.authorization_endpoint().url());
        let client = CoreClient::from_provider_metadata(
            metadata,
            identity.client_id.clone(),
            Some(identity.client_secret.clone()),
        )
        .set_redirect_uri(identity.redirect_uri.clone());
        tracing::info!(issuer = %identity.issuer, "fetched the provider's discovery document and keys");
        Ok(Discovery {
            client,
            end_session_endpoint,
            registration_endpoint,
            fetched_at: Instant::now(),
        })
    }
}

/// FusionAuth serves registration at `/oauth2/register`, next to `/oauth2/authorize`; it is not
/// in the discovery document.
fn registration_endpoint(authorization_endpoint: &Url) -> Url {
    let mut url = authorization_endpoint.clone();
    let path = url.path().to_owned();
    let register_path = match path.strip_suffix("authorize") {
        Some(prefix) => format!("{prefix}register"),
        None => "/oauth2/register".to_owned(),
    };
    url.set_path(&register_path);
    url
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{routing::get, Json, Router};
    use serde_json::json;

    use super::*;

    #[test]
    fn registration_endpoint_sits_next_to_authorize() {
        let authorize = Url::parse("http://localhost:9011/oauth2/authorize").unwrap();
        assert_eq!(
            registration_endpoint(&authorize).as_str(),
            "http://localhost:9011/oauth2/register"
        );
        let other = Url::parse("https://idp.example/auth").unwrap();
        assert_eq!(
            registration_endpoint(&other).as_str(),
            "https://idp.example/oauth2/register"
        );
    }

    #[test]
    fn freshness_decides_by_age() {
        assert!(Freshness::Cached.accepts(Duration::from_secs(86_400)));
        let five_minutes = Freshness::YoungerThan(Duration::from_secs(300));
        assert!(five_minutes.accepts(Duration::from_secs(299)));
        assert!(!five_minutes.accepts(Duration::from_secs(300)));
        assert!(!Freshness::YoungerThan(Duration::ZERO).accepts(Duration::ZERO));
    }

    #[test]
    fn key_refreshes_are_rate_limited() {
        let limit = RateLimit::new(Duration::from_secs(30));
        let start = Instant::now();
        assert!(limit.try_acquire(start));
        assert!(!limit.try_acquire(start + Duration::from_secs(29)));
        assert!(limit.try_acquire(start + Duration::from_secs(30)));
    }

    /// A provider that only serves discovery and an empty JWKS, counting discovery fetches.
    async fn counting_provider() -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let fetches = Arc::new(AtomicUsize::new(0));
        let document = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
            "token_endpoint": format!("{issuer}/oauth2/token"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        let counter = fetches.clone();
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                    let document = document.clone();
                    async move { Json(document) }
                }),
            )
            .route(
                "/.well-known/jwks.json",
                get(|| async { Json(json!({ "keys": [] })) }),
            );
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        (issuer, fetches)
    }

    fn cache_for(issuer: &str) -> DiscoveryCache {
        let identity = ClientIdentity {
            issuer: issuer.to_owned(),
            client_id: ClientId::new("client".into()),
            client_secret: ClientSecret::new("secret".into()),
            redirect_uri: RedirectUrl::new("http://localhost:5001/callback".into()).unwrap(),
        };
        DiscoveryCache::new(identity, reqwest::Client::new())
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch_and_the_copy_is_reused() {
        let (issuer, fetches) = counting_provider().await;
        let cache = Arc::new(cache_for(&issuer));
        let callers: Vec<_> = (0..8)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get(Freshness::Cached).await.is_ok() })
            })
            .collect();
        for caller in callers {
            assert!(caller.await.unwrap());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        let young = Freshness::YoungerThan(Duration::from_secs(300));
        cache.get(young).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "young enough: reused");
        cache
            .get(Freshness::YoungerThan(Duration::ZERO))
            .await
            .unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "too old: re-fetched");
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_an_outage_not_a_panic() {
        let port = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cache = cache_for(&format!("http://127.0.0.1:{port}"));
        let error = cache.get(Freshness::Cached).await.err().unwrap();
        assert!(
            matches!(error, OidcError::ProviderUnavailable(_)),
            "{error}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_unknown_keys_share_one_refetch() {
        let (issuer, fetches) = counting_provider().await;
        let cache = Arc::new(cache_for(&issuer));
        let seen = cache.get(Freshness::Cached).await.unwrap();
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let (cache, seen) = (cache.clone(), seen.clone());
                tokio::spawn(async move { cache.refetch_after_unknown_key(&seen).await.is_ok() })
            })
            .collect();
        for caller in callers {
            assert!(
                caller.await.unwrap(),
                "nobody is refused while a re-fetch is shared"
            );
        }
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "one re-fetch for four callers"
        );
    }

    #[tokio::test]
    async fn unknown_key_refetches_are_rate_limited() {
        let (issuer, fetches) = counting_provider().await;
        let cache = cache_for(&issuer);
        let first = cache.get(Freshness::Cached).await.unwrap();
        let second = cache.refetch_after_unknown_key(&first).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // A caller that checked against the old copy gets the new one, without a fetch.
        let again = cache.refetch_after_unknown_key(&first).await.unwrap();
        assert!(Arc::ptr_eq(&again, &second));
        let refused = cache
            .refetch_after_unknown_key(&second)
            .await
            .err()
            .unwrap();
        assert!(matches!(refused, OidcError::UnknownKey(_)), "{refused}");
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }
}

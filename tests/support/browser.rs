//! A cookie-keeping "browser" for the app under test: plain form posts (as `ActionForm` does
//! before hydration), GETs, and the whole login through the provider the test controls.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use super::provider::MockProvider;

/// The session cookie's name on plain http (the tests' apps run on http://127.0.0.1).
pub const SESSION_COOKIE: &str = "leptos_fusionauth_session";
/// The login-attempt cookie's name on plain http.
pub const LOGIN_COOKIE: &str = "leptos_fusionauth_login";

/// A response reduced to what the tests look at.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

/// Whether a browser takes this Set-Cookie at all (RFC 6265bis cookie prefixes): a `__Host-`
/// cookie only with `Secure`, `Path=/` and no `Domain`, a `__Secure-` cookie only with `Secure`.
/// A removal that breaks these rules is ignored too, and the cookie stays.
pub fn browser_accepts(name: &str, set_cookie: &str) -> bool {
    let attributes: Vec<String> = set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    let has = |wanted: &str| attributes.iter().any(|a| a == wanted);
    let secure = has("secure");
    if name.starts_with("__Host-") {
        let domain = attributes.iter().any(|a| a.starts_with("domain="));
        return secure && has("path=/") && !domain;
    }
    !name.starts_with("__Secure-") || secure
}

/// Keeps the app's cookies like a browser does (by name), and records every Set-Cookie header.
#[derive(Clone)]
pub struct Browser {
    base: String,
    /// The `Origin` its form posts carry: the app's public origin.
    origin: String,
    http: reqwest::Client,
    cookies: Arc<Mutex<BTreeMap<String, String>>>,
    pub set_cookie_headers: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    /// A browser with no cookies, for the app at `base`.
    pub fn new(base: String) -> Self {
        Self {
            origin: base.clone(),
            base,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                // A hung request fails its test instead of stalling the whole run.
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
            cookies: Arc::default(),
            set_cookie_headers: Arc::default(),
        }
    }

    /// The same browser, for an app whose public origin (behind a proxy) is `origin`.
    pub fn with_origin(mut self, origin: &str) -> Self {
        self.origin = origin.to_owned();
        self
    }

    /// The value of cookie `name`, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    /// Sets (or, with `None`, drops) cookie `name`, as a tampering user or a thief would.
    pub fn set_cookie(&self, name: &str, value: Option<String>) {
        let mut cookies = self.cookies.lock().unwrap();
        match value {
            Some(value) => cookies.insert(name.to_owned(), value),
            None => cookies.remove(name),
        };
    }

    /// The session cookie's value.
    pub fn session_cookie(&self) -> Option<String> {
        self.cookie(SESSION_COOKIE)
    }

    /// This browser's cookies, on another instance of the app behind the same load balancer.
    pub fn on(&self, base: &str) -> Browser {
        let other = Browser::new(base.to_owned());
        *other.cookies.lock().unwrap() = self.cookies.lock().unwrap().clone();
        other
    }

    pub async fn get(&self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// A plain HTML form post (no JavaScript), as `ActionForm` does before hydration.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("accept", "text/html")
            .header("origin", &self.origin)
            .form(form);
        self.send(request).await
    }

    pub async fn send(&self, mut request: reqwest::RequestBuilder) -> Page {
        let header = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !header.is_empty() {
            request = request.header("cookie", header);
        }
        let response = request.send().await.expect("app reachable");
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().unwrap().to_owned();
            let pair = value.split(';').next().unwrap();
            let (name, cookie) = pair.split_once('=').unwrap();
            self.set_cookie_headers.lock().unwrap().push(value.clone());
            if !browser_accepts(name, &value) {
                continue;
            }
            let removed = value.contains("Max-Age=0") || cookie.is_empty();
            self.set_cookie(name, (!removed).then(|| cookie.to_owned()));
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    /// Login → provider → callback. Returns the callback's response.
    pub async fn log_in(&self, provider: &MockProvider, return_to: &str) -> Page {
        let started = self
            .post_form("/api/login", &[("return_to", return_to)])
            .await;
        let authorize_url = started.provider_redirect(provider);
        let code = provider.authorize(&authorize_url);
        let state = query_value(&authorize_url, "state");
        self.get(&format!("/callback?code={code}&state={state}"))
            .await
    }

    /// Another browser on the same app, with no cookies.
    pub fn stranger(&self) -> Browser {
        Browser::new(self.base.clone())
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn base(&self) -> &str {
        &self.base
    }
}

impl Page {
    /// The Location of a redirect to the provider's authorize endpoint.
    pub fn provider_redirect(&self, provider: &MockProvider) -> url::Url {
        let location = self.location.clone().unwrap_or_else(|| {
            panic!(
                "expected a redirect to the provider, got {} {}",
                self.status, self.body
            )
        });
        assert!(
            location.starts_with(&format!("{}/oauth2/authorize?", provider.issuer)),
            "{location}"
        );
        url::Url::parse(&location).unwrap()
    }
}

pub fn query_value(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("{name} missing from {url}"))
}

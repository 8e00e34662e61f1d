//! `leptos-fusionauth setup` against a local double of FusionAuth's REST API. The double checks
//! each call's method, path, headers and JSON body as FusionAuth's API reference documents them
//! and answers like FusionAuth, including "already exists" and error answers.

#![allow(clippy::unwrap_used)]

use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use leptos_fusionauth_demo::setup::{
    parse_options, run_setup,
    target::{WEBHOOK_ID, WEBHOOK_KEY_ID},
    Outcome, SetupError, SetupOptions, TargetConfiguration,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const API_KEY: &str = "test-api-key-0123456789";
const TENANT_ID: &str = "d7d09513-a3f5-401c-9685-34ab6c552453";
const USER_ID: &str = "00000000-0000-0000-0000-111111111111";

/// One recorded call.
#[derive(Clone, Debug)]
struct Call {
    method: Method,
    path: String,
    body: Value,
    tenant_header: Option<String>,
}

/// FusionAuth's state as far as `setup` can see it.
#[derive(Default)]
struct Instance {
    /// The default tenant as the Tenant API returns it.
    tenant: Value,
    keys: HashMap<String, Value>,
    applications: HashMap<String, Value>,
    webhooks: HashMap<String, Value>,
    users: Vec<Value>,
    calls: Vec<Call>,
    /// Answer every request with this status instead (e.g. 401, 400).
    fail_with: Option<(StatusCode, Value)>,
}

type Shared = Arc<Mutex<Instance>>;

/// A FusionAuth on a loopback port: tenant "Default" with issuer `acme.com` (FusionAuth's default),
/// no key, no application, and one user without a full name (the tutorial's starting point).
async fn fusionauth() -> (String, Shared) {
    let instance = Arc::new(Mutex::new(Instance {
        tenant: json!({ "id": TENANT_ID, "name": "Default", "issuer": "acme.com" }),
        users: vec![json!({
            "id": USER_ID,
            "email": "richard@example.com",
            "firstName": "Richard",
            "lastName": "Hendricks",
            "registrations": []
        })],
        ..Instance::default()
    }));
    let app = Router::new()
        // https://fusionauth.io/docs/apis/tenants#retrieve-a-tenant and #update-a-tenant
        .route("/api/tenant", get(list_tenants))
        .route("/api/tenant/{id}", axum::routing::patch(patch_tenant))
        // https://fusionauth.io/docs/apis/keys#retrieve-a-key and #generate-a-key
        .route("/api/key/{id}", get(get_key))
        .route("/api/key/generate/{id}", post(generate_key))
        // https://fusionauth.io/docs/apis/keys#import-a-key and /docs/apis/webhooks
        .route("/api/key/import/{id}", post(import_key))
        .route(
            "/api/webhook/{id}",
            get(get_webhook).post(create_webhook).patch(patch_webhook),
        )
        // https://fusionauth.io/docs/apis/applications (retrieve, create, update with PATCH)
        .route(
            "/api/application/{id}",
            get(get_application)
                .post(create_application)
                .patch(patch_application),
        )
        // https://fusionauth.io/docs/apis/applications#create-an-application-role
        .route("/api/application/{id}/role", post(create_role))
        // https://fusionauth.io/docs/apis/users#retrieve-a-user (by email), #search-for-users, #update-a-user
        .route("/api/user", get(get_user_by_email))
        .route("/api/user/search", get(search_users))
        .route("/api/user/{id}", axum::routing::patch(patch_user))
        // https://fusionauth.io/docs/apis/registrations#create-a-user-registration-for-an-existing-user
        .route("/api/user/registration/{id}", post(register_user))
        .layer(axum::middleware::from_fn_with_state(
            instance.clone(),
            check_and_record,
        ))
        .with_state(instance.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, instance)
}

/// Every FusionAuth API call carries the API key as the Authorization header
/// (https://fusionauth.io/docs/apis/authentication#api-key-authentication); bodies are JSON.
async fn check_and_record(
    State(instance): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let has_body = !bytes.is_empty();
    {
        let mut state = instance.lock().unwrap();
        if let Some((status, body)) = state.fail_with.clone() {
            return (status, Json(body)).into_response();
        }
        if parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            != Some(API_KEY)
        {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        if has_body {
            assert_eq!(
                parts
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("application/json"),
                "FusionAuth requires JSON bodies"
            );
        }
        state.calls.push(Call {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            tenant_header: parts
                .headers
                .get("x-fusionauth-tenantid")
                .map(|v| v.to_str().unwrap().to_owned()),
        });
    }
    next.run(axum::extract::Request::from_parts(
        parts,
        axum::body::Body::from(bytes),
    ))
    .await
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

async fn list_tenants(State(instance): State<Shared>) -> Json<Value> {
    let tenant = instance.lock().unwrap().tenant.clone();
    Json(json!({ "tenants": [tenant] }))
}

async fn patch_tenant(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    assert_eq!(id, TENANT_ID);
    assert!(body["tenant"].is_object(), "PATCH {{tenant: {{…}}}}");
    let mut state = instance.lock().unwrap();
    merge(&mut state.tenant, &body["tenant"]);
    Json(json!({ "tenant": state.tenant })).into_response()
}

async fn get_key(State(instance): State<Shared>, Path(id): Path<String>) -> Response {
    match instance.lock().unwrap().keys.get(&id) {
        Some(key) => Json(json!({ "key": key })).into_response(),
        None => not_found(),
    }
}

async fn generate_key(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let key = &body["key"];
    assert_eq!(key["algorithm"], "RS256");
    assert_eq!(key["length"], 2048);
    assert!(key["name"].is_string(), "a key needs a name");
    let mut state = instance.lock().unwrap();
    if state.keys.contains_key(&id) {
        return (StatusCode::BAD_REQUEST, Json(json!({ "fieldErrors": { "key.id": [{ "code": "[duplicate]key.id", "message": "A key with that id already exists." }] } }))).into_response();
    }
    state.keys.insert(
        id.clone(),
        json!({ "id": id, "algorithm": "RS256", "length": 2048 }),
    );
    Json(json!({ "key": { "id": id } })).into_response()
}

async fn import_key(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let key = &body["key"];
    assert_eq!(key["type"], "HMAC", "an HMAC key is imported with its type");
    assert!(key["algorithm"].as_str().unwrap().starts_with("HS"));
    assert!(
        key["secret"].as_str().unwrap().len() >= 32,
        "a real HMAC secret"
    );
    assert!(key["name"].is_string(), "a key needs a name");
    let mut state = instance.lock().unwrap();
    // FusionAuth never returns a key's secret.
    let stored = json!({ "id": id, "type": "HMAC", "algorithm": key["algorithm"] });
    state.keys.insert(id.clone(), stored.clone());
    Json(json!({ "key": stored })).into_response()
}

async fn get_webhook(State(instance): State<Shared>, Path(id): Path<String>) -> Response {
    match instance.lock().unwrap().webhooks.get(&id) {
        Some(webhook) => Json(json!({ "webhook": webhook })).into_response(),
        None => not_found(),
    }
}

async fn create_webhook(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let mut webhook = body["webhook"].clone();
    for required in ["url", "connectTimeout", "readTimeout"] {
        assert!(!webhook[required].is_null(), "a webhook needs {required}");
    }
    webhook["id"] = json!(id);
    let mut state = instance.lock().unwrap();
    state.webhooks.insert(id, webhook.clone());
    Json(json!({ "webhook": webhook })).into_response()
}

async fn patch_webhook(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let mut state = instance.lock().unwrap();
    let Some(webhook) = state.webhooks.get_mut(&id) else {
        return not_found();
    };
    merge(webhook, &body["webhook"]);
    Json(json!({ "webhook": webhook })).into_response()
}

async fn get_application(State(instance): State<Shared>, Path(id): Path<String>) -> Response {
    match instance.lock().unwrap().applications.get(&id) {
        Some(app) => Json(json!({ "application": app })).into_response(),
        None => not_found(),
    }
}

async fn create_application(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let mut app = body["application"].clone();
    assert!(app["name"].is_string(), "an application needs a name");
    app["id"] = json!(id);
    instance
        .lock()
        .unwrap()
        .applications
        .insert(id, app.clone());
    Json(json!({ "application": app })).into_response()
}

async fn patch_application(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let mut state = instance.lock().unwrap();
    let Some(app) = state.applications.get_mut(&id) else {
        return not_found();
    };
    merge(app, &body["application"]);
    Json(json!({ "application": app })).into_response()
}

async fn create_role(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let role = body["role"].clone();
    assert!(role["name"].is_string(), "a role needs a name");
    let mut state = instance.lock().unwrap();
    let Some(app) = state.applications.get_mut(&id) else {
        return not_found();
    };
    match app["roles"].as_array_mut() {
        Some(roles) => roles.push(role.clone()),
        None => app["roles"] = json!([role]),
    }
    Json(json!({ "role": role })).into_response()
}

/// PATCH semantics: objects merge, everything else (lists included) is replaced.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

async fn get_user_by_email(
    State(instance): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let state = instance.lock().unwrap();
    match state
        .users
        .iter()
        .find(|u| u["email"] == query["email"].as_str())
    {
        Some(user) => Json(json!({ "user": user })).into_response(),
        None => not_found(),
    }
}

async fn search_users(State(instance): State<Shared>, uri: Uri) -> Json<Value> {
    assert!(
        uri.query().unwrap_or_default().contains("queryString="),
        "{uri}"
    );
    let users = instance.lock().unwrap().users.clone();
    Json(json!({ "total": users.len(), "users": users }))
}

async fn patch_user(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Json<Value>,
) -> Response {
    let mut state = instance.lock().unwrap();
    let Some(user) = state.users.iter_mut().find(|u| u["id"] == id.as_str()) else {
        return not_found();
    };
    merge(user, &body["user"]);
    Json(json!({ "user": user })).into_response()
}

async fn register_user(
    State(instance): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap();
    let application_id = body["registration"]["applicationId"].clone();
    assert!(
        application_id.is_string(),
        "registration.applicationId is required"
    );
    let mut state = instance.lock().unwrap();
    let Some(user) = state.users.iter_mut().find(|u| u["id"] == id.as_str()) else {
        return not_found();
    };
    user["registrations"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "applicationId": application_id }));
    Json(json!({ "registration": { "applicationId": application_id } })).into_response()
}

fn options(url: &str, env_file: PathBuf, dry_run: bool) -> SetupOptions {
    SetupOptions {
        fusionauth_url: url.parse().unwrap(),
        api_key: API_KEY.into(),
        dry_run,
        user_email: None,
        env_file,
        target: TargetConfiguration::default(),
    }
}

fn writes(instance: &Shared) -> Vec<Call> {
    instance
        .lock()
        .unwrap()
        .calls
        .iter()
        .filter(|c| c.method != Method::GET)
        .cloned()
        .collect()
}

fn temp_env_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "leptos-fusionauth-setup-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(".env");
    let _ = std::fs::remove_file(&file);
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_shows_the_whole_plan_and_changes_nothing() {
    let (url, instance) = fusionauth().await;
    let env_file = temp_env_file("dry");
    let reports = run_setup(&options(&url, env_file.clone(), true))
        .await
        .unwrap();
    let plan: Vec<String> = reports.iter().map(ToString::to_string).collect();
    assert_eq!(reports.len(), 8, "{plan:#?}");
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::WouldDo),
        "{plan:#?}"
    );
    assert!(plan[0].contains("set issuer to http://localhost:9011"));
    assert!(plan[1].contains("generate an RS256 2048-bit key"));
    assert!(plan[2].contains("import the webhook's HMAC signing key"));
    assert!(plan[3].contains("send signed events to http://localhost:5001/webhooks/fusionauth"));
    assert!(plan[4].contains("create"));
    assert!(plan[5].contains("set full name to \"Richard Hendricks\""));
    assert!(plan[6].contains("register"));
    assert!(plan[7].contains("write CLIENT_ID, CLIENT_SECRET, ISSUER, FUSIONAUTH_WEBHOOK_SECRET"));
    assert!(writes(&instance).is_empty(), "a dry run only reads");
    assert!(!env_file.exists(), "a dry run writes no file");
}

/// The requests of a first run on a fresh instance: each step's write, in order, with its body.
fn assert_first_run_writes(calls: &[Call], target: &TargetConfiguration) {
    let summary: Vec<(String, String)> = calls
        .iter()
        .map(|c| (c.method.to_string(), c.path.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("PATCH".into(), format!("/api/tenant/{TENANT_ID}")),
            (
                "POST".into(),
                format!("/api/key/generate/{}", target.key_id)
            ),
            ("POST".into(), format!("/api/key/import/{WEBHOOK_KEY_ID}")),
            ("POST".into(), format!("/api/webhook/{WEBHOOK_ID}")),
            (
                "POST".into(),
                format!("/api/application/{}", target.client_id)
            ),
            ("PATCH".into(), format!("/api/user/{USER_ID}")),
            ("POST".into(), format!("/api/user/registration/{USER_ID}")),
        ]
    );
    assert_eq!(calls[0].body, target.tenant_patch());
    assert_eq!(calls[0].body["tenant"]["issuer"], "http://localhost:9011");
    assert_eq!(
        calls[0].body["tenant"]["eventConfiguration"]["events"]["jwt.refresh-token.revoke"]
            ["enabled"],
        true
    );
    assert_eq!(calls[2].body, target.webhook_key_request());
    assert_eq!(calls[3].body, json!({ "webhook": target.webhook() }));
    assert_eq!(
        calls[3].body["webhook"]["signatureConfiguration"],
        json!({ "enabled": true, "signingKeyId": WEBHOOK_KEY_ID })
    );
    assert_eq!(
        calls[4].body,
        json!({ "application": target.application() })
    );
    assert_eq!(
        calls[4].tenant_header.as_deref(),
        Some(TENANT_ID),
        "the application goes to that tenant"
    );
    let app = &calls[4].body["application"];
    assert_eq!(app["oauthConfiguration"]["generateRefreshTokens"], true);
    assert_eq!(app["registrationConfiguration"]["enabled"], true);
    assert_eq!(
        calls[5].body,
        json!({ "user": { "fullName": "Richard Hendricks" } })
    );
    assert_eq!(
        calls[6].body,
        json!({ "registration": { "applicationId": target.client_id } })
    );
}

/// The settings file of a first run: the application's values and the webhook secret, mode 0600.
fn assert_settings_file_written(
    env_file: &std::path::Path,
    target: &TargetConfiguration,
) -> String {
    let env = std::fs::read_to_string(env_file).unwrap();
    assert!(
        env.contains(&format!("CLIENT_ID={}\n", target.client_id)),
        "{env}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env_file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            ".env holds the client secret: owner only"
        );
    }
    assert!(env.contains(&format!("CLIENT_SECRET={}\n", target.client_secret)));
    assert!(env.contains("ISSUER=http://localhost:9011\n"));
    assert!(env.contains(&format!(
        "FUSIONAUTH_WEBHOOK_SECRET={}\n",
        target.webhook_secret
    )));

    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_instance_is_configured_and_a_rerun_changes_nothing() {
    let (url, instance) = fusionauth().await;
    let env_file = temp_env_file("fresh");
    let target = TargetConfiguration::default();

    let first = run_setup(&options(&url, env_file.clone(), false))
        .await
        .unwrap();
    assert!(
        first.iter().all(|r| r.outcome == Outcome::Done),
        "{first:#?}"
    );

    let calls = writes(&instance);
    assert_first_run_writes(&calls, &target);
    let env = assert_settings_file_written(&env_file, &target);

    let second = run_setup(&options(&url, env_file.clone(), false))
        .await
        .unwrap();
    assert!(
        second.iter().all(|r| r.outcome == Outcome::AlreadyDone),
        "{second:#?}"
    );
    assert_eq!(
        writes(&instance).len(),
        calls.len(),
        "the re-run wrote nothing"
    );
    assert_eq!(std::fs::read_to_string(&env_file).unwrap(), env);
}

/// The body of the last write to `path` (the secret FusionAuth was given there).
fn last_body(instance: &Shared, path: &str) -> Value {
    writes(instance)
        .into_iter()
        .rev()
        .find(|call| call.path == path)
        .unwrap_or_else(|| panic!("no write to {path}"))
        .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_fails_half_way_leaves_both_sides_agreeing() {
    let (url, instance) = fusionauth().await;
    // A second user, and no --user-email: the run stops after the keys and the application.
    instance
        .lock()
        .unwrap()
        .users
        .push(json!({ "id": "u-2", "email": "jared@example.com" }));
    let env_file = temp_env_file("half-way");
    let mut first = options(&url, env_file.clone(), false);
    // What a run for a FusionAuth beyond this machine generates instead of the example values.
    first.target.webhook_secret = "generated-webhook-secret-0123456789abcdef".into();
    first.target.client_secret = "generated-client-secret-0123456789abcdef".into();
    let failed = run_setup(&first).await.unwrap_err();
    assert!(failed.to_string().contains("2 users"), "{failed}");

    let sent_webhook = last_body(&instance, &format!("/api/key/import/{WEBHOOK_KEY_ID}"));
    let application = format!("/api/application/{}", first.target.client_id);
    let sent_client = last_body(&instance, &application);
    let env = std::fs::read_to_string(&env_file).unwrap();
    let saved = |name: &str| {
        env.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    assert_eq!(
        saved("FUSIONAUTH_WEBHOOK_SECRET").as_deref(),
        sent_webhook["key"]["secret"].as_str(),
        "the webhook secret FusionAuth has is the one in the settings file"
    );
    assert_eq!(
        saved("CLIENT_SECRET").as_deref(),
        sent_client["application"]["oauthConfiguration"]["clientSecret"].as_str()
    );

    // The re-run reads the settings file, as `setup` does: the same secrets, nothing to redo.
    let env_values = |name: &str| match name {
        "FUSIONAUTH_API_KEY" => Some(API_KEY.to_owned()),
        "FUSIONAUTH_URL" => Some(url.clone()),
        other => saved(other),
    };
    let args = ["--user-email".to_owned(), "richard@example.com".to_owned()];
    let mut second = parse_options(&args, env_values).unwrap().unwrap();
    second.env_file = env_file.clone();
    let reports = run_setup(&second).await.unwrap();
    assert_eq!(second.target.webhook_secret, first.target.webhook_secret);
    let rewritten = writes(&instance)
        .iter()
        .filter(|call| call.path.starts_with("/api/key/import") || call.path == application)
        .count();
    assert_eq!(
        rewritten, 2,
        "the key and the application were not sent again: {reports:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_application_is_completed_not_replaced() {
    let (url, instance) = fusionauth().await;
    let target = TargetConfiguration::default();
    instance.lock().unwrap().applications.insert(
        target.client_id.clone(),
        json!({
            "id": target.client_id,
            "name": target.app_name,
            "oauthConfiguration": {
                "authorizedRedirectURLs": ["https://other.example/callback", "http://localhost:5001/callback"],
                "logoutURL": "http://localhost:5001/logout",
                "clientSecret": "the-secret-already-in-use",
                "enabledGrants": ["authorization_code"],
                "requireRegistration": true
            }
        }),
    );
    let env_file = temp_env_file("existing");
    run_setup(&options(&url, env_file.clone(), false))
        .await
        .unwrap();

    let app = instance.lock().unwrap().applications[&target.client_id].clone();
    let urls = app["oauthConfiguration"]["authorizedRedirectURLs"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        urls.contains(&json!("https://other.example/callback")),
        "a URL added by hand survives"
    );
    assert!(urls.contains(&json!("http://localhost:5001/logout")));
    assert_eq!(
        app["oauthConfiguration"]["enabledGrants"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(app["oauthConfiguration"]["generateRefreshTokens"], true);
    assert_eq!(
        app["oauthConfiguration"]["clientSecret"],
        "the-secret-already-in-use"
    );
    let env = std::fs::read_to_string(&env_file).unwrap();
    assert!(
        env.contains("CLIENT_SECRET=the-secret-already-in-use\n"),
        ".env gets the real secret"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_api_key_is_one_clear_error() {
    let (url, _instance) = fusionauth().await;
    let mut options = options(&url, temp_env_file("key"), false);
    options.api_key = "wrong".into();
    let error = run_setup(&options).await.unwrap_err();
    assert_eq!(error, SetupError::ApiKeyRejected);
    assert!(error.to_string().contains("rejected the API key (401)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_errors_name_the_field() {
    let (url, instance) = fusionauth().await;
    instance.lock().unwrap().fail_with = Some((
        StatusCode::BAD_REQUEST,
        json!({ "fieldErrors": { "tenant.issuer": [{ "code": "[blank]tenant.issuer", "message": "You must specify the [tenant.issuer] property." }] } }),
    ));
    let error = run_setup(&options(&url, temp_env_file("validation"), false))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "FusionAuth refused /api/tenant (400): tenant.issuer: You must specify the [tenant.issuer] property."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permission_is_reported() {
    let (url, instance) = fusionauth().await;
    instance.lock().unwrap().fail_with = Some((StatusCode::FORBIDDEN, json!({})));
    let error = run_setup(&options(&url, temp_env_file("forbidden"), false))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("lacks permission"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_fusionauth_is_one_clear_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let error = run_setup(&options(&url, temp_env_file("down"), false))
        .await
        .unwrap_err();
    assert!(matches!(error, SetupError::Unreachable { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("FusionAuth is unreachable at {url}")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_users_need_an_email() {
    let (url, instance) = fusionauth().await;
    instance
        .lock()
        .unwrap()
        .users
        .push(json!({ "id": "other", "email": "admin@example.com", "registrations": [] }));
    let error = run_setup(&options(&url, temp_env_file("many"), true))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("--user-email"), "{error}");

    let mut named = options(&url, temp_env_file("named"), true);
    named.user_email = Some("richard@example.com".into());
    let plan = run_setup(&named).await.unwrap();
    assert!(plan[5].message.contains("richard@example.com"));
}

/// Every write `setup` sends, on a fresh FusionAuth and on one whose application exists already:
/// the bodies `npm run check:fusionauth-types` (end2end/contract/) type-checks against FusionAuth's
/// official TypeScript client. The committed file must equal what `setup` sends today; run with
/// `UPDATE_CONTRACT=1` to rewrite it after changing a request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_type_contract_snapshot_is_what_setup_sends() {
    let (fresh_url, fresh) = fusionauth().await;
    run_setup(&options(&fresh_url, temp_env_file("contract-fresh"), false))
        .await
        .unwrap();
    let (existing_url, existing) = fusionauth().await;
    let target = TargetConfiguration::default();
    existing.lock().unwrap().applications.insert(
        target.client_id.clone(),
        json!({ "id": target.client_id, "name": target.app_name, "oauthConfiguration": {} }),
    );
    run_setup(&options(
        &existing_url,
        temp_env_file("contract-existing"),
        false,
    ))
    .await
    .unwrap();
    let mut requests: Vec<Value> = Vec::new();
    for call in writes(&fresh).into_iter().chain(writes(&existing)) {
        let request =
            json!({ "method": call.method.as_str(), "path": call.path, "body": call.body });
        if !requests.contains(&request) {
            requests.push(request);
        }
    }
    let rendered = serde_json::to_string_pretty(&requests).unwrap() + "\n";
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/end2end/contract/setup-requests.json"
    );
    if std::env::var_os("UPDATE_CONTRACT").is_some() {
        std::fs::write(file, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(file).unwrap_or_default();
    assert!(
        committed == rendered,
        "end2end/contract/setup-requests.json is not what setup sends: run \
         `UPDATE_CONTRACT=1 cargo test --features ssr --test setup_command` and commit it"
    );
}

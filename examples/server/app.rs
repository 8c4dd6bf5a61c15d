//! The demo service: state, routes and handlers over `keycard::http` (docs/http.md is the
//! contract). `examples/server.rs` parses the flags and serves this; the end-to-end tests build
//! the same router in-process when they need to move a clock.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRef, Path as UrlPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use keycard::clock::SharedClock;
use keycard::file_lock::FileLock;
use keycard::http::{
    Authenticated, DPOP_NONCE, KeycardHttp, MaintenanceHandle, Rejection, TokenSource,
    token_endpoint_error,
};
use keycard::refresh::SessionStore;
use keycard::{
    Algorithm, Error, Format, KeyRing, Keycard, LimitPolicy, NoCustomClaims, SessionId, TokenPair,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::{Config, StoreChoice};

#[path = "users.rs"]
mod users;
use users::Users;

/// Request bodies are JSON objects of a few short strings: 16 KiB is generous.
const BODY_LIMIT: usize = 16 * 1024;
/// How recent `auth_time` must be for `POST /sensitive`.
const SENSITIVE_MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// How often DPoP nonces rotate (`--dpop-nonce`); the previous one stays good.
const DPOP_NONCE_PERIOD: Duration = Duration::from_secs(5 * 60);
/// Verified access tokens remembered per node (about 1 KiB each).
const VERIFIED_CACHE: usize = 10_000;

/// What every handler of a full node reaches.
#[derive(Clone)]
pub struct AppState {
    http: KeycardHttp,
    keycard: Arc<Keycard>,
    users: Arc<Users>,
    /// The `iss` this node mints, and what discovery says.
    issuer: String,
}

impl FromRef<AppState> for KeycardHttp {
    fn from_ref(state: &AppState) -> KeycardHttp {
        state.http.clone()
    }
}

/// A built service: its router and its background task.
pub struct App {
    /// The routes.
    pub router: Router,
    /// Maintenance (revocation pruning, expired sessions, key-file reloads); stops when dropped.
    pub maintenance: MaintenanceHandle,
}

/// The key set from `path` (created with an EdDSA key, v4 keys and a refresh-token key if the
/// file is absent; given the keys this configuration needs if it lacks them), under the file's
/// lock, so that two nodes starting together agree on one key set.
fn key_file(path: &Path, format: Format) -> Result<KeyRing, String> {
    let fail = |e: Error| format!("key set {}: {e}", path.display());
    let _lock = FileLock::exclusive(path, Duration::from_secs(10)).map_err(fail)?;
    let (ring, mut changed) = if path.exists() {
        (KeyRing::load(path).map_err(fail)?, false)
    } else {
        (KeyRing::new(), true)
    };
    for (f, alg) in [
        (Format::Jwt, Algorithm::EdDSA),
        (Format::V4Public, Algorithm::V4Public),
        (Format::V4Local, Algorithm::V4Local),
    ] {
        if ring.active(f).is_none() && (changed || f == format) {
            ring.rotate(alg).map_err(fail)?;
            changed = true;
        }
    }
    if ring.active_refresh().is_none() {
        ring.rotate_refresh_key().map_err(fail)?;
        changed = true;
    }
    if changed {
        ring.save(path).map_err(fail)?;
    }
    Ok(ring)
}

/// The session store the flags name.
async fn store(cfg: &Config, keys: &Arc<KeyRing>) -> Result<Option<Arc<dyn SessionStore>>, String> {
    match &cfg.store {
        StoreChoice::Memory => match &cfg.revocations {
            // Revocations that survive a restart (snapshot + journal, locked by this process).
            Some(path) => {
                let store = keycard::stores::MemoryStore::open(path)
                    .map_err(|e| format!("revocations {}: {e}", path.display()))?;
                Ok(Some(Arc::new(store)))
            }
            None => Ok(None),
        },
        #[cfg(feature = "redis")]
        StoreChoice::Redis(url) => {
            let opts = keycard::stores::RedisOptions::new();
            let store = keycard::stores::RedisStore::connect_async(url, keys.clone(), opts)
                .await
                .map_err(|e| format!("redis store: {e}"))?;
            Ok(Some(Arc::new(store)))
        }
        #[cfg(not(feature = "redis"))]
        StoreChoice::Redis(_) => {
            let _ = keys;
            Err("this build has no Redis store: run with --features axum,redis".into())
        }
    }
}

/// Builds the service that `base` (`http://127.0.0.1:PORT`) will serve: a full node, or a
/// verify-only node with `--verify-only`. `clock` replaces the system clock (tests).
pub async fn build(cfg: &Config, base: &str, clock: Option<SharedClock>) -> Result<App, String> {
    if cfg.verify_only {
        return verify_only(cfg, base).await;
    }
    full_node(cfg, base, clock).await
}

/// Where a full node's status lists live (the list's name follows: `/statuslists/ID`).
const STATUS_PATH: &str = "/statuslists";

async fn full_node(cfg: &Config, base: &str, clock: Option<SharedClock>) -> Result<App, String> {
    let issuer = cfg.issuer.clone().unwrap_or_else(|| base.to_owned());
    let mut ring = match &cfg.keys {
        Some(path) => key_file(path, cfg.format)?,
        None => {
            let ring = KeyRing::new();
            for alg in [Algorithm::EdDSA, Algorithm::V4Public, Algorithm::V4Local] {
                ring.rotate(alg).map_err(|e| e.to_string())?;
            }
            ring
        }
    };
    // Old keys verify for as long as the longest token they may have signed lives.
    ring = ring.with_grace(cfg.idle_ttl.max(cfg.access_ttl));
    if let Some(clock) = &clock {
        ring = ring.with_clock(clock.clone());
    }
    let keys = Arc::new(ring);
    let mut builder = Keycard::builder(keys.clone())
        .access_format(cfg.format)
        .access_ttl(cfg.access_ttl)
        .idle_timeout(cfg.idle_ttl)
        .absolute_timeout(cfg.absolute_ttl)
        .reuse_grace(cfg.grace)
        .verified_cache(VERIFIED_CACHE)
        // Nodes sharing a key set are one service: each mints its own URL (or --issuer) and
        // accepts the others'.
        .mint_issuer(issuer.clone())
        .status_list(format!("{issuer}{STATUS_PATH}"))
        .status_list_ttl(cfg.status_ttl)
        .dpop(cfg.dpop);
    if cfg.dpop_nonce {
        builder = builder.dpop_nonces(DPOP_NONCE_PERIOD);
    }
    if let Some(max) = cfg.max_sessions {
        builder = builder.session_limit(max, LimitPolicy::Reject);
    }
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    if let Some(store) = store(cfg, &keys).await? {
        builder = builder.store(store);
    }
    let keycard = Arc::new(builder.build().map_err(|e| e.to_string())?);
    let http = KeycardHttp::new(keycard.clone())
        .with_public_origin(cfg.public_url.as_deref().unwrap_or(base))
        .map_err(|e| e.to_string())?;
    let mut maintenance = http.maintenance().every(Duration::from_secs(5));
    if let Some(path) = &cfg.keys {
        maintenance = maintenance.reload_keys_from(path);
    }
    let state = AppState {
        http,
        keycard,
        users: Arc::new(Users::demo()),
        issuer,
    };
    Ok(App {
        router: router(state)?,
        maintenance: maintenance.spawn(),
    })
}

fn router(state: AppState) -> Result<Router, String> {
    // The list's own path: `/statuslists/ID`, ID the store's list name.
    let list = state
        .keycard
        .status_list_uri()
        .and_then(|uri| uri.strip_prefix(state.issuer.as_str()))
        .ok_or("the status list URI is not under the issuer")?
        .to_owned();
    Ok(Router::new()
        .route("/", get(page))
        .route("/app.js", get(script))
        .route("/login", post(login))
        .route("/me", get(me))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/logout-all", post(logout_all))
        .route("/sessions", get(sessions))
        .route("/sessions/{sid}", delete(delete_session))
        .route("/reauth", post(reauth))
        .route("/sensitive", post(sensitive))
        .route("/.well-known/jwks.json", get(KeycardHttp::jwks))
        .route("/.well-known/openid-configuration", get(discovery))
        .route(&list, get(KeycardHttp::status_list))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found") })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state))
}

/// Headers every response carries.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    r
}

/// A JSON error `{"error": kind}`.
fn error(status: StatusCode, kind: &'static str) -> Response {
    (status, Json(json!({ "error": kind }))).into_response()
}

/// The body as `T`: 413 past the limit, 400 when it is not the JSON expected (never 500).
async fn read_json<T: DeserializeOwned>(body: Body) -> Result<T, Response> {
    let bytes: Bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"))?;
    serde_json::from_slice(&bytes).map_err(|_| error(StatusCode::BAD_REQUEST, "malformed_request"))
}

fn is_json(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// `bearer` (the default) or `cookie`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Bearer,
    Cookie,
}

/// The answer to a login, refresh or step-up: tokens in the body (bearer) or in cookies with
/// the CSRF token in the body (cookie).
/// A DPoP-bound pair says `"token_type": "DPoP"`; with server nonces on, every answer carries
/// the current one.
fn issued(app: &AppState, pair: &TokenPair, mode: Mode) -> Response {
    let expires_in = pair.expires_in(app.keycard.now());
    let mut r = match mode {
        Mode::Bearer => Json(json!({
            "access_token": pair.access.as_str(),
            "refresh_token": pair.refresh.as_str(),
            "token_type": pair.token_type(),
            "expires_in": expires_in,
        }))
        .into_response(),
        Mode::Cookie => match app.http.login_cookies(pair) {
            Ok((cookies, csrf)) => (
                cookies,
                Json(json!({ "csrf_token": csrf, "expires_in": expires_in })),
            )
                .into_response(),
            Err(e) => e.into_response(),
        },
    };
    with_nonce(app, &mut r);
    r
}

/// Adds the current DPoP nonce, when nonces are on.
fn with_nonce(app: &AppState, r: &mut Response) {
    if let Some(v) = app
        .keycard
        .dpop_nonce()
        .and_then(|n| HeaderValue::from_str(&n).ok())
    {
        r.headers_mut().insert(DPOP_NONCE, v);
    }
}

/// Checks a password off the async runtime (Argon2 is tens of milliseconds of CPU).
async fn password_ok(app: &AppState, user: &str, password: &str) -> bool {
    let (users, user, password) = (app.users.clone(), user.to_owned(), password.to_owned());
    tokio::task::spawn_blocking(move || users.check(&user, &password))
        .await
        .unwrap_or(false)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
    #[serde(default)]
    mode: Mode,
    device: Option<String>,
}

async fn login(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: LoginBody = match read_json(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    // A browser sends `application/json` cross-site only after a CORS preflight this service
    // never approves: a login form on another site cannot log a victim into its account.
    if body.mode == Mode::Cookie && !is_json(&parts) {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    // The proof first: it is cheap, and a client missing the nonce retries before any password
    // hashing. Cookie sessions are never bound (the browser page holds no DPoP key).
    let jkt = match body.mode {
        Mode::Bearer => match app.http.dpop_binding(&parts).await {
            Ok(jkt) => jkt,
            Err(e) => return token_endpoint_error(e),
        },
        Mode::Cookie => None,
    };
    if !password_ok(&app, &body.username, &body.password).await {
        // The same answer for an unknown user and a wrong password.
        return error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let mut context = app.http.client_context(&parts);
    if let Some(device) = &body.device {
        context = context.with_device(device);
    }
    match app
        .keycard
        .login_dpop_async(&body.username, &NoCustomClaims {}, Some(&context), jkt)
        .await
    {
        Ok(pair) => issued(&app, &pair, body.mode),
        Err(e) => token_endpoint_error(e),
    }
}

async fn me(user: Authenticated) -> Response {
    let c = user.claims();
    Json(json!({
        "sub": c.subject(),
        "sid": c.session_id().map(SessionId::as_str),
        "exp": c.expires_at().as_unix(),
        "auth_time": c.auth_time().map(|t| t.as_unix()),
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(State(app): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let has_body = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || parts.headers.contains_key(header::TRANSFER_ENCODING);
    if has_body {
        let body: RefreshBody = match read_json(body).await {
            Ok(b) => b,
            Err(r) => return r,
        };
        let context = app.http.client_context(&parts);
        let jkt = match app.http.dpop_binding(&parts).await {
            Ok(jkt) => jkt,
            Err(e) => return token_endpoint_error(e),
        };
        return match app
            .keycard
            .refresh_dpop_async(&body.refresh_token, Some(&context), jkt.as_deref())
            .await
        {
            Ok(pair) => issued(&app, &pair, Mode::Bearer),
            Err(e) => token_endpoint_error(e),
        };
    }
    match app.http.refresh_with_cookie(&parts).await {
        Ok(pair) => issued(&app, &pair, Mode::Cookie),
        // A refused refresh token ends the browser's session: clear its cookies.
        Err(Rejection::Token(e)) => (app.http.clear_cookies(), e).into_response(),
        Err(other) => other.into_response(),
    }
}

/// 204, clearing the cookies of a cookie-mode client.
fn no_content(app: &AppState, source: TokenSource) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    if source == TokenSource::Cookie {
        r.headers_mut().extend(app.http.clear_cookies());
    }
    r
}

async fn logout(State(app): State<AppState>, user: Authenticated) -> Response {
    match app.keycard.logout_async(user.verified()).await {
        Ok(()) => no_content(&app, user.source()),
        Err(e) => e.into_response(),
    }
}

async fn logout_all(State(app): State<AppState>, user: Authenticated) -> Response {
    match app.keycard.logout_all_async(user.subject()).await {
        Ok(_) => no_content(&app, user.source()),
        Err(e) => e.into_response(),
    }
}

async fn sessions(State(app): State<AppState>, user: Authenticated) -> Response {
    let list = match app.keycard.sessions_async(user.subject()).await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let body: Vec<_> = list
        .iter()
        .map(|s| {
            json!({
                "sid": s.sid.as_str(),
                "created": s.created.as_unix(),
                "last_refresh": s.last_refresh.as_unix(),
                "device": s.device,
                "current": Some(&s.sid) == user.session_id(),
            })
        })
        .collect();
    Json(body).into_response()
}

async fn delete_session(
    State(app): State<AppState>,
    user: Authenticated,
    sid: Result<UrlPath<String>, PathRejection>,
) -> Response {
    // Not even text (bad percent-encoding, not UTF-8): no session of anyone's.
    let Some(sid) = sid.ok().and_then(|UrlPath(s)| SessionId::new(&s)) else {
        return error(StatusCode::NOT_FOUND, "unknown_session");
    };
    match app.keycard.logout_session_async(user.subject(), &sid).await {
        Ok(()) if Some(&sid) == user.session_id() => no_content(&app, user.source()),
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        // Another user's session and no session at all look the same.
        Err(Error::UnknownSession) => error(StatusCode::NOT_FOUND, "unknown_session"),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReauthBody {
    password: String,
}

async fn reauth(State(app): State<AppState>, user: Authenticated, body: Body) -> Response {
    let body: ReauthBody = match read_json(body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if !password_ok(&app, user.subject(), &body.password).await {
        return error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let mode = match user.source() {
        TokenSource::Cookie => Mode::Cookie,
        _ => Mode::Bearer,
    };
    match app.keycard.step_up_async(user.verified()).await {
        Ok(pair) => issued(&app, &pair, mode),
        Err(e) => e.into_response(),
    }
}

async fn sensitive(State(app): State<AppState>, user: Authenticated) -> Response {
    match app
        .keycard
        .require_recent_auth(user.verified(), SENSITIVE_MAX_AGE)
    {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => e.into_response(),
    }
}

/// OpenID Connect discovery, as much of it as a verifier needs: the issuer and its JWK Set.
async fn discovery(State(app): State<AppState>) -> Response {
    Json(json!({
        "issuer": app.issuer,
        "jwks_uri": format!("{}/.well-known/jwks.json", app.issuer),
    }))
    .into_response()
}

/// A verify-only node: no key, no store. Keys come from the issuer's discovery document and
/// JWK Set; logouts from its status list.
#[cfg(feature = "jwks-remote")]
async fn verify_only(cfg: &Config, origin: &str) -> Result<App, String> {
    use keycard::Verifier;
    use keycard::dpop::{DpopPolicy, ProofChecker};
    use keycard::keys::{RemoteJwks, RemoteJwksOptions};
    use keycard::status::{StatusListClient, StatusListOptions};
    use keycard::stores::LocalProofLog;

    let issuer = cfg.issuer.clone().unwrap_or_default();
    let mut opts = RemoteJwksOptions::default().cooldown(cfg.jwks_cooldown);
    let mut lists = StatusListOptions::new(format!("{issuer}/"))
        .cooldown(cfg.jwks_cooldown)
        .max_staleness(cfg.max_staleness);
    if cfg.allow_http {
        opts = opts.allow_http();
        lists = lists.allow_http();
    }
    let jwks = RemoteJwks::discover(&issuer, opts)
        .await
        .map_err(|e| format!("issuer {issuer}: {e}"))?;
    let base = Verifier::with_remote_keys(Arc::new(jwks))
        .with_issuer(issuer)
        .with_cache(VERIFIED_CACHE);
    let status = StatusListClient::new(base.clone(), lists).map_err(|e| e.to_string())?;
    let mut http = KeycardHttp::verify_only(base.with_revocations(Arc::new(status)))
        .with_public_origin(cfg.public_url.as_deref().unwrap_or(origin))
        .map_err(|e| e.to_string())?;
    if cfg.dpop != DpopPolicy::Off {
        // One process: a proof is used once here (server nonces need the issuer's key, so a
        // verify-only node asks for none).
        let log = LocalProofLog::new(Arc::new(keycard::SystemClock));
        http = http.with_dpop(ProofChecker::default(), Arc::new(log));
    }
    let maintenance = http.maintenance().spawn();
    let router = Router::new()
        .route("/me", get(me))
        .route("/healthz", get(healthz))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found") })
        .layer(axum::middleware::map_response(security_headers))
        .with_state(http);
    Ok(App {
        router,
        maintenance,
    })
}

#[cfg(not(feature = "jwks-remote"))]
async fn verify_only(_: &Config, _: &str) -> Result<App, String> {
    Err(
        "verify-only mode fetches keys and status lists: run with --features axum,jwks-remote"
            .into(),
    )
}

/// 200 when the issuer's keys are loaded.
#[cfg(feature = "jwks-remote")]
async fn healthz(State(http): State<KeycardHttp>) -> Response {
    if http.verifier().keys().statuses().is_empty() {
        error(StatusCode::SERVICE_UNAVAILABLE, "no_keys")
    } else {
        Json(json!({ "ok": true })).into_response()
    }
}

async fn page() -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
        ),
    );
    (headers, include_str!("page.html")).into_response()
}

async fn script() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        include_str!("app.js"),
    )
        .into_response()
}

/// Serves `router` on `listener`, with each connection's peer address available to the handlers
/// (for the sessions' client context). Returns only on an error of the listener.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

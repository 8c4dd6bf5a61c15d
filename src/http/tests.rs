//! The extractor's forms, the layer, the rejections and the helpers, through a router called
//! in-process (the demo's end-to-end tests in `e2e/` cover the same over real HTTP).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use tower::{Layer, Service};

use super::*;
use crate::claims::NoCustomClaims;
use crate::clock::{Clock, ManualClock, Timestamp};
use crate::keys::Algorithm;
use crate::revocation::RevocationList;
use crate::stores::MemoryStore;

fn http() -> (KeycardHttp, ManualClock) {
    let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000).unwrap());
    let keys = Arc::new(KeyRing::new().with_clock(Arc::new(clock.clone())));
    keys.rotate(Algorithm::EdDSA).unwrap();
    let kc = Keycard::builder(keys).build().unwrap();
    (KeycardHttp::new(Arc::new(kc)), clock)
}

async fn call(app: &Router, req: Request) -> (StatusCode, Response) {
    let r = app.clone().call(req).await.unwrap();
    (r.status(), r)
}

fn get_with(path: &str, auth: Option<&str>) -> Request {
    let mut b = Request::builder().uri(path);
    if let Some(a) = auth {
        b = b.header(header::AUTHORIZATION, a);
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_three_forms_of_the_extractor() {
    let (http, _) = http();
    let app = Router::new()
        .route(
            "/plain",
            get(|u: Authenticated| async move { u.subject().to_owned() }),
        )
        .route(
            "/option",
            get(|u: Option<Authenticated>| async move {
                u.map_or("anonymous".to_owned(), |u| u.subject().to_owned())
            }),
        )
        .route(
            "/result",
            get(|u: Result<Authenticated, Rejection>| async move {
                match u {
                    Ok(u) => u.subject().to_owned(),
                    Err(r) => format!("refused: {}", r.kind()),
                }
            }),
        )
        .with_state(http.clone());
    let pair = http
        .keycard()
        .unwrap()
        .login("alice", &NoCustomClaims {}, None)
        .unwrap();
    let bearer = format!("Bearer {}", pair.access.as_str());

    assert_eq!(
        call(&app, get_with("/plain", Some(&bearer))).await.0,
        StatusCode::OK
    );
    let (status, r) = call(&app, get_with("/plain", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()[header::WWW_AUTHENTICATE],
        r#"Bearer realm="api""#
    );

    // Option: None without credentials, but a bad token is still refused.
    let body = |r: Response| async move {
        let b = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    };
    let (_, r) = call(&app, get_with("/option", None)).await;
    assert_eq!(body(r).await, "anonymous");
    let (_, r) = call(&app, get_with("/option", Some(&bearer))).await;
    assert_eq!(body(r).await, "alice");
    let (status, _) = call(&app, get_with("/option", Some("Bearer nope"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Result: every case reaches the handler.
    let (_, r) = call(&app, get_with("/result", Some("Bearer nope"))).await;
    assert_eq!(body(r).await, "refused: malformed");
    let (_, r) = call(&app, get_with("/result", None)).await;
    assert_eq!(body(r).await, "refused: missing_token");
}

#[tokio::test]
async fn the_layer_authenticates_every_route_once() {
    let (http, _) = http();
    let app = Router::new()
        .route(
            "/a",
            get(|u: axum::Extension<Authenticated>| async move { u.0.subject().to_owned() }),
        )
        .route(
            "/b",
            post(|u: Authenticated| async move { u.subject().to_owned() }),
        )
        .route_layer(RequireAuth::<NoCustomClaims>::new(http.clone()))
        .with_state(http.clone());
    let pair = http
        .keycard()
        .unwrap()
        .login("bob", &NoCustomClaims {}, None)
        .unwrap();
    let bearer = format!("Bearer {}", pair.access.as_str());
    assert_eq!(
        call(&app, get_with("/a", Some(&bearer))).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(&app, get_with("/a", None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let post_b = Request::post("/b")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&app, post_b).await.0, StatusCode::OK);
    // Revoked: the layer refuses it.
    let v = http
        .keycard()
        .unwrap()
        .verify::<NoCustomClaims>(pair.access.as_str())
        .unwrap();
    http.keycard().unwrap().logout(&v).unwrap();
    let (status, r) = call(&app, get_with("/a", Some(&bearer))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // The layer is a plain tower layer too.
    let _svc =
        RequireAuth::<NoCustomClaims>::new(http).layer(tower::service_fn(|_: Request| async {
            Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
        }));
}

#[tokio::test]
async fn csrf_guards_cookie_requests_on_unsafe_methods_only() {
    let (http, _) = http();
    let app = Router::new()
        .route(
            "/x",
            get(|u: Authenticated| async move { format!("{:?}", u.source()) })
                .post(|u: Authenticated| async move { format!("{:?}", u.source()) })
                .put(|u: Authenticated| async move { format!("{:?}", u.source()) }),
        )
        .with_state(http.clone());
    let pair = http
        .keycard()
        .unwrap()
        .login("alice", &NoCustomClaims {}, None)
        .unwrap();
    let (_, csrf) = http.login_cookies(&pair).unwrap();
    let cookie = format!("a=b; {ACCESS_COOKIE}={}; c=d", pair.access.as_str());
    let req = |method: &str, token: Option<&str>| {
        let mut b = Request::builder()
            .method(method)
            .uri("/x")
            .header(header::COOKIE, &cookie);
        if let Some(t) = token {
            b = b.header(CSRF_HEADER, t);
        }
        b.body(Body::empty()).unwrap()
    };
    assert_eq!(call(&app, req("GET", None)).await.0, StatusCode::OK);
    for m in ["POST", "PUT"] {
        assert_eq!(call(&app, req(m, None)).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            call(&app, req(m, Some("AAAA"))).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(call(&app, req(m, Some(&csrf))).await.0, StatusCode::OK);
    }
    // The CSRF token survives a rotation of the refresh-token key (pages already loaded).
    http.keycard()
        .unwrap()
        .issuer()
        .keys()
        .rotate_refresh_key()
        .unwrap();
    assert_eq!(call(&app, req("POST", Some(&csrf))).await.0, StatusCode::OK);
    assert_ne!(http.csrf_token(&pair.session).unwrap(), csrf);
}

#[tokio::test]
async fn errors_map_to_statuses_in_one_place() {
    let (http, clock) = http();
    let app = Router::new()
        .route(
            "/me",
            get(|u: Authenticated| async move { u.subject().to_owned() }),
        )
        .with_state(http.clone());
    let pair = http
        .keycard()
        .unwrap()
        .login("alice", &NoCustomClaims {}, None)
        .unwrap();
    let bearer = format!("Bearer {}", pair.access.as_str());
    clock.advance(Duration::from_secs(3600));
    let (status, r) = call(&app, get_with("/me", Some(&bearer))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
    let b = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    // The kind, and nothing else: no instants, no key ids.
    assert_eq!(&b[..], br#"{"error":"expired"}"#);

    let unavailable = Error::RevocationUnavailable { stale_for_secs: 90 }.into_response();
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(unavailable.headers()[header::RETRY_AFTER], "1");
    let step_up = Error::ReauthRequired.into_response();
    assert!(
        step_up.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains(r#"error="insufficient_user_authentication""#)
    );
}

#[tokio::test]
async fn debug_output_never_shows_a_token() {
    let (http, _) = http();
    let pair = http
        .keycard()
        .unwrap()
        .login("alice", &NoCustomClaims {}, None)
        .unwrap();
    let mut parts = get_with("/", Some(&format!("Bearer {}", pair.access.as_str())))
        .into_parts()
        .0;
    let user: Authenticated =
        <Authenticated as axum::extract::FromRequestParts<KeycardHttp>>::from_request_parts(
            &mut parts, &http,
        )
        .await
        .unwrap();
    let shown = format!("{user:?} {:?} {http:?}", user.clone().into_verified());
    assert!(!shown.contains(pair.access.as_str()), "{shown}");
    assert!(shown.contains("alice"));
    assert_eq!(user.token(), pair.access.as_str());
}

#[test]
fn client_context_trusts_no_forwarding_header_by_default() {
    let (http, _) = http();
    let mut req = Request::builder()
        .uri("/")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-real-ip", "198.51.100.7")
        .header(header::USER_AGENT, "curl/8")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 4000))));
    let (parts, _) = req.into_parts();
    let ctx = http.client_context(&parts);
    assert_eq!(ctx.ip, Some([192, 0, 2, 1].into()));
    assert_eq!(ctx.user_agent.as_deref(), Some("curl/8"));

    let proxied = http.clone().trust_proxy_header("x-real-ip").unwrap();
    assert_eq!(
        proxied.client_context(&parts).ip,
        Some([198, 51, 100, 7].into())
    );
    // For X-Forwarded-For, the last entry: the one the trusted proxy appended.
    let mut parts = parts;
    parts.headers.insert(
        "x-forwarded-for",
        HeaderValue::from_static("6.6.6.6, 203.0.113.9"),
    );
    let xff = http.trust_proxy_header("x-forwarded-for").unwrap();
    assert_eq!(xff.client_context(&parts).ip, Some([203, 0, 113, 9].into()));
    assert!(
        KeycardHttp::new(xff.keycard().unwrap().clone())
            .trust_proxy_header("bad header")
            .is_err()
    );
}

#[tokio::test]
async fn maintenance_runs_and_stops() {
    let clock = ManualClock::new(Timestamp::from_unix(1_800_000_000).unwrap());
    let keys = Arc::new(KeyRing::new().with_clock(Arc::new(clock.clone())));
    keys.rotate(Algorithm::EdDSA).unwrap();
    let list = Arc::new(RevocationList::new().with_clock(Arc::new(clock.clone())));
    let store = Arc::new(MemoryStore::with_revocations(list.clone()));
    let kc = Arc::new(Keycard::builder(keys).store(store).build().unwrap());
    let http = KeycardHttp::new(kc.clone());
    // Pruning is amortized (it rebuilds once enough entries expired): make plenty.
    let until = clock.now().saturating_add(Duration::from_secs(60));
    for _ in 0..2000 {
        list.revoke_token(&crate::claims::TokenId::random(), until)
            .unwrap();
    }
    assert_eq!(list.len(), 2000);
    // Long after they expired, the task prunes them.
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    let handle = http.maintenance().every(Duration::from_millis(10)).spawn();
    let mut pruned = false;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if list.is_empty() {
            pruned = true;
            break;
        }
    }
    handle.stop().await;
    assert!(pruned, "maintenance pruned the expired revocation");
    // Stopped: expired entries stay.
    let until = clock.now().saturating_add(Duration::from_secs(60));
    for _ in 0..2000 {
        list.revoke_token(&crate::claims::TokenId::random(), until)
            .unwrap();
    }
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(list.len(), 2000);
}

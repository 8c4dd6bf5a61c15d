//! `RemoteJwks` against a local HTTP server (feature `jwks-remote`): discovery, a rotating JWK
//! Set, the cooldown and the single flight, a stalled server, oversized bodies, a 500, a
//! redirect, a set whose `issuer` does not match; the last good set survives every failure.

#[path = "common/http_server.rs"]
mod http_server;
#[path = "common/idp.rs"]
mod idp;

use std::sync::Arc;
use std::time::Duration;

use http_server::{Reply, Server};
use keycard::keys::{RemoteJwks, RemoteJwksOptions};
use keycard::{ManualClock, NoCustomClaims, Timestamp, Verifier};
use serde_json::json;

fn rsa_only() -> String {
    json!({ "keys": [idp::vectors()["jwks"]["keys"][0]] }).to_string()
}

fn ec_only() -> String {
    json!({ "keys": [idp::vectors()["jwks"]["keys"][2]] }).to_string()
}

fn opts() -> RemoteJwksOptions {
    RemoteJwksOptions::default()
        .clock(Arc::new(now()))
        .allow_http()
        .timeout(Duration::from_millis(500))
        .cooldown(Duration::from_millis(300))
}

/// The vectors' "now".
fn now() -> ManualClock {
    ManualClock::new(Timestamp::from_unix(1_800_000_010).unwrap())
}

/// A verifier over `jwks` (its ring's clock is the vectors' "now").
fn verifier(jwks: Arc<RemoteJwks>) -> Verifier {
    Verifier::with_remote_keys(jwks)
        .with_issuer("https://idp.example")
        .with_audience("api")
}

async fn check(v: &Verifier, token: &str) -> Result<(), &'static str> {
    v.verify_access_async::<NoCustomClaims>(token)
        .await
        .map(|_| ())
        .map_err(|e| e.kind())
}

fn discovery(server: &Server, issuer: &str) {
    server.route(
        "/.well-known/openid-configuration",
        Reply::json(json!({ "issuer": issuer, "jwks_uri": server.url("/jwks") }).to_string()),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_then_verify() {
    let s = Server::start();
    discovery(&s, &s.base);
    s.route(
        "/jwks",
        Reply::json(idp::jwks()).with_type("application/jwk-set+json"),
    );
    let jwks = Arc::new(RemoteJwks::discover(&s.base, opts()).await.unwrap());
    assert_eq!(jwks.issuer(), Some(s.base.as_str()));
    let v = verifier(jwks);
    for name in [
        "rs256_jwt_typ",
        "ps256_at_jwt",
        "es384_jwt_typ",
        "rs256_no_typ",
    ] {
        assert_eq!(check(&v, &idp::token(name)).await, Ok(()), "{name}");
    }
    assert_eq!(s.hits("/jwks"), 1, "verifications use the cached set");
    // A trailing slash on the configured issuer: the same document, but its issuer differs.
    let err = RemoteJwks::discover(&format!("{}/", s.base), opts())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "jwks_unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_refuses_what_it_must() {
    let s = Server::start();
    s.route("/jwks", Reply::json(idp::jwks()));
    // Another issuer in the document.
    discovery(&s, "https://evil.example");
    let err = RemoteJwks::discover(&s.base, opts()).await.unwrap_err();
    assert_eq!(err.kind(), "jwks_unavailable");
    assert!(err.to_string().contains("evil.example"), "{err}");
    // Plain http without permission, for the issuer and for the set.
    let strict = RemoteJwksOptions::default();
    assert_eq!(
        RemoteJwks::discover(&s.base, strict.clone())
            .await
            .unwrap_err()
            .kind(),
        "jwks_unavailable"
    );
    assert_eq!(
        RemoteJwks::connect(&s.url("/jwks"), strict.clone())
            .await
            .unwrap_err()
            .kind(),
        "jwks_unavailable"
    );
    assert_eq!(
        RemoteJwks::connect("file:///etc/passwd", strict)
            .await
            .unwrap_err()
            .kind(),
        "jwks_unavailable"
    );
    // No jwks_uri; not JSON; a redirect (never followed).
    s.route(
        "/.well-known/openid-configuration",
        Reply::json(json!({ "issuer": s.base }).to_string()),
    );
    assert!(RemoteJwks::discover(&s.base, opts()).await.is_err());
    s.route("/.well-known/openid-configuration", Reply::json("<html>"));
    assert!(RemoteJwks::discover(&s.base, opts()).await.is_err());
    s.route(
        "/moved",
        Reply::status(302).with_header("Location", &s.url("/jwks")),
    );
    assert_eq!(
        RemoteJwks::connect(&s.url("/moved"), opts())
            .await
            .unwrap_err()
            .kind(),
        "jwks_unavailable"
    );
    assert_eq!(s.hits("/jwks"), 0, "nothing followed the redirect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_is_picked_up_after_the_cooldown_and_the_old_key_kept() {
    let s = Server::start();
    s.route("/jwks", Reply::json(ec_only()));
    let jwks = Arc::new(RemoteJwks::connect(&s.url("/jwks"), opts()).await.unwrap());
    let v = verifier(jwks.clone());
    let es = idp::token("es384_jwt_typ");
    let rs = idp::token("rs256_jwt_typ");
    assert_eq!(check(&v, &es).await, Ok(()));
    // The issuer adds its RSA key: within the cooldown of the first fetch, no refetch.
    s.route("/jwks", Reply::json(idp::jwks()));
    assert_eq!(check(&v, &rs).await, Err("unknown_key"));
    assert_eq!(s.hits("/jwks"), 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(check(&v, &rs).await, Ok(()), "picked up after the cooldown");
    assert_eq!(s.hits("/jwks"), 2);
    // A flood of made-up kids costs at most one fetch per cooldown.
    for i in 0..50 {
        let mut h = idp::header("RS256");
        h["kid"] = json!(format!("made-up-{i}"));
        assert_eq!(
            check(&v, &idp::sign("RS256", &h, &idp::claims())).await,
            Err("unknown_key")
        );
    }
    assert!(s.hits("/jwks") <= 3, "{} fetches", s.hits("/jwks"));
    // The issuer drops the EC key: it keeps verifying (grace), as does RSA.
    s.route("/jwks", Reply::json(rsa_only()));
    jwks.fetch().await.unwrap();
    assert_eq!(check(&v, &es).await, Ok(()), "kept through the grace");
    assert_eq!(check(&v, &rs).await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_verifications_with_an_unknown_kid_cause_one_fetch() {
    let s = Server::start();
    s.route("/jwks", Reply::json(ec_only()));
    let jwks = Arc::new(RemoteJwks::connect(&s.url("/jwks"), opts()).await.unwrap());
    let v = Arc::new(verifier(jwks));
    tokio::time::sleep(Duration::from_millis(350)).await;
    // The new set comes slowly, so all 1,000 arrive while the fetch is under way.
    s.route(
        "/jwks",
        Reply::json(idp::jwks()).with_delay(Duration::from_millis(200)),
    );
    let rs = Arc::new(idp::token("rs256_jwt_typ"));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (v, rs) = (v.clone(), rs.clone());
            tokio::spawn(async move { check(&v, &rs).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(()));
    }
    assert_eq!(s.hits("/jwks"), 2, "one fetch at start, one for all 1,000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_keep_the_last_good_set() {
    let s = Server::start();
    s.route("/jwks", Reply::json(idp::jwks()));
    let quick = opts().max_age(Duration::from_millis(100));
    let jwks = Arc::new(RemoteJwks::connect(&s.url("/jwks"), quick).await.unwrap());
    let v = verifier(jwks.clone());
    let rs = idp::token("rs256_jwt_typ");
    let big = vec![b' '; 2 << 20];
    let failures = [
        ("500", Reply::status(500)),
        ("stalled", Reply::stalled()),
        ("oversized", Reply::json(big.clone())),
        ("oversized, chunked", Reply::json(big).chunked()),
        ("not JSON", Reply::json("{\"keys\": [")),
        ("a malformed RSA key", Reply::json(json!({"keys": [{"kty": "RSA", "alg": "RS256", "kid": "x", "n": "AQAB", "e": "AQAB"}]}).to_string())),
    ];
    for (what, reply) in failures {
        s.route("/jwks", reply);
        let err = jwks.fetch().await.unwrap_err();
        assert_eq!(err.kind(), "jwks_unavailable", "{what}: {err}");
        assert_eq!(
            check(&v, &rs).await,
            Ok(()),
            "{what}: the last good set verifies"
        );
        // A background refresh past the maximum age fails too, and changes nothing.
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(check(&v, &rs).await, Ok(()), "{what}");
    }
    // At start, a failure is an error: no keys, no service.
    s.route("/stalled", Reply::stalled());
    let started = std::time::Instant::now();
    let err = RemoteJwks::connect(&s.url("/stalled"), opts())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "jwks_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout bounds a stalled server"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_set_is_refetched_in_the_background_past_its_maximum_age() {
    let s = Server::start();
    s.route("/jwks", Reply::json(ec_only()));
    let jwks = Arc::new(
        RemoteJwks::connect(&s.url("/jwks"), opts().max_age(Duration::from_millis(200)))
            .await
            .unwrap(),
    );
    let v = verifier(jwks);
    s.route("/jwks", Reply::json(idp::jwks()));
    let es = idp::token("es384_jwt_typ");
    tokio::time::sleep(Duration::from_millis(400)).await;
    // This verification triggers the refresh but does not wait for it.
    assert_eq!(check(&v, &es).await, Ok(()));
    let mut fetched = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if s.hits("/jwks") == 2 {
            fetched = true;
            break;
        }
    }
    assert!(fetched, "refetched in the background");
    // The blocking verify never fetches, but sees what the async path fetched.
    assert!(
        v.verify_access::<NoCustomClaims>(&idp::token("rs256_jwt_typ"))
            .is_ok()
    );
}

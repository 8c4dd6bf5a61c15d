//! A verify-only service's view of logouts: `StatusListClient` against a local HTTP server that
//! serves what an issuing keycard publishes (features `status-list` and `jwks-remote`).

#[path = "common/http_server.rs"]
mod http_server;

use std::sync::Arc;
use std::time::Duration;

use http_server::{Reply, Server};
use keycard::keys::{RemoteJwks, RemoteJwksOptions};
use keycard::status::{StatusListClient, StatusListOptions};
use keycard::{Algorithm, KeyRing, Keycard, NoCustomClaims, Verifier};

/// An issuing keycard publishing its list at `server/statuslists/1`, and the server serving its
/// JWKS.
fn issuer(s: &Server, ttl: Duration) -> Arc<Keycard> {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    let kc = Keycard::builder(keys.clone())
        .issuer(s.base.clone())
        .audience("api")
        .status_list(s.url("/statuslists"))
        .status_list_ttl(ttl)
        .build()
        .unwrap();
    s.route("/jwks", Reply::json(keys.public_jwks()));
    Arc::new(kc)
}

/// The path of the issuer's list on the server.
fn path(s: &Server, kc: &Keycard) -> String {
    kc.status_list_uri().unwrap()[s.base.len()..].to_owned()
}

/// Publishes the issuer's current list.
fn publish(s: &Server, kc: &Keycard) {
    s.route(
        &path(s, kc),
        Reply::json(kc.status_list_token().unwrap()).with_type("application/statuslist+jwt"),
    );
}

async fn verify_only(s: &Server, opts: StatusListOptions) -> Verifier {
    let jwks = Arc::new(
        RemoteJwks::connect(&s.url("/jwks"), RemoteJwksOptions::default().allow_http())
            .await
            .unwrap(),
    );
    let base = Verifier::with_remote_keys(jwks)
        .with_issuer(s.base.clone())
        .with_audience("api");
    let client = StatusListClient::new(base.clone(), opts.allow_http()).unwrap();
    base.with_revocations(Arc::new(client))
}

async fn check(v: &Verifier, token: &str) -> Result<(), &'static str> {
    v.verify_access_async::<NoCustomClaims>(token)
        .await
        .map(|_| ())
        .map_err(|e| e.kind())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_reaches_the_verify_only_service_within_ttl_and_cooldown() {
    let s = Server::start();
    let kc = issuer(&s, Duration::from_secs(1));
    publish(&s, &kc);
    let opts = StatusListOptions::new(format!("{}/", s.base)).cooldown(Duration::from_millis(200));
    let v = verify_only(&s, opts).await;
    let alice = kc
        .login_async("alice", &NoCustomClaims {}, None)
        .await
        .unwrap();
    let bob = kc
        .login_async("bob", &NoCustomClaims {}, None)
        .await
        .unwrap();
    publish(&s, &kc);
    assert_eq!(check(&v, alice.access.as_str()).await, Ok(()));
    assert_eq!(check(&v, bob.access.as_str()).await, Ok(()));
    let fetches = s.hits(&path(&s, &kc));
    // Cached: more verifications cost no fetch.
    for _ in 0..20 {
        assert_eq!(check(&v, alice.access.as_str()).await, Ok(()));
    }
    assert_eq!(s.hits(&path(&s, &kc)), fetches);
    // Alice logs out on the issuer; the list it serves shows it.
    let verified = kc
        .verify_async::<NoCustomClaims>(alice.access.as_str())
        .await
        .unwrap();
    kc.logout_async(&verified).await.unwrap();
    publish(&s, &kc);
    let started = std::time::Instant::now();
    let mut refused = None;
    while started.elapsed() < Duration::from_secs(5) {
        if check(&v, alice.access.as_str()).await == Err("revoked") {
            refused = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = refused.expect("the logout reached the verify-only service");
    assert!(took <= Duration::from_millis(1200 + 500), "{took:?}");
    assert_eq!(
        check(&v, bob.access.as_str()).await,
        Ok(()),
        "bob's session is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_list_fails_closed_after_the_staleness_bound() {
    let s = Server::start();
    let kc = issuer(&s, Duration::from_secs(1));
    publish(&s, &kc);
    let opts = StatusListOptions::new(format!("{}/", s.base))
        .cooldown(Duration::from_millis(100))
        .max_staleness(Duration::from_millis(700));
    let v = verify_only(&s, opts).await;
    let t = kc
        .login_async("alice", &NoCustomClaims {}, None)
        .await
        .unwrap();
    publish(&s, &kc);
    assert_eq!(check(&v, t.access.as_str()).await, Ok(()));
    // The issuer's list goes away: first the list in hand serves (within ttl + staleness)...
    s.route(&path(&s, &kc), Reply::status(500));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(
        check(&v, t.access.as_str()).await,
        Ok(()),
        "within the staleness bound"
    );
    // ...then nothing is answered from it.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        check(&v, t.access.as_str()).await,
        Err("revocation_unavailable")
    );
    // A hostile list (another list's token) is no better than none.
    s.route(&path(&s, &kc), Reply::json("eyJhbGciOiJub25lIn0.e30."));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        check(&v, t.access.as_str()).await,
        Err("revocation_unavailable")
    );
    // The list comes back: so does the service.
    publish(&s, &kc);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(check(&v, t.access.as_str()).await, Ok(()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_the_service_cannot_check_are_refused() {
    let s = Server::start();
    let kc = issuer(&s, Duration::from_secs(30));
    publish(&s, &kc);
    // A token naming a list outside the allowed prefix: never fetched.
    let v = verify_only(&s, StatusListOptions::new("https://elsewhere.example/")).await;
    let t = kc
        .login_async("alice", &NoCustomClaims {}, None)
        .await
        .unwrap();
    assert_eq!(check(&v, t.access.as_str()).await, Err("config"));
    assert_eq!(s.hits(&path(&s, &kc)), 0);
    // A token without a status claim (minted by an issuer that publishes none).
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    let plain = Keycard::builder(keys.clone())
        .issuer(s.base.clone())
        .audience("api")
        .build()
        .unwrap();
    s.route("/jwks", Reply::json(keys.public_jwks()));
    let v = verify_only(&s, StatusListOptions::new(format!("{}/", s.base))).await;
    let t = plain
        .login_async("alice", &NoCustomClaims {}, None)
        .await
        .unwrap();
    assert_eq!(check(&v, t.access.as_str()).await, Err("missing_claim"));
    let lenient = {
        let jwks = Arc::new(
            RemoteJwks::connect(&s.url("/jwks"), RemoteJwksOptions::default().allow_http())
                .await
                .unwrap(),
        );
        let base = Verifier::with_remote_keys(jwks)
            .with_issuer(s.base.clone())
            .with_audience("api");
        let client = StatusListClient::new(
            base.clone(),
            StatusListOptions::new(format!("{}/", s.base))
                .allow_http()
                .allow_tokens_without_status(),
        )
        .unwrap();
        base.with_revocations(Arc::new(client))
    };
    assert_eq!(check(&lenient, t.access.as_str()).await, Ok(()));
}

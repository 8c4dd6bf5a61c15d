//! A full node and a verify-only node, separate processes (docs/http.md, "Discovery and status
//! lists", "Verify-only mode"): discovery, the status list, a logout reaching the verify-only
//! node, fail-closed when the list is gone, and a key rotation picked up.

use std::time::Duration;

use serde_json::Value;

use crate::support::{Node, TempDir, eventually};

pub const TESTS: &[(&str, fn())] = &[
    (
        "verify_only::discovery_and_the_status_list",
        discovery_and_status_list,
    ),
    (
        "verify_only::a_logout_on_the_full_node_reaches_the_verify_only_node",
        logout_reaches,
    ),
];

fn full(dir: &TempDir, extra: &[&str]) -> Node {
    let keys = dir.0.join("keys.json").display().to_string();
    let mut flags = vec!["--keys", keys.as_str(), "--status-ttl", "1s"];
    flags.extend_from_slice(extra);
    Node::start(&flags)
}

pub fn verify_only(issuer: &str) -> Node {
    Node::start(&[
        "--verify-only",
        "--issuer",
        issuer,
        "--allow-http",
        "--jwks-cooldown",
        "1s",
        "--max-staleness",
        "2s",
    ])
}

fn discovery_and_status_list() {
    let dir = TempDir::new("discovery");
    let a = full(&dir, &[]);
    let c = a.client();
    let d = c.send(c.request("GET", "/.well-known/openid-configuration"));
    assert_eq!(d.status, 200);
    assert_eq!(d.json["issuer"], Value::String(a.base.clone()));
    assert_eq!(
        d.str("jwks_uri"),
        format!("{}/.well-known/jwks.json", a.base)
    );
    let t = c.login("alice");
    let claims = keycard::dangerous::inspect_unverified(&t.access)
        .unwrap()
        .claims
        .unwrap();
    assert_eq!(claims["iss"], Value::String(a.base.clone()));
    let uri = claims["status"]["status_list"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.starts_with(&a.base), "{uri}");
    let path = &uri[a.base.len()..];
    let list = c.send(c.request("GET", path));
    assert_eq!(list.status, 200);
    assert_eq!(list.header("content-type"), "application/statuslist+jwt");
    assert_eq!(list.header("cache-control"), "public, max-age=1");
    let seen = keycard::dangerous::inspect_unverified(&list.text).unwrap();
    assert_eq!(seen.header["typ"], "statuslist+jwt");
    assert_eq!(seen.claims.unwrap()["sub"], Value::String(uri.clone()));
    // With --issuer, the node mints that, and its list lives under it.
    let b = full(&dir, &["--issuer", "https://auth.example"]);
    let t = b.client().login("bob");
    let claims = keycard::dangerous::inspect_unverified(&t.access)
        .unwrap()
        .claims
        .unwrap();
    assert_eq!(claims["iss"], "https://auth.example");
    assert!(
        claims["status"]["status_list"]["uri"]
            .as_str()
            .unwrap()
            .starts_with("https://auth.example/")
    );
    // Full nodes sharing a key file accept each other's tokens, whatever `iss` they minted.
    assert_eq!(a.client().get_bearer("/me", &t.access).status, 200);
}

fn logout_reaches() {
    let dir = TempDir::new("verify-only");
    let revocations = dir.0.join("revocations.bin").display().to_string();
    let mut a = full(&dir, &["--revocations", &revocations]);
    let v = verify_only(&a.base);
    let (ca, cv) = (a.client(), v.client());
    assert_eq!(cv.send(cv.request("GET", "/healthz")).status, 200);
    let alice = ca.login("alice");
    let bob = ca.login("bob");
    let me = cv.get_bearer("/me", &alice.access);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["sub"], "alice");
    // The verify-only node holds no sessions: nothing else is served.
    assert_eq!(cv.post_bearer("/logout", &alice.access).status, 404);
    // A token of another issuer (a node with other keys) is refused.
    let other_dir = TempDir::new("other-issuer");
    let other = full(&other_dir, &[]);
    let stranger = other.client().login("alice");
    assert_eq!(cv.get_bearer("/me", &stranger.access).status, 401);

    // Logout on the full node: refused on the verify-only node within ttl (1 s) + cooldown (1 s).
    assert_eq!(ca.post_bearer("/logout", &alice.access).status, 204);
    let took = eventually(Duration::from_secs(6), || {
        cv.get_bearer("/me", &alice.access).status == 401
    })
    .expect("the logout reached the verify-only node");
    eprintln!("logout on the full node refused on the verify-only node after {took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    let r = cv.get_bearer("/me", &alice.access);
    assert!(
        r.header("www-authenticate")
            .contains(r#"error="invalid_token""#)
    );
    assert_eq!(r.error(), "revoked");
    assert_eq!(cv.get_bearer("/me", &bob.access).status, 200);

    // The full node goes away: the list in hand serves up to ttl + max-staleness, then 503.
    drop(ca);
    let keys = dir.0.join("keys.json");
    let port = a.base.rsplit(':').next().unwrap().to_owned();
    drop(a);
    let down = eventually(Duration::from_secs(10), || {
        let r = cv.get_bearer("/me", &bob.access);
        r.status == 503 && r.error() == "revocation_unavailable"
    });
    assert!(down.is_some(), "fails closed once the list is stale");

    // It comes back on the same address with a new active key: the verify-only node picks the
    // key up on the first token that names it, and the list again.
    rotate(&keys);
    a = Node::start(&[
        "--port",
        &port,
        "--keys",
        &keys.display().to_string(),
        "--status-ttl",
        "1s",
        "--revocations",
        &revocations,
    ]);
    let ca = a.client();
    let carol = ca.login("bob");
    let back = eventually(Duration::from_secs(10), || {
        cv.get_bearer("/me", &carol.access).status == 200
    });
    assert!(back.is_some(), "the rotated key and the list are picked up");
    // Nothing revoked became valid again: the full node kept the logout in its file; the
    // verify-only node cannot learn the status of tokens minted before the restart (the memory
    // store's list has a new name), so it refuses them.
    assert_eq!(ca.get_bearer("/me", &alice.access).status, 401);
    assert_ne!(cv.get_bearer("/me", &alice.access).status, 200);
    let old = cv.get_bearer("/me", &bob.access);
    assert_eq!((old.status, old.error()), (503, "revocation_unavailable"));
}

/// Makes a fresh EdDSA key the active JWT key of the key file (what `keycard keygen` does).
fn rotate(path: &std::path::Path) {
    let ring = keycard::KeyRing::load(path).unwrap();
    ring.rotate(keycard::Algorithm::EdDSA).unwrap();
    ring.save(path).unwrap();
}

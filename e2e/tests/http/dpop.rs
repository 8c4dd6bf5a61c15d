//! DPoP (RFC 9449) against the demo service, with proofs made by node's `jose` (an independent
//! implementation): binding at login, proofs on protected calls, refresh by the same key only,
//! replay, a bound token as `Bearer`, server nonces, and the `--dpop` policies.

use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::node_oracle::node;
use crate::support::{Http, Node, Reply, Server};

pub const TESTS: &[(&str, fn())] = &[
    (
        "dpop::jose_proofs_bind_refresh_and_authorize",
        bind_refresh_call,
    ),
    ("dpop::server_nonces_are_asked_for_and_taken", nonces),
    ("dpop::policies_off_and_required", policies),
    (
        "dpop::the_readme_client_runs_against_the_demo",
        readme_client,
    ),
    (
        "dpop::a_verify_only_node_checks_proofs_itself",
        verify_only_node,
    ),
];

/// A DPoP client whose key and proofs jose makes.
struct Client {
    alg: &'static str,
    private: String,
    jkt: String,
}

impl Client {
    fn new(alg: &'static str) -> Client {
        let k = node(&["dpop-key", alg]);
        Client {
            alg,
            private: k["private"].to_string(),
            jkt: k["jkt"].as_str().unwrap().to_owned(),
        }
    }

    /// A proof for `method url` at `iat`, with `ath` of `token` and `nonce` when given.
    fn proof(
        &self,
        method: &str,
        url: &str,
        iat: u64,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let mut args = vec![
            "dpop-proof".to_owned(),
            self.private.clone(),
            self.alg.to_owned(),
            method.to_owned(),
            url.to_owned(),
            format!("iat={iat}"),
        ];
        if let Some(t) = token {
            args.push(format!("ath={t}"));
        }
        if let Some(n) = nonce {
            args.push(format!("nonce={n}"));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        node(&args)["proof"].as_str().unwrap().to_owned()
    }
}

fn login(c: &Http, proof: Option<&str>) -> Reply {
    let mut r = c
        .request("POST", "/login")
        .header("content-type", "application/json")
        .body(json!({"username": "alice", "password": "alice-password"}).to_string());
    if let Some(p) = proof {
        r = r.header("DPoP", p);
    }
    c.send(r)
}

fn refresh(c: &Http, token: &str, proof: Option<&str>) -> Reply {
    let mut r = c
        .request("POST", "/refresh")
        .header("content-type", "application/json")
        .body(json!({ "refresh_token": token }).to_string());
    if let Some(p) = proof {
        r = r.header("DPoP", p);
    }
    c.send(r)
}

fn me(c: &Http, scheme: &str, token: &str, proof: Option<&str>) -> Reply {
    let mut r = c
        .request("GET", "/me")
        .header("authorization", format!("{scheme} {token}"));
    if let Some(p) = proof {
        r = r.header("DPoP", p);
    }
    c.send(r)
}

/// 401 with `WWW-Authenticate: DPoP … error="<error>"`.
fn assert_dpop_challenge(r: &Reply, error: &str) {
    assert_eq!(r.status, 401, "{}", r.text);
    let challenge = r.header("www-authenticate");
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains(&format!(r#"error="{error}""#)),
        "{challenge}"
    );
    assert_eq!(r.error(), error);
}

fn cnf_jkt(access: &str) -> String {
    let payload = access.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["cnf"]["jkt"].as_str().unwrap_or_default().to_owned()
}

fn bind_refresh_call() {
    let s = Server::start(&[]);
    let c = s.client();
    let now = s.clock_now();
    let key = Client::new("EdDSA");

    // Login with a proof: a DPoP-bound pair, bound to jose's thumbprint of the key.
    let r = login(
        &c,
        Some(&key.proof("POST", &c.url("/login"), now, None, None)),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.str("token_type"), "DPoP");
    let access = r.str("access_token");
    let refresh_token = r.str("refresh_token");
    assert_eq!(cnf_jkt(&access), key.jkt);

    // A protected call: the token under the DPoP scheme, a proof with its ath.
    let good = key.proof("GET", &c.url("/me"), now, Some(&access), None);
    let ok = me(&c, "DPoP", &access, Some(&good));
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["sub"], "alice");
    // The same proof again: a replay.
    assert_dpop_challenge(&me(&c, "DPoP", &access, Some(&good)), "invalid_dpop_proof");
    // The bound token as a bearer token, with or without a proof beside it.
    assert_dpop_challenge(&me(&c, "Bearer", &access, None), "invalid_dpop_proof");
    let beside = key.proof("GET", &c.url("/me"), now, Some(&access), None);
    assert_dpop_challenge(
        &me(&c, "Bearer", &access, Some(&beside)),
        "invalid_dpop_proof",
    );
    // No proof; a proof for another URL; one without ath; one by another key.
    assert_dpop_challenge(&me(&c, "DPoP", &access, None), "invalid_dpop_proof");
    let elsewhere = key.proof("GET", &c.url("/sessions"), now, Some(&access), None);
    assert_dpop_challenge(
        &me(&c, "DPoP", &access, Some(&elsewhere)),
        "invalid_dpop_proof",
    );
    let no_ath = key.proof("GET", &c.url("/me"), now, None, None);
    assert_dpop_challenge(
        &me(&c, "DPoP", &access, Some(&no_ath)),
        "invalid_dpop_proof",
    );
    let thief = Client::new("ES256");
    let stolen = thief.proof("GET", &c.url("/me"), now, Some(&access), None);
    assert_dpop_challenge(
        &me(&c, "DPoP", &access, Some(&stolen)),
        "invalid_dpop_proof",
    );
    // A stale proof.
    let stale = key.proof("GET", &c.url("/me"), now - 120, Some(&access), None);
    assert_dpop_challenge(&me(&c, "DPoP", &access, Some(&stale)), "invalid_dpop_proof");

    // Refresh: without a proof, or by the thief's key, is refused and issues nothing...
    for proof in [
        None,
        Some(thief.proof("POST", &c.url("/refresh"), now, None, None)),
    ] {
        let r = refresh(&c, &refresh_token, proof.as_deref());
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.error(), "invalid_dpop_proof");
        assert!(r.json.get("access_token").is_none());
    }
    // ...and burns nothing: the owner refreshes, still bound.
    let r = refresh(
        &c,
        &refresh_token,
        Some(&key.proof("POST", &c.url("/refresh"), now, None, None)),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.str("token_type"), "DPoP");
    let next = r.str("access_token");
    assert_eq!(cnf_jkt(&next), key.jkt);
    let ok = me(
        &c,
        "DPoP",
        &next,
        Some(&key.proof("GET", &c.url("/me"), now, Some(&next), None)),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);

    // An ES256 key binds as well; a bearer login on the same service stays a bearer session,
    // and a bearer token under the DPoP scheme is refused.
    let es = Client::new("ES256");
    let r = login(
        &c,
        Some(&es.proof("POST", &c.url("/login"), now, None, None)),
    );
    assert_eq!((r.status, r.str("token_type").as_str()), (200, "DPoP"));
    assert_eq!(cnf_jkt(&r.str("access_token")), es.jkt);
    let plain = c.login("bob");
    assert_eq!(me(&c, "Bearer", &plain.access, None).status, 200);
    // A proof at the refresh of a bearer session binds nothing: still Bearer.
    let r = refresh(
        &c,
        &plain.refresh,
        Some(&es.proof("POST", &c.url("/refresh"), now, None, None)),
    );
    assert_eq!((r.status, r.str("token_type").as_str()), (200, "Bearer"));
    assert_eq!(cnf_jkt(&r.str("access_token")), "");
    let misused = key.proof("GET", &c.url("/me"), now, Some(&plain.access), None);
    assert_dpop_challenge(
        &me(&c, "DPoP", &plain.access, Some(&misused)),
        "invalid_dpop_proof",
    );
}

fn nonces() {
    let s = Server::start(&["--dpop-nonce"]);
    let c = s.client();
    let now = s.clock_now();
    let key = Client::new("ES256");

    // Login without the nonce: 400 use_dpop_nonce, the nonce in DPoP-Nonce; retry with it.
    let r = login(
        &c,
        Some(&key.proof("POST", &c.url("/login"), now, None, None)),
    );
    assert_eq!((r.status, r.error()), (400, "use_dpop_nonce"), "{}", r.text);
    let nonce = r.header("dpop-nonce").to_owned();
    assert!(!nonce.is_empty());
    let r = login(
        &c,
        Some(&key.proof("POST", &c.url("/login"), now, None, Some(&nonce))),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("dpop-nonce"), nonce);
    let access = r.str("access_token");

    // A protected call without it: 401 use_dpop_nonce with the nonce; retry with it.
    let r = me(
        &c,
        "DPoP",
        &access,
        Some(&key.proof("GET", &c.url("/me"), now, Some(&access), None)),
    );
    assert_dpop_challenge(&r, "use_dpop_nonce");
    assert_eq!(r.header("dpop-nonce"), nonce);
    let with = key.proof("GET", &c.url("/me"), now, Some(&access), Some(&nonce));
    assert_eq!(me(&c, "DPoP", &access, Some(&with)).status, 200);
    // A nonce made up by the client is no nonce.
    let made_up = key.proof("GET", &c.url("/me"), now, Some(&access), Some("made-up"));
    assert_dpop_challenge(&me(&c, "DPoP", &access, Some(&made_up)), "use_dpop_nonce");
}

fn policies() {
    let now_of = |s: &Server| s.clock_now();
    let key = Client::new("EdDSA");

    // Required: a login without a proof is 400; with one it binds.
    let s = Server::start(&["--dpop", "required"]);
    let c = s.client();
    let r = login(&c, None);
    assert_eq!(
        (r.status, r.error()),
        (400, "invalid_dpop_proof"),
        "{}",
        r.text
    );
    let r = login(
        &c,
        Some(&key.proof("POST", &c.url("/login"), now_of(&s), None, None)),
    );
    assert_eq!((r.status, r.str("token_type").as_str()), (200, "DPoP"));

    // Off: the proof is ignored at login (a bearer session), and the DPoP scheme refused.
    let s = Server::start(&["--dpop", "off"]);
    let c = s.client();
    let r = login(
        &c,
        Some(&key.proof("POST", &c.url("/login"), now_of(&s), None, None)),
    );
    assert_eq!((r.status, r.str("token_type").as_str()), (200, "Bearer"));
    let access = r.str("access_token");
    assert_eq!(cnf_jkt(&access), "");
    assert_eq!(me(&c, "Bearer", &access, None).status, 200);
    let proof = key.proof("GET", &c.url("/me"), now_of(&s), Some(&access), None);
    assert_dpop_challenge(&me(&c, "DPoP", &access, Some(&proof)), "invalid_dpop_proof");
}

fn readme_client() {
    // The client README shows, against the demo as a process (real clock), with server nonces
    // on so its retry path runs too.
    let n = Node::start(&["--dpop-nonce"]);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../interop/node/dpop-client.mjs"
    );
    let out = Command::new("node")
        .arg(script)
        .arg(&n.base)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let steps: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        steps,
        vec![
            json!({"step": "login", "status": 200, "token_type": "DPoP"}),
            json!({"step": "me", "status": 200, "sub": "alice"}),
            json!({"step": "refresh", "status": 200, "token_type": "DPoP"}),
            json!({"step": "me", "status": 200, "sub": "alice"}),
        ]
    );
}

fn verify_only_node() {
    // The full node binds the session; a verify-only node (its own process, keys from the full
    // node's JWK Set) accepts the bound token with a proof for itself, once.
    let full = Node::start(&[]);
    let edge = crate::verify_only::verify_only(&full.base);
    let (c, e) = (full.client(), edge.client());
    let key = Client::new("EdDSA");
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let r = login(
        &c,
        Some(&key.proof("POST", &c.url("/login"), now(), None, None)),
    );
    assert_eq!((r.status, r.str("token_type").as_str()), (200, "DPoP"));
    let access = r.str("access_token");

    let good = key.proof("GET", &e.url("/me"), now(), Some(&access), None);
    let ok = me(&e, "DPoP", &access, Some(&good));
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["sub"], "alice");
    assert_dpop_challenge(&me(&e, "DPoP", &access, Some(&good)), "invalid_dpop_proof");
    assert_dpop_challenge(&me(&e, "Bearer", &access, None), "invalid_dpop_proof");
    // A proof made for the full node's URL is not one for this node.
    let other = key.proof("GET", &c.url("/me"), now(), Some(&access), None);
    assert_dpop_challenge(&me(&e, "DPoP", &access, Some(&other)), "invalid_dpop_proof");
    let thief = Client::new("ES256");
    let stolen = thief.proof("GET", &e.url("/me"), now(), Some(&access), None);
    assert_dpop_challenge(
        &me(&e, "DPoP", &access, Some(&stolen)),
        "invalid_dpop_proof",
    );
}

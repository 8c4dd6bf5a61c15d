//! Bearer mode, as a mobile app or an API client uses it.

use std::time::Duration;

use serde_json::json;

use crate::support::{Server, Tokens};

pub const TESTS: &[(&str, fn())] = &[
    ("bearer::login_me_refresh_logout", login_me_refresh_logout),
    (
        "bearer::a_replayed_refresh_token_ends_the_session",
        replayed_refresh_ends_the_session,
    ),
    (
        "bearer::sensitive_needs_a_recent_login",
        sensitive_needs_a_recent_login,
    ),
    (
        "bearer::sessions_are_listed_and_ended_one_by_one",
        sessions_listed_and_ended,
    ),
    ("bearer::logout_all_ends_every_session", logout_all),
    ("bearer::the_session_limit_refuses_with_429", session_limit),
    ("bearer::jwks_is_cacheable_and_verifies_the_tokens", jwks),
    (
        "bearer::unknown_user_and_wrong_password_look_alike",
        credentials_look_alike,
    ),
];

/// The RFC 6750 challenge of a refused token.
fn assert_invalid_token(r: &crate::support::Reply) {
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(
        r.header("www-authenticate").starts_with("Bearer")
            && r.header("www-authenticate")
                .contains(r#"error="invalid_token""#),
        "{:?}",
        r.headers
    );
}

fn login_me_refresh_logout() {
    let s = Server::start(&[]);
    let c = s.client();
    let t = c.login("alice");
    let me = c.get_bearer("/me", &t.access);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["sub"], "alice");
    assert!(me.json["sid"].is_string() && me.json["exp"].is_u64() && me.json["auth_time"].is_u64());
    assert_eq!(me.header("cache-control"), "no-store");

    // Without a token: 401, a bare challenge.
    let r = c.send(c.request("GET", "/me"));
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").starts_with("Bearer"));
    assert!(
        !r.header("www-authenticate").contains("error="),
        "{:?}",
        r.headers
    );

    // Refresh: a new pair, same session.
    let r = c.refresh(&t.refresh);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["expires_in"], 300);
    let next = Tokens {
        access: r.str("access_token"),
        refresh: r.str("refresh_token"),
    };
    assert_ne!(next.refresh, t.refresh);
    let me2 = c.get_bearer("/me", &next.access);
    assert_eq!(me2.json["sid"], me.json["sid"]);

    // Logout: every token of the session is refused from now on.
    let r = c.post_bearer("/logout", &next.access);
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(
        r.headers.get("set-cookie").is_none(),
        "bearer logout sets no cookies"
    );
    assert_invalid_token(&c.get_bearer("/me", &next.access));
    assert_invalid_token(&c.get_bearer("/me", &t.access));
    assert_eq!(c.refresh(&next.refresh).status, 401);
}

fn replayed_refresh_ends_the_session() {
    let s = Server::start(&["--grace", "10s"]);
    let c = s.client();
    let t = c.login("alice");
    let r = c.refresh(&t.refresh);
    assert_eq!(r.status, 200);
    let next = Tokens {
        access: r.str("access_token"),
        refresh: r.str("refresh_token"),
    };
    // Past the grace for lost responses, the old refresh token comes back: theft.
    s.clock.advance(Duration::from_secs(11));
    let replay = c.refresh(&t.refresh);
    assert_eq!(replay.status, 401, "{}", replay.text);
    assert!(replay.json.get("access_token").is_none());
    // The whole family is revoked: the thief's and the user's tokens alike.
    assert_invalid_token(&c.get_bearer("/me", &next.access));
    assert_eq!(c.refresh(&next.refresh).status, 401);
}

fn sensitive_needs_a_recent_login() {
    let s = Server::start(&[]);
    let c = s.client();
    let t = c.login("bob");
    let ok = c.post_bearer("/sensitive", &t.access);
    assert_eq!(ok.status, 200, "{}", ok.text);

    s.clock.advance(Duration::from_secs(5 * 60 + 1));
    let r = c.post_bearer("/sensitive", &t.access);
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(
        r.header("www-authenticate")
            .contains(r#"error="insufficient_user_authentication""#),
        "{:?}",
        r.headers
    );
    assert_eq!(r.error(), "reauth_required");

    // A wrong password is refused; the right one renews auth_time.
    let reauth = |pw: &str| {
        c.send(
            c.request("POST", "/reauth")
                .bearer_auth(&t.access)
                .header("content-type", "application/json")
                .body(json!({ "password": pw }).to_string()),
        )
    };
    assert_eq!(reauth("alice-password").status, 401);
    let r = reauth("bob-password");
    assert_eq!(r.status, 200, "{}", r.text);
    let fresh = r.str("access_token");
    let me = c.get_bearer("/me", &fresh);
    assert_eq!(me.json["auth_time"].as_u64(), Some(s.clock_now()));
    assert_eq!(c.post_bearer("/sensitive", &fresh).status, 200);
}

fn sessions_listed_and_ended() {
    let s = Server::start(&[]);
    let c = s.client();
    let phone = c.send(
        c.request("POST", "/login")
            .header("content-type", "application/json")
            .body(
                json!({"username": "alice", "password": "alice-password", "device": "phone"})
                    .to_string(),
            ),
    );
    assert_eq!(phone.status, 200);
    let phone = phone.str("access_token");
    let laptop = c.login("alice");
    let bob = c.login("bob");

    let list = c.get_bearer("/sessions", &laptop.access);
    assert_eq!(list.status, 200, "{}", list.text);
    let list = list.json.as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    let current: Vec<_> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let other = list.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["device"], "phone");
    for s in &list {
        assert!(s["created"].is_u64() && s["last_refresh"].is_u64() && s["sid"].is_string());
    }

    // Bob cannot end Alice's sessions, and an unknown sid is the same 404.
    let alice_sid = other["sid"].as_str().unwrap();
    let r = c.send(
        c.request("DELETE", &format!("/sessions/{alice_sid}"))
            .bearer_auth(&bob.access),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        c.get_bearer("/me", &phone).status,
        200,
        "bob's attempt changed nothing"
    );
    let r = c.send(
        c.request("DELETE", "/sessions/AAAAAAAAAAAAAAAAAAAAAA")
            .bearer_auth(&laptop.access),
    );
    assert_eq!(r.status, 404);
    let r = c.send(
        c.request("DELETE", "/sessions/%00%ff")
            .bearer_auth(&laptop.access),
    );
    assert_eq!(r.status, 404);

    // Alice ends her phone's session from the laptop.
    let r = c.send(
        c.request("DELETE", &format!("/sessions/{alice_sid}"))
            .bearer_auth(&laptop.access),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(c.get_bearer("/me", &phone).status, 401);
    assert_eq!(c.get_bearer("/me", &laptop.access).status, 200);
    assert_eq!(
        c.get_bearer("/sessions", &laptop.access)
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn logout_all() {
    let s = Server::start(&[]);
    let c = s.client();
    let a = c.login("alice");
    let b = c.login("alice");
    let bob = c.login("bob");
    assert_eq!(c.post_bearer("/logout-all", &a.access).status, 204);
    for t in [&a, &b] {
        assert_eq!(c.get_bearer("/me", &t.access).status, 401);
        assert_eq!(c.refresh(&t.refresh).status, 401);
    }
    assert_eq!(
        c.get_bearer("/me", &bob.access).status,
        200,
        "other users are untouched"
    );
    // A new login right after works.
    let again = c.login("alice");
    assert_eq!(c.get_bearer("/me", &again.access).status, 200);
}

fn session_limit() {
    let s = Server::start(&["--max-sessions", "1"]);
    let c = s.client();
    c.login("alice");
    let r = c.post_json(
        "/login",
        &json!({"username": "alice", "password": "alice-password"}),
    );
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.error(), "session_limit");
}

fn jwks() {
    let s = Server::start(&[]);
    let c = s.client();
    let r = c.send(c.request("GET", "/.well-known/jwks.json"));
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .starts_with("application/jwk-set+json")
    );
    // Grace = the idle timeout (30 min): caches refetch within a quarter of it.
    assert_eq!(r.header("cache-control"), "public, max-age=450");
    let kids: Vec<&str> = r.json["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    let t = c.login("alice");
    let seen = keycard::dangerous::inspect_unverified(&t.access).unwrap();
    assert!(
        kids.contains(&seen.header["kid"].as_str().unwrap()),
        "{kids:?}"
    );
    assert!(
        r.json["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("d").is_none() && k.get("k").is_none())
    );
}

fn credentials_look_alike() {
    let s = Server::start(&[]);
    let c = s.client();
    let unknown = c.post_json("/login", &json!({"username": "mallory", "password": "x"}));
    let wrong = c.post_json("/login", &json!({"username": "alice", "password": "x"}));
    assert_eq!((unknown.status, wrong.status), (401, 401));
    assert_eq!(unknown.text, wrong.text);
}

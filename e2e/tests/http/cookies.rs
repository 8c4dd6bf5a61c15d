//! Cookie mode, as a browser uses it: every cookie attribute, CSRF on unsafe methods, logout
//! clearing the cookies.

use serde_json::json;

use crate::support::{Browser, Server, SetCookie};

pub const TESTS: &[(&str, fn())] = &[
    (
        "cookies::every_attribute_of_the_session_cookies",
        cookie_attributes,
    ),
    (
        "cookies::csrf_missing_or_wrong_is_403_and_burns_nothing",
        csrf,
    ),
    ("cookies::refresh_with_csrf_rotates_the_cookies", refresh),
    ("cookies::logout_clears_the_cookies", logout_clears),
    (
        "cookies::a_cookie_login_needs_a_json_content_type",
        cookie_login_content_type,
    ),
    (
        "cookies::bearer_wins_over_a_cookie_and_needs_no_csrf",
        bearer_needs_no_csrf,
    ),
];

/// `__Host-` cookies: HttpOnly, Secure, SameSite=Strict, Path=/, no Domain, Max-Age.
fn assert_host_cookie(c: &SetCookie, max_age: &str) {
    assert!(c.name.starts_with("__Host-"), "{c:?}");
    assert!(c.has("httponly"), "{c:?}");
    assert!(c.has("secure"), "{c:?}");
    assert_eq!(c.attr("samesite"), Some("Strict"), "{c:?}");
    assert_eq!(c.attr("path"), Some("/"), "{c:?}");
    assert!(!c.has("domain"), "a __Host- cookie has no Domain: {c:?}");
    assert_eq!(c.attr("max-age"), Some(max_age), "{c:?}");
}

fn cookie_attributes() {
    let s = Server::start(&["--access-ttl", "5m", "--idle-ttl", "30m"]);
    let c = s.client();
    let (b, r) = c.login_cookie("alice");
    assert_eq!(r.cookies().len(), 2);
    assert_host_cookie(&r.cookie("__Host-access"), "300");
    assert_host_cookie(&r.cookie("__Host-refresh"), "1800");
    assert!(
        r.json.get("access_token").is_none() && r.json.get("refresh_token").is_none(),
        "{}",
        r.text
    );
    assert_eq!(r.json["expires_in"], 300);
    assert!(!b.csrf.is_empty());
    assert!(!r.text.contains(&b.access) && !r.text.contains(&b.refresh));
    let me = c.with_cookies("GET", "/me", &b, None);
    assert_eq!(me.status, 200, "GET needs no CSRF token: {}", me.text);
    assert_eq!(me.json["sub"], "alice");
}

fn csrf() {
    let s = Server::start(&[]);
    let c = s.client();
    let (b, _) = c.login_cookie("alice");
    let (other, _) = c.login_cookie("alice");
    for path in ["/logout", "/logout-all", "/sensitive", "/refresh"] {
        for token in [None, Some(""), Some("wrong"), Some(other.csrf.as_str())] {
            let r = c.with_cookies("POST", path, &b, token);
            assert_eq!(r.status, 403, "{path} with {token:?}: {}", r.text);
            assert_eq!(r.error(), "csrf");
        }
    }
    let r = c.with_cookies("DELETE", "/sessions/AAAAAAAAAAAAAAAAAAAAAA", &b, None);
    assert_eq!(r.status, 403);
    // Nothing was logged out, and the refresh token was not redeemed by the refused refreshes.
    assert_eq!(c.with_cookies("GET", "/me", &b, None).status, 200);
    let r = c.with_cookies("POST", "/refresh", &b, Some(&b.csrf));
    assert_eq!(r.status, 200, "{}", r.text);
}

fn refresh() {
    let s = Server::start(&[]);
    let c = s.client();
    let (b, _) = c.login_cookie("bob");
    let r = c.with_cookies("POST", "/refresh", &b, Some(&b.csrf));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_host_cookie(&r.cookie("__Host-access"), "300");
    assert_host_cookie(&r.cookie("__Host-refresh"), "1800");
    let next = Browser {
        access: r.cookie("__Host-access").value,
        refresh: r.cookie("__Host-refresh").value,
        csrf: r.str("csrf_token"),
    };
    assert_ne!(next.refresh, b.refresh);
    // The CSRF token is bound to the session, which a refresh keeps.
    assert_eq!(next.csrf, b.csrf);
    assert_eq!(c.with_cookies("GET", "/me", &next, None).status, 200);
    assert_eq!(
        c.with_cookies("POST", "/sensitive", &next, Some(&next.csrf))
            .status,
        200
    );
}

fn logout_clears() {
    let s = Server::start(&[]);
    let c = s.client();
    let (b, _) = c.login_cookie("alice");
    let r = c.with_cookies("POST", "/logout", &b, Some(&b.csrf));
    assert_eq!(r.status, 204, "{}", r.text);
    let cleared = r.cookies();
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    for name in ["__Host-access", "__Host-refresh"] {
        let k = cleared.iter().find(|k| k.name == name).unwrap();
        assert_eq!(k.value, "");
        // A browser ignores a __Host- clear that lacks Secure or Path=/.
        assert_host_cookie(k, "0");
    }
    let r = c.with_cookies("GET", "/me", &b, None);
    assert_eq!(r.status, 401);
    assert!(
        r.header("www-authenticate")
            .contains(r#"error="invalid_token""#)
    );
    // A refused refresh clears the cookies too.
    let r = c.with_cookies("POST", "/refresh", &b, Some(&b.csrf));
    assert_eq!(r.status, 401, "{}", r.text);
}

fn cookie_login_content_type() {
    let s = Server::start(&[]);
    let c = s.client();
    let body =
        json!({"username": "alice", "password": "alice-password", "mode": "cookie"}).to_string();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut r = c.request("POST", "/login").body(body.clone());
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        let r = c.send(r);
        assert_eq!(r.status, 415, "{ct:?}: {}", r.text);
        assert!(r.headers.get("set-cookie").is_none());
    }
}

fn bearer_needs_no_csrf() {
    let s = Server::start(&[]);
    let c = s.client();
    let (b, _) = c.login_cookie("alice");
    let t = c.login("bob");
    // A request with both: the Authorization header decides, and needs no CSRF token (a
    // browser never adds one by itself).
    let r = c.send(
        c.request("GET", "/me")
            .bearer_auth(&t.access)
            .header("cookie", b.cookie_header()),
    );
    assert_eq!(r.json["sub"], "bob");
    let r = c.send(
        c.request("POST", "/logout")
            .bearer_auth(&t.access)
            .header("cookie", b.cookie_header()),
    );
    assert_eq!(r.status, 204);
    assert!(r.headers.get("set-cookie").is_none());
    assert_eq!(c.with_cookies("GET", "/me", &b, None).status, 200);
}

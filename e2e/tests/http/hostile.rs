//! Hostile input over the wire: malformed and oversized bodies, oversized headers, broken
//! Authorization headers, garbage tokens. Every answer is a 4xx with a JSON error, never a 500,
//! never a dropped connection for a well-formed HTTP request.

use serde_json::json;

use crate::support::Server;

pub const TESTS: &[(&str, fn())] = &[
    ("hostile::malformed_json_bodies_are_400", malformed_bodies),
    ("hostile::oversized_bodies_are_413", oversized_bodies),
    ("hostile::oversized_headers_are_refused", oversized_headers),
    (
        "hostile::broken_authorization_headers_are_400",
        broken_authorization,
    ),
    (
        "hostile::garbage_tokens_are_401_and_echo_nothing",
        garbage_tokens,
    ),
];

fn malformed_bodies() {
    let s = Server::start(&[]);
    let c = s.client();
    let t = c.login("alice");
    let deep = "[".repeat(10_000);
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"alice\"".to_vec(),
        br#"{"username": 1, "password": "x"}"#.to_vec(),
        br#"{"username": "alice"}"#.to_vec(),
        br#"{"username": "alice", "password": "alice-password", "mode": "carrier-pigeon"}"#
            .to_vec(),
        br#"{"refresh_token": 42}"#.to_vec(),
        br#"{"password": null}"#.to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        deep.into_bytes(),
    ];
    for body in &bodies {
        for path in ["/login", "/refresh", "/reauth"] {
            let r = c.send(
                c.request("POST", path)
                    .bearer_auth(&t.access)
                    .header("content-type", "application/json")
                    .body(body.clone()),
            );
            // /refresh with an empty body is a cookie refresh without cookies: 401.
            let want = if path == "/refresh" && body.is_empty() {
                401
            } else {
                400
            };
            assert_eq!(
                r.status,
                want,
                "{path} {:?}: {}",
                String::from_utf8_lossy(&body[..body.len().min(40)]),
                r.text
            );
            assert!(r.json["error"].is_string(), "{}", r.text);
        }
    }
    // The session is unharmed.
    assert_eq!(c.get_bearer("/me", &t.access).status, 200);
}

fn oversized_bodies() {
    let s = Server::start(&[]);
    let c = s.client();
    // Just over the 16 KiB limit: small enough that the client has sent it all before the refusal
    // (a larger body can meet a closed connection, which is a refusal too, but not a 413).
    let pad = "x".repeat(17 * 1024);
    let body = json!({"username": "alice", "password": pad}).to_string();
    for path in ["/login", "/refresh"] {
        let r = c.send(
            c.request("POST", path)
                .header("content-type", "application/json")
                .body(body.clone()),
        );
        assert_eq!(r.status, 413, "{path}: {}", r.text);
    }
    // A large body on a route that reads none is refused before it is read: the answer may
    // reach the client, or the server closes the connection while the client is still writing.
    match c
        .request("POST", "/logout")
        .body(vec![b'x'; 4 << 20])
        .send()
    {
        Ok(r) => assert_eq!(r.status().as_u16(), 401),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
}

fn oversized_headers() {
    let s = Server::start(&[]);
    let c = s.client();
    // A bearer token past the verifier's 8 KiB limit: refused before any decoding.
    let big = "a".repeat(16 * 1024);
    let r = c.get_bearer("/me", &big);
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.error(), "token_too_large");
    // A request head past hyper's limit: 431, and the service keeps serving.
    let huge = "b".repeat(512 * 1024);
    match c.request("GET", "/me").header("x-padding", huge).send() {
        Ok(r) => assert_eq!(r.status().as_u16(), 431),
        Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
    }
    let many = (0..200).fold(c.request("GET", "/me"), |r, i| {
        r.header(format!("x-h{i}"), "v")
    });
    match many.send() {
        Ok(r) => assert!([431, 401].contains(&r.status().as_u16()), "{}", r.status()),
        Err(e) => assert!(e.is_request(), "{e}"),
    }
    let t = c.login("alice");
    assert_eq!(c.get_bearer("/me", &t.access).status, 200);
}

fn broken_authorization() {
    let s = Server::start(&[]);
    let c = s.client();
    let t = c.login("alice");
    for value in [
        format!("Basic {}", t.access),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
        t.access.clone(),
        format!("Token {}", t.access),
    ] {
        let r = c.send(
            c.request("GET", "/me")
                .header("authorization", value.clone()),
        );
        assert_eq!(r.status, 400, "{value:.20}: {}", r.text);
        assert_eq!(r.error(), "invalid_request");
        assert!(
            r.header("www-authenticate")
                .contains(r#"error="invalid_request""#)
        );
    }
    // Two Authorization headers: ambiguous, refused.
    let r = c.send(
        c.request("GET", "/me")
            .header("authorization", format!("Bearer {}", t.access))
            .header("authorization", format!("Bearer {}", t.access)),
    );
    assert_eq!(r.status, 400);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    let r = c.send(
        c.request("GET", "/me")
            .header("authorization", format!("bearer {}", t.access)),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

fn garbage_tokens() {
    let s = Server::start(&[]);
    let c = s.client();
    let t = c.login("alice");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    for round in 0..200 {
        let token: String = match round % 4 {
            // Random printable text.
            0 => (0..(next() % 600))
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                .collect(),
            // The real token with one character changed.
            1 => {
                let mut b = t.access.clone().into_bytes();
                let i = (next() as usize) % b.len();
                b[i] = alphabet[(next() % alphabet.len() as u64) as usize];
                String::from_utf8(b).unwrap()
            }
            // Truncated.
            2 => t.access[..(next() as usize) % t.access.len()].to_owned(),
            // PASETO-shaped.
            _ => format!(
                "v4.public.{}",
                &t.access[..(next() as usize) % t.access.len()]
            ),
        };
        if token == t.access || token.is_empty() {
            continue;
        }
        let r = c.send(
            c.request("GET", "/me")
                .header("authorization", format!("Bearer {token}")),
        );
        assert!(
            [400, 401].contains(&r.status),
            "{token}: {} {}",
            r.status,
            r.text
        );
        assert!(r.json["error"].is_string(), "{}", r.text);
        if token.len() > 8 {
            assert!(!r.text.contains(&token), "the answer echoes the token");
        }
    }
}

//! Two demo nodes, separate processes, one key file and one Redis: one service. A session
//! started on one works on the other, a logout on one holds on the other, a replay on one is
//! caught by the other, and a node killed with SIGKILL loses nothing.

use std::time::Duration;

use crate::redis_server::RedisServer;
use crate::support::{Browser, Node, TempDir, Tokens, eventually};

pub const TESTS: &[(&str, fn())] = &[("nodes::two_nodes_on_one_redis_are_one_service", two_nodes)];

fn two_nodes() {
    let mut redis = RedisServer::start();
    let dir = TempDir::new("nodes");
    let keys = dir.0.join("keys.json");
    let flags: Vec<String> = vec![
        "--keys".into(),
        keys.display().to_string(),
        "--store".into(),
        redis.url(),
        "--grace".into(),
        "1s".into(),
    ];
    // Both start at once on a key file that does not exist yet: its lock makes one of them
    // create it and the other read it.
    let start = || {
        let flags = flags.clone();
        std::thread::spawn(move || {
            Node::start(&flags.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };
    let (a, b) = (start(), start());
    let (mut a, b) = (a.join().unwrap(), b.join().unwrap());
    let (ca, cb) = (a.client(), b.client());

    // Log in on A, use and refresh on B.
    let t = ca.login("alice");
    assert_eq!(cb.get_bearer("/me", &t.access).status, 200);
    let r = cb.refresh(&t.refresh);
    assert_eq!(r.status, 200, "{}", r.text);
    let next = Tokens {
        access: r.str("access_token"),
        refresh: r.str("refresh_token"),
    };
    assert_eq!(
        ca.get_bearer("/sessions", &next.access)
            .json
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Log out on A: B refuses the session's tokens once its replica has the revocation.
    assert_eq!(ca.post_bearer("/logout", &next.access).status, 204);
    let took = eventually(Duration::from_secs(5), || {
        cb.get_bearer("/me", &next.access).status == 401
    });
    let took = took.expect("node B refuses a session logged out on node A");
    eprintln!("logout on A refused on B after {took:?}");
    assert_eq!(cb.refresh(&next.refresh).status, 401);

    // A replay across nodes: refreshed on B, the old refresh token comes back on A after the
    // grace: the family ends everywhere.
    let t = ca.login("bob");
    let r = cb.refresh(&t.refresh);
    assert_eq!(r.status, 200);
    let stolen_then_used = r.str("access_token");
    let legit_refresh = r.str("refresh_token");
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(ca.refresh(&t.refresh).status, 401, "the replay is refused");
    assert_eq!(
        cb.refresh(&legit_refresh).status,
        401,
        "the family is revoked"
    );
    assert!(
        eventually(Duration::from_secs(5), || {
            ca.get_bearer("/me", &stolen_then_used).status == 401
                && cb.get_bearer("/me", &stolen_then_used).status == 401
        })
        .is_some()
    );

    // Cookie mode across nodes: the CSRF key derives from the shared refresh-token key.
    let (browser, _) = ca.login_cookie("alice");
    let r = cb.with_cookies("POST", "/refresh", &browser, Some(&browser.csrf));
    assert_eq!(r.status, 200, "{}", r.text);
    let browser = Browser {
        access: r.cookie("__Host-access").value,
        refresh: r.cookie("__Host-refresh").value,
        csrf: r.str("csrf_token"),
    };

    // SIGKILL node A: B serves on, and a new A on the same key file and Redis knows everything.
    let kept = ca.login("alice");
    drop(ca);
    drop(std::mem::replace(
        &mut a,
        Node::start(&flags.iter().map(String::as_str).collect::<Vec<_>>()),
    ));
    let ca = a.client();
    assert_eq!(cb.get_bearer("/me", &kept.access).status, 200);
    assert_eq!(ca.get_bearer("/me", &kept.access).status, 200);
    assert_eq!(ca.with_cookies("GET", "/me", &browser, None).status, 200);
    let r = ca.refresh(&kept.refresh);
    assert_eq!(r.status, 200, "{}", r.text);
    let kept = Tokens {
        access: r.str("access_token"),
        refresh: r.str("refresh_token"),
    };
    // A logout from before the restart still holds on the new node.
    assert_eq!(ca.get_bearer("/me", &next.access).status, 401);

    // Redis dies: verification goes on from each node's replica; what needs the store is 503.
    redis.kill();
    let login = serde_json::json!({"username": "bob", "password": "bob-password"});
    let r = ca.post_json("/login", &login);
    assert_eq!(r.status, 503, "{}", r.text);
    assert_eq!(r.error(), "store_unavailable");
    assert_eq!(cb.refresh(&kept.refresh).status, 503);
    assert_eq!(cb.get_bearer("/me", &kept.access).status, 200);
    assert_eq!(
        ca.get_bearer("/me", &next.access).status,
        401,
        "still revoked"
    );
    // Redis is back (its append-only file kept everything): so is the service.
    redis.restart();
    assert!(
        eventually(Duration::from_secs(10), || ca
            .post_json("/login", &login)
            .status
            == 200)
        .is_some()
    );
    assert_eq!(cb.refresh(&kept.refresh).status, 200);
}

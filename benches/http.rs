//! Requests per second for `GET /me` over loopback HTTP/1.1 keep-alive, 64 connections, each
//! its own user and token: the route behind `keycard::http::Authenticated` against the same
//! route without authentication, in the same run (so the ratio is what verification costs a small
//! JSON API). Three servers, one route each:
//!
//! - `no_auth`: the handler answers the same JSON shape from constants;
//! - `authenticated_cached`: the extractor on a keycard with `verified_cache` (the demo
//!   service's setting): a token seen before skips its signature check, every other check runs;
//! - `authenticated`: the extractor verifying every request from scratch (Ed25519 each time).
//!
//! The machine has 2 cores: the server runs on a 1-worker tokio runtime (one core), the load
//! generator on one thread of its own (the other core; a minimal keep-alive client written for
//! this bench), so the server's CPU per request decides the rate and the two do not compete. Each variant runs 2 s per round, rounds alternate the
//! variants, and each variant's median over the rounds is reported.
//!
//! `cargo bench -p keycard-bench --bench http`; it writes `target/criterion/http.json` for
//! `bench-table`.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use keycard::http::{Authenticated, KeycardHttp};
use keycard::{Algorithm, KeyRing, Keycard, NoCustomClaims};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONNECTIONS: usize = 64;
const ROUND: Duration = Duration::from_secs(2);
const ROUNDS: usize = 7;

async fn me(user: Authenticated) -> Json<serde_json::Value> {
    let c = user.claims();
    Json(json!({
        "sub": c.subject(),
        "sid": c.session_id().map(|s| s.as_str()),
        "exp": c.expires_at().as_unix(),
        "auth_time": c.auth_time().map(|t| t.as_unix()),
    }))
}

async fn me_no_auth() -> Json<serde_json::Value> {
    Json(json!({
        "sub": "user00",
        "sid": "AAAAAAAAAAAAAAAAAAAAAA",
        "exp": 1_800_000_300u64,
        "auth_time": 1_800_000_000u64,
    }))
}

/// A keycard (cache or not) and 64 users' access tokens.
fn keycard(cache: usize) -> (KeycardHttp, Vec<String>) {
    let keys = Arc::new(KeyRing::new());
    keys.rotate(Algorithm::EdDSA).unwrap();
    let kc = Keycard::builder(keys)
        .verified_cache(cache)
        .build()
        .unwrap();
    let tokens = (0..CONNECTIONS)
        .map(|i| {
            kc.login(&format!("user{i:02}"), &NoCustomClaims {}, None)
                .unwrap()
                .access
                .as_str()
                .to_owned()
        })
        .collect();
    (KeycardHttp::new(Arc::new(kc)), tokens)
}

/// Starts `router` on a free loopback port of `rt`.
fn serve(rt: &tokio::runtime::Runtime, router: Router) -> SocketAddr {
    let listener = rt
        .block_on(TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// One keep-alive connection sending `request` until `stop`, counting 200 answers.
async fn connection(
    addr: SocketAddr,
    request: Vec<u8>,
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = vec![0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        s.write_all(&request).await.unwrap();
        let mut have = 0;
        loop {
            let n = s.read(&mut buf[have..]).await.unwrap();
            assert!(n > 0, "the server closed the connection");
            have += n;
            let Some(end) = find(&buf[..have], b"\r\n\r\n") else {
                continue;
            };
            let head = std::str::from_utf8(&buf[..end]).unwrap();
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .expect("content-length");
            if have >= end + 4 + len {
                break;
            }
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Requests per second against `addr` over one round.
fn round(addr: SocketAddr, tokens: &[String]) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = tokens
            .iter()
            .map(|t| {
                let request = format!(
                    "GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {t}\r\n\r\n"
                )
                .into_bytes();
                tokio::spawn(connection(addr, request, stop.clone(), done.clone()))
            })
            .collect();
        // Warm-up: connections open, caches fill.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let start_count = done.load(Ordering::Relaxed);
        let start = Instant::now();
        tokio::time::sleep(ROUND).await;
        let n = done.load(Ordering::Relaxed) - start_count;
        let secs = start.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        n as f64 / secs
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (plain_http, tokens) = keycard(0);
    let (cached_http, cached_tokens) = keycard(10_000);
    let no_auth = serve(&server, Router::new().route("/me", get(me_no_auth)));
    let cached = serve(
        &server,
        Router::new().route("/me", get(me)).with_state(cached_http),
    );
    let plain = serve(
        &server,
        Router::new().route("/me", get(me)).with_state(plain_http),
    );
    let variants: [(&str, SocketAddr, &[String]); 3] = [
        ("no_auth", no_auth, &tokens),
        ("authenticated_cached", cached, &cached_tokens),
        ("authenticated", plain, &tokens),
    ];
    let mut results: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for r in 0..ROUNDS {
        for (i, (name, addr, tokens)) in variants.iter().enumerate() {
            let rps = round(*addr, tokens);
            eprintln!("round {r} {name:<22} {rps:>9.0} requests/s");
            results[i].push(rps);
        }
    }
    let rps: Vec<f64> = results.into_iter().map(median).collect();
    let base = rps[0];
    println!(
        "GET /me, {CONNECTIONS} keep-alive connections, median of {ROUNDS} rounds of {ROUND:?}:"
    );
    let mut rows = Vec::new();
    for ((name, _, _), r) in variants.iter().zip(&rps) {
        println!("  {name:<22} {r:>9.0} requests/s  {:.3}x no_auth", r / base);
        rows.push(json!({ "variant": name, "per_second": r, "ratio": r / base }));
    }
    let out = support::criterion_dir();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("http.json"),
        serde_json::to_string_pretty(&json!({
            "connections": CONNECTIONS,
            "rounds": ROUNDS,
            "round_secs": ROUND.as_secs_f64(),
            "variants": rows,
        }))
        .unwrap(),
    )
    .unwrap();
}

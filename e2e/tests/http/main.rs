//! The demo service (examples/server.rs) end to end, over real HTTP on loopback: the contract
//! in docs/http.md, bearer and cookie modes, CSRF, reuse detection, step-up, hostile input,
//! two nodes on one Redis, and the page at `/` in a headless Chromium.
//!
//! Tests that need an outside program (redis-server, chromium) are reported ignored with the
//! reason outside CI, and fail under CI (`CI` set) rather than pass by skipping.

#[path = "../../../examples/server/app.rs"]
mod app;
#[path = "../../../examples/server/config.rs"]
mod config;
#[path = "../../../tests/common/harness.rs"]
mod harness;
#[path = "../../../tests/common/node_oracle.rs"]
mod node_oracle;
#[path = "../../../tests/common/oracle.rs"]
mod oracle;
#[path = "../../../tests/common/redis_server.rs"]
mod redis_server;

mod bearer;
mod browser;
mod cookies;
mod dpop;
mod hostile;
mod nodes;
mod readme;
mod support;
mod verify_only;

use oracle::{Oracle, needs, test};

fn main() {
    let args = harness::Arguments::from_args();
    let mut trials = Vec::new();
    trials.extend(bearer::TESTS.iter().map(|(n, f)| test(n, *f)));
    trials.extend(cookies::TESTS.iter().map(|(n, f)| test(n, *f)));
    trials.extend(hostile::TESTS.iter().map(|(n, f)| test(n, *f)));
    trials.extend(verify_only::TESTS.iter().map(|(n, f)| test(n, *f)));
    trials.extend(
        nodes::TESTS
            .iter()
            .map(|(n, f)| needs(Oracle::RedisServer, n, *f)),
    );
    trials.extend(
        readme::TESTS
            .iter()
            .map(|(n, f)| needs(Oracle::CurlJq, n, *f)),
    );
    trials.extend(dpop::TESTS.iter().map(|(n, f)| needs(Oracle::Node, n, *f)));
    trials.extend(
        browser::TESTS
            .iter()
            .map(|(n, f)| needs(Oracle::Chromium, n, *f)),
    );
    harness::run(&args, trials).exit();
}

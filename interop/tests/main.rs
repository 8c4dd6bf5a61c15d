//! keycard against independent implementations: the `jsonwebtoken` crate, Python's PyJWT,
//! node's `jose` and `@sd-jwt/jwt-status-list`, and pasetors, in both directions, and the proof
//! that a refresh token passes as an access token in none of them.
//!
//! A harness-less test binary (`libtest-mimic`), so that a test whose oracle cannot run is
//! reported as ignored, with its reason, instead of passing (see `oracle`).

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/harness.rs"]
mod harness;
#[path = "../../tests/common/node_oracle.rs"]
mod node_oracle;
#[path = "../../tests/common/oracle.rs"]
mod oracle;

mod jsonwebtoken;
mod node;
mod pyjwt;
mod refresh_opacity;

fn main() {
    let args = harness::Arguments::from_args();
    let mut trials = Vec::new();
    trials.extend(jsonwebtoken::trials());
    trials.extend(pyjwt::trials());
    trials.extend(node::trials());
    trials.extend(refresh_opacity::trials());
    harness::run(&args, trials).exit();
}

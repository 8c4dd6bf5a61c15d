//! Runs `interop/node/oracle.mjs` (node's `jose` and `@sd-jwt/jwt-status-list`; see its header
//! for the commands) and reads its JSON answer. The packages are installed by the `Node` oracle
//! (`common/oracle.rs`) before a test that needs them runs.

use std::process::Command;

use serde_json::Value;

/// The oracle script, from the workspace root.
pub fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("interop/node/oracle.mjs"))
        .find(|p| p.exists())
        .expect("interop/node/oracle.mjs")
}

/// `node oracle.mjs ARGS…`, its stdout as JSON; panics with its stderr when it fails.
pub fn node(args: &[&str]) -> Value {
    let out = Command::new("node")
        .arg(script())
        .args(args)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "node {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

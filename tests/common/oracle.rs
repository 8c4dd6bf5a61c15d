//! External programs some tests need: other languages' libraries used as independent oracles.
//!
//! A test that needs one is made with [`needs`]:
//! - the oracle is ready (installed by the test itself where that is how it is obtained, e.g.
//!   `pip install`): the test runs;
//! - it is missing outside CI: the test is reported **ignored** (`[needs PyJWT]` in the listing),
//!   with the reason printed once; `--include-ignored` makes it fail with that reason, never pass;
//! - it is missing under CI (`CI` set, as `.ci/run` does): the test runs and fails with the
//!   reason, so CI can never pass by skipping.
//!
//! Used by the harness-less test binaries (`harness.rs`) of the library, `interop/`, `cli/`
//! and `e2e/`.
#![allow(dead_code)]

use std::process::Command;
use std::sync::OnceLock;

use crate::harness::Trial;

/// An external program or library a test checks keycard against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oracle {
    /// Python's PyJWT with `cryptography`.
    PyJwt,
    /// Debian's `redis-server` (tests start their own, on a free port).
    RedisServer,
    /// `redis-server` and `redis-cli`, to create a three-node Redis Cluster.
    RedisCluster,
    /// Debian's `chromium`, driven headless.
    Chromium,
    /// `curl` and `jq`, for the README's HTTP walk-through.
    CurlJq,
    /// Node with npm's `jose` and `@sd-jwt/jwt-status-list` (installed with `npm ci` into
    /// `interop/node` when missing).
    Node,
}

impl Oracle {
    pub fn name(self) -> &'static str {
        match self {
            Oracle::PyJwt => "PyJWT",
            Oracle::RedisServer => "redis-server",
            Oracle::RedisCluster => "redis-cli",
            Oracle::Chromium => "chromium",
            Oracle::CurlJq => "curl+jq",
            Oracle::Node => "node jose",
        }
    }

    /// Ok when usable; otherwise why not. Probed (and installed) once per process.
    pub fn ready(self) -> Result<(), String> {
        static PYJWT: OnceLock<Result<(), String>> = OnceLock::new();
        static REDIS: OnceLock<Result<(), String>> = OnceLock::new();
        static CLI: OnceLock<Result<(), String>> = OnceLock::new();
        static CHROMIUM: OnceLock<Result<(), String>> = OnceLock::new();
        static CURL: OnceLock<Result<(), String>> = OnceLock::new();
        static NODE: OnceLock<Result<(), String>> = OnceLock::new();
        match self {
            Oracle::PyJwt => PYJWT.get_or_init(pyjwt).clone(),
            Oracle::RedisServer => REDIS
                .get_or_init(|| runs("redis-server", "apt-get install -y redis-server"))
                .clone(),
            Oracle::RedisCluster => CLI
                .get_or_init(|| {
                    runs("redis-server", "apt-get install -y redis-server")?;
                    runs("redis-cli", "apt-get install -y redis-tools")
                })
                .clone(),
            Oracle::Chromium => CHROMIUM
                .get_or_init(|| runs("chromium", "apt-get install -y chromium"))
                .clone(),
            Oracle::Node => NODE.get_or_init(node_packages).clone(),
            Oracle::CurlJq => CURL
                .get_or_init(|| {
                    runs("curl", "apt-get install -y curl")?;
                    runs("jq", "apt-get install -y jq")
                })
                .clone(),
        }
    }
}

/// Whether this is a CI run, where nothing may be skipped.
pub fn under_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// A test that always runs.
pub fn test(name: &str, f: fn()) -> Trial {
    Trial::test(name, move || {
        f();
        Ok(())
    })
}

/// A test that needs `oracle` (see the module docs for what happens when it is missing).
pub fn needs(oracle: Oracle, name: &str, f: fn()) -> Trial {
    needs_dyn(oracle, name, Box::new(f))
}

/// [`needs`] for a closure.
pub fn needs_dyn(oracle: Oracle, name: &str, f: Box<dyn FnOnce() + Send>) -> Trial {
    let kind = format!("needs {}", oracle.name());
    match oracle.ready() {
        Ok(()) => Trial::test(name, move || {
            f();
            Ok(())
        })
        .with_kind(kind),
        Err(reason) if under_ci() => Trial::test(name, move || {
            Err(format!("cannot run under CI: {reason}").into())
        })
        .with_kind(kind),
        Err(reason) => {
            eprintln!("SKIPPED (reported as ignored) {name}: {reason}");
            Trial::test(name, move || Err(format!("not run: {reason}").into()))
                .with_ignored_flag(true)
                .with_kind(kind)
        }
    }
}

/// Whether `program --version` runs; the reason and the fix when it does not.
fn runs(program: &str, install: &str) -> Result<(), String> {
    match Command::new(program).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err(format!("{program} not found ({install})")),
    }
}

fn python_has_pyjwt() -> Result<bool, String> {
    Command::new("python3")
        .args(["-c", "import jwt, cryptography"])
        .output()
        .map(|o| o.status.success())
        .map_err(|_| "python3 not found".to_owned())
}

/// PyJWT, installed with pip when python3 is there but PyJWT is not.
fn pyjwt() -> Result<(), String> {
    if python_has_pyjwt()? {
        return Ok(());
    }
    eprintln!("installing PyJWT and cryptography with pip for the interop tests");
    let install = |extra: &[&str]| {
        Command::new("python3")
            .args(["-m", "pip", "install", "--quiet"])
            .args(extra)
            .args(["pyjwt>=2.8", "cryptography"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install(&[]) {
        install(&["--break-system-packages"]);
    }
    if python_has_pyjwt()? {
        Ok(())
    } else {
        Err(
            "PyJWT could not be installed with pip (python3 -m pip install pyjwt cryptography)"
                .into(),
        )
    }
}

/// The node packages of `interop/node`, installed with `npm ci` (from its lock file) when
/// missing.
fn node_packages() -> Result<(), String> {
    runs("node", "apt-get install -y nodejs npm")?;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|d| d.join("interop/node"))
        .find(|d| d.join("package.json").exists())
        .ok_or("interop/node/package.json not found")?;
    let ready = |d: &std::path::Path| {
        d.join("node_modules/jose").exists()
            && d.join("node_modules/@sd-jwt/jwt-status-list").exists()
    };
    if ready(&dir) {
        return Ok(());
    }
    eprintln!("installing jose and @sd-jwt/jwt-status-list with npm ci for the interop tests");
    let ok = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .current_dir(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if ok && ready(&dir) {
        Ok(())
    } else {
        Err(format!("npm ci failed in {}", dir.display()))
    }
}

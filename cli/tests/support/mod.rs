//! Running the `keycard` binary in tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn keycard(args: &[&str]) -> Out {
    keycard_stdin(args, None)
}

pub fn keycard_stdin(args: &[&str], stdin: Option<&str>) -> Out {
    use std::io::Write;
    let mut cmd = Command::cargo_bin("keycard").unwrap();
    cmd.args(args);
    cmd.stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped());
    cmd.stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(input) = stdin {
            pipe.write_all(input.as_bytes()).unwrap();
        }
    }
    let o = child.wait_with_output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn ok(args: &[&str]) -> String {
    let o = keycard(args);
    assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
    o.stdout.trim_end().to_owned()
}

/// Asserts the rejection contract: exit 1, nothing on stdout, one stderr line with the kind.
pub fn rejected(o: &Out, kind: &str) {
    assert_eq!(o.code, 1, "stderr: {}", o.stderr);
    assert!(o.stdout.is_empty(), "stdout: {}", o.stdout);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(
        o.stderr.starts_with(&format!("error: {kind}: ")),
        "want {kind}, got {}",
        o.stderr
    );
}

pub fn usage_error(o: &Out) {
    assert_eq!(o.code, 2, "stdout {} stderr {}", o.stdout, o.stderr);
    assert!(o.stdout.is_empty());
}

pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keycard-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A key set with an EdDSA, a v4.public and a v4.local key.
pub fn keyset(dir: &Path) -> PathBuf {
    let keys = dir.join("keys.json");
    for alg in ["EdDSA", "v4.public", "v4.local"] {
        ok(&["keygen", "--keys", p(&keys), "--alg", alg]);
    }
    keys
}

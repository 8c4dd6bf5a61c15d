//! The README's HTTP walk-through, run as written (bash, curl, jq) against the demo service
//! started with the flags the README shows.

use std::process::Command;

use crate::support::Node;

pub const TESTS: &[(&str, fn())] = &[("readme::the_curl_walkthrough_runs_as_shown", walkthrough)];

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

/// The ```sh block after `<!-- walkthrough:http -->`.
fn block(text: &str) -> String {
    let at = text
        .find("<!-- walkthrough:http -->")
        .expect("the README marks its HTTP walk-through");
    let rest = &text[at..];
    let start = rest.find("```sh\n").unwrap() + "```sh\n".len();
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_owned()
}

fn walkthrough() {
    let text = readme();
    // The README starts the demo with `--grace 1s`; so does this test.
    assert!(
        text.contains("cargo run --example server --features axum -- --grace 1s"),
        "the README's start command changed: update this test"
    );
    let node = Node::start(&["--grace", "1s"]);
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block(&text)])
        .env("BASE", &node.base)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walk-through failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(lines[0].contains(r#""sub":"alice""#), "{stdout}");
    assert_eq!(lines[1], r#"{"error":"refresh_reuse_detected"} 401"#);
    assert_eq!(lines[2], r#"{"error":"revoked"} 401"#);
    assert_eq!(lines[3], "204");
    assert_eq!(lines[4], r#"{"error":"revoked"} 401"#);
}

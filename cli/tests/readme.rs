//! The README's command-line walk-through runs as shown: the first `sh` block of its
//! "Command line" section is run with `sh -e` in a temporary directory, with this build's
//! `keycard` first on the PATH.

use std::path::Path;
use std::process::Command;

fn walkthrough() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = &readme[readme
        .find("\n## Command line")
        .expect("a Command line section")..];
    let start = section.find("```sh\n").expect("an sh block") + "```sh\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_owned()
}

#[test]
fn the_readme_walkthrough_runs_as_shown() {
    let script = walkthrough();
    assert!(script.lines().count() >= 8, "{script}");
    let dir = std::env::temp_dir().join(format!("keycard-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_keycard")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .args(["-e", "-c", &script])
        .current_dir(&dir)
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The token verified, then was revoked.
    assert!(stdout.contains(r#""sub":"alice""#), "{stdout}");
    assert!(stdout.contains(r#""verified": false"#), "{stdout}");
    assert!(stdout.contains("k4.public."), "{stdout}");
    assert!(stdout.contains("rejected, exit 1"), "{stdout}");
    assert!(stderr.contains("error: revoked: "), "{stderr}");
    assert!(dir.join("jwks.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

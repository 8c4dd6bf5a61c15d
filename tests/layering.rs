//! The one-way data flow, kept true mechanically: each top-level module of `src/` may use only
//! the modules before it in the flow (keys -> claims -> formats -> issue / verify -> revocation ->
//! refresh -> stores -> the facade), plus the leaves every module may use.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

/// Leaves: usable from anywhere.
const LEAVES: &[&str] = &[
    "error",
    "clock",
    "encoding",
    "atomic_file",
    "file_lock",
    "fetch",
];

/// Each module and the (non-leaf) modules it may use.
const ALLOWED: &[(&str, &[&str])] = &[
    ("keys", &[]),
    ("claims", &["keys"]),
    ("format", &["keys", "claims"]),
    ("issue", &["keys", "claims", "format"]),
    ("dpop", &["keys", "claims"]),
    ("verify", &["keys", "claims", "format", "dpop"]),
    ("dangerous", &["keys", "format"]),
    ("status", &["keys", "claims", "format", "verify"]),
    ("revocation", &["keys", "claims", "verify"]),
    ("refresh", &["keys", "claims", "verify", "revocation"]),
    (
        "stores",
        &["keys", "claims", "dpop", "verify", "revocation", "refresh"],
    ),
    (
        "keycard",
        &[
            "keys",
            "claims",
            "issue",
            "verify",
            "refresh",
            "revocation",
            "stores",
            "status",
            "dpop",
        ],
    ),
    // Integrations are leaves of the flow: they may use everything, and nothing uses them.
    (
        "http",
        &[
            "keys",
            "claims",
            "issue",
            "verify",
            "refresh",
            "revocation",
            "stores",
            "keycard",
            "status",
            "dpop",
        ],
    ),
];

/// Modules outside the flow: the fuzzing entry points (feature `fuzzing`).
const OUTSIDE: &[&str] = &["fuzzing"];

#[test]
fn every_module_has_a_place_in_the_flow() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in fs::read_dir(&src).unwrap().flatten() {
        let name = entry
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if name == "lib" {
            continue;
        }
        assert!(
            LEAVES.contains(&name.as_str())
                || OUTSIDE.contains(&name.as_str())
                || ALLOWED.iter().any(|(m, _)| *m == name),
            "src/{name} is not placed in the flow (tests/layering.rs)"
        );
    }
}

#[test]
fn nothing_uses_the_integrations() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for file in files {
        if file.starts_with(src.join("http")) || file.ends_with("lib.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            !used_modules(&text).contains("http"),
            "{} uses crate::http: integrations are leaves",
            file.display()
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names through `crate::` in code (comments, including doc links
/// to later modules, do not count).
fn used_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let text = code.as_str();
    let mut used = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            used.insert(name);
        }
    }
    // `use crate::{a, b::c}` groups.
    for (i, _) in text.match_indices("crate::{") {
        let rest = &text[i + "crate::{".len()..];
        let group = &rest[..rest.find('}').unwrap_or(rest.len())];
        for part in group.split(',') {
            let name: String = part
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    used
}

#[test]
fn modules_only_use_what_comes_before_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (module, allowed) in ALLOWED {
        let mut files = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for used in used_modules(&text) {
                let ok = used == *module
                    || LEAVES.contains(&used.as_str())
                    || allowed.contains(&used.as_str())
                    // Crate-root re-exports of types (`crate::Issuer` in a doc or test).
                    || used.chars().next().is_some_and(|c| c.is_ascii_uppercase());
                if !ok {
                    violations.push(format!("{} uses crate::{used}", file.display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "\n{}", violations.join("\n"));
}

#[test]
fn leaves_use_only_leaves() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for leaf in LEAVES {
        let mut files = Vec::new();
        let dir = src.join(leaf);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{leaf}.rs")));
        }
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for used in used_modules(&text) {
                assert!(
                    LEAVES.contains(&used.as_str()) || used == *leaf,
                    "{} uses crate::{used}",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn fuzzing_entry_points_are_not_in_release_builds() {
    // `keycard::fuzzing` holds fixed, publicly known private keys and a raw-footer minting
    // helper: it exists only with the `fuzzing` feature (which `fuzz/` and the corpus replay
    // enable), never in a default build.
    let lib = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| *l == "pub mod fuzzing;")
        .expect("the fuzzing module is declared in lib.rs");
    assert!(
        lines[..at]
            .iter()
            .rev()
            .take_while(|l| l.starts_with("#["))
            .any(|l| *l == "#[cfg(feature = \"fuzzing\")]"),
        "pub mod fuzzing must be behind #[cfg(feature = \"fuzzing\")]"
    );
    let manifest =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let default = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("default ="))
        .unwrap_or("");
    assert!(
        !default.contains("fuzzing"),
        "fuzzing is not a default feature"
    );
}

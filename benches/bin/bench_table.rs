//! Prints the README's performance table from criterion's last run: every benchmark of a group
//! divided by the group's baseline (its first-listed raw primitive), so machine speed cancels out.
//! Every figure comes from the same run's files, so the table cannot drift from the code.
//!
//! `cargo bench -p keycard-bench` first, then `cargo run -p keycard-bench --bin bench-table`.

#[path = "../support/mod.rs"]
mod support;

use std::fs;
use std::path::Path;

/// (group, baseline) pairs; the baseline is the raw primitive measured in the same run.
const BASELINES: &[(&str, &str)] = &[
    ("ed25519_raw", "ring"),
    ("jwt_eddsa", "raw_signature"),
    ("jwt_hs256", "raw_signature"),
    ("jwt_es256", "raw_signature"),
    ("v4_public", "raw_signature"),
    ("v4_local", "pasetors"),
    ("mint_jwt_eddsa", "verify"),
    ("mint_jwt_hs256", "verify"),
    ("mint_jwt_es256", "verify"),
    ("mint_v4_public", "verify"),
    ("mint_v4_local", "verify"),
    ("revocation_build", "rebuild_10m"),
    ("revocation_1m", "hashset_sip"),
    ("revocation_10m", "hashset_sip"),
    ("verify_with_revocation", "verify_no_list"),
    ("refresh", "mint_plus_verify"),
    ("verify_replica", "raw_signature"),
    ("dpop", "verify"),
];

fn point_estimate(dir: &Path) -> Option<f64> {
    let text = fs::read_to_string(dir.join("new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn human(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

fn extras(root: &Path) {
    if let Ok(text) = fs::read_to_string(root.join("revocation_memory.json")) {
        let rows: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for r in rows.as_array().into_iter().flatten() {
            let n = r["entries"].as_u64().unwrap_or(0);
            let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
            println!(
                "| revocation_memory | {}M live entries | {:.1} B/entry at most between rebuilds, {:.1} B/entry at the rebuild peak, {:.1} B/entry compacted (filter {:.2}); compact replica {:.2} B/entry | counted (dhat) |",
                n / 1_000_000,
                f("between_rebuilds"),
                f("peak"),
                f("compacted"),
                f("filter_bytes_per_entry"),
                f("compact")
            );
        }
    }
    if let Ok(text) = fs::read_to_string(root.join("redis.json")) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for r in v["rotations"].as_array().into_iter().flatten() {
            println!(
                "| redis | refresh rotations/s, {} store, {} client(s) | {:.0}/s | |",
                r["store"].as_str().unwrap_or(""),
                r["clients"],
                r["per_second"].as_f64().unwrap_or(0.0)
            );
        }
        let p = &v["propagation_ms"];
        println!(
            "| redis | logout on node A to rejection on node B, {} trials | p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms | |",
            p["trials"],
            p["p50"].as_f64().unwrap_or(f64::NAN),
            p["p99"].as_f64().unwrap_or(f64::NAN),
            p["max"].as_f64().unwrap_or(f64::NAN)
        );
    }
    if let Ok(text) = fs::read_to_string(root.join("status_list.json")) {
        let rows: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for r in rows.as_array().into_iter().flatten() {
            println!(
                "| status_list | {} live sessions, {}% revoked ({} indices) | {} B token, {:.4} B per live session, built and signed in {:.0} ms | |",
                r["live"],
                r["revoked_percent"],
                r["indices"],
                r["token_bytes"],
                r["bytes_per_live_session"].as_f64().unwrap_or(f64::NAN),
                r["build_ms"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    if let Ok(text) = fs::read_to_string(root.join("http.json")) {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for r in v["variants"].as_array().into_iter().flatten() {
            println!(
                "| http | GET /me, {}, {} keep-alive connections | {:.0} requests/s | {:.3} |",
                r["variant"].as_str().unwrap_or(""),
                v["connections"],
                r["per_second"].as_f64().unwrap_or(0.0),
                r["ratio"].as_f64().unwrap_or(0.0)
            );
        }
    }
    if let Ok(text) = fs::read_to_string(root.join("concurrency.json")) {
        let rows: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for r in rows.as_array().into_iter().flatten() {
            println!(
                "| concurrency | {} {} | {:.0} / {:.0} verifies/s | {:.2} |",
                r["alg"].as_str().unwrap_or(""),
                r["scenario"].as_str().unwrap_or(""),
                r["one"].as_f64().unwrap_or(0.0),
                r["two"].as_f64().unwrap_or(0.0),
                r["ratio"].as_f64().unwrap_or(0.0)
            );
        }
    }
}

fn main() {
    let root = support::criterion_dir();
    let any = BASELINES
        .iter()
        .any(|(g, b)| point_estimate(&root.join(g).join(b)).is_some());
    if !any {
        eprintln!(
            "no benchmark results in {}\n\
             run the benchmarks first (about 20 minutes on 2 cores), then this again:\n\
             \n    cargo bench -p keycard-bench\n    cargo run -p keycard-bench --bin bench-table",
            root.display()
        );
        std::process::exit(2);
    }
    println!("| group | benchmark | median | ratio to baseline |");
    println!("|---|---|---|---|");
    for (group, baseline) in BASELINES {
        let dir = root.join(group);
        let Some(base) = point_estimate(&dir.join(baseline)) else {
            continue;
        };
        let mut rows: Vec<(String, f64)> = fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("new/estimates.json").exists())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                point_estimate(&e.path()).map(|t| (name, t))
            })
            .collect();
        rows.sort_by(|a, b| {
            (a.0 != *baseline, a.1)
                .partial_cmp(&(b.0 != *baseline, b.1))
                .unwrap()
        });
        for (name, t) in rows {
            println!("| {group} | {name} | {} | {:.2} |", human(t), t / base);
        }
    }
    extras(&root);
}

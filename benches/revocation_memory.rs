//! Bytes per live revocation entry, counted by a counting allocator (dhat), filter included.
//!
//! `cargo bench --bench revocation_memory` prints one line per size and writes
//! `target/criterion/revocation_memory.json` for `examples/bench_table`.

use keycard::revocation::RevocationList;
use keycard::{Timestamp, TokenId};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let until = Timestamp::from_unix(4_000_000_000).unwrap();
    let mut rows = Vec::new();
    for n in [1_000_000usize, 10_000_000] {
        // Ids are created and dropped one at a time so only the list's own memory remains.
        let before = dhat::HeapStats::get().curr_bytes;
        let list = RevocationList::new();
        for _ in 0..n {
            list.revoke_token(&TokenId::random(), until).unwrap();
        }
        list.compact().unwrap();
        let after = dhat::HeapStats::get().curr_bytes;
        let per = (after - before) as f64 / n as f64;
        let stats = list.stats();
        println!(
            "revocation_memory/{n}: {per:.1} bytes per live entry ({} entries, filter {} bits = {:.2} B/entry)",
            stats.entries,
            stats.filter_bits,
            stats.filter_bits as f64 / 8.0 / n as f64
        );
        rows.push(serde_json::json!({"entries": n, "bytes_per_entry": per,
            "filter_bytes_per_entry": stats.filter_bits as f64 / 8.0 / n as f64}));
        drop(list);
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("revocation_memory.json"),
        serde_json::json!(rows).to_string(),
    );
}

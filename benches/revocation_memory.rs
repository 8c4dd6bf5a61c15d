//! Bytes per live revocation entry, counted by a counting allocator (dhat), filter included:
//! - **between rebuilds**: the list's heap, sampled every 2% of the additions, divided by the
//!   entries it holds; the largest sample is reported (what the list costs at any time);
//! - **peak**: the most heap the list ever held while adding and rebuilding (merges of recent
//!   additions into the sorted base, filter rebuilds, and a final `compact`), per entry;
//! - **compacted**: right after `compact()`.
//!
//! `cargo bench -p keycard-bench --bench revocation_memory` prints one line per size and writes
//! `target/criterion/revocation_memory.json` for `bench-table`.

mod support;

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
        let mut between = 0f64;
        let step = n / 50;
        for i in 1..=n {
            list.revoke_token(&TokenId::random(), until).unwrap();
            if i % step == 0 {
                let held = dhat::HeapStats::get().curr_bytes - before;
                between = between.max(held as f64 / i as f64);
            }
        }
        list.compact().unwrap();
        let stats = dhat::HeapStats::get();
        let compacted = (stats.curr_bytes - before) as f64 / n as f64;
        // The run's peak: for 10M it is the 10M phase's (the 1M list was dropped before).
        let peak = (stats.max_bytes - before) as f64 / n as f64;
        let list_stats = list.stats();
        let filter = list_stats.filter_bits as f64 / 8.0 / n as f64;
        println!(
            "revocation_memory/{n}: {between:.1} B per live entry at most between rebuilds, peak {peak:.1} B while adding and rebuilding, {compacted:.1} B after compact (filter {filter:.2} B/entry)"
        );
        drop(list);
        // A compact replica (feature redis): only the filter, built as from a snapshot.
        let before = dhat::HeapStats::get().curr_bytes;
        let probe = keycard::stores::CompactFilterProbe::new(n);
        let compact = (dhat::HeapStats::get().curr_bytes - before) as f64 / n as f64;
        println!(
            "revocation_memory/{n}/compact: {compact:.2} B per live entry (filter {} bits)",
            probe.bits()
        );
        drop(probe);
        rows.push(serde_json::json!({
            "compact": compact,
            "entries": n,
            "between_rebuilds": between,
            "peak": peak,
            "compacted": compacted,
            "filter_bytes_per_entry": filter,
        }));
    }
    let dir = support::criterion_dir();
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(
        dir.join("revocation_memory.json"),
        serde_json::json!(rows).to_string(),
    );
}

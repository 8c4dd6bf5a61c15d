#!/usr/bin/env bash
# A newcomer's first command, measured: `cargo run --example quickstart` from a clean target
# directory, at a git revision (default HEAD). Prints the crates compiled and the wall-clock time.
# Crates must already be downloaded (`cargo fetch`): this measures building, not the network.
#
#   benches/cold-build.sh            # this checkout's HEAD
#   benches/cold-build.sh a14071c    # an older revision, for a before/after comparison
set -euo pipefail
rev="${1:-HEAD}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'git -C "$repo" worktree remove --force "$work/src" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$repo" worktree add --quiet --detach "$work/src" "$rev"
cd "$work/src"
cargo fetch --quiet
export CARGO_TARGET_DIR="$work/target"
start=$(date +%s.%N)
cargo run --example quickstart >/dev/null 2>"$work/log"
end=$(date +%s.%N)
crates=$(grep -c '^ *Compiling ' "$work/log")
printf 'revision %s: %s crates compiled, %.1f s (cold cargo run --example quickstart, %s cores)\n' \
  "$(git rev-parse --short HEAD)" "$crates" "$(echo "$end - $start" | bc)" "$(nproc)"

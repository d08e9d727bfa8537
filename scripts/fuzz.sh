#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from
# the committed corpus (copied, so the repo is not modified). A crash keeps
# its reproducer in fuzz/artifacts/ and fails the run.
set -euo pipefail
build=${1:-build-fuzz}
secs=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/fuzz/artifacts"
status=0
found=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  found=1
  name=$(basename "$bin")
  corpus_src="$root/fuzz/corpus/${name#fuzz_}"
  work=$(mktemp -d)
  [ -d "$corpus_src" ] && cp -r "$corpus_src/." "$work/"
  echo "fuzz: $name for ${secs}s (seed corpus: $(ls "$work" | wc -l) files)"
  if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$root/fuzz/artifacts/$name-" -print_final_stats=0 \
       "$work" >"$work.log" 2>&1; then
    echo "fuzz: $name FAILED; last lines of its log:"
    tail -n 40 "$work.log"
    status=1
  else
    grep -E "^#[0-9]+.*DONE" "$work.log" | tail -n 1 || true
  fi
  rm -rf "$work" "$work.log"
done
[ "$found" = 1 ] || { echo "fuzz: no targets in $build"; exit 1; }
exit $status

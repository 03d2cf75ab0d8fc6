#!/bin/sh
# Build every fuzz target once, then run each in turn on one core, SECONDS
# each (default 240), growing fuzz/work/TARGET from the committed seeds in
# fuzz/corpus/TARGET. Logs: fuzz/work/TARGET.log; crashers:
# fuzz/artifacts/TARGET/. Usage (repository root):
#   sh fuzz/run_all.sh [SECONDS] [TARGET...]
# NOBUILD=1 skips the build (run what was built last).
set -u
secs=${1:-240}
[ $# -gt 0 ] && shift
targets=${*:-"detect trtexec kineto nsys_json report_json nsys_sqlite_bytes nsys_sqlite_rows"}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz" || exit 1
[ -n "${NOBUILD:-}" ] || cargo +nightly fuzz build || exit 1
bin=target/x86_64-unknown-linux-gnu/release
for t in $targets; do
  mkdir -p "work/$t" "artifacts/$t"
  # The structured target's inputs are edit lists: let them be long from
  # the start (libFuzzer otherwise grows lengths from the empty seed).
  extra=""
  [ "$t" = nsys_sqlite_rows ] && extra="-len_control=0 -max_len=2048"
  # shellcheck disable=SC2086
  "$bin/$t" "work/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" $extra \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    > "work/$t.log" 2>&1
  echo "$t: exit $? $(grep -E '^stat::number_of_executed_units' "work/$t.log")"
done

#!/usr/bin/env bash
# Dev-time check on traces from the wild (other projects' files, kept out of
# the repository and out of CI): runs trace-report on every file listed in
# scripts/wild_expectations.tsv and compares with what an independent
# reading of each file says (see the TSV's header and scripts/wild_oracle.py).
#
#   scripts/wild.sh                      # all files
#   scripts/wild.sh --only hta/          # files whose path contains hta/
#   scripts/wild.sh --owner input        # only rows owned by the readers
#
# Environment: TRACE_REPORT (binary, default target/release/trace-report),
# WILD_ROOTS (folders holding external/ and captures/, default
# /work/shared/traces/external /work/captures).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${TRACE_REPORT:-$here/../target/release/trace-report}"
[ -x "$bin" ] || { echo "no binary at $bin: cargo build --release first" >&2; exit 2; }
read -r -a roots <<< "${WILD_ROOTS:-/work/shared/traces/external /work/captures}"
exec python3 "$here/wild_check.py" "$bin" "$here/wild_expectations.tsv" "${roots[@]}" "$@"

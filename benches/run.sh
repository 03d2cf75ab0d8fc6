#!/usr/bin/env bash
# End-to-end benchmark: trace-report against one plain sqlite3 scan of the
# columns it reads, on scaled copies of a real nsys export (0.1M, 1M, 10M
# kernels) and of a real Kineto JSON (~0.9 GB). Prints a Markdown table.
#
#   bash benches/run.sh                 # all sizes, 5 runs each (median)
#   RUNS=3 SIZES="100k 1m" bash benches/run.sh
#   PEERS=/path/to/venv bash benches/run.sh   # also nsys-ai / HTA (one run)
#
# Environment: BENCH_DATA (default bench-data/, git-ignored) holds the scaled
# inputs, built on first use with the scripts in SCALE_DIR (default
# ../shared/bench, else ../../shared/bench). Needs sqlite3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
SIZES=${SIZES:-"100k 1m 10m"}
KINETO=${KINETO:-1}
DATA=${BENCH_DATA:-$ROOT/bench-data}
SCALE_DIR=${SCALE_DIR:-$ROOT/../shared/bench}
# A worktree one level deeper (work/wt/NAME) finds them there too.
[ -d "$SCALE_DIR" ] || SCALE_DIR=$ROOT/../../shared/bench
PEERS=${PEERS:-}
SRC=$ROOT/sample_traces/resnet50_fp16_nchw_cpupre.sqlite
KSRC=$ROOT/tests/fixtures/kineto/resnet50_fp16_cl_gpupre.kineto.json.gz
BIN=$ROOT/target/release/trace-report
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$DATA"

cargo build --release --quiet

kernels() { case $1 in 100k) echo 100000 ;; 1m) echo 1000000 ;; 10m) echo 10000000 ;; *) echo "$1" ;; esac; }

# Build the scaled inputs that are missing.
for s in $SIZES; do
    f=$DATA/r$s.sqlite
    [ -f "$f" ] || python3 "$SCALE_DIR/scale_nsys.py" "$SRC" "$f" --target-kernels "$(kernels "$s")" >&2
done
if [ "$KINETO" = 1 ] && [ ! -f "$DATA/k1g.json" ]; then
    gunzip -c "$KSRC" >"$TMP/k.json"
    python3 "$SCALE_DIR/scale_kineto.py" "$TMP/k.json" "$DATA/k1g.json" --factor 65 >&2
fi

# measure CMD...: one run; prints "SECONDS PEAK_KB" (GNU time).
measure() {
    /usr/bin/time -f "%e %M" -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err" || {
        echo "failed: $*" >&2
        tail -3 "$TMP/err" >&2
        echo "nan 0"
        return
    }
    cat "$TMP/time"
}

# median of RUNS runs of CMD...: prints "SECONDS PEAK_KB" (max peak).
median_of() {
    local t=() m=0
    for _ in $(seq "$RUNS"); do
        read -r s kb < <(measure "$@")
        t+=("$s")
        [ "$kb" -gt "$m" ] && m=$kb
    done
    printf '%s\n' "${t[@]}" | sort -g | awk -v m="$m" '{a[NR]=$1} END {print a[int((NR+1)/2)], m}'
}

# The plain scan: one pass of count() and total() over every column
# trace-report reads in the kernel, runtime, memcpy, memset, synchronization
# and NVTX tables (text through length(), so it is read too). SQLite reads
# each value once and prints one line per table: the cost of the rows
# themselves, without formatting them.
scan_sql() {
    cat <<'EOF2'
SELECT count(*), total(start), total(end), total(deviceId), total(streamId), total(correlationId), total(demangledName), total(shortName), total(globalPid) FROM CUPTI_ACTIVITY_KIND_KERNEL;
SELECT count(*), total(start), total(end), total(nameId), total(globalTid), total(correlationId) FROM CUPTI_ACTIVITY_KIND_RUNTIME;
SELECT count(*), total(start), total(end), total(bytes), total(copyKind), total(srcKind), total(dstKind), total(deviceId), total(streamId), total(correlationId), total(globalPid) FROM CUPTI_ACTIVITY_KIND_MEMCPY;
SELECT count(*), total(start), total(end), total(bytes), total(deviceId), total(streamId), total(correlationId), total(globalPid) FROM CUPTI_ACTIVITY_KIND_MEMSET;
SELECT count(*), total(correlationId), total(syncType) FROM CUPTI_ACTIVITY_KIND_SYNCHRONIZATION;
SELECT count(*), total(start), total(end), total(eventType), total(globalTid), total(length(text)), total(textId), total(domainId) FROM NVTX_EVENTS;
EOF2
}
scan_sql >"$TMP/scan.sql"

echo "load: $(uptime | sed 's/.*load average: //') ($(nproc) cores), runs: $RUNS"
echo
echo "| input | rows read | trace-report | sqlite3 scan | ratio | peak RSS |"
echo "|---|---|---|---|---|---|"
for s in $SIZES; do
    f=$DATA/r$s.sqlite
    rows=$(sqlite3 "file:$f?immutable=1" "SELECT (SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL) || ' kernels, ' || (SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME) || ' API calls'")
    # Warm the page cache once, then alternate so both see the same load.
    sqlite3 "file:$f?immutable=1" <"$TMP/scan.sql" >/dev/null
    tr=() sq=() peak=0
    for _ in $(seq "$RUNS"); do
        read -r a kb < <(RUNS=1 measure "$BIN" -q --no-cache -o "$TMP/out" "$f")
        read -r b _ < <(RUNS=1 measure sqlite3 -batch "file:$f?immutable=1" ".read $TMP/scan.sql")
        tr+=("$a") sq+=("$b")
        [ "$kb" -gt "$peak" ] && peak=$kb
    done
    mt=$(printf '%s\n' "${tr[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    ms=$(printf '%s\n' "${sq[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    awk -v s="r$s.sqlite" -v r="$rows" -v t="$mt" -v q="$ms" -v p="$peak" \
        'BEGIN {printf "| %s | %s | %.2f s | %.2f s | %.2f | %.0f MB |\n", s, r, t, q, t / q, p / 1024}'
done

if [ "$KINETO" = 1 ]; then
    f=$DATA/k1g.json
    bytes=$(stat -c %s "$f")
    cat "$f" >/dev/null
    read -r t kb < <(median_of "$BIN" -q --no-cache -o "$TMP/out" "$f")
    echo
    echo "| input | size | trace-report | throughput | peak RSS |"
    echo "|---|---|---|---|---|"
    awk -v b="$bytes" -v t="$t" -v p="$kb" \
        'BEGIN {printf "| k1g.json (Kineto) | %.0f MB | %.2f s | %.0f MB/s | %.0f MB |\n", b / 1e6, t, b / 1e6 / t, p / 1024}'
fi

# Peers: one run each (they cache), on copies so that their caches start cold
# and never land beside the inputs.
if [ -n "$PEERS" ]; then
    echo
    echo "| peer | input | time | peak RSS | trace-report (same input) |"
    echo "|---|---|---|---|---|"
    for s in $SIZES; do
        [ "$s" = 10m ] && [ -z "${PEERS_10M:-}" ] && continue
        cp "$DATA/r$s.sqlite" "$TMP/peer.sqlite"
        read -r mine mkb < <(measure "$BIN" -q --no-cache -o "$TMP/out" "$TMP/peer.sqlite")
        for skill in top_kernels gpu_idle_gaps sync_cost_analysis; do
            rm -rf "$TMP"/peer.sqlite.* "$TMP"/.nsys* 2>/dev/null || true
            read -r t kb < <(measure "$PEERS/bin/nsys-ai" skill run "$skill" "$TMP/peer.sqlite")
            awk -v n="nsys-ai skill run $skill" -v s="r$s.sqlite" -v t="$t" -v p="$kb" -v m="$mine" \
                'BEGIN {printf "| %s | %s | %.2f s | %.0f MB | %.2f s |\n", n, s, t, p / 1024, m}'
        done
        rm -f "$TMP/peer.sqlite"
    done
    if [ "$KINETO" = 1 ]; then
        mkdir -p "$TMP/hta"
        ln -s "$DATA/k1g.json" "$TMP/hta/rank0.json"
        read -r t kb < <(measure "$PEERS/bin/python" "$ROOT/benches/hta_summary.py" "$TMP/hta")
        awk -v t="$t" -v p="$kb" \
            'BEGIN {printf "| HTA load + temporal + kernel breakdown | k1g.json | %.2f s | %.0f MB | see above |\n", t, p / 1024}'
    fi
fi

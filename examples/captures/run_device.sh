#!/usr/bin/env bash
# Makes the captures of examples/captures on a GPU machine with nsys and ncu.
#   bash examples/captures/run_device.sh STAGE OUTDIR
# STAGE: ddp (needs 2 GPUs), async, jax, host, llm, roofline, ncu.
# Needs the capture helper folder (.gpu: capture.sh and libs/) in the checkout.
set -uo pipefail
stage=$1; out=$2; mkdir -p "$out"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
NSYS=${NSYS:-$(ls /opt/nvidia/nsight-compute/*/host/target-linux-x64/nsys | tail -1)}
export NSYS LD_LIBRARY_PATH="$root/.gpu/libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1 PYTHONUNBUFFERED=1
cd "$root"
scrub() {  # blank environment strings, as capture.sh does
python3 - "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
t = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
c.execute("UPDATE StringIds SET value='[environment redacted]' WHERE instr(value, char(0)) > 0 AND instr(value, '=') > 0")
if "TARGET_INFO_SYSTEM_ENV" in t:
    c.execute("UPDATE TARGET_INFO_SYSTEM_ENV SET value='[environment redacted]' WHERE name = 'DeviceEnvironment'")
if "META_DATA_CAPTURE" in t:
    c.execute("DELETE FROM META_DATA_CAPTURE WHERE name LIKE '%ENVIRONMENT_VARIABLE%'")
c.commit(); c.execute("VACUUM"); c.close()
PY
}
export_sqlite() { "$NSYS" export --type sqlite --force-overwrite true -o "$1.sqlite" "$1.nsys-rep" >/dev/null && scrub "$1.sqlite"; }
cap() { local o=$1; shift; "$NSYS" profile -t cuda,nvtx,osrt --sample=none --cpuctxsw=none --cuda-graph-trace=node \
          --force-overwrite true -o "$o" "$@" && export_sqlite "$o"; }
case $stage in
ddp)
  torchrun --standalone --nproc_per_node=2 --no-python "$NSYS" profile -t cuda,nvtx,osrt --sample=none \
     --cpuctxsw=none --force-overwrite true -o "$out/ddp_slow_rank%q{RANK}" python3 "$here/ddp_straggler.py"
  for r in 0 1; do export_sqlite "$out/ddp_slow_rank$r"; done
  cap "$out/ddp_slow_node" torchrun --standalone --nproc_per_node=2 "$here/ddp_straggler.py"
  SLOW_MS=0 cap "$out/ddp_even_node" torchrun --standalone --nproc_per_node=2 "$here/ddp_straggler.py"
  torchrun --standalone --nproc_per_node=2 "$here/ddp_straggler.py" --kineto "$out/ddp_slow_kineto"
  ;;
async)
  cap "$out/async_loop" python3 "$here/async_loop.py"
  python3 "$here/async_loop.py" --kineto "$out/async_loop.pt.trace.json" ;;
jax)
  cap "$out/jax_mlp" python3 "$here/jax_mlp.py"
  cap "$out/jax_mlp_noranges" python3 "$here/jax_mlp.py" --no-ranges ;;
host)
  "$NSYS" profile -t cuda,nvtx,osrt --sample=process-tree --cpuctxsw=process-tree \
     --python-sampling=true --python-sampling-frequency=1000 --force-overwrite true -o "$out/host_work_sampled" \
     python3 "$here/host_work.py" && export_sqlite "$out/host_work_sampled"
  cap "$out/host_work" python3 "$here/host_work.py"
  python3 "$here/host_work.py" --kineto "$out/host_work.pt.trace.json" ;;
llm)
  cap "$out/llm_generate" python3 "$here/llm_generate.py"
  python3 "$here/llm_generate.py" --kineto "$out/llm_generate.pt.trace.json" ;;
roofline)
  cap "$out/roofline" python3 "$here/roofline.py"
  python3 "$here/roofline.py" --kineto "$out/roofline.pt.trace.json" ;;
ncu)
  secs=$(ncu --list-sections 2>/dev/null | awk '{print $1}' | grep -E 'SpeedOfLight|Roofline' | sort -u)
  echo "sections: $secs"
  m=sm__inst_executed_pipe_tensor_op_hmma.sum,sm__inst_executed_pipe_tensor_op_gmma.sum,sm__inst_executed_pipe_tensor_op_imma.sum,dram__bytes_read.sum,dram__bytes_write.sum,gpu__time_duration.sum
  for op in dfma dadd dmul ffma fadd fmul hfma hadd hmul; do m="$m,sm__sass_thread_inst_executed_op_${op}_pred_on.sum"; done
  tens=$(ncu --query-metrics --chip gh100 2>/dev/null | awk '{print $1}' | grep -E '^sm__ops_path_tensor' | sed 's/$/.sum/' | paste -sd, -)
  echo "tensor ops metrics: $tens"
  ncu --csv --page raw --nvtx --nvtx-include "iter/" --clock-control none --metrics "$m${tens:+,$tens}" \
      $(for s in $secs; do printf -- '--section %s ' "$s"; done) \
      python3 "$here/roofline.py" --iters 1 > "$out/roofline.ncu.csv" 2> "$out/ncu.err"
  tail -5 "$out/ncu.err"; wc -l "$out/roofline.ncu.csv" ;;
kineto)  # the PyTorch profiler traces alone
  torchrun --standalone --nproc_per_node=2 "$here/ddp_straggler.py" --kineto "$out/ddp_slow_kineto"
  for s in async_loop host_work llm_generate roofline; do python3 "$here/$s.py" --kineto "$out/$s.pt.trace.json"; done ;;
hostsampled)
  "$NSYS" profile -t cuda,nvtx,osrt --sample=process-tree --cpuctxsw=process-tree \
     --python-sampling=true --python-sampling-frequency=1000 --force-overwrite true -o "$out/host_work_sampled" \
     python3 "$here/host_work.py" && export_sqlite "$out/host_work_sampled" ;;
esac
ls -la "$out"

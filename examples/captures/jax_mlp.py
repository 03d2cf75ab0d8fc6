# A JAX/XLA jitted MLP inference loop: 3 warm-up + 12 steps.
#   python3 examples/captures/jax_mlp.py [--no-ranges]
# Each measured step is an NVTX range `step` (pushed through torch.cuda.nvtx, which
# only loads NVTX); XLA adds its own per-thunk ranges in domain `TSL`. With
# --no-ranges the script marks nothing, leaving only XLA's ranges.
import os, sys
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
# XLA_FLAGS=--xla_gpu_enable_command_buffer= runs thunks one by one instead of as CUDA graphs.
import jax, jax.numpy as jnp
marks = "--no-ranges" not in sys.argv
if marks:
    import torch.cuda.nvtx as nvtx
key = jax.random.PRNGKey(0)
ks = jax.random.split(key, 5)
ws = [jax.random.normal(k, (2048, 2048), dtype=jnp.bfloat16) * 0.02 for k in ks[:4]]
x = jax.random.normal(ks[4], (512, 2048), dtype=jnp.bfloat16)

@jax.jit
def mlp(x, ws):
    for w in ws:
        x = jax.nn.gelu(x @ w)
        x = (x - x.mean(-1, keepdims=True)) * jax.lax.rsqrt(x.var(-1, keepdims=True) + 1e-5)
    return jax.nn.softmax(x.astype(jnp.float32), axis=-1)

for i in range(15):
    if marks and i >= 3:
        nvtx.range_push("step")
    y = mlp(x, ws)
    host = jax.device_get(y[:, :8])
    if marks and i >= 3:
        nvtx.range_pop()
print("done", float(host.sum()))
# Flush the profiler's activity buffers before XLA tears the client down: without
# this, nsys recorded XLA's ranges and API calls but no kernel rows.
jax.effects_barrier()
import ctypes
ctypes.CDLL("libcuda.so.1").cuProfilerStop()

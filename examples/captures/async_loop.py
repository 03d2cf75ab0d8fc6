# An asynchronous loop: the host queues each step's GPU work and synchronises only
# every SYNC_EVERY steps, so the GPU runs behind the host and the work launched in
# step i runs after step i's NVTX range `step` has ended.
#   python3 examples/captures/async_loop.py [--kineto FILE]
# 3 warm-up + 24 steps; each step: 6 bf16 GEMMs 4096^3 (about 0.18 ms each on an
# H100/H200) and a few elementwise kernels; the host part of a step is ~0.1 ms.
import sys, torch
import torch.cuda.nvtx as nvtx
SYNC_EVERY = 8
a = torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16)
w = [torch.randn(4096, 4096, device="cuda", dtype=torch.bfloat16) for _ in range(6)]

def step(x):
    for m in w:
        x = torch.relu(x @ m) * 0.01
    return x

kineto = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--kineto" else None
if kineto:
    from torch.profiler import profile, ProfilerActivity, schedule
    prof = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                   schedule=schedule(wait=0, warmup=3, active=24),
                   on_trace_ready=lambda p: p.export_chrome_trace(kineto))
    prof.start()
x = a
for i in range(27):
    if i >= 3:
        nvtx.range_push("step")
    x = step(a)
    if i >= 3:
        nvtx.range_pop()
    if (i + 1) % SYNC_EVERY == 0:
        torch.cuda.synchronize()
    if kineto:
        prof.step()
torch.cuda.synchronize()
if kineto:
    prof.stop()
print("done", float(x.float().abs().sum()))

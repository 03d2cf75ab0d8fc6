# Host work planted in known amounts, for "what was the host doing" checks:
#   python3 examples/captures/host_work.py [--kineto FILE]
# 3 warm-up + 12 iterations, each an NVTX range `iter` holding
#   preprocess:  python_busy()  ~PY_MS (6) ms of pure-Python arithmetic
#                numpy_work()   ~NP_MS (6) ms inside NumPy's native sort
#                wait_input()   ~SLEEP_MS (3) ms in time.sleep (an OS-runtime call)
#   infer:       a small FP16 CNN on the GPU
#   postprocess: copy of the logits back, argmax
import sys, time, numpy as np, torch, torch.nn as nn
import torch.cuda.nvtx as nvtx
PY_MS, NP_MS, SLEEP_MS = 6.0, 6.0, 3.0
rng = np.random.default_rng(0)
arr = rng.random(400_000)

def python_busy():
    end = time.perf_counter() + PY_MS / 1000
    s = 0
    while time.perf_counter() < end:
        for k in range(200):
            s += k * k
    return s

def numpy_work():
    end = time.perf_counter() + NP_MS / 1000
    while time.perf_counter() < end:
        np.sort(arr)

def wait_input():
    time.sleep(SLEEP_MS / 1000)

m = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 1000)).cuda().half().eval()
host = torch.randn(16, 3, 128, 128).half().pin_memory()
kineto = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--kineto" else None
if kineto:
    from torch.profiler import profile, ProfilerActivity, schedule
    prof = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                   schedule=schedule(wait=0, warmup=3, active=12), with_stack=True, record_shapes=True,
                   on_trace_ready=lambda p: p.export_chrome_trace(kineto))
    prof.start()
with torch.no_grad():
    for i in range(15):
        if i >= 3:
            nvtx.range_push("iter")
        nvtx.range_push("preprocess")
        python_busy(); numpy_work(); wait_input()
        x = host.cuda(non_blocking=True)
        nvtx.range_pop()
        nvtx.range_push("infer")
        y = m(x)
        nvtx.range_pop()
        nvtx.range_push("postprocess")
        top = y.float().argmax(1).cpu()
        nvtx.range_pop()
        if i >= 3:
            nvtx.range_pop()
        if kineto:
            prof.step()
if kineto:
    prof.stop()
print("done", top[:4].tolist())

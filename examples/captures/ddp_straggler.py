# Two-rank data-parallel training step with one slow rank, for multi-rank captures:
#   torchrun --nproc_per_node=2 examples/captures/ddp_straggler.py [--kineto DIR]
# Each rank runs 3 warm-up + 12 steps, each an NVTX range `step` (forward, backward,
# gradient all_reduce through DDP, optimizer). Rank SLOW_RANK (default 1) spends
# SLOW_MS (default 20) ms of extra host work per step (a Python busy loop in
# `load_batch`), so the other rank waits about that long in each all_reduce.
import os, sys, time, torch, torch.nn as nn, torch.distributed as dist
import torch.cuda.nvtx as nvtx

dist.init_process_group("nccl")
rank = dist.get_rank()
torch.cuda.set_device(rank)
dev = f"cuda:{rank}"
slow_rank = int(os.environ.get("SLOW_RANK", "1"))
slow_ms = float(os.environ.get("SLOW_MS", "20"))
model = nn.Sequential(*[nn.Sequential(nn.Linear(2048, 2048), nn.GELU()) for _ in range(6)]).to(dev)
ddp = nn.parallel.DistributedDataParallel(model, device_ids=[rank])
opt = torch.optim.SGD(ddp.parameters(), lr=1e-3)
x = torch.randn(256, 2048, device=dev)

def load_batch():
    if rank == slow_rank:
        end = time.perf_counter() + slow_ms / 1000
        n = 0
        while time.perf_counter() < end:
            n += 1
    return x

def step():
    b = load_batch()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        loss = ddp(b).float().pow(2).mean()
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss

kineto = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--kineto" else None
if kineto:
    from torch.profiler import profile, ProfilerActivity, schedule
    prof = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                   schedule=schedule(wait=0, warmup=3, active=12), record_shapes=True,
                   on_trace_ready=lambda p: (os.makedirs(kineto, exist_ok=True), p.export_chrome_trace(os.path.join(kineto, f"rank{rank}.pt.trace.json"))))
    prof.start()
for i in range(15):
    if i >= 3:
        nvtx.range_push("step")
    loss = step()
    torch.cuda.synchronize()
    if i >= 3:
        nvtx.range_pop()
    if kineto:
        prof.step()
if kineto:
    prof.stop()
dist.barrier()
if rank == 0:
    print("done", float(loss))
dist.destroy_process_group()

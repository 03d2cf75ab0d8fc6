# Two-process data-parallel inference (one GPU per rank, NCCL), for multi-GPU captures:
#   python3 -m torch.distributed.run --standalone --nproc_per_node=2 examples/ddp_infer.py
# 3 warm-up + 12 NVTX `iter` iterations per rank of preprocess (pinned upload), infer (FP16 CNN),
# postprocess (all_reduce of the logits, softmax, argmax, copy back).
# Made tests/fixtures/ddp_2gpu_nccl.sqlite.
import os, torch, torch.nn as nn, torch.distributed as dist
import torch.cuda.nvtx as nvtx
dist.init_process_group("nccl")
rank = dist.get_rank()
torch.cuda.set_device(rank)
dev = f"cuda:{rank}"
torch.backends.cudnn.benchmark = True
m = nn.Sequential(
    nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
    nn.Conv2d(64, 128, 3, padding=1, stride=2), nn.ReLU(),
    nn.Conv2d(128, 256, 3, padding=1, stride=2), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 1000),
).to(dev).half().eval().to(memory_format=torch.channels_last)
host = torch.randn(32, 3, 224, 224).half().pin_memory()
with torch.no_grad():
    for i in range(15):
        if i >= 3:
            nvtx.range_push("iter")
        nvtx.range_push("preprocess")
        x = host.to(dev, non_blocking=True).to(memory_format=torch.channels_last)
        nvtx.range_pop()
        nvtx.range_push("infer")
        y = m(x)
        nvtx.range_pop()
        nvtx.range_push("postprocess")
        dist.all_reduce(y)
        top = y.float().softmax(1).argmax(1).cpu()
        nvtx.range_pop()
        if i >= 3:
            nvtx.range_pop()
torch.cuda.synchronize()
dist.barrier()
if rank == 0:
    print("done", top[:4].tolist())
dist.destroy_process_group()

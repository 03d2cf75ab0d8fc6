# A small FP16 CNN replayed as a CUDA graph (torch.cuda.CUDAGraph): 3 warm-up + 12 NVTX `iter`
# iterations of preprocess (pinned upload), infer (graph replay), postprocess (softmax, argmax, copy back).
# Made tests/fixtures/cuda_graph_{whole,nodes}.sqlite with nsys --cuda-graph-trace=graph and =node.
import torch, torch.nn as nn
import torch.cuda.nvtx as nvtx
torch.backends.cudnn.benchmark = True
dev = "cuda"
m = nn.Sequential(
    nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
    nn.Conv2d(64, 128, 3, padding=1, stride=2), nn.ReLU(),
    nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 1000),
).to(dev).half().eval().to(memory_format=torch.channels_last)
host = torch.randn(32, 3, 224, 224).half().pin_memory()
static_in = torch.empty(32, 3, 224, 224, device=dev, dtype=torch.half).to(memory_format=torch.channels_last)
with torch.no_grad():
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            m(static_in)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        static_out = m(static_in)
    for i in range(15):
        if i >= 3:
            nvtx.range_push("iter")
        nvtx.range_push("preprocess")
        static_in.copy_(host, non_blocking=True)
        nvtx.range_pop()
        nvtx.range_push("infer")
        g.replay()
        nvtx.range_pop()
        nvtx.range_push("postprocess")
        top = static_out.float().softmax(1).argmax(1).cpu()
        nvtx.range_pop()
        if i >= 3:
            nvtx.range_pop()
torch.cuda.synchronize()
print("done", top[:4].tolist())

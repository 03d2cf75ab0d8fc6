# Kernels at known points of the roofline, for per-kernel FLOPs and bytes:
#   python3 examples/captures/roofline.py [--kineto FILE] [--iters N]
# 2 warm-up + N (default 3) iterations, each an NVTX range `iter` holding one range
# per operation (names below), run in order:
#   gemm_bf16   8192x8192x8192 bf16 matmul          2*M*N*K = 1.0995e12 FLOP
#   gemm_fp16   4096x4096x4096 fp16 matmul          1.3744e11 FLOP
#   gemm_fp32   4096x4096x4096 fp32, TF32 off       1.3744e11 FLOP
#   copy        1 GiB fp32 tensor copy_()           2 GiB of DRAM traffic, 0 FLOP
#   add         two 256 MiB fp32 tensors            64M adds, 768 MiB min traffic
#   conv3x3     fp16 NHWC, N=32 C=K=256 56x56 3x3   2*N*K*P*Q*C*R*S = 1.1838e11 FLOP (P=Q=56: stride 1, padding 1)
#   depthwise   fp16 NCHW, N=32 C=256 56x56 3x3 groups=256
#   layernorm   fp16 [8192, 4096]
#   softmax     fp16 [8192, 4096]
import sys, torch, torch.nn.functional as F
import torch.cuda.nvtx as nvtx
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.benchmark = True
d = "cuda"
A = torch.randn(8192, 8192, device=d, dtype=torch.bfloat16); B = torch.randn(8192, 8192, device=d, dtype=torch.bfloat16)
H1 = torch.randn(4096, 4096, device=d, dtype=torch.half); H2 = torch.randn(4096, 4096, device=d, dtype=torch.half)
S1 = torch.randn(4096, 4096, device=d); S2 = torch.randn(4096, 4096, device=d)
big = torch.randn(256 * 1024 * 1024, device=d); big2 = torch.empty_like(big)
e1 = torch.randn(64 * 1024 * 1024, device=d); e2 = torch.randn(64 * 1024 * 1024, device=d)
img = torch.randn(32, 256, 56, 56, device=d, dtype=torch.half)
img_cl = img.to(memory_format=torch.channels_last)
wconv = torch.randn(256, 256, 3, 3, device=d, dtype=torch.half).to(memory_format=torch.channels_last)
wdw = torch.randn(256, 1, 3, 3, device=d, dtype=torch.half)
ln_in = torch.randn(8192, 4096, device=d, dtype=torch.half)
ln_w = torch.ones(4096, device=d, dtype=torch.half); ln_b = torch.zeros(4096, device=d, dtype=torch.half)

ops = [
    ("gemm_bf16", lambda: A @ B),
    ("gemm_fp16", lambda: H1 @ H2),
    ("gemm_fp32", lambda: S1 @ S2),
    ("copy", lambda: big2.copy_(big)),
    ("add", lambda: e1 + e2),
    ("conv3x3", lambda: F.conv2d(img_cl, wconv, padding=1)),
    ("depthwise", lambda: F.conv2d(img, wdw, padding=1, groups=256)),
    ("layernorm", lambda: F.layer_norm(ln_in, (4096,), ln_w, ln_b)),
    ("softmax", lambda: torch.softmax(ln_in, -1)),
]
iters = int(sys.argv[sys.argv.index("--iters") + 1]) if "--iters" in sys.argv else 3
kineto = sys.argv[sys.argv.index("--kineto") + 1] if "--kineto" in sys.argv else None
if kineto:
    from torch.profiler import profile, ProfilerActivity, schedule
    prof = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                   schedule=schedule(wait=0, warmup=2, active=iters), record_shapes=True, with_flops=True,
                   on_trace_ready=lambda p: p.export_chrome_trace(kineto))
    prof.start()
for i in range(2 + iters):
    if i >= 2:
        nvtx.range_push("iter")
    for name, f in ops:
        nvtx.range_push(name)
        f()
        torch.cuda.synchronize()
        nvtx.range_pop()
    if i >= 2:
        nvtx.range_pop()
    if kineto:
        prof.step()
if kineto:
    prof.stop()
print("done")

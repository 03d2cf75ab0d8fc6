#!/usr/bin/env python3
"""A small image-classifier inference loop to profile with trace-report.

    trace-report profile -- python3 examples/infer.py [--iters 12] [--batch 32]

Runs a few un-annotated warm-up iterations, then measured iterations, each an
NVTX range `iter` holding `preprocess` (uint8 images from host memory,
uploaded and normalised on the GPU), `infer` (a small convolutional network
in FP16, channels-last) and `postprocess` (softmax, top-5, copy back). Takes
a few seconds on an H100. Needs PyTorch with CUDA.
"""

import argparse
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iters", type=int, default=12, help="measured iterations (default 12)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up iterations (default 3)")
    ap.add_argument("--batch", type=int, default=32, help="images per iteration (default 32)")
    ap.add_argument("--size", type=int, default=224, help="image side in pixels (default 224)")
    args = ap.parse_args()

    try:
        import torch
        from torch import nn
    except ImportError:
        print("infer.py: PyTorch is not installed (pip install torch)", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("infer.py: no CUDA GPU visible to PyTorch (torch.cuda.is_available() is False); "
              "this example needs one", file=sys.stderr)
        return 1

    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True

    def block(cin, cout, stride):
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
        )

    model = nn.Sequential(
        block(3, 32, 2), block(32, 64, 2), block(64, 64, 1),
        block(64, 128, 2), block(128, 128, 1), block(128, 256, 2), block(256, 256, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 1000),
    ).to(dev).half().eval().to(memory_format=torch.channels_last)

    mean = torch.tensor([0.485, 0.456, 0.406], device=dev).view(1, 3, 1, 1) * 255
    std = torch.tensor([0.229, 0.224, 0.225], device=dev).view(1, 3, 1, 1) * 255
    gen = torch.Generator().manual_seed(0)
    # A decoded batch as it would come from an image loader: uint8 HWC in pinned memory.
    images = torch.randint(0, 256, (args.batch, args.size, args.size, 3), dtype=torch.uint8,
                           generator=gen).pin_memory()

    nvtx = torch.cuda.nvtx

    def step():
        nvtx.range_push("preprocess")
        x = images.to(dev, non_blocking=True).permute(0, 3, 1, 2).float()
        x = ((x - mean) / std).half().contiguous(memory_format=torch.channels_last)
        nvtx.range_pop()
        nvtx.range_push("infer")
        logits = model(x)
        nvtx.range_pop()
        nvtx.range_push("postprocess")
        top = torch.softmax(logits.float(), dim=1).topk(5, dim=1)
        result = (top.values.cpu(), top.indices.cpu())  # copies back: synchronises
        nvtx.range_pop()
        return result

    with torch.inference_mode():
        for _ in range(args.warmup):
            step()
        torch.cuda.synchronize()
        times = []
        for _ in range(args.iters):
            t0 = time.perf_counter()
            nvtx.range_push("iter")
            step()
            nvtx.range_pop()
            times.append(time.perf_counter() - t0)
    times.sort()
    print(f"infer.py: {args.iters} iterations of batch {args.batch} on {torch.cuda.get_device_name()}: "
          f"median {times[len(times) // 2] * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

# An LLM generate() loop (random weights from a config, nothing downloaded):
#   python3 examples/captures/llm_generate.py [--kineto FILE]
# A 4-layer Llama-style decoder (hidden 512, 8 heads), fp16, batch 1; 1 warm-up +
# 3 measured generate() calls of 192 new tokens, each an NVTX range `generate`.
# Thousands of small kernels per iteration: eager decode is launch-bound.
import sys, torch
import torch.cuda.nvtx as nvtx
from transformers import LlamaConfig, LlamaForCausalLM
cfg = LlamaConfig(hidden_size=512, intermediate_size=1408, num_hidden_layers=4, num_attention_heads=8,
                  num_key_value_heads=8, vocab_size=32000, max_position_embeddings=1024)
torch.manual_seed(0)
model = LlamaForCausalLM(cfg).cuda().half().eval()
ids = torch.randint(0, 32000, (1, 64), device="cuda")
kineto = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--kineto" else None
if kineto:
    from torch.profiler import profile, ProfilerActivity, schedule
    prof = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA],
                   schedule=schedule(wait=0, warmup=1, active=3), record_shapes=True,
                   on_trace_ready=lambda p: p.export_chrome_trace(kineto))
    prof.start()
with torch.no_grad():
    for i in range(4):
        if i >= 1:
            nvtx.range_push("generate")
        out = model.generate(ids, max_new_tokens=192, min_new_tokens=192, do_sample=False, pad_token_id=0)
        if i >= 1:
            nvtx.range_pop()
        if kineto:
            prof.step()
if kineto:
    prof.stop()
print("done", out.shape)

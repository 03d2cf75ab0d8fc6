"""HTA's equivalent of trace-report's summary, for benches/run.sh: load the
Kineto trace(s) in DIR, then the temporal breakdown (idle / compute /
non-compute per rank) and the GPU kernel breakdown (time per kernel type
and name). Usage: python hta_summary.py DIR"""
import sys

from hta.trace_analysis import TraceAnalysis

analyzer = TraceAnalysis(trace_dir=sys.argv[1])
temporal = analyzer.get_temporal_breakdown(visualize=False)
kernel_type, kernels = analyzer.get_gpu_kernel_breakdown(visualize=False)
print(temporal.to_string())
print(kernel_type.to_string())
print(len(kernels), "kernel rows")

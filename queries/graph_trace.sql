-- CUDA graph executions recorded whole: one row per graph launch, its kernels
-- not in CUPTI_ACTIVITY_KIND_KERNEL. nsys writes this table under
-- `--cuda-graph-trace=graph`, its default; with `=node` the graph's kernels
-- are ordinary kernel rows and this table is absent.
-- table: CUPTI_ACTIVITY_KIND_GRAPH_TRACE
-- required: start, end, deviceId
-- optional: streamId, correlationId, globalPid, graphId, graphExecId
-- nsys: checked on 3.20 (nsys 2025.3, captured with a torch.cuda.CUDAGraph replay).
SELECT {{start}}, {{end}}, {{deviceId}}, {{streamId}}, {{correlationId}}, {{globalPid}}, {{graphId}}, {{graphExecId}}
FROM CUPTI_ACTIVITY_KIND_GRAPH_TRACE

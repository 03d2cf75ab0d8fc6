-- The metrics of GPU_METRICS: which (typeId, metricId) pair is which metric.
-- table: TARGET_INFO_GPU_METRICS
-- required: typeId, metricId, metricName
-- optional:
-- nsys: 2021.2 and later with --gpu-metrics-devices (GPU metrics sampling).
-- metricId is "not assumed to be stable" (schema comment): metrics are
-- chosen by name, per typeId (one typeId per sampled GPU).
SELECT {{typeId}}, {{metricId}}, {{metricName}} FROM TARGET_INFO_GPU_METRICS

-- Samples of one GPU metric (the caller binds ?1 = metricId, chosen by name
-- from TARGET_INFO_GPU_METRICS); rows of other GPUs are told apart by typeId.
-- table: GPU_METRICS
-- required: timestamp, typeId, metricId, value
-- optional:
-- nsys: 2021.2 and later with --gpu-metrics-devices; checked on schema 3.20
-- (nsys 2025.3). `typeId & 0xFF` is the GPU's TARGET_INFO_GPU.id. Values are
-- integer percent for throughput metrics; nsys 2025.x can write unsigned
-- values as negative numbers (a known export bug): the reader skips them.
SELECT {{timestamp}}, {{typeId}}, {{value}} FROM GPU_METRICS WHERE {{metricId}} = ?1

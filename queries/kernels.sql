-- Kernel executions, one row per launch.
-- table: CUPTI_ACTIVITY_KIND_KERNEL
-- required: start, end, deviceId, demangledName
-- optional: streamId, correlationId, shortName, globalPid
-- nsys: every export schema; checked on 3.20 (nsys 2025.3) and 3.25 (nsys 2026.2).
-- demangledName/shortName reference StringIds(id); decoded in Rust, not joined
-- here (a join costs ~5x the scan on 10M rows).
SELECT {{start}}, {{end}}, {{deviceId}}, {{streamId}}, {{correlationId}}, {{demangledName}}, {{shortName}}, {{globalPid}}
FROM CUPTI_ACTIVITY_KIND_KERNEL

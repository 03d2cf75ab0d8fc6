-- Memsets executed by the GPU.
-- table: CUPTI_ACTIVITY_KIND_MEMSET
-- required: start, end, bytes
-- optional: deviceId, streamId, correlationId, globalPid
-- nsys: every export schema.
SELECT {{start}}, {{end}}, {{bytes}}, {{deviceId}}, {{streamId}}, {{correlationId}}, {{globalPid}}
FROM CUPTI_ACTIVITY_KIND_MEMSET

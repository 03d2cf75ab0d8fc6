-- Memory copies executed by the GPU.
-- table: CUPTI_ACTIVITY_KIND_MEMCPY
-- required: start, end, bytes, copyKind
-- optional: deviceId, streamId, correlationId, srcKind, dstKind, globalPid
-- nsys: every export schema; copyKind references ENUM_CUDA_MEMCPY_OPER(id),
-- srcKind/dstKind reference ENUM_CUDA_MEM_KIND(id): the ids differ between
-- versions, so they are decoded through those tables (enum.sql).
SELECT {{start}}, {{end}}, {{bytes}}, {{copyKind}}, {{srcKind}}, {{dstKind}}, {{deviceId}}, {{streamId}}, {{correlationId}}, {{globalPid}}
FROM CUPTI_ACTIVITY_KIND_MEMCPY

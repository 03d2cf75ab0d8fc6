-- GPU-side records of synchronization: tells which API calls (by
-- correlation id) blocked the host on the GPU.
-- table: CUPTI_ACTIVITY_KIND_SYNCHRONIZATION
-- required: correlationId, syncType
-- optional:
-- nsys: every export schema; syncType references ENUM_CUPTI_SYNC_TYPE(id).
SELECT {{correlationId}}, {{syncType}}
FROM CUPTI_ACTIVITY_KIND_SYNCHRONIZATION

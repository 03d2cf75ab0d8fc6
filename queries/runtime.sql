-- CUDA runtime and driver API calls on host threads.
-- table: CUPTI_ACTIVITY_KIND_RUNTIME
-- required: start, end, nameId
-- optional: globalTid, correlationId
-- nsys: every export schema; nameId references StringIds(id) (function name,
-- with a version suffix such as _v7000 in recent versions).
SELECT {{start}}, {{end}}, {{nameId}}, {{globalTid}}, {{correlationId}}
FROM CUPTI_ACTIVITY_KIND_RUNTIME

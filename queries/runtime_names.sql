-- How many times each CUDA API function was called: enough to say what a
-- capture without kernel records did trace.
-- table: CUPTI_ACTIVITY_KIND_RUNTIME
-- required: nameId
-- optional:
-- nsys: every export schema; nameId references StringIds(id).
SELECT {{nameId}}, count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME GROUP BY 1

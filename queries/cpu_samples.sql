-- CPU samples (nsys --sample=process-tree): one row per sample of a running thread.
-- table: COMPOSITE_EVENTS
-- required: id, start, globalTid
-- optional:
-- nsys: 2023.x and later (export schema 3.x); id is referenced by
-- SAMPLING_CALLCHAINS(id). Checked on schema 3.20 (nsys 2025.3.1).
SELECT {{id}}, {{start}}, {{globalTid}} FROM COMPOSITE_EVENTS

-- Process names (every process nsys saw, system ones included).
-- table: PROCESSES
-- required: pid, name
-- optional:
-- nsys: schema 3.x; `pid` is the OS process id, the one kernel rows carry
-- in bits 24..48 of `globalPid`.
SELECT {{pid}}, {{name}} FROM PROCESSES

-- OS runtime library calls (nsys -t osrt): read, poll, clock_nanosleep, locks...
-- table: OSRT_API
-- required: start, end, nameId
-- optional: globalTid, nestingLevel
-- nsys: every export schema 3.x; nameId references StringIds(id). Calls shorter
-- than nsys's --osrt-threshold (default 1 us) are not recorded.
SELECT {{start}}, {{end}}, {{globalTid}}, {{nameId}}, {{nestingLevel}} FROM OSRT_API

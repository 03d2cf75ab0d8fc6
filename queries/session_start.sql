-- When the capture session started, in UTC: the zero of the export's clock.
-- table: TARGET_INFO_SESSION_START_TIME
-- required: utcEpochNs
-- optional:
-- nsys: schema 3.x (2023 and later); older exports lack the table, and
-- separate per-rank captures then cannot be put on one clock from it.
SELECT {{utcEpochNs}} FROM TARGET_INFO_SESSION_START_TIME

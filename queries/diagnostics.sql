-- Profiler diagnostic messages (read for the CPU sampling period).
-- table: DIAGNOSTIC_EVENT
-- required: text
-- optional:
-- nsys: 2021.x and later; nsys 2025.3 writes "Event 'CPU Clock (sw)', with
-- sampling period 2000000, used to trigger process-tree CPU IP sample collection."
SELECT {{text}} FROM DIAGNOSTIC_EVENT WHERE {{text}} LIKE '%sampling period%'

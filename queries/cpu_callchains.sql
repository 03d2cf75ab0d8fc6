-- Native call stacks of the CPU samples, one row per frame.
-- table: SAMPLING_CALLCHAINS
-- required: id, symbol, module, stackDepth
-- optional:
-- nsys: 2023.x and later (export schema 3.x); id references COMPOSITE_EVENTS(id),
-- symbol and module reference StringIds(id); stackDepth 0 is the leaf. nsys
-- 2025.3 unwinds only one sample in four ("4 CPU IP samples collected for every
-- CPU IP backtrace collected"): the others have the leaf frame alone.
SELECT {{id}}, {{stackDepth}}, {{symbol}}, {{module}} FROM SAMPLING_CALLCHAINS

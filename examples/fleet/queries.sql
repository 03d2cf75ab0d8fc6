-- The three questions every engine must answer identically (polars SQL via
-- `trace-report query`, DuckDB, Spark), on a dataset labelled --label build=...
-- Queries are separated by lines holding only `;`; `--` lines are comments.

-- 1. The kernels whose total time per iteration grew most from build=base
--    to build=new: each label's kernel time over its traces' iterations
--    (traces without iterations left out), kernels by canonical name (one
--    identity across profilers).
SELECT k.canonical_name AS kernel,
       SUM(CASE WHEN k.build = 'new' THEN k.total_ns ELSE 0 END) / MAX(i.new_iterations)
     - SUM(CASE WHEN k.build = 'base' THEN k.total_ns ELSE 0 END) / MAX(i.base_iterations)
       AS growth_ns_per_iteration
FROM kernels k
CROSS JOIN (
    SELECT CAST(NULLIF(SUM(CASE WHEN build = 'new' THEN iterations ELSE 0 END), 0) AS DOUBLE) AS new_iterations,
           CAST(NULLIF(SUM(CASE WHEN build = 'base' THEN iterations ELSE 0 END), 0) AS DOUBLE) AS base_iterations
    FROM traces
) i
WHERE k.per_iteration_ns IS NOT NULL
GROUP BY k.canonical_name
ORDER BY growth_ns_per_iteration DESC, kernel
LIMIT 10
;
-- 2. The labels whose traces show pageable copies (host memory that is not
--    pinned: the copy is staged and blocks the host).
SELECT build,
       COUNT(*) AS traces,
       SUM(pageable_memcpy_count) AS pageable_copies
FROM traces
WHERE pageable_memcpy_count > 0
GROUP BY build
ORDER BY build
;
-- 3. The GPU-busy share of each trace's window (kernels, copies or memsets
--    running on some GPU).
SELECT source,
       build,
       CAST(gpu_busy_ns AS DOUBLE) / window_ns AS gpu_busy_share
FROM traces
WHERE window_ns > 0
ORDER BY source, build

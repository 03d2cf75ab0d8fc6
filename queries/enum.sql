-- One ENUM_* table (the caller names it): ids to names. nsys renumbers enum
-- ids between versions, so every enum column is decoded through these.
-- table: {{table}}
-- required: id, name
-- optional:
-- nsys: ENUM_CUDA_MEMCPY_OPER, ENUM_CUDA_MEM_KIND, ENUM_NSYS_EVENT_TYPE,
-- ENUM_CUPTI_SYNC_TYPE exist in schema 3.x (2021.x and later).
SELECT {{id}}, {{name}} FROM {{table}}

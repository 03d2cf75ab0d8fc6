-- Export metadata: product version and export schema version.
-- table: {{table}}
-- required: name, value
-- optional:
-- nsys: META_DATA_EXPORT in current exports; EXPORT_META_DATA in older ones
-- (2020-2021 releases), same name/value rows (EXPORT_PRODUCT_VERSION,
-- EXPORT_SCHEMA_VERSION).
SELECT {{name}}, {{value}} FROM {{table}}

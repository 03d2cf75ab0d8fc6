-- Export metadata: product version and export schema version.
-- table: META_DATA_EXPORT
-- required: name, value
-- optional:
-- nsys: schema 2.x and later (EXPORT_PRODUCT_VERSION, EXPORT_SCHEMA_VERSION).
SELECT {{name}}, {{value}} FROM META_DATA_EXPORT

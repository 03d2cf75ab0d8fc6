-- Export metadata of older exports: the same rows as META_DATA_EXPORT.
-- table: EXPORT_META_DATA
-- required: name, value
-- optional:
-- nsys: 2020-2021 releases (EXPORT_PRODUCT_VERSION, EXPORT_SCHEMA_VERSION).
SELECT {{name}}, {{value}} FROM EXPORT_META_DATA

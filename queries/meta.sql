-- Export metadata: product version and export schema version.
-- table: META_DATA_EXPORT
-- required: name, value
-- optional:
-- nsys: schema 2.x and later (EXPORT_PRODUCT_VERSION, EXPORT_SCHEMA_VERSION);
-- older releases (2020-2021) name the table EXPORT_META_DATA: meta_old.sql.
SELECT {{name}}, {{value}} FROM META_DATA_EXPORT

-- The string table every *Id / *Name column refers to.
-- table: StringIds
-- required: id, value
-- optional:
-- nsys: every export schema.
SELECT {{id}}, {{value}} FROM StringIds

-- Thread names.
-- table: ThreadNames
-- required: nameId, globalTid
-- optional:
-- nsys: every export schema; nameId references StringIds(id).
SELECT {{globalTid}}, {{nameId}} FROM ThreadNames

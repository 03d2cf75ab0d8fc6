-- NVTX events (ranges and marks).
-- table: NVTX_EVENTS
-- required: start, eventType
-- optional: end, globalTid, text, textId
-- nsys: every export schema; eventType references ENUM_NSYS_EVENT_TYPE(id)
-- (NvtxPushPopRange, NvtxStartEndRange, ...); the name is `text` or, for
-- registered strings, StringIds(textId).
SELECT {{start}}, {{end}}, {{eventType}}, {{globalTid}}, {{text}}, {{textId}}
FROM NVTX_EVENTS

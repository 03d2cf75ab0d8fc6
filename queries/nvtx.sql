-- NVTX events (ranges and marks).
-- table: NVTX_EVENTS
-- required: start, eventType
-- optional: end, globalTid, text, textId, domainId
-- nsys: every export schema; eventType references ENUM_NSYS_EVENT_TYPE(id)
-- (NvtxPushPopRange, NvtxStartEndRange, ...); the name is `text` or, for
-- registered strings, StringIds(textId). domainId: 0 for the default
-- domain; NvtxDomainCreate events name the others (text, same domainId).
SELECT {{start}}, {{end}}, {{eventType}}, {{globalTid}}, {{text}}, {{textId}}, {{domainId}}
FROM NVTX_EVENTS

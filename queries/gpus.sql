-- GPUs of the capture.
-- table: TARGET_INFO_GPU
-- required: id
-- optional: name, cuDevice, computeMajor, computeMinor, smCount
-- nsys: schema 3.x; `cuDevice` (the CUDA ordinal kernel rows use as
-- deviceId) is absent from some versions, then `id` is used.
SELECT {{id}}, {{name}}, {{cuDevice}}, {{computeMajor}}, {{computeMinor}}, {{smCount}}
FROM TARGET_INFO_GPU

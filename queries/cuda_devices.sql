-- Mapping between GPU ids and CUDA device ordinals.
-- table: TARGET_INFO_CUDA_DEVICE
-- required: gpuId, cudaId
-- optional:
-- nsys: schema 3.x.
SELECT {{gpuId}}, {{cudaId}} FROM TARGET_INFO_CUDA_DEVICE

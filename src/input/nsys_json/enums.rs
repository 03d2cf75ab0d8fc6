//! The enum ids of `nsys export --type json`.
//!
//! Unlike the SQLite export, the JSON export carries no `ENUM_*` tables: it
//! writes some enums as names (`"syncType": "SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT"`)
//! and others as bare ids (`"copyKind": "1"`, `"srcKind": 0`, `"eventClass": 0`).
//! Names are parsed as names. Ids are decoded with the tables below, which
//! are the `ENUM_*` tables of the SQLite export of the same nsys version
//! (2025.3, export schema 3.20; a test checks them against the bundled
//! SQLite traces). A record that carries a name instead of an id in
//! another version is still read, by name.

use crate::model::{CopyKind, MemKind};

/// `ENUM_CUDA_MEMCPY_OPER` names by id.
pub const MEMCPY_OPER: [&str; 14] = [
    "CUDA_MEMCPY_KIND_UNKNOWN",
    "CUDA_MEMCPY_KIND_HTOD",
    "CUDA_MEMCPY_KIND_DTOH",
    "CUDA_MEMCPY_KIND_HTOA",
    "CUDA_MEMCPY_KIND_ATOH",
    "CUDA_MEMCPY_KIND_ATOA",
    "CUDA_MEMCPY_KIND_ATOD",
    "CUDA_MEMCPY_KIND_DTOA",
    "CUDA_MEMCPY_KIND_DTOD",
    "CUDA_MEMCPY_KIND_HTOH",
    "CUDA_MEMCPY_KIND_PTOP",
    "CUDA_MEMCPY_KIND_UVM_HTOD",
    "CUDA_MEMCPY_KIND_UVM_DTOH",
    "CUDA_MEMCPY_KIND_UVM_DTOD",
];

/// `ENUM_CUDA_MEM_KIND` names by id.
pub const MEM_KIND: [&str; 8] = [
    "CUDA_MEMOPR_MEMORY_KIND_PAGEABLE",
    "CUDA_MEMOPR_MEMORY_KIND_PINNED",
    "CUDA_MEMOPR_MEMORY_KIND_DEVICE",
    "CUDA_MEMOPR_MEMORY_KIND_ARRAY",
    "CUDA_MEMOPR_MEMORY_KIND_MANAGED",
    "CUDA_MEMOPR_MEMORY_KIND_DEVICE_STATIC",
    "CUDA_MEMOPR_MEMORY_KIND_MANAGED_STATIC",
    "CUDA_MEMOPR_MEMORY_KIND_UNKNOWN",
];

/// `ENUM_CUPTI_SYNC_TYPE` names by id.
pub const SYNC_TYPE: [&str; 5] = [
    "CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_UNKNOWN",
    "CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE",
    "CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT",
    "CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE",
    "CUPTI_ACTIVITY_SYNCHRONIZATION_TYPE_CONTEXT_SYNCHRONIZE",
];

/// `ENUM_NSYS_EVENT_CLASS` ids of CUDA API calls
/// (`TRACE_PROCESS_EVENT_CUDA_RUNTIME`, `TRACE_PROCESS_EVENT_CUDA_DRIVER`):
/// the rows of `CUPTI_ACTIVITY_KIND_RUNTIME` in the SQLite export.
pub const EVENT_CLASS_CUDA_API: [i64; 2] = [0, 1];

/// `ENUM_NSYS_EVENT_TYPE` ids of NVTX ranges.
pub const NVTX_PUSH_POP_RANGE: i64 = 59;
pub const NVTX_START_END_RANGE: i64 = 60;
/// `ENUM_NSYS_EVENT_TYPE` id of `NvtxDomainCreate` (a domain's name).
pub const NVTX_DOMAIN_CREATE: i64 = 75;

/// An enum value as the file wrote it: an id (number or numeric string) or
/// a name.
pub fn value_name<'a>(raw: &'a str, table: &[&'static str]) -> Option<&'a str> {
    let t = raw.trim().trim_matches('"');
    match t.parse::<usize>() {
        Ok(id) => table.get(id).copied(),
        Err(_) if !t.is_empty() && t != "null" => Some(t),
        Err(_) => None,
    }
}

pub fn copy_kind(raw: Option<&str>) -> CopyKind {
    raw.and_then(|r| value_name(r, &MEMCPY_OPER))
        .map_or(CopyKind::Unknown, CopyKind::parse)
}

pub fn mem_kind(raw: Option<&str>) -> MemKind {
    raw.and_then(|r| value_name(r, &MEM_KIND))
        .map_or(MemKind::Unknown, MemKind::parse)
}

/// Whether a synchronization record blocked the host (event, stream and
/// context synchronize; not stream-wait-event, which makes the GPU wait):
/// the rule the SQLite reader applies to `ENUM_CUPTI_SYNC_TYPE` names.
pub fn sync_blocks_host(raw: Option<&str>) -> bool {
    raw.and_then(|r| value_name(r, &SYNC_TYPE))
        .is_some_and(|n| crate::input::nsys_ids::sync_blocks_host(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        assert_eq!(copy_kind(Some("\"1\"")), CopyKind::HtoD);
        assert_eq!(copy_kind(Some("8")), CopyKind::DtoD);
        assert_eq!(copy_kind(Some("\"CUDA_MEMCPY_KIND_DTOH\"")), CopyKind::DtoH);
        assert_eq!(copy_kind(Some("99")), CopyKind::Unknown);
        assert_eq!(mem_kind(Some("0")), MemKind::Pageable);
        assert_eq!(mem_kind(Some("2")), MemKind::Device);
        assert_eq!(mem_kind(None), MemKind::Unknown);
        assert!(!sync_blocks_host(Some(
            "\"SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT\""
        )));
        assert!(sync_blocks_host(Some(
            "\"SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE\""
        )));
        assert!(sync_blocks_host(Some("1")));
        assert!(!sync_blocks_host(Some("2")));
    }
}

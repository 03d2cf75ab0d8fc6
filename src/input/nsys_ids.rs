//! What both nsys exports (SQLite and JSON) encode alike, decoded once so
//! the two readers give the same trace: serialized global ids and the
//! synchronization kinds that block the host.

use crate::model::Thread;

/// The process id inside a serialized nsys GlobalId (bits 24..48; the
/// thread id is in bits 0..24).
pub fn global_pid(global_id: i64) -> u32 {
    ((global_id >> 24) & 0xFF_FFFF) as u32
}

/// The thread a global thread id names; an absent or negative id is
/// thread 0 of process 0.
pub fn thread(global_tid: Option<i64>) -> Thread {
    let (pid, tid) = match global_tid {
        Some(g) if g >= 0 => (global_pid(g), (g & 0xFF_FFFF) as u64),
        _ => (0, 0),
    };
    Thread { pid, tid, name: None }
}

/// Whether a synchronization kind, by its `ENUM_CUPTI_SYNC_TYPE` name,
/// blocked the host until the GPU caught up: event, stream and context
/// synchronize; not stream-wait-event, which makes the GPU wait.
pub fn sync_blocks_host(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.contains("SYNCHRONIZE") && !n.contains("WAIT")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids() {
        // pid 0x123, tid 0x45 (nsys: pid << 24 | tid, hardware id above).
        let g = (1_i64 << 48) | (0x123 << 24) | 0x45;
        assert_eq!(global_pid(g), 0x123);
        let t = thread(Some(g));
        assert_eq!((t.pid, t.tid), (0x123, 0x45));
        let none = thread(None);
        assert_eq!((none.pid, none.tid), (0, 0));
        assert_eq!(thread(Some(-5)).pid, 0);
    }

    #[test]
    fn blocking_sync_kinds() {
        assert!(sync_blocks_host("SYNCHRONIZATION_TYPE_STREAM_SYNCHRONIZE"));
        assert!(sync_blocks_host("SYNCHRONIZATION_TYPE_EVENT_SYNCHRONIZE"));
        assert!(!sync_blocks_host("SYNCHRONIZATION_TYPE_STREAM_WAIT_EVENT"));
        assert!(!sync_blocks_host("SYNCHRONIZATION_TYPE_UNKNOWN"));
    }
}

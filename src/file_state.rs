//! What identifies one version of a file without reading all of it, and
//! where the caches keyed by it live (the `.nsys-rep` export cache and the
//! analysis cache).

use std::fs;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The cache folder (created on use).
pub fn cache_dir() -> Result<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = var("TRACE_REPORT_CACHE") {
        return Ok(p);
    }
    if let Some(p) = var("XDG_CACHE_HOME") {
        return Ok(p.join("trace-report"));
    }
    if let Some(p) = var("HOME") {
        return Ok(p.join(".cache").join("trace-report"));
    }
    Err(Error::usage(
        "no cache folder for .nsys-rep exports: set TRACE_REPORT_CACHE (or HOME)",
    ))
}

/// What identifies one version of a file's content without reading it.
pub fn state_bytes(meta: &fs::Metadata) -> Vec<u8> {
    let mut v = Vec::with_capacity(48);
    v.extend_from_slice(&meta.len().to_le_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        for x in [meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec()] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(&meta.ino().to_le_bytes());
        v.extend_from_slice(&meta.dev().to_le_bytes());
    }
    #[cfg(not(unix))]
    if let Ok(t) = meta.modified() {
        if let Ok(d) = t.duration_since(std::time::UNIX_EPOCH) {
            v.extend_from_slice(&d.as_nanos().to_le_bytes());
        }
    }
    v
}

/// FNV-1a, 64 bit: stable across Rust versions, unlike std's hasher.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference_values() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
    }
}

//! Nsight Systems reports (`.nsys-rep`, formerly `.qdrep`). Their format is
//! private to nsys, so before any format is detected a report is exported
//! with `nsys export --type sqlite` into a cache (`crate::nsys::export`), and
//! the export is what the SQLite reader reads.
//!
//! Recognised by content: a report nsys 2025.3 wrote begins with the line
//! `NVIDIA Tegra Profiler Report <number>.` followed by protobuf records.
//! The extension is a hint for files whose first line differs (other nsys
//! versions), as long as they are not SQLite.

use std::path::Path;

/// The start of a report's first line.
const MAGIC: &[u8] = b"NVIDIA Tegra Profiler Report ";
/// Report file extensions nsys writes.
const EXTENSIONS: &[&str] = &["nsys-rep", "qdrep"];

/// Whether `path`, whose first bytes are `head`, is an nsys report.
pub fn sniff(path: &Path, head: &[u8]) -> bool {
    let by_extension = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)));
    head.starts_with(MAGIC) || (by_extension && !head.starts_with(b"SQLite format 3\0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 48 bytes of a report nsys 2025.3.1 wrote on an H100.
    const REAL_HEAD: &[u8] =
        b"NVIDIA Tegra Profiler Report 36398880.\n\x0bLocal (CLI)\x12\x06\x08\x7f\x08\x0c\x08{ \x02(\x03@";

    #[test]
    fn sniffs_by_content_with_the_extension_as_a_hint() {
        assert!(sniff(Path::new("capture.bin"), REAL_HEAD));
        assert!(sniff(Path::new("run.nsys-rep"), REAL_HEAD));
        // Another nsys version's header: the extension decides.
        assert!(sniff(Path::new("old.qdrep"), b"\x00\x01something else"));
        assert!(sniff(Path::new("RUN.NSYS-REP"), b"\x00\x01something else"));
        assert!(!sniff(Path::new("capture.bin"), b"\x00\x01something else"));
        // An SQLite export misnamed .nsys-rep is the SQLite reader's.
        assert!(!sniff(Path::new("run.nsys-rep"), b"SQLite format 3\0rest"));
    }
}

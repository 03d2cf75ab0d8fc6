//! Text every layer may use: human-readable numbers ([`format`]), making
//! trace strings inert ([`escape`]), and names derived from file names.

pub mod escape;
pub mod format;

use std::path::Path;

/// The report folder name for a trace: its file name without the trace
/// extensions (`run.nsys-rep`, `x.sqlite`, `t.json.gz` -> `run`, `x`, `t`).
pub fn report_name(input: &Path) -> String {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into());
    let mut stem = name.as_str();
    for ext in [
        ".gz",
        ".json",
        ".sqlite",
        ".sqlite3",
        ".db",
        ".nsys-rep",
        ".qdrep",
    ] {
        if let Some(s) = stem.strip_suffix(ext) {
            if !s.is_empty() {
                stem = s;
            }
        }
    }
    // Keep the folder name portable and inert.
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.trim_matches('.').is_empty() {
        "trace".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names() {
        assert_eq!(report_name(Path::new("a/b/resnet.sqlite")), "resnet");
        assert_eq!(report_name(Path::new("t.kineto.json.gz")), "t.kineto");
        assert_eq!(report_name(Path::new("run.nsys-rep")), "run");
        assert_eq!(report_name(Path::new("we ird<x>.sqlite")), "we_ird_x_");
        assert_eq!(report_name(Path::new("..")), "trace");
    }
}

//! The two JSON files trtexec writes and how one is found from the other.
//!
//! `trtexec --exportLayerInfo=X.graph.json --exportProfile=X.profile.json`
//! (the names TensorRT's own tools use) write the engine graph and the
//! per-layer times. Either may be given; the other is looked for next to
//! it under the same stem with the other kind's usual suffixes, and is
//! accepted only if its content is of that kind.

use std::path::{Path, PathBuf};

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--exportLayerInfo`: `{"Layers": [...], "Bindings": [...]}`.
    Graph,
    /// `--exportProfile`: `[{"count": N}, {"name", "timeMs", "averageMs", ...}, ...]`.
    Profile,
}

impl Kind {
    pub fn flag(self) -> &'static str {
        match self {
            Kind::Graph => "--exportLayerInfo",
            Kind::Profile => "--exportProfile",
        }
    }

    fn other(self) -> Kind {
        match self {
            Kind::Graph => Kind::Profile,
            Kind::Profile => Kind::Graph,
        }
    }

    fn suffixes(self) -> &'static [&'static str] {
        match self {
            Kind::Graph => &[
                ".graph.json",
                ".layers.json",
                ".layer.json",
                ".layerinfo.json",
                ".layer_info.json",
                ".engine.json",
            ],
            Kind::Profile => &[".profile.json", ".prof.json", ".times.json"],
        }
    }
}

/// The kind of a trtexec JSON file from its first bytes (decompressed).
pub fn kind_of(head: &[u8]) -> Option<Kind> {
    let t = crate::input::kineto::trim_start(head);
    let has = |s: &[u8]| crate::input::kineto::contains(head, s);
    match t.first() {
        Some(b'{') if has(b"\"Layers\"") && !has(b"\"traceEvents\"") => Some(Kind::Graph),
        Some(b'[') if has(b"\"averageMs\"") || (has(b"\"count\"") && has(b"\"timeMs\"")) => {
            Some(Kind::Profile)
        }
        _ => None,
    }
}

/// `name` without `.gz` and without a known suffix of `kind` (or `.json`).
fn stem(name: &str, kind: Kind) -> String {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    for s in kind.suffixes() {
        if let Some(stem) = base.strip_suffix(s) {
            return stem.to_string();
        }
    }
    base.strip_suffix(".json").unwrap_or(base).to_string()
}

/// The candidates for the partner of `path` (a file of `kind`), in order.
pub fn partner_candidates(path: &Path, kind: Kind) -> Vec<PathBuf> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem(&name, kind);
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for s in kind.other().suffixes() {
        out.push(dir.join(format!("{stem}{s}")));
        out.push(dir.join(format!("{stem}{s}.gz")));
    }
    out
}

/// Whether a file found in a folder is no trace of its own, by name: a
/// metadata file TensorRT's tools write next to the pair, or an engine graph
/// whose per-layer profile lies next to it (the profile is the trace and
/// finds the graph by name: taking both would count one engine twice).
pub fn companion(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let base = name.strip_suffix(".gz").unwrap_or(&name);
    if base.ends_with(".metadata.json") {
        return true;
    }
    Kind::Graph.suffixes().iter().any(|s| base.ends_with(s))
        && partner_candidates(path, Kind::Graph).iter().any(|p| p.is_file())
}

/// Metadata files TensorRT's tools write next to the pair (optional).
pub fn metadata_candidates(path: &Path, kind: Kind) -> (PathBuf, PathBuf, PathBuf) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem(&name, kind);
    let dir = path.parent().unwrap_or(Path::new(""));
    (
        dir.join(format!("{stem}.build.metadata.json")),
        dir.join(format!("{stem}.profile.metadata.json")),
        dir.join(format!("{stem}.metadata.json")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_by_name() {
        let c = partner_candidates(Path::new("/d/resnet.graph.json"), Kind::Graph);
        assert_eq!(c[0], Path::new("/d/resnet.profile.json"));
        let c = partner_candidates(Path::new("/d/resnet.profile.json.gz"), Kind::Profile);
        assert_eq!(c[0], Path::new("/d/resnet.graph.json"));
        let c = partner_candidates(Path::new("model.json"), Kind::Graph);
        assert_eq!(c[0], Path::new("model.profile.json"));
    }

    #[test]
    fn kinds() {
        assert_eq!(kind_of(b" {\"Layers\": [\"a\"]}"), Some(Kind::Graph));
        assert_eq!(
            kind_of(b"[\n  { \"count\" : 1 }\n, { \"name\" : \"a\", \"timeMs\" : 1, \"averageMs\" : 1 }]"),
            Some(Kind::Profile)
        );
        assert_eq!(kind_of(b"{\"traceEvents\": []}"), None);
        assert_eq!(kind_of(b"[{\"ph\": \"X\"}]"), None);
    }
}

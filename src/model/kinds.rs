//! Small enums of the model and how to read them from the names profilers
//! use. Readers decode their own enum tables into names first (nsys stores
//! ids whose numbering changes between versions), then call these parsers.

use serde::{Deserialize, Serialize};

/// Direction of a memory copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CopyKind {
    HtoD,
    DtoH,
    DtoD,
    HtoH,
    PtoP,
    HtoA,
    AtoH,
    AtoA,
    AtoD,
    DtoA,
    UvmHtoD,
    UvmDtoH,
    UvmDtoD,
    Unknown,
}

impl CopyKind {
    /// Parse a copy-kind name as profilers spell it: nsys enum names
    /// (`CUDA_MEMCPY_KIND_HTOD`, `CUDA_MEMCPY_KIND_UVM_DTOH`), short labels
    /// (`HtoD`, `PtoP`, Kineto's `Memcpy HtoD (Pageable -> Device)`) and long
    /// labels (`Host-to-Device`, `Unified Device-to-Host`).
    pub fn parse(name: &str) -> CopyKind {
        let upper = name.to_ascii_uppercase();
        let s = upper
            .trim_start_matches("CUDA_MEMCPY_KIND_")
            .trim_start_matches("MEMCPY ");
        let unified = s.contains("UVM") || s.contains("UNIFIED");
        let compact: String = s
            .replace("HOST", "H")
            .replace("DEVICE", "D")
            .replace("ARRAY", "A")
            .replace("PEER", "P")
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        // `compact` now reads like "HTOD", "UVMHTOD", "UNIFIEDDTOH" or "HTODPAGEABLED".
        let core = compact.trim_start_matches("UVM").trim_start_matches("UNIFIED");
        let pair = |a: char, b: char| core.starts_with(&format!("{a}TO{b}"));
        match () {
            _ if unified && pair('H', 'D') => CopyKind::UvmHtoD,
            _ if unified && pair('D', 'H') => CopyKind::UvmDtoH,
            _ if unified && pair('D', 'D') => CopyKind::UvmDtoD,
            _ if pair('H', 'D') => CopyKind::HtoD,
            _ if pair('D', 'H') => CopyKind::DtoH,
            _ if pair('D', 'D') => CopyKind::DtoD,
            _ if pair('H', 'H') => CopyKind::HtoH,
            _ if pair('P', 'P') => CopyKind::PtoP,
            _ if pair('H', 'A') => CopyKind::HtoA,
            _ if pair('A', 'H') => CopyKind::AtoH,
            _ if pair('A', 'A') => CopyKind::AtoA,
            _ if pair('A', 'D') => CopyKind::AtoD,
            _ if pair('D', 'A') => CopyKind::DtoA,
            _ => CopyKind::Unknown,
        }
    }

    /// The label used in reports.
    pub fn label(self) -> &'static str {
        match self {
            CopyKind::HtoD => "HtoD",
            CopyKind::DtoH => "DtoH",
            CopyKind::DtoD => "DtoD",
            CopyKind::HtoH => "HtoH",
            CopyKind::PtoP => "PtoP",
            CopyKind::HtoA => "HtoA",
            CopyKind::AtoH => "AtoH",
            CopyKind::AtoA => "AtoA",
            CopyKind::AtoD => "AtoD",
            CopyKind::DtoA => "DtoA",
            CopyKind::UvmHtoD => "UVM HtoD",
            CopyKind::UvmDtoH => "UVM DtoH",
            CopyKind::UvmDtoD => "UVM DtoD",
            CopyKind::Unknown => "Unknown",
        }
    }
}

/// Kind of memory on one side of a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemKind {
    Pageable,
    Pinned,
    Device,
    Array,
    Managed,
    DeviceStatic,
    ManagedStatic,
    Unknown,
}

impl MemKind {
    /// Parse a memory-kind name: nsys enum names
    /// (`CUDA_MEMOPR_MEMORY_KIND_PAGEABLE`) or labels (`Pageable`,
    /// `Device Static`).
    pub fn parse(name: &str) -> MemKind {
        let upper = name.to_ascii_uppercase();
        let s = upper.trim_start_matches("CUDA_MEMOPR_MEMORY_KIND_");
        let s: String = s.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        match s.as_str() {
            "PAGEABLE" => MemKind::Pageable,
            "PINNED" => MemKind::Pinned,
            "DEVICE" => MemKind::Device,
            "ARRAY" => MemKind::Array,
            "MANAGED" => MemKind::Managed,
            "DEVICESTATIC" => MemKind::DeviceStatic,
            "MANAGEDSTATIC" => MemKind::ManagedStatic,
            _ => MemKind::Unknown,
        }
    }

    pub fn is_host(self) -> bool {
        matches!(self, MemKind::Pageable | MemKind::Pinned)
    }
}

/// What a CUDA API call does, as far as time attribution cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ApiKind {
    /// Launches a kernel or a graph.
    Launch,
    /// Blocks the host until the GPU reaches a point.
    Sync,
    /// A copy the API documents as blocking (`cudaMemcpy`, `cuMemcpyDtoH`).
    Memcpy,
    /// An asynchronous copy (`cudaMemcpyAsync`); it still blocks when host
    /// memory is pageable.
    MemcpyAsync,
    /// A blocking memset (`cudaMemset`).
    Memset,
    /// An asynchronous memset.
    MemsetAsync,
    /// Anything else (attribute queries, allocation, ...).
    Other,
}

impl ApiKind {
    /// Classify a CUDA runtime or driver API function by its name, with or
    /// without the version suffix nsys adds (`cudaLaunchKernel_v7000`).
    ///
    /// ```
    /// use trace_report::model::ApiKind;
    /// assert_eq!(ApiKind::classify("cudaLaunchKernel_v7000"), ApiKind::Launch);
    /// assert_eq!(ApiKind::classify("cuLaunchKernelEx"), ApiKind::Launch);
    /// assert_eq!(ApiKind::classify("cudaGraphLaunch_v10000"), ApiKind::Launch);
    /// assert_eq!(ApiKind::classify("cudaStreamSynchronize_v3020"), ApiKind::Sync);
    /// assert_eq!(ApiKind::classify("cuCtxSynchronize"), ApiKind::Sync);
    /// assert_eq!(ApiKind::classify("cudaMemcpyAsync_v3020"), ApiKind::MemcpyAsync);
    /// assert_eq!(ApiKind::classify("cudaMemcpy_v3020"), ApiKind::Memcpy);
    /// assert_eq!(ApiKind::classify("cuMemcpyDtoHAsync_v2"), ApiKind::MemcpyAsync);
    /// assert_eq!(ApiKind::classify("cudaMemsetAsync"), ApiKind::MemsetAsync);
    /// assert_eq!(ApiKind::classify("cuKernelGetName"), ApiKind::Other);
    /// assert_eq!(ApiKind::classify("cudaEventRecord"), ApiKind::Other);
    /// ```
    pub fn classify(name: &str) -> ApiKind {
        let base = base_api_name(name);
        let func = base
            .strip_prefix("cuda")
            .or_else(|| base.strip_prefix("cu"))
            .unwrap_or(base);
        if func.starts_with("Launch") || func.contains("GraphLaunch") {
            return ApiKind::Launch;
        }
        if func.ends_with("Synchronize") {
            return ApiKind::Sync;
        }
        let is_async = func.contains("Async");
        if func.starts_with("Memcpy") {
            return if is_async {
                ApiKind::MemcpyAsync
            } else {
                ApiKind::Memcpy
            };
        }
        if func.starts_with("Memset") {
            return if is_async {
                ApiKind::MemsetAsync
            } else {
                ApiKind::Memset
            };
        }
        ApiKind::Other
    }
}

/// An API name without nsys's `_v7000`-style version suffix or the `_ptsz`
/// / `_ptds` per-thread-stream suffixes.
pub fn base_api_name(name: &str) -> &str {
    let mut s = name.trim();
    loop {
        let trimmed = strip_version_suffix(s)
            .trim_end_matches("_ptsz")
            .trim_end_matches("_ptds");
        if trimmed == s {
            return s;
        }
        s = trimmed;
    }
}

fn strip_version_suffix(s: &str) -> &str {
    if let Some(pos) = s.rfind("_v") {
        let digits = &s[pos + 2..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return &s[..pos];
        }
    }
    s
}

/// Kind of annotated range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RangeKind {
    /// Push/pop ranges: properly nested on one thread.
    PushPop,
    /// Start/end ranges: may cross threads and overlap freely.
    StartEnd,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_kinds_from_every_spelling() {
        for (s, k) in [
            ("CUDA_MEMCPY_KIND_HTOD", CopyKind::HtoD),
            ("CUDA_MEMCPY_KIND_DTOH", CopyKind::DtoH),
            ("CUDA_MEMCPY_KIND_DTOD", CopyKind::DtoD),
            ("CUDA_MEMCPY_KIND_PTOP", CopyKind::PtoP),
            ("CUDA_MEMCPY_KIND_UVM_DTOH", CopyKind::UvmDtoH),
            ("CUDA_MEMCPY_KIND_UNKNOWN", CopyKind::Unknown),
            ("Host-to-Device", CopyKind::HtoD),
            ("Unified Device-to-Host", CopyKind::UvmDtoH),
            ("Peer-to-Peer", CopyKind::PtoP),
            ("Array-to-Device", CopyKind::AtoD),
            ("HtoD", CopyKind::HtoD),
            ("Memcpy DtoH (Device -> Pinned)", CopyKind::DtoH),
            ("Memcpy HtoD (Pageable -> Device)", CopyKind::HtoD),
            ("Memcpy DtoD (Device -> Device)", CopyKind::DtoD),
        ] {
            assert_eq!(CopyKind::parse(s), k, "{s}");
        }
    }

    #[test]
    fn mem_kinds() {
        assert_eq!(
            MemKind::parse("CUDA_MEMOPR_MEMORY_KIND_PAGEABLE"),
            MemKind::Pageable
        );
        assert_eq!(
            MemKind::parse("CUDA_MEMOPR_MEMORY_KIND_DEVICE_STATIC"),
            MemKind::DeviceStatic
        );
        assert_eq!(MemKind::parse("Pinned"), MemKind::Pinned);
        assert_eq!(MemKind::parse("Device"), MemKind::Device);
        assert_eq!(MemKind::parse("weird"), MemKind::Unknown);
    }

    #[test]
    fn api_suffixes() {
        assert_eq!(base_api_name("cudaMemcpyAsync_v3020"), "cudaMemcpyAsync");
        assert_eq!(base_api_name("cudaMemcpyAsync_ptsz_v7000"), "cudaMemcpyAsync");
        assert_eq!(base_api_name("cuMemcpyHtoD_v2"), "cuMemcpyHtoD");
        assert_eq!(base_api_name("cudaLaunchKernel"), "cudaLaunchKernel");
        assert_eq!(ApiKind::classify("cuMemcpyHtoD_v2"), ApiKind::Memcpy);
        assert_eq!(ApiKind::classify("cudaDeviceSynchronize_v3020"), ApiKind::Sync);
        assert_eq!(ApiKind::classify("cudaEventSynchronize_v3020"), ApiKind::Sync);
        assert_eq!(ApiKind::classify("cudaLaunchKernelExC_v11060"), ApiKind::Launch);
        assert_eq!(ApiKind::classify("cudaLaunchCooperativeKernel"), ApiKind::Launch);
        assert_eq!(ApiKind::classify("cudaStreamWaitEvent"), ApiKind::Other);
    }
}

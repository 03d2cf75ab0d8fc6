//! Handing freed heap memory back to the OS between stages. Work that runs
//! on other threads (the loader's second reader, polars' pool) frees into
//! glibc's per-thread arenas, which keep the pages: they would count in
//! peak RSS for the rest of the run.

/// Return free heap pages to the OS where the allocator allows it (glibc's
/// `malloc_trim`; a no-op elsewhere).
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

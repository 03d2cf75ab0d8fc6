//! Handing freed heap memory back to the OS between stages. Work that runs
//! on other threads (the loader's second reader, polars' pool) frees into
//! glibc's per-thread arenas, which keep the pages: they would count in
//! peak RSS for the rest of the run.

/// Serve blocks of 1 MB and more straight from the OS, and give them back
/// when freed. By default glibc raises that threshold after each large
/// free (up to 32 MB), so the analysis' freed temporaries under it would
/// stay in the heap, and in the RSS, for the rest of the run.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Return free heap pages to the OS where the allocator allows it (glibc's
/// `malloc_trim`; a no-op elsewhere).
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

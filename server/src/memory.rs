//! Keeping the server's resident size down. SQLite allocates its page caches with the C
//! allocator; glibc keeps freed memory in per-thread arenas rather than returning it, so a
//! server that once reshuffled a million tasks would stay that size.

/// Caps glibc's allocator at four arenas. It makes one per thread that meets contention,
/// up to eight per core, and each keeps its own free memory; two made reads wait on the
/// arena locks (~10 % fewer pages served). Call before threads start.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning parameter of the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// Returns memory the C allocator holds free to the operating system (after a writer
/// shrank its page cache).
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

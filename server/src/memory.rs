//! Keeping the server's resident size down. SQLite allocates its page caches with the C
//! allocator; glibc keeps freed memory in per-thread arenas rather than returning it, so a
//! server that once reshuffled a million tasks would stay that size.

/// Blocks from this size up get a mapping of their own, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAP_BLOCKS_FROM: i32 = 4 << 20;

/// Tunes glibc's allocator; call before threads start.
/// - At most four arenas. It makes one per thread that meets contention, up to eight per
///   core, and each keeps its own free memory; two made reads wait on the arena locks
///   (~10 % fewer pages served).
/// - A fixed threshold for mapping big blocks (Argon2's 19 MiB working memory, above all).
///   By default the threshold moves up to the size of each mapped block freed, after
///   which blocks of that size come from the arenas and stay there once freed.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets tuning parameters of the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_BLOCKS_FROM);
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

//! The server's allocators, and keeping its resident size down. Rust's allocations go to
//! mimalloc; SQLite allocates its page caches with the C allocator (glibc), which keeps
//! freed memory in per-thread arenas rather than returning it, so a server that once
//! reshuffled a million tasks would stay that size.

/// Rust's own allocations (events' JSON, pages of answers) come from mimalloc: per-thread
/// heaps, no arena locks. On glibc's allocator, a quarter of the CPU the runtime's threads
/// spent settling a reshuffle went to `malloc`/`free` and their bin consolidation.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Blocks from this size up get a mapping of their own, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MAP_BLOCKS_FROM: i32 = 4 << 20;

/// mimalloc's options, by their place in `mi_option_e` (mimalloc v3's `mimalloc.h`; the
/// Rust bindings name only some). A test checks they still hold these options' defaults.
const MI_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps memory freed before it gives it back to the system.
///
/// Not 0 (at once, as it was): a consumer's batch (up to 16,000 events, ~16 MiB of JSON)
/// is freed as the next is read, and each was given back and then faulted in again, zeroed
/// page by page. That was a quarter of the CPU the runtime's threads spent while a reshuffle
/// settled (madvise, page faults, TLB shootdowns; perf over three 100k reshuffles), ~6 %
/// of the server's. With 100 ms: 13 % less CPU on those threads (0.53 s against 0.61 s
/// per 100k reshuffle, nine rounds each, alternating), a lower peak, and the same size at
/// rest, since [`return_freed_memory`] gives back what the delay held once it is over.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

/// How often [`return_freed_memory`] hands back what mimalloc held past its delay.
const RETURN_FREED_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Tunes both allocators; call before threads start.
/// - mimalloc gives freed pages back [`PURGE_DELAY_MS`] after they were freed (its default
///   waits a second), and commits its arenas as they are used, not up front. A delay alone
///   is not enough: mimalloc gives back what is due only when some thread next frees or
///   collects, and a server gone idle does neither (119 MiB at rest after a 100k reshuffle
///   with its defaults, against 53 MiB on glibc); see [`return_freed_memory`].
/// - At most four glibc arenas (for SQLite's allocations now). It makes one per thread that
///   meets contention, up to eight per core, and each keeps its own free memory; two made
///   reads wait on the arena locks (~10 % fewer pages served, measured when Rust's
///   allocations were glibc's too).
/// - A fixed threshold for glibc's mapping of big blocks. By default the threshold moves up
///   to the size of each mapped block freed, after which blocks of that size come from the
///   arenas and stay there once freed (it kept Argon2's 19 MiB blocks, when those came
///   from glibc).
pub fn tune_allocator() {
    // Defaults only: `MIMALLOC_PURGE_DELAY` and `MIMALLOC_ARENA_EAGER_COMMIT` still win.
    // SAFETY: mi_option_set_default only records a setting; both options are read when
    // memory is next purged or reserved.
    unsafe {
        libmimalloc_sys::mi_option_set_default(MI_PURGE_DELAY, PURGE_DELAY_MS);
        libmimalloc_sys::mi_option_set_default(MI_ARENA_EAGER_COMMIT, 0);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets tuning parameters of the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_BLOCKS_FROM);
    }
}

/// Runs for the life of the server: every [`RETURN_FREED_EVERY`], gives back to the
/// system what mimalloc freed more than [`PURGE_DELAY_MS`] ago. Its arenas are shared by
/// every thread, so a collection on whichever thread runs this reaches memory any thread
/// freed (up to a quarter of the arenas and one more per call; a server has few). Without
/// it, a server that goes quiet right after a burst (a reshuffle, a login flood's 19 MiB
/// Argon2 blocks) keeps that memory until its next one: 169-186 MiB just after seeding
/// 100k tasks, against 51 MiB with it.
pub async fn return_freed_memory() {
    let mut tick = tokio::time::interval(RETURN_FREED_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        // SAFETY: mi_collect(false) frees nothing in use; it returns this thread's free
        // pages to the arenas and hands expired free ranges back to the system.
        unsafe { libmimalloc_sys::mi_collect(false) };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The options' numbers are taken from mimalloc's header: if an update renumbers them,
    /// the defaults read through these numbers stop matching (1000 ms, and 2: "eager on
    /// systems that overcommit"). Skipped when the environment sets either option (under its
    /// name or its older one).
    #[test]
    fn mimalloc_option_numbers_name_the_options_meant() {
        let set_outside = [
            "MIMALLOC_PURGE_DELAY",
            "MIMALLOC_RESET_DELAY",
            "MIMALLOC_ARENA_EAGER_COMMIT",
            "MIMALLOC_EAGER_REGION_COMMIT",
        ];
        if set_outside
            .iter()
            .any(|name| std::env::var_os(name).is_some())
        {
            return;
        }
        // SAFETY: mi_option_get only reads a setting.
        let (delay, eager) = unsafe {
            (
                libmimalloc_sys::mi_option_get(MI_PURGE_DELAY),
                libmimalloc_sys::mi_option_get(MI_ARENA_EAGER_COMMIT),
            )
        };
        assert_eq!((delay, eager), (1000, 2));
    }
}

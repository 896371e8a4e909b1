//! Scheduling priority of the server's own background threads. On Linux a nice value
//! belongs to one thread; a thread may lower its own priority, never raise it again.

/// The password checks (nice 19): they run on what the request handlers leave. A flood
/// of logins, each an Argon2 hash of tens of milliseconds, took a quarter of the cores
/// from reads at normal priority; at nice 19 a check waits for a free moment instead (it
/// takes longer only when the machine is saturated).
pub const PASSWORD_CHECKS: i32 = 19;

/// The checkpointers (nice 10), copying each WAL into its database: work that may wait,
/// since a WAL that grows meanwhile is started over by its writer (`db::wal_limit`).
pub const WAL_COPIES: i32 = 10;

/// The writers of read models nobody acts on at once (nice 5): analytics' projection. It
/// keeps up whenever a core is free, and yields while the tracker and accounting are busy.
///
/// With both of these, a 100k reshuffle settled 5 % sooner (mean 2.06 s against 2.16 s,
/// median 1.96 s against 2.06 s; 18 rounds each, alternating): accounting's writer, whose
/// work decides when a reshuffle settles, had waited for a core while these ran.
pub const READ_MODEL_WRITER: i32 = 5;

/// Lowers the calling thread's priority to `nice` (see the constants above).
pub fn lower_this_thread(nice: i32) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: setpriority only changes the scheduling priority of the given thread (this
    // one); it reads and writes no memory of ours.
    unsafe {
        let this_thread = libc::gettid() as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, this_thread, nice) != 0 {
            tracing::warn!(nice, "could not lower a background thread's priority");
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = nice;
}

/// The nice value in a thread's `/proc/.../stat` line.
#[cfg(test)]
pub(crate) fn nice_of(stat: &str) -> i32 {
    // Field 19 of stat is the nice value (counted after the command's closing paren).
    stat.rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(16)
        .unwrap()
        .parse()
        .unwrap()
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn lowers_only_the_calling_thread() {
        let lowered = std::thread::spawn(|| {
            super::lower_this_thread(super::PASSWORD_CHECKS);
            std::fs::read_to_string("/proc/thread-self/stat").unwrap()
        })
        .join()
        .unwrap();
        let nice = super::nice_of;
        assert_eq!(nice(&lowered), 19);
        let mine = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        assert_ne!(nice(&mine), 19);
    }
}

//! Scheduling priority of the server's own background threads.

/// Gives the calling thread the lowest CPU priority (nice 19): it runs on what the
/// request handlers leave. For the password checks: a flood of logins, each an Argon2 hash
/// of tens of milliseconds, took a quarter of the cores from reads at normal priority; at
/// nice 19 a check waits for a free moment instead (it takes longer only when the machine
/// is saturated). On Linux a nice value belongs to one thread.
pub fn lowest_for_this_thread() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: setpriority only changes the scheduling priority of the given thread (this
    // one); it reads and writes no memory of ours.
    unsafe {
        let this_thread = libc::gettid() as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, this_thread, 19) != 0 {
            tracing::warn!("could not lower a background thread's priority");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn lowers_only_the_calling_thread() {
        let lowered = std::thread::spawn(|| {
            super::lowest_for_this_thread();
            std::fs::read_to_string("/proc/thread-self/stat").unwrap()
        })
        .join()
        .unwrap();
        // Field 19 of stat is the nice value (counted after the command's closing paren).
        let nice = |stat: &str| -> i32 {
            stat.rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .nth(16)
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(nice(&lowered), 19);
        let mine = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        assert_ne!(nice(&mine), 19);
    }
}

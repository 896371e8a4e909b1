//! What stands between the internet and the password checks: per-username and per-address
//! throttles (429 with `Retry-After`), a small bound on concurrent Argon2 checks (each holds
//! ~19 MiB for tens of milliseconds; beyond the bound a fast 503), and a dummy hash checked
//! for unknown usernames so the answer's timing says nothing about which names exist.
//!
//! The checks run on a few threads of their own, not on the runtime's blocking pool: the
//! allocator keeps freed memory per thread, so 19 MiB checks spread over dozens of blocking
//! threads left the server at 1.2 GB after a 300-login flood even with 4 checks at a time.
//! They run at the lowest CPU priority, and a refused attempt is answered only after a
//! delay: a flood then costs reads almost nothing (0.30x of their rate without a flood
//! before, see `benches/speed.rs`).

use super::password::{self, HashCost};
use crate::error::Error;
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::{Semaphore, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// How many login attempts are let through, and how many password checks run at once.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Attempts per minute for one username, from anywhere (a burst of as many).
    pub per_username_per_minute: u32,
    /// Attempts per minute from one client address, for any usernames.
    pub per_address_per_minute: u32,
    /// Password hashes computed or checked at the same time.
    pub concurrent_checks: usize,
    /// How long an attempt waits for a free check before it is turned away.
    pub queue_wait: Duration,
    /// How long a throttled attempt is held before its 429 goes out. Waiting costs the
    /// server nothing, and it caps what a flood can make the server do: a connection gets
    /// one refusal per this much time, not as many as it can send (a 300-connection flood
    /// of instant 429s took two thirds of the reads' CPU).
    pub refusal_delay: Duration,
}

impl LoginLimits {
    pub const DEFAULT: LoginLimits = LoginLimits {
        per_username_per_minute: 10,
        per_address_per_minute: 60,
        concurrent_checks: 4,
        queue_wait: Duration::from_secs(2),
        refusal_delay: Duration::from_secs(1),
    };
}

/// Keyed limiters forget idle keys once they hold this many, so a flood of made-up
/// usernames cannot grow memory without bound.
const FORGET_IDLE_KEYS_ABOVE: usize = 10_000;

pub struct LoginGuard {
    per_username: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    checks: Arc<Semaphore>,
    /// The password-check threads, one per permit.
    workers: Mutex<mpsc::Sender<Job>>,
    last_cleanup: Mutex<std::time::Instant>,
    queue_wait: Duration,
    refusal_delay: Duration,
    /// Checked in place of a real hash when the username is unknown.
    dummy_hash: String,
}

impl LoginGuard {
    pub fn new(limits: LoginLimits, cost: HashCost) -> anyhow::Result<LoginGuard> {
        let quota = |per_minute: u32| {
            let n = NonZeroU32::new(per_minute.max(1)).expect("at least one");
            Quota::per_minute(n).allow_burst(n)
        };
        let dummy: String = {
            use rand::RngExt;
            rand::rng()
                .sample_iter(rand::distr::Alphanumeric)
                .take(24)
                .map(char::from)
                .collect()
        };
        let threads = limits.concurrent_checks.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("ates-password-{i}"))
                .spawn(move || {
                    crate::priority::lower_this_thread(crate::priority::PASSWORD_CHECKS);
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking check fails its caller, never the thread.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return, // the guard is gone
                        }
                    }
                })?;
        }
        let dummy_hash = password::hash(&dummy, cost)?;
        Ok(LoginGuard {
            per_username: RateLimiter::keyed(quota(limits.per_username_per_minute)),
            per_address: RateLimiter::keyed(quota(limits.per_address_per_minute)),
            checks: Arc::new(Semaphore::new(threads)),
            workers: Mutex::new(jobs),
            last_cleanup: Mutex::new(std::time::Instant::now()),
            queue_wait: limits.queue_wait,
            refusal_delay: limits.refusal_delay,
            dummy_hash,
        })
    }

    /// Counts one attempt against the address, then the username; 429 when either is
    /// spent. An attempt refused for its address costs the username nothing. A name that
    /// cannot be a username (the same rule accounts are created with) is not a key at all:
    /// it cannot log in, and the address's allowance bounds it.
    pub fn admit(&self, username: &str, address: IpAddr) -> Result<(), Error> {
        self.forget_idle_keys();
        throttle(&self.per_address, &address, "address")?;
        if super::validate::is_username(username) {
            throttle(&self.per_username, &username.to_owned(), "username")?;
        }
        Ok(())
    }

    /// `admit`, with a refusal held back for the refusal delay before it is returned.
    pub async fn admit_or_hold(&self, username: &str, address: IpAddr) -> Result<(), Error> {
        let admitted = self.admit(username, address);
        if admitted.is_err() {
            tokio::time::sleep(self.refusal_delay).await;
        }
        admitted
    }

    /// Keyed limiters keep a cell per key; idle ones are dropped now and then (at most every
    /// ten seconds, so a flood of new keys does not make every attempt scan them all).
    fn forget_idle_keys(&self) {
        let Ok(mut last) = self.last_cleanup.try_lock() else {
            return;
        };
        if last.elapsed() < Duration::from_secs(10) {
            return;
        }
        *last = std::time::Instant::now();
        if self.per_username.len() > FORGET_IDLE_KEYS_ABOVE {
            self.per_username.retain_recent();
        }
        if self.per_address.len() > FORGET_IDLE_KEYS_ABOVE {
            self.per_address.retain_recent();
        }
    }

    /// Runs `work` (a password hash or check) on a password thread once one is free; 503
    /// when they all stay busy for the queue wait.
    pub async fn check<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, Error> {
        let permit = match tokio::time::timeout(
            self.queue_wait,
            self.checks.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            _ => return Err(busy()),
        };
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _permit = permit;
            let _ = done.send(work());
        });
        self.workers
            .lock()
            .map_err(|_| Error::Internal(anyhow::anyhow!("password threads poisoned")))?
            .send(job)
            .map_err(|_| Error::Internal(anyhow::anyhow!("password threads stopped")))?;
        result
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("a password check panicked")))
    }

    pub fn dummy_hash(&self) -> &str {
        &self.dummy_hash
    }
}

fn busy() -> Error {
    metrics::counter!("ates_login_throttled_total", "reason" => "busy").increment(1);
    Error::Throttled {
        status: 503,
        code: "busy",
        message: "too many password checks are running; try again in a moment".into(),
        retry_after_secs: 1,
    }
}

fn throttle<K: Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
    what: &'static str,
) -> Result<(), Error> {
    limiter.check_key(key).map_err(|not_until| {
        // The limiter's own clock: a new one calibrates itself (CPUID, which a virtual
        // machine's hypervisor answers slowly), and that was over a quarter of the CPU a
        // flood of refused logins cost the server.
        let wait = not_until.wait_time_from(limiter.clock().now());
        metrics::counter!("ates_login_throttled_total", "reason" => what).increment(1);
        Error::Throttled {
            status: 429,
            code: "too_many_attempts",
            message: format!("too many login attempts for this {what}; try again later"),
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(per_username: u32, per_address: u32) -> LoginGuard {
        LoginGuard::new(
            LoginLimits {
                per_username_per_minute: per_username,
                per_address_per_minute: per_address,
                concurrent_checks: 1,
                queue_wait: Duration::from_millis(20),
                refusal_delay: Duration::from_millis(200),
            },
            HashCost::CHEAP_FOR_TESTS,
        )
        .unwrap()
    }

    fn retry_after(e: Error) -> (u16, u64) {
        match e {
            Error::Throttled {
                status,
                retry_after_secs,
                ..
            } => (status, retry_after_secs),
            other => panic!("not a throttle: {other:?}"),
        }
    }

    #[test]
    fn a_username_is_throttled_whatever_the_address_and_case() {
        let guard = guard(3, 1000);
        for i in 0..3u8 {
            guard.admit("ann", IpAddr::from([10, 0, 0, i])).unwrap();
        }
        let (status, wait) = retry_after(guard.admit("ann", [10, 0, 0, 9].into()).unwrap_err());
        assert_eq!(status, 429);
        assert!((1..=20).contains(&wait), "{wait}");
        guard.admit("bob", [10, 0, 0, 9].into()).unwrap();
    }

    #[test]
    fn an_address_is_throttled_whatever_the_usernames() {
        let guard = guard(1000, 2);
        let home = IpAddr::from([192, 168, 1, 1]);
        guard.admit("a1", home).unwrap();
        guard.admit("a2", home).unwrap();
        assert_eq!(retry_after(guard.admit("a3", home).unwrap_err()).0, 429);
        guard.admit("a3", [192, 168, 1, 2].into()).unwrap();
    }

    #[test]
    fn a_refused_address_costs_the_username_nothing_and_junk_names_are_no_keys() {
        let guard = guard(2, 1);
        let flooder = IpAddr::from([203, 0, 113, 9]);
        guard.admit("ann", flooder).unwrap();
        for _ in 0..5 {
            assert!(guard.admit("ann", flooder).is_err());
        }
        // Ann still has her second attempt from elsewhere.
        guard.admit("ann", [198, 51, 100, 1].into()).unwrap();
        let guard = self::guard(2, 1000);
        for i in 0..50 {
            guard.admit(&"x".repeat(1000 + i), flooder).unwrap();
        }
        assert_eq!(guard.per_username.len(), 0, "no key per junk name");
    }

    #[tokio::test]
    async fn a_refusal_is_held_back_and_an_admission_is_not() {
        let guard = guard(1000, 1);
        let home = IpAddr::from([192, 168, 1, 1]);
        let started = std::time::Instant::now();
        guard.admit_or_hold("a1", home).await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(200));
        let started = std::time::Instant::now();
        assert!(guard.admit_or_hold("a2", home).await.is_err());
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn checks_beyond_the_bound_are_turned_away_fast() {
        let guard = Arc::new(guard(1000, 1000));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let busy = {
            let guard = guard.clone();
            tokio::spawn(async move { guard.check(move || held.recv().is_ok()).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(retry_after(guard.check(|| 1).await.unwrap_err()).0, 503);
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        assert_eq!(guard.check(|| 2).await.unwrap(), 2);
    }
}

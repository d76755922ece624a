//! In-memory request limits: token buckets per key (API token, routing key, source address)
//! and a lockout per source address after repeated authentication failures.
//!
//! Written here rather than taken from a crate: the whole thing is two small structs, it must
//! read time from the injected [`Clock`](warroom_core::Clock) (so tests move a `ManualClock`
//! instead of sleeping; `governor` brings its own clock abstraction and a dependency tree for
//! features we do not use), and it must say how long to wait for `Retry-After`.
//!
//! Limits are per process: with several replicas behind a load balancer, each enforces its own
//! share. That is the usual trade for not putting a shared store on every request.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use jiff::Timestamp;

/// Keys tracked per limiter before idle ones are forgotten. Each entry is a few dozen bytes,
/// so this bounds a limiter to a few megabytes whatever a client sprays at us.
const MAX_KEYS: usize = 100_000;

/// A sustained rate with a burst allowance. A rate of zero disables the limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed at once after a quiet period (the bucket's size); at least 1.
    pub burst: u32,
}

impl Rate {
    /// No limit.
    pub const UNLIMITED: Rate = Rate {
        per_second: 0.0,
        burst: 0,
    };

    /// Whether this rate limits anything.
    pub fn is_limited(&self) -> bool {
        self.per_second > 0.0
    }
}

/// Refused: try again after this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_micros: i64,
}

/// Token buckets by key, all with the same rate.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// A limiter allowing `rate` per key.
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The rate this limiter enforces.
    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Takes one request from `key`'s bucket at `now`, or says how long until one is there.
    pub fn check(&self, key: &str, now: Timestamp) -> Result<(), RetryAfter> {
        if !self.rate.is_limited() {
            return Ok(());
        }
        let capacity = f64::from(self.rate.burst.max(1));
        let now_us = now.as_microsecond();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            self.forget_idle(&mut buckets, now_us, capacity);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at_micros: now_us,
        });
        // A clock that goes back refills nothing rather than a negative amount.
        let elapsed = (now_us - bucket.at_micros).max(0) as f64 / 1e6;
        bucket.tokens = (bucket.tokens + elapsed * self.rate.per_second).min(capacity);
        bucket.at_micros = bucket.at_micros.max(now_us);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.rate.per_second;
            Err(RetryAfter((wait.ceil() as u64).max(1)))
        }
    }

    /// Drops buckets that have refilled completely: forgetting them changes nothing. If every
    /// key is busy (a flood from many sources), starts over rather than grow without bound.
    fn forget_idle(&self, buckets: &mut HashMap<String, Bucket>, now_us: i64, capacity: f64) {
        let rate = self.rate.per_second;
        buckets.retain(|_, b| {
            let elapsed = (now_us - b.at_micros).max(0) as f64 / 1e6;
            b.tokens + elapsed * rate < capacity
        });
        if buckets.len() >= MAX_KEYS {
            tracing::warn!(
                keys = buckets.len(),
                "rate limiter full; resetting its buckets"
            );
            buckets.clear();
        }
    }

    /// Keys tracked now (for tests).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// The `max_failures`-th failed authentication from one source within `window_secs` locks
/// that source out for `lockout_secs`, even with a good token: a guesser cannot tell when
/// it guessed right. `max_failures` of zero disables the lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures in one window that lock the source out.
    pub max_failures: u32,
    /// Length of the counting window, seconds.
    pub window_secs: u64,
    /// How long a locked-out source is refused, seconds.
    pub lockout_secs: u64,
}

impl LockoutPolicy {
    /// No lockout.
    pub const OFF: LockoutPolicy = LockoutPolicy {
        max_failures: 0,
        window_secs: 0,
        lockout_secs: 0,
    };
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    window_start: i64,
    count: u32,
    locked_until: Option<i64>,
}

/// Failed authentications per source address.
#[derive(Debug)]
pub struct Lockout {
    policy: LockoutPolicy,
    sources: Mutex<HashMap<String, Failures>>,
}

impl Lockout {
    /// A tracker enforcing `policy`.
    pub fn new(policy: LockoutPolicy) -> Self {
        Self {
            policy,
            sources: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses a locked-out source, saying for how long.
    pub fn check(&self, source: &str, now: Timestamp) -> Result<(), RetryAfter> {
        if self.policy.max_failures == 0 {
            return Ok(());
        }
        let now_us = now.as_microsecond();
        let sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        match sources.get(source).and_then(|f| f.locked_until) {
            Some(until) if until > now_us => Err(RetryAfter(secs_until(now_us, until))),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the lockout it started, if it did.
    pub fn record_failure(&self, source: &str, now: Timestamp) -> Option<RetryAfter> {
        if self.policy.max_failures == 0 {
            return None;
        }
        let now_us = now.as_microsecond();
        let window_us = micros(self.policy.window_secs);
        let mut sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        if sources.len() >= MAX_KEYS && !sources.contains_key(source) {
            sources.retain(|_, f| {
                f.locked_until.is_some_and(|u| u > now_us)
                    || now_us.saturating_sub(f.window_start) < window_us
            });
            if sources.len() >= MAX_KEYS {
                tracing::warn!(sources = sources.len(), "lockout table full; resetting it");
                sources.clear();
            }
        }
        let entry = sources.entry(source.to_string()).or_insert(Failures {
            window_start: now_us,
            count: 0,
            locked_until: None,
        });
        if entry.locked_until.is_some_and(|u| u <= now_us)
            || now_us.saturating_sub(entry.window_start) >= window_us
        {
            *entry = Failures {
                window_start: now_us,
                count: 0,
                locked_until: None,
            };
        }
        entry.count = entry.count.saturating_add(1);
        if entry.count >= self.policy.max_failures && entry.locked_until.is_none() {
            let until = now_us.saturating_add(micros(self.policy.lockout_secs));
            entry.locked_until = Some(until);
            return Some(RetryAfter(secs_until(now_us, until)));
        }
        None
    }
}

fn micros(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX / 1_000_000) * 1_000_000
}

fn secs_until(now_us: i64, until_us: i64) -> u64 {
    let us = until_us.saturating_sub(now_us).max(0) as u64;
    us.div_ceil(1_000_000).max(1)
}

/// The key a source address is limited by: the address itself for IPv4, and the /64 network
/// for IPv6, since one host commonly holds a whole /64 and could otherwise rotate through it.
pub fn source_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> Timestamp {
        Timestamp::from_microsecond((secs * 1e6) as i64).expect("valid time")
    }

    #[test]
    fn a_burst_passes_then_the_sustained_rate_applies() {
        let l = Limiter::new(Rate {
            per_second: 2.0,
            burst: 5,
        });
        for i in 0..5 {
            assert_eq!(l.check("k", at(0.0)), Ok(()), "request {i} of the burst");
        }
        assert_eq!(l.check("k", at(0.0)), Err(RetryAfter(1)));
        // Half a second refills one token at 2/s.
        assert_eq!(l.check("k", at(0.5)), Ok(()));
        assert_eq!(l.check("k", at(0.5)), Err(RetryAfter(1)));
        // A long pause refills to the burst, never beyond it.
        for _ in 0..5 {
            assert_eq!(l.check("k", at(100.0)), Ok(()));
        }
        assert!(l.check("k", at(100.0)).is_err());
    }

    #[test]
    fn retry_after_is_the_time_to_the_next_token_rounded_up() {
        let l = Limiter::new(Rate {
            per_second: 0.1,
            burst: 1,
        });
        assert_eq!(l.check("k", at(0.0)), Ok(()));
        assert_eq!(l.check("k", at(0.0)), Err(RetryAfter(10)));
        assert_eq!(l.check("k", at(4.5)), Err(RetryAfter(6)));
        assert_eq!(l.check("k", at(10.0)), Ok(()));
    }

    #[test]
    fn keys_are_independent_and_zero_means_unlimited() {
        let l = Limiter::new(Rate {
            per_second: 1.0,
            burst: 1,
        });
        assert!(l.check("a", at(0.0)).is_ok());
        assert!(l.check("a", at(0.0)).is_err());
        assert!(l.check("b", at(0.0)).is_ok());
        let off = Limiter::new(Rate::UNLIMITED);
        for _ in 0..10_000 {
            assert!(off.check("a", at(0.0)).is_ok());
        }
        assert_eq!(off.tracked(), 0);
    }

    #[test]
    fn a_clock_going_back_refills_nothing() {
        let l = Limiter::new(Rate {
            per_second: 1.0,
            burst: 1,
        });
        assert!(l.check("k", at(10.0)).is_ok());
        assert!(l.check("k", at(5.0)).is_err());
        // Time is measured from the latest instant seen, so the jump back gives nothing later.
        assert!(l.check("k", at(10.5)).is_err());
        assert!(l.check("k", at(11.0)).is_ok());
    }

    #[test]
    fn idle_keys_are_forgotten_when_the_table_is_full() {
        let l = Limiter::new(Rate {
            per_second: 1.0,
            burst: 1,
        });
        for i in 0..MAX_KEYS {
            let _ = l.check(&i.to_string(), at(0.0));
        }
        assert_eq!(l.tracked(), MAX_KEYS);
        // Two seconds later every bucket is full again, so all are dropped for the new key.
        assert!(l.check("new", at(2.0)).is_ok());
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn lockout_after_too_many_failures_in_a_window() {
        let lock = Lockout::new(LockoutPolicy {
            max_failures: 3,
            window_secs: 60,
            lockout_secs: 300,
        });
        for i in 0..2 {
            assert_eq!(lock.record_failure("ip", at(f64::from(i))), None);
            assert_eq!(lock.check("ip", at(f64::from(i))), Ok(()));
        }
        assert_eq!(lock.record_failure("ip", at(3.0)), Some(RetryAfter(300)));
        assert_eq!(lock.check("ip", at(3.0)), Err(RetryAfter(300)));
        assert_eq!(lock.check("ip", at(302.5)), Err(RetryAfter(1)));
        assert_eq!(lock.check("other", at(4.0)), Ok(()));
        // Once it ends, the count starts over.
        assert_eq!(lock.check("ip", at(303.0)), Ok(()));
        assert_eq!(lock.record_failure("ip", at(303.0)), None);
        assert_eq!(lock.check("ip", at(303.0)), Ok(()));
    }

    #[test]
    fn failures_spread_beyond_the_window_never_lock_out() {
        let lock = Lockout::new(LockoutPolicy {
            max_failures: 2,
            window_secs: 10,
            lockout_secs: 60,
        });
        for i in 0..20 {
            assert_eq!(lock.record_failure("ip", at(f64::from(i) * 11.0)), None);
        }
        let off = Lockout::new(LockoutPolicy::OFF);
        for _ in 0..100 {
            assert_eq!(off.record_failure("ip", at(0.0)), None);
        }
        assert_eq!(off.check("ip", at(0.0)), Ok(()));
    }

    #[test]
    fn ipv6_sources_are_grouped_by_their_64_bit_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(source_key(a), source_key(b));
        assert_ne!(source_key(a), source_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(source_key(mapped), "192.0.2.1");
    }
}

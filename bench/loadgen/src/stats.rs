//! Latency statistics from every sample of a run (no histogram, no sampling).

use std::time::Duration;

/// The `p`-th percentile (0 < p <= 100) of `sorted` by the nearest-rank method: the smallest
/// sample such that at least `p`% of the samples are less than or equal to it. `p <= 0` gives
/// the minimum. `None` for no samples. `sorted` must be in ascending order.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let p = if p.is_nan() {
        100.0
    } else {
        p.clamp(0.0, 100.0)
    };
    // ceil(p * n / 100), in 1..=n. Multiplying first keeps integral p * n exact
    // (p99 of 1000 samples is rank 990, not 991 from 0.99 not being representable).
    let rank = (p * n as f64 / 100.0).ceil() as usize;
    Some(sorted[rank.clamp(1, n) - 1])
}

/// Latency summary of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latencies {
    /// Number of samples.
    pub count: usize,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// Slowest sample.
    pub max: Duration,
    /// Arithmetic mean.
    pub mean: Duration,
}

impl Latencies {
    /// Sorts the samples and summarises them; `None` when there are none.
    pub fn from_samples(mut samples: Vec<Duration>) -> Option<Self> {
        samples.sort_unstable();
        let max = *samples.last()?;
        let total: Duration = samples.iter().sum();
        let count = samples.len();
        Some(Self {
            count,
            p50: percentile(&samples, 50.0)?,
            p90: percentile(&samples, 90.0)?,
            p99: percentile(&samples, 99.0)?,
            p999: percentile(&samples, 99.9)?,
            max,
            mean: total / u32::try_from(count).unwrap_or(u32::MAX),
        })
    }
}

/// Milliseconds with microsecond precision, for reports.
pub fn ms(d: Duration) -> f64 {
    (d.as_micros() as f64) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&m| Duration::from_millis(m)).collect()
    }

    #[test]
    fn empty_has_no_percentiles() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(Latencies::from_samples(Vec::new()), None);
    }

    #[test]
    fn single_sample_is_every_percentile() {
        let s = millis(&[7]);
        for p in [0.0, 1.0, 50.0, 99.0, 99.9, 100.0] {
            assert_eq!(percentile(&s, p), Some(Duration::from_millis(7)), "p{p}");
        }
    }

    #[test]
    fn nearest_rank_on_one_to_a_hundred() {
        let s = millis(&(1..=100).collect::<Vec<_>>());
        let at = |p| percentile(&s, p).map(|d| d.as_millis());
        assert_eq!(at(0.0), Some(1));
        assert_eq!(at(1.0), Some(1));
        assert_eq!(at(50.0), Some(50));
        assert_eq!(at(90.0), Some(90));
        assert_eq!(at(99.0), Some(99));
        assert_eq!(at(99.5), Some(100));
        assert_eq!(at(100.0), Some(100));
    }

    #[test]
    fn nearest_rank_on_small_odd_sets() {
        // Textbook example: 15, 20, 35, 40, 50.
        let s = millis(&[15, 20, 35, 40, 50]);
        let at = |p| percentile(&s, p).map(|d| d.as_millis());
        assert_eq!(at(5.0), Some(15));
        assert_eq!(at(30.0), Some(20));
        assert_eq!(at(40.0), Some(20));
        assert_eq!(at(50.0), Some(35));
        assert_eq!(at(100.0), Some(50));
    }

    #[test]
    fn out_of_range_p_is_clamped() {
        let s = millis(&[1, 2, 3]);
        assert_eq!(percentile(&s, -5.0), Some(Duration::from_millis(1)));
        assert_eq!(percentile(&s, 250.0), Some(Duration::from_millis(3)));
        assert_eq!(percentile(&s, f64::NAN), Some(Duration::from_millis(3)));
    }

    #[test]
    fn p99_of_a_thousand_sees_the_tail() {
        // 990 fast samples and 10 slow ones: p99 is still fast, max is slow.
        let mut s = vec![Duration::from_millis(1); 990];
        s.extend(vec![Duration::from_millis(500); 10]);
        let l = Latencies::from_samples(s).expect("samples");
        assert_eq!(l.p99, Duration::from_millis(1));
        assert_eq!(l.max, Duration::from_millis(500));
        // With 11 slow samples the 990th sample is slow.
        let mut s = vec![Duration::from_millis(1); 989];
        s.extend(vec![Duration::from_millis(500); 11]);
        let l = Latencies::from_samples(s).expect("samples");
        assert_eq!(l.p99, Duration::from_millis(500));
    }

    #[test]
    fn p999_of_ten_thousand_sees_the_last_ten() {
        // 9,990 fast samples and 10 slow: p99.9 is rank 9,990, still fast; one more slow
        // sample makes it slow.
        let mut s = vec![Duration::from_millis(1); 9990];
        s.extend(vec![Duration::from_millis(500); 10]);
        let l = Latencies::from_samples(s).expect("samples");
        assert_eq!(l.p999, Duration::from_millis(1));
        let mut s = vec![Duration::from_millis(1); 9989];
        s.extend(vec![Duration::from_millis(500); 11]);
        let l = Latencies::from_samples(s).expect("samples");
        assert_eq!(l.p999, Duration::from_millis(500));
        assert_eq!(l.p99, Duration::from_millis(1));
    }

    #[test]
    fn summary_sorts_its_input() {
        let l = Latencies::from_samples(millis(&[9, 1, 5, 3, 7, 2, 8, 4, 6, 10])).expect("samples");
        assert_eq!(l.count, 10);
        assert_eq!(l.p50, Duration::from_millis(5));
        assert_eq!(l.p90, Duration::from_millis(9));
        assert_eq!(l.p99, Duration::from_millis(10));
        assert_eq!(l.p999, Duration::from_millis(10));
        assert_eq!(l.max, Duration::from_millis(10));
        assert_eq!(l.mean, Duration::from_micros(5500));
    }
}

//! HDR histograms of latencies in microseconds, their percentile summaries, and a plain JSON
//! form (`[[value, count], …]`) that shard processes send to the parent to be merged.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// The largest latency recorded (longer ones are clamped to it): one minute.
const MAX_MICROS: u64 = 60_000_000;

/// A latency histogram, microsecond resolution, three significant digits.
#[derive(Debug, Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

impl Latencies {
    /// An empty histogram.
    #[must_use]
    pub fn new() -> Self {
        // Bounds are constants that hdrhistogram accepts (low >= 1, high >= 2 * low, sigfig <= 5).
        match Histogram::new_with_bounds(1, MAX_MICROS, 3) {
            Ok(h) => Self(h),
            Err(_) => unreachable!("constant histogram bounds are valid"),
        }
    }

    /// Records one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(MAX_MICROS)
            .clamp(1, MAX_MICROS);
        self.0.saturating_record(micros);
    }

    /// How many latencies were recorded.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// Whether nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Self) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    /// The value at quantile `q` (0..=1), in milliseconds.
    #[must_use]
    pub fn quantile_ms(&self, q: f64) -> f64 {
        ms(self.0.value_at_quantile(q))
    }

    /// The percentile summary.
    #[must_use]
    pub fn summary(&self) -> Summary {
        if self.is_empty() {
            return Summary::default();
        }
        Summary {
            count: self.len(),
            min_ms: ms(self.0.min()),
            mean_ms: self.0.mean() / 1000.0,
            p50_ms: self.quantile_ms(0.50),
            p90_ms: self.quantile_ms(0.90),
            p99_ms: self.quantile_ms(0.99),
            p999_ms: self.quantile_ms(0.999),
            max_ms: ms(self.0.max()),
        }
    }

    /// The recorded values as `[value_us, count]` pairs.
    #[must_use]
    pub fn to_data(&self) -> HistogramData {
        HistogramData {
            values: self
                .0
                .iter_recorded()
                .map(|v| [v.value_iterated_to(), v.count_at_value()])
                .collect(),
        }
    }

    /// A histogram from [`Self::to_data`]'s form.
    #[must_use]
    pub fn from_data(data: &HistogramData) -> Self {
        let mut h = Self::new();
        for [value, count] in &data.values {
            let _ = h.0.record_n((*value).clamp(1, MAX_MICROS), *count);
        }
        h
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "microsecond latencies are far below 2^52"
)]
fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Recorded values, `[microseconds, count]`, for merging across processes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HistogramData {
    /// The pairs.
    pub values: Vec<[u64; 2]>,
}

/// Percentiles of a histogram, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Values recorded.
    pub count: u64,
    /// Smallest.
    pub min_ms: f64,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_survive_the_round_trip_through_data() {
        let mut h = Latencies::new();
        for i in 1..=1000 {
            h.record(Duration::from_micros(i * 10));
        }
        let back = Latencies::from_data(&h.to_data());
        assert_eq!(back.summary(), h.summary());
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 5.0).abs() < 0.01, "{s:?}");
        assert!((s.p99_ms - 9.9).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn merged_histograms_count_both() {
        let mut a = Latencies::new();
        let mut b = Latencies::new();
        a.record(Duration::from_millis(1));
        b.record(Duration::from_millis(3));
        a.merge(&b);
        assert_eq!(a.len(), 2);
        assert!(a.summary().max_ms >= 2.99);
    }

    #[test]
    fn an_empty_histogram_summarises_to_zeros() {
        assert_eq!(Latencies::new().summary(), Summary::default());
    }
}

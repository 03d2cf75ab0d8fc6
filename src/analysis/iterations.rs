//! Iteration-time statistics.

use serde::{Deserialize, Serialize};

use crate::model::Ns;

/// Distribution of iteration durations. Percentiles are nearest-rank:
/// p-th percentile = the smallest duration with at least p% of the
/// iterations at or below it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IterationStats {
    pub count: usize,
    pub mean_ns: Ns,
    pub p50_ns: Ns,
    pub p90_ns: Ns,
    pub min_ns: Ns,
    pub max_ns: Ns,
    /// Sample standard deviation (n - 1), 0 for fewer than two iterations.
    pub stddev_ns: Ns,
}

/// Nearest-rank percentile of sorted values (`p` in 0..=100).
pub fn percentile(sorted: &[Ns], p: u32) -> Ns {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Statistics of `durations`; None when there are none.
pub fn stats(durations: &[Ns]) -> Option<IterationStats> {
    if durations.is_empty() {
        return None;
    }
    let mut sorted = durations.to_vec();
    sorted.sort_unstable();
    let n = sorted.len();
    let sum: i128 = sorted.iter().map(|&d| i128::from(d)).sum();
    let mean = sum as f64 / n as f64;
    let var = if n > 1 {
        sorted.iter().map(|&d| (d as f64 - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    Some(IterationStats {
        count: n,
        mean_ns: (sum / n as i128) as Ns,
        p50_ns: percentile(&sorted, 50),
        p90_ns: percentile(&sorted, 90),
        min_ns: sorted[0],
        max_ns: sorted[n - 1],
        stddev_ns: var.sqrt().round() as Ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<Ns> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), 5);
        assert_eq!(percentile(&v, 90), 9);
        assert_eq!(percentile(&v, 100), 10);
        assert_eq!(percentile(&v, 0), 1);
        assert_eq!(percentile(&[7], 90), 7);
        let s = stats(&[4, 2, 6]).unwrap();
        assert_eq!(
            (s.mean_ns, s.p50_ns, s.min_ns, s.max_ns, s.stddev_ns),
            (4, 4, 2, 6, 2)
        );
        assert!(stats(&[]).is_none());
    }
}

//! The verdict: is NEW faster than BASE, beyond the noise?
//!
//! With iterations on both sides the test is Welch's t: a 95% confidence
//! interval on the difference of mean iteration times (new - base), which
//! does not assume equal variances:
//!
//! ```text
//!  d  = mean(new) - mean(base)
//!  se = sqrt(var(base)/n_base + var(new)/n_new)          (sample variances, n - 1)
//!  df = se^4 / ((var(base)/n_base)^2/(n_base-1) + (var(new)/n_new)^2/(n_new-1))
//!  CI = d ± t(0.975, df) * se
//! ```
//!
//! The interval is divided by mean(base) to read as a relative change. With
//! the practical threshold τ (default 1%): CI entirely above +τ is `slower`,
//! entirely below -τ `faster`, entirely inside [-τ, +τ] `no-change`;
//! anything else (the interval straddles a threshold) is `inconclusive`, as
//! is a side with fewer than [`MIN_ITERATIONS`] iterations.

use serde::{Deserialize, Serialize};

use crate::model::Ns;

/// Fewest iterations on each side for a verdict (a variance needs two; three
/// matches the iteration detector's minimum).
pub const MIN_ITERATIONS: usize = 3;
/// Two-sided confidence level of the interval.
pub const CONFIDENCE: f64 = 0.95;
/// Default practical threshold, percent of the base mean.
pub const DEFAULT_THRESHOLD_PCT: f64 = 1.0;
/// Without iterations each side is one measurement (its window, scaled to
/// the same amount of work) and there is no spread to test against: only a
/// change this large (percent) is called `faster`/`slower`; smaller ones
/// are `inconclusive`.
pub const SINGLE_SAMPLE_THRESHOLD_PCT: f64 = 10.0;

/// Without iterations, both windows must keep the GPU busy (kernels,
/// copies, memsets) at least this share of the time to be compared: a
/// steady-state cut of a loop (`nsys --duration`, a capture range) does; a
/// whole-program capture is mostly start-up, loading and warm-up on the
/// host, which differ from run to run and say nothing about the build.
pub const MIN_BUSY_SHARE: f64 = 0.5;

/// Engine profiles (TensorRT) record one inference per side, each the
/// average of many profiled runs but without their spread: a change of at
/// least this many percent of the per-inference time is called
/// faster/slower, within the no-change threshold no-change, in between
/// inconclusive. trtexec's run-to-run variation of averaged GPU time is a
/// few percent at most, so 5% keeps noise out.
pub const ENGINE_THRESHOLD_PCT: f64 = 5.0;

/// The window lengths of both sides and how much work NEW's window did
/// relative to BASE's (see `diff::work_ratio`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    pub base_ns: Ns,
    pub new_ns: Ns,
    /// GPU-busy time of each window (kernel, memcpy or memset running).
    pub base_busy_ns: Ns,
    pub new_busy_ns: Ns,
    /// None when the two windows share no kernels.
    pub work_ratio: Option<f64>,
    /// Both sides are engine profiles: each window is one inference.
    pub engine_profiles: bool,
}

/// The four answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictKind {
    Faster,
    Slower,
    NoChange,
    Inconclusive,
}

impl VerdictKind {
    pub fn label(self) -> &'static str {
        match self {
            VerdictKind::Faster => "faster",
            VerdictKind::Slower => "slower",
            VerdictKind::NoChange => "no-change",
            VerdictKind::Inconclusive => "inconclusive",
        }
    }
}

/// What the two numbers compared are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Per-iteration durations of both sides (Welch's t interval).
    Iterations,
    /// One window total per side (no spread).
    WindowTotals,
    /// One averaged inference per side (engine profiles).
    EngineInference,
}

/// The verdict and everything it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub verdict: VerdictKind,
    pub basis: Basis,
    /// The test, in words.
    pub test: String,
    pub confidence: f64,
    pub threshold_pct: f64,
    pub min_iterations: usize,
    pub base_n: usize,
    pub new_n: usize,
    /// Mean iteration time of each side; for window totals, BASE's window
    /// and NEW's window divided by `work_ratio`.
    pub base_ns: f64,
    pub new_ns: f64,
    /// Window totals only: NEW's amount of work relative to BASE's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_ratio: Option<f64>,
    /// Sample standard deviations (None for window totals).
    pub base_stddev_ns: Option<f64>,
    pub new_stddev_ns: Option<f64>,
    /// new - base.
    pub delta_ns: f64,
    /// 100 * delta / base.
    pub change_pct: Option<f64>,
    /// Confidence interval on delta, ns and percent of base.
    pub ci_ns: Option<[f64; 2]>,
    pub ci_pct: Option<[f64; 2]>,
    /// Welch-Satterthwaite degrees of freedom and two-sided p-value.
    pub df: Option<f64>,
    pub p_value: Option<f64>,
    /// Why this verdict, in one sentence.
    pub reason: String,
}

/// Welch's interval on mean(b) - mean(a).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    pub mean_a: f64,
    pub mean_b: f64,
    pub var_a: f64,
    pub var_b: f64,
    pub diff: f64,
    pub se: f64,
    /// Infinite when both variances are zero.
    pub df: f64,
    pub t_crit: f64,
    pub lo: f64,
    pub hi: f64,
    pub p_value: f64,
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = if x.len() > 1 {
        x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}

/// Welch's t interval at `confidence` (two-sided); needs two or more values
/// on each side.
pub fn welch(a: &[f64], b: &[f64], confidence: f64) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (mean_a, var_a) = mean_var(a);
    let (mean_b, var_b) = mean_var(b);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (qa, qb) = (var_a / na, var_b / nb);
    let se = (qa + qb).sqrt();
    let diff = mean_b - mean_a;
    if se == 0.0 {
        // No spread at all: the difference is exact.
        return Some(Welch {
            mean_a,
            mean_b,
            var_a,
            var_b,
            diff,
            se,
            df: f64::INFINITY,
            t_crit: 0.0,
            lo: diff,
            hi: diff,
            p_value: if diff == 0.0 { 1.0 } else { 0.0 },
        });
    }
    let df = (qa + qb).powi(2) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
    let t_crit = t_quantile(0.5 + confidence / 2.0, df);
    let t = diff / se;
    Some(Welch {
        mean_a,
        mean_b,
        var_a,
        var_b,
        diff,
        se,
        df,
        t_crit,
        lo: diff - t_crit * se,
        hi: diff + t_crit * se,
        p_value: 2.0 * (1.0 - t_cdf(t.abs(), df)),
    })
}

/// Decide from per-iteration durations (`base`, `new`, in ns); `None` on a
/// side means it has no iterations and `*_total` is its window total.
pub fn verdict(base: Option<&[Ns]>, new: Option<&[Ns]>, totals: Totals, threshold_pct: f64) -> Verdict {
    let test = format!(
        "Welch's t {:.0}% confidence interval on the difference of mean iteration times; |change| < {threshold_pct}% counts as no change",
        CONFIDENCE * 100.0
    );
    let mut v = Verdict {
        verdict: VerdictKind::Inconclusive,
        basis: Basis::Iterations,
        test,
        confidence: CONFIDENCE,
        threshold_pct,
        min_iterations: MIN_ITERATIONS,
        base_n: base.map_or(0, <[Ns]>::len),
        new_n: new.map_or(0, <[Ns]>::len),
        base_ns: 0.0,
        new_ns: 0.0,
        work_ratio: None,
        base_stddev_ns: None,
        new_stddev_ns: None,
        delta_ns: 0.0,
        change_pct: None,
        ci_ns: None,
        ci_pct: None,
        df: None,
        p_value: None,
        reason: String::new(),
    };
    let (b, n) = match (base, new) {
        (Some(b), Some(n)) if !b.is_empty() && !n.is_empty() => (b, n),
        _ => return totals_verdict(v, base.is_some() || new.is_some(), totals),
    };
    let bf: Vec<f64> = b.iter().map(|&x| x as f64).collect();
    let nf: Vec<f64> = n.iter().map(|&x| x as f64).collect();
    let (mb, vb) = mean_var(&bf);
    let (mn, vn) = mean_var(&nf);
    v.base_ns = mb;
    v.new_ns = mn;
    v.base_stddev_ns = Some(vb.sqrt());
    v.new_stddev_ns = Some(vn.sqrt());
    v.delta_ns = mn - mb;
    v.change_pct = pct(v.delta_ns, mb);
    if same_values(b, n) {
        v.verdict = VerdictKind::NoChange;
        v.delta_ns = 0.0;
        v.change_pct = Some(0.0);
        v.ci_ns = Some([0.0, 0.0]);
        v.ci_pct = Some([0.0, 0.0]);
        v.reason = "both sides have the same iteration times (the same measurements): the difference is exactly zero".into();
        return v;
    }
    if b.len() < MIN_ITERATIONS || n.len() < MIN_ITERATIONS {
        v.reason = format!(
            "too few iterations for a test ({} and {}; at least {MIN_ITERATIONS} on each side are needed)",
            b.len(),
            n.len()
        );
        return v;
    }
    let Some(w) = welch(&bf, &nf, CONFIDENCE) else {
        return v;
    };
    v.ci_ns = Some([w.lo, w.hi]);
    v.df = w.df.is_finite().then_some(w.df);
    v.p_value = Some(w.p_value);
    let Some((lo, hi)) = pct(w.lo, mb).zip(pct(w.hi, mb)) else {
        v.reason = "the base mean is zero: no relative change".into();
        return v;
    };
    v.ci_pct = Some([lo, hi]);
    let t = threshold_pct;
    (v.verdict, v.reason) = if lo > t {
        (
            VerdictKind::Slower,
            format!("the whole interval [{lo:+.2}%, {hi:+.2}%] lies above +{t}%"),
        )
    } else if hi < -t {
        (
            VerdictKind::Faster,
            format!("the whole interval [{lo:+.2}%, {hi:+.2}%] lies below -{t}%"),
        )
    } else if lo >= -t && hi <= t {
        (
            VerdictKind::NoChange,
            format!("the whole interval [{lo:+.2}%, {hi:+.2}%] lies within ±{t}%"),
        )
    } else {
        (
            VerdictKind::Inconclusive,
            format!(
                "the interval [{lo:+.2}%, {hi:+.2}%] straddles the ±{t}% threshold: more iterations (or less noise) are needed"
            ),
        )
    };
    v
}

/// Two engine profiles: one averaged inference each, the same unit of work.
fn engine_verdict(mut v: Verdict, t: Totals) -> Verdict {
    v.basis = Basis::EngineInference;
    v.test = format!(
        "per-inference time of two engine profiles (each the average over its profiled runs; no per-run spread is recorded): a change of at least {ENGINE_THRESHOLD_PCT}% is called faster/slower, within ±{}% no-change, anything between inconclusive",
        v.threshold_pct
    );
    v.base_n = 1;
    v.new_n = 1;
    v.base_ns = t.base_ns as f64;
    v.new_ns = t.new_ns as f64;
    v.work_ratio = Some(1.0);
    v.delta_ns = v.new_ns - v.base_ns;
    v.change_pct = pct(v.delta_ns, v.base_ns);
    let Some(c) = v.change_pct else {
        v.reason = "a side has an empty engine profile".into();
        return v;
    };
    let th = v.threshold_pct;
    (v.verdict, v.reason) = if c >= ENGINE_THRESHOLD_PCT {
        (
            VerdictKind::Slower,
            format!("one inference takes {c:.1}% longer, at least {ENGINE_THRESHOLD_PCT}%"),
        )
    } else if c <= -ENGINE_THRESHOLD_PCT {
        (
            VerdictKind::Faster,
            format!(
                "one inference takes {:.1}% less time, at least {ENGINE_THRESHOLD_PCT}%",
                -c
            ),
        )
    } else if c.abs() < th {
        (
            VerdictKind::NoChange,
            format!("one inference changes by {c:+.1}%, within ±{th}%"),
        )
    } else {
        (
            VerdictKind::Inconclusive,
            format!(
                "one inference changes by {c:+.1}%: more than ±{th}% but less than {ENGINE_THRESHOLD_PCT}%, which averaged profiles without spread cannot separate from noise"
            ),
        )
    };
    v
}

/// No iterations on at least one side: one number per side, NEW scaled to
/// BASE's amount of work.
fn totals_verdict(mut v: Verdict, one_side_has_iterations: bool, t: Totals) -> Verdict {
    if t.engine_profiles {
        return engine_verdict(v, t);
    }
    v.basis = Basis::WindowTotals;
    v.test = format!(
        "window lengths, one measurement per side, NEW scaled to BASE's amount of work (the time-weighted median ratio of the call counts of kernels both ran); no spread to test, so only windows that keep the GPU busy at least {:.0}% of the time are judged, and a change of at least {SINGLE_SAMPLE_THRESHOLD_PCT}% is called faster/slower, anything smaller inconclusive",
        MIN_BUSY_SHARE * 100.0
    );
    v.base_n = 1;
    v.new_n = 1;
    v.base_ns = t.base_ns as f64;
    v.new_ns = t.new_ns as f64;
    v.work_ratio = t.work_ratio;
    if t.base_ns == 0 || t.new_ns == 0 {
        v.reason = "a side has an empty window".into();
        return v;
    }
    let Some(ratio) = t.work_ratio.filter(|r| *r > 0.0 && r.is_finite()) else {
        v.delta_ns = v.new_ns - v.base_ns;
        v.change_pct = pct(v.delta_ns, v.base_ns);
        v.reason = "the two windows share no kernels, so their amounts of work cannot be compared".into();
        return v;
    };
    v.new_ns = t.new_ns as f64 / ratio;
    v.delta_ns = v.new_ns - v.base_ns;
    v.change_pct = pct(v.delta_ns, v.base_ns);
    if one_side_has_iterations {
        v.reason =
            "only one side has iterations: its window and the other's whole span cover different things"
                .into();
        return v;
    }
    if t.base_ns == t.new_ns && ratio == 1.0 {
        v.verdict = VerdictKind::NoChange;
        v.delta_ns = 0.0;
        v.change_pct = Some(0.0);
        v.reason = "both windows have exactly the same length and work (the same measurement)".into();
        return v;
    }
    let busy = |b: Ns, w: Ns| b as f64 / w as f64;
    let (bb, nb) = (busy(t.base_busy_ns, t.base_ns), busy(t.new_busy_ns, t.new_ns));
    if bb < MIN_BUSY_SHARE || nb < MIN_BUSY_SHARE {
        v.reason = format!(
            "no iterations, and the GPU is busy only {:.0}% (BASE) and {:.0}% (NEW) of the windows: they are mostly host time (start-up, loading, warm-up) that varies from run to run; mark iterations with NVTX ranges to compare steady state",
            bb * 100.0,
            nb * 100.0
        );
        return v;
    }
    let c = v.change_pct.unwrap_or(0.0);
    let work = if ratio == 1.0 {
        String::new()
    } else {
        format!(" (NEW did {:.1}% of BASE's work in its window)", ratio * 100.0)
    };
    (v.verdict, v.reason) = if c >= SINGLE_SAMPLE_THRESHOLD_PCT {
        (
            VerdictKind::Slower,
            format!(
                "no iterations: the same work takes {c:.1}% longer{work}, at least {SINGLE_SAMPLE_THRESHOLD_PCT}%"
            ),
        )
    } else if c <= -SINGLE_SAMPLE_THRESHOLD_PCT {
        (
            VerdictKind::Faster,
            format!(
                "no iterations: the same work takes {:.1}% less time{work}, at least {SINGLE_SAMPLE_THRESHOLD_PCT}%",
                -c
            ),
        )
    } else {
        (
            VerdictKind::Inconclusive,
            format!(
                "no iterations: a {c:+.1}% change of one measurement per side{work} is within what run-to-run noise can do (below {SINGLE_SAMPLE_THRESHOLD_PCT}%)"
            ),
        )
    };
    v
}

/// Whether both samples hold exactly the same values.
fn same_values(a: &[Ns], b: &[Ns]) -> bool {
    let (mut x, mut y) = (a.to_vec(), b.to_vec());
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

/// 100 * part / whole; None for a zero whole.
pub fn pct(part: f64, whole: f64) -> Option<f64> {
    (whole != 0.0).then(|| 100.0 * part / whole)
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let tiny = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / tiny(1.0 - qab * x / qap);
    let mut h = d;
    // One Lentz step with coefficient `aa`: the factor it multiplies h by.
    let mut step = |aa: f64| {
        d = 1.0 / tiny(1.0 + aa * d);
        c = tiny(1.0 + aa / c);
        d * c
    };
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)));
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)));
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Regularized incomplete beta I_x(a, b).
fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// CDF of Student's t with `df` degrees of freedom (df may be fractional).
pub fn t_cdf(t: f64, df: f64) -> f64 {
    if df.is_infinite() {
        return normal_cdf(t);
    }
    let x = df / (df + t * t);
    let tail = 0.5 * beta_inc(df / 2.0, 0.5, x);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

fn normal_cdf(x: f64) -> f64 {
    // Φ(x) through the t CDF's limit is circular; use erfc's relation to the
    // incomplete gamma instead: Φ(x) = 1 - Q(1/2, x²/2)/2 for x >= 0.
    let tail = 0.5 * gamma_q(0.5, x * x / 2.0);
    if x >= 0.0 { 1.0 - tail } else { tail }
}

/// Regularized upper incomplete gamma Q(a, x) by continued fraction
/// (x >= a + 1) or series.
fn gamma_q(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    let gln = ln_gamma(a);
    if x < a + 1.0 {
        let (mut ap, mut del) = (a, 1.0 / a);
        let mut sum = del;
        for _ in 0..500 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * (-x + a * x.ln() - gln).exp()
    } else {
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..500 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-x + a * x.ln() - gln).exp() * h
    }
}

/// The `p` quantile of Student's t (0.5 < p < 1), by bisection on the CDF.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while t_cdf(hi, df) < p && hi < 1e9 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_table_values() {
        // Two-sided 95% critical values from standard t tables.
        for (df, t) in [
            (1.0, 12.706_204_7),
            (2.0, 4.302_652_7),
            (5.0, 2.570_581_8),
            (10.0, 2.228_138_9),
            (22.0, 2.073_873_1),
            (100.0, 1.983_971_5),
        ] {
            let q = t_quantile(0.975, df);
            assert!((q - t).abs() < 1e-6, "df {df}: {q} vs {t}");
        }
        assert!((t_quantile(0.975, f64::INFINITY) - 1.959_963_985).abs() < 1e-7);
        assert!((t_cdf(0.0, 7.5) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn welch_by_hand() {
        // a: mean 2, var 1; b: mean 5, var 2.5 (n = 3 and 5).
        let a = [1.0, 2.0, 3.0];
        let b = [3.0, 4.0, 5.0, 6.0, 7.0];
        let w = welch(&a, &b, 0.95).unwrap();
        assert_eq!(
            (w.mean_a, w.var_a, w.mean_b, w.var_b, w.diff),
            (2.0, 1.0, 5.0, 2.5, 3.0)
        );
        let (qa, qb) = (1.0 / 3.0, 0.5);
        let df = (qa + qb) * (qa + qb) / (qa * qa / 2.0 + qb * qb / 4.0);
        assert!((w.df - df).abs() < 1e-12);
        assert!((w.se - (qa + qb).sqrt()).abs() < 1e-12);
        assert!((w.hi - w.lo - 2.0 * w.t_crit * w.se).abs() < 1e-12);
    }

    #[test]
    fn engine_profiles_compare_one_inference_each() {
        let t = |new_ns| Totals {
            base_ns: 1000,
            new_ns,
            base_busy_ns: 1000,
            new_busy_ns: new_ns,
            work_ratio: Some(1.0),
            engine_profiles: true,
        };
        let v = |new_ns| verdict(None, None, t(new_ns), 1.0);
        assert_eq!(v(1078).verdict, VerdictKind::Slower);
        assert_eq!(v(1078).basis, Basis::EngineInference);
        assert_eq!(v(940).verdict, VerdictKind::Faster);
        assert_eq!(v(1030).verdict, VerdictKind::Inconclusive);
        assert_eq!(v(1005).verdict, VerdictKind::NoChange);
        assert_eq!(v(1000).verdict, VerdictKind::NoChange);
    }

    #[test]
    fn verdicts() {
        let base: Vec<Ns> = (0..10).map(|i| 1_000_000 + i * 1_000).collect();
        let slower: Vec<Ns> = base.iter().map(|x| x + 100_000).collect();
        let faster: Vec<Ns> = base.iter().map(|x| x - 100_000).collect();
        let same: Vec<Ns> = base.iter().map(|x| x + 10).collect();
        let t0 = Totals {
            base_ns: 0,
            new_ns: 0,
            base_busy_ns: 0,
            new_busy_ns: 0,
            work_ratio: None,
            engine_profiles: false,
        };
        let v = |n: &[Ns]| verdict(Some(&base), Some(n), t0, 1.0);
        assert_eq!(v(&slower).verdict, VerdictKind::Slower);
        assert_eq!(v(&faster).verdict, VerdictKind::Faster);
        assert_eq!(v(&same).verdict, VerdictKind::NoChange);
        let identical = v(&base);
        assert_eq!(identical.verdict, VerdictKind::NoChange);
        assert_eq!(identical.delta_ns, 0.0);
        // Noisy: ±20% spread, 1% shift.
        let noisy: Vec<Ns> = (0..10)
            .map(|i| if i % 2 == 0 { 800_000 } else { 1_200_000 })
            .collect();
        let shifted: Vec<Ns> = noisy.iter().map(|x| x + 10_000).collect();
        assert_eq!(
            verdict(Some(&noisy), Some(&shifted), t0, 1.0).verdict,
            VerdictKind::Inconclusive
        );
        let two = verdict(Some(&base[..2]), Some(&slower[..2]), t0, 1.0);
        assert_eq!(two.verdict, VerdictKind::Inconclusive);
        assert!(two.reason.contains("at least 3"), "{}", two.reason);
    }

    #[test]
    fn totals() {
        let t = |base_ns, new_ns, work_ratio| Totals {
            base_ns,
            new_ns,
            base_busy_ns: base_ns,
            new_busy_ns: new_ns,
            work_ratio,
            engine_profiles: false,
        };
        let v = verdict(None, None, t(100, 150, Some(1.0)), 1.0);
        assert_eq!((v.verdict, v.basis), (VerdictKind::Slower, Basis::WindowTotals));
        let v = |b, n, r| verdict(None, None, t(b, n, r), 1.0).verdict;
        assert_eq!(v(100, 95, Some(1.0)), VerdictKind::Inconclusive);
        assert_eq!(v(100, 100, Some(1.0)), VerdictKind::NoChange);
        assert_eq!(v(100, 80, Some(1.0)), VerdictKind::Faster);
        // Same window length, 80% of the work: 25% more time per unit of work.
        assert_eq!(v(100, 100, Some(0.8)), VerdictKind::Slower);
        assert_eq!(v(100, 100, None), VerdictKind::Inconclusive);
        // Mostly idle windows (a whole-program capture) are not judged.
        let idle = Totals {
            base_busy_ns: 40,
            ..t(100, 200, Some(1.0))
        };
        let v = verdict(None, None, idle, 1.0);
        assert_eq!(v.verdict, VerdictKind::Inconclusive);
        assert!(v.reason.contains("busy only 40%"), "{}", v.reason);
        assert_eq!(
            verdict(Some(&[1, 2, 3]), None, t(100, 300, Some(1.0)), 1.0).verdict,
            VerdictKind::Inconclusive
        );
    }
}

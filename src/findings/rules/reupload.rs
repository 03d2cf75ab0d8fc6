//! TR101 `reupload`.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::json;

use super::round_trip;
use crate::analysis::phase::Phase;
use crate::analysis::window::MIN_ITERATIONS;
use crate::declare_rule;
use crate::findings::facts::{self, Draft, Where};
use crate::findings::{Context, EvidenceTable, Finding, Rule};
use crate::model::Ns;
use crate::text::format;

/// Smallest upload considered: below it the cost is latency, which
/// `tiny-memcpy` covers.
pub const MIN_BYTES: u64 = 64 * 1024;
/// Share of the iterations an upload must recur in.
pub const MIN_ITERATION_SHARE: f64 = 0.8;
/// Smallest time at stake, as a share of the window, that fires the rule.
pub const MIN_SHARE: f64 = 0.005;
/// Most recurring uploads per iteration presumed to be its input (a batch
/// and its labels or masks); more is a set of tensors: weights.
pub const MAX_INPUT_TENSORS: usize = 3;

declare_rule! {
    /// Host-to-device copies of the same size issued again in (nearly)
    /// every iteration: constant data such as weights or lookup tables
    /// uploaded each time instead of once.
    ///
    /// How: host-to-device copies of at least 64 KiB whose GPU start lies in
    /// the window are keyed, per iteration, by (byte count, k) where k
    /// counts the earlier uploads of that size in the same iteration (the
    /// iteration is that of the host call that issued the copy). A key
    /// recurs when it occurs in at least 80% of the iterations and in at
    /// least 3. The trace does not record the bytes themselves, so two
    /// presumptions keep each iteration's new *input* out: recurring
    /// uploads issued while the host is in a preprocess range (`load`,
    /// `preprocess`, ...) are taken to be the input when there are at most 3
    /// of them per iteration (a batch, its labels or masks); more is a set
    /// of tensors, such as a model's weights moved to the GPU every request,
    /// and only the one issued first in most iterations is taken to be the
    /// input, as in a trace without preprocess ranges. An upload is never
    /// taken to be input when a download of the same size ended the
    /// previous iteration in most of its iterations: data sent back and
    /// forth (weights moved off the GPU after a request and back for the
    /// next). The upload half of a round trip within one iteration is left
    /// to `round-trip`.
    ///
    /// Fires when: a key recurs and the time at stake is at least 0.5% of
    /// the window and 10 us. Needs at least 3 iterations (NVTX ranges).
    ///
    /// Time at stake: the recurring copies' GPU time while no kernel runs:
    /// uploading the data once, before the loop, removes them all.
    ///
    /// Severity: warning from 5% of the window, error from 25%.
    pub struct Reupload {
        name: "reupload",
        code: "TR101",
        summary: "the same-size upload repeated every iteration (constant data re-sent)",
    }
}

impl Reupload {
    fn findings(&self, cx: &Context) -> Vec<Finding> {
        check(self, cx).into_iter().collect()
    }
}

/// Uploads of one key: (bytes, k).
type Key = (u64, u32);

fn check(rule: &dyn Rule, cx: &Context) -> Option<Finding> {
    let trace = cx.trace;
    let n = cx.window.iterations.len();
    if n < MIN_ITERATIONS {
        return None;
    }
    let ops = facts::copies(cx);
    let pairs = round_trip::pairs(cx, &ops);
    let returns: HashSet<usize> = pairs.iter().map(|&(_, u)| u).collect();
    let round_trip_downloads: HashSet<usize> = pairs.iter().map(|&(d, _)| d).collect();
    let mut keys: HashMap<Key, Vec<usize>> = HashMap::new();
    let mut seen: HashMap<(usize, u64), u32> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        let m = op.copy(trace);
        let Some(it) = op.place.iteration else { continue };
        if !facts::is_upload(m.kind) || m.bytes < MIN_BYTES || returns.contains(&i) {
            continue;
        }
        let k = seen.entry((it, m.bytes)).or_insert(0);
        keys.entry((m.bytes, *k)).or_default().push(i);
        *k += 1;
    }
    let need = ((n as f64 * MIN_ITERATION_SHARE).ceil() as usize).max(MIN_ITERATIONS);
    let mut recurring: BTreeMap<Key, Vec<usize>> =
        keys.into_iter().filter(|(_, v)| v.len() >= need).collect();
    // Downloads per iteration, by size: constant data sent back and forth
    // (a round trip's download came back within its iteration already).
    let mut downloads: HashSet<(usize, u64)> = HashSet::new();
    for (i, op) in ops.iter().enumerate() {
        let m = op.copy(trace);
        if let (Some(it), true) = (op.place.iteration, facts::is_download(m.kind)) {
            if !round_trip_downloads.contains(&i) {
                downloads.insert((it, m.bytes));
            }
        }
    }
    let bounced: HashSet<Key> = recurring
        .iter()
        .filter(|((b, _), v)| {
            let back = v
                .iter()
                .filter(|&&i| {
                    ops[i]
                        .place
                        .iteration
                        .is_some_and(|it| it > 0 && downloads.contains(&(it - 1, *b)))
                })
                .count();
            back * 2 > v.len()
        })
        .map(|(k, _)| *k)
        .collect();
    // Presume the iteration's input.
    let in_preprocess: Vec<Key> = if cx.attribution.layers.preprocess.is_empty() {
        Vec::new()
    } else {
        recurring
            .iter()
            .filter(|(_, v)| {
                let pre = v
                    .iter()
                    .filter(|&&i| ops[i].place.phase == Phase::Preprocess)
                    .count();
                pre * 2 > v.len()
            })
            .map(|(k, _)| *k)
            .collect()
    };
    if in_preprocess.is_empty() || in_preprocess.len() > MAX_INPUT_TENSORS {
        let mut first: HashMap<usize, (Ns, Key)> = HashMap::new();
        for (key, v) in &recurring {
            for &i in v {
                let it = ops[i].place.iteration.unwrap_or(usize::MAX);
                let e = first.entry(it).or_insert((ops[i].host_start, *key));
                if ops[i].host_start < e.0 {
                    *e = (ops[i].host_start, *key);
                }
            }
        }
        let mut votes: BTreeMap<Key, usize> = BTreeMap::new();
        for (_, key) in first.values() {
            *votes.entry(*key).or_default() += 1;
        }
        if let Some((&input, _)) = votes.iter().max_by_key(|&(k, v)| (*v, std::cmp::Reverse(*k))) {
            if !bounced.contains(&input) {
                recurring.remove(&input);
            }
        }
    } else {
        for key in in_preprocess.iter().filter(|k| !bounced.contains(k)) {
            recurring.remove(key);
        }
    }
    if recurring.is_empty() {
        return None;
    }
    let kernels = &cx.attribution.layers.kernel;
    let window_ns = cx.window.duration();
    let mut wh = Where::default();
    let mut flagged: HashSet<usize> = HashSet::new();
    let (mut stake, mut gpu, mut bytes, mut count) = (0, 0, 0u64, 0u64);
    let mut rows = Vec::new();
    for (&(b, k), v) in &recurring {
        let mut row = facts::Group::default();
        let mut phases: BTreeMap<&str, usize> = BTreeMap::new();
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in v {
            let op = &ops[i];
            let m = op.copy(trace);
            wh.add(op.place);
            flagged.insert(op.index);
            let exposed = facts::exposed(cx, kernels, m.start, m.end);
            row.add_copy(m, op.place.iteration, 0, exposed);
            *phases.entry(op.place.phase.label()).or_default() += 1;
            *kinds.entry(memkind_label(m.src)).or_default() += 1;
        }
        stake += row.at_stake_ns;
        gpu += row.gpu_ns;
        bytes += row.bytes;
        count += row.count;
        let top = |m: &BTreeMap<&str, usize>| m.iter().max_by_key(|e| e.1).map_or("", |e| *e.0).to_string();
        rows.push(vec![
            json!(b),
            json!(k + 1),
            json!(row.iterations.len()),
            json!(top(&phases)),
            json!(top(&kinds)),
            json!(row.gpu_ns),
            json!(row.gpu_ns / row.count.max(1) as Ns),
            json!(row.at_stake_ns),
        ]);
    }
    if !facts::clears(stake, window_ns, MIN_SHARE) {
        return None;
    }
    rows.sort_by(|a, b| b[7].as_i64().cmp(&a[7].as_i64()));
    let largest = recurring.keys().map(|k| k.0).max().unwrap_or(0);
    let per_iteration = bytes / wh.iterations.len().max(1) as u64;
    let draft = Draft {
        title: format!(
            "{} per iteration uploaded to the GPU again ({} in {} of {n} iterations, largest {})",
            format::bytes(per_iteration),
            format::bytes(bytes),
            wh.iterations.len(),
            format::bytes(largest)
        ),
        stake,
        facts: vec![
            ("uploads", json!(count)),
            ("recurring_uploads_per_iteration", json!(recurring.len())),
            ("bytes", json!(bytes)),
            ("per_iteration_bytes", json!(per_iteration)),
            ("iterations_with_upload", json!(wh.iterations.len())),
            ("window_iterations", json!(n)),
            ("copy_ns", json!(gpu)),
        ],
        table: EvidenceTable::new(
            &[
                "bytes",
                "k-th of that size",
                "iterations",
                "phase",
                "host memory",
                "copy_ns",
                "mean_ns",
                "at_stake_ns",
            ],
            rows,
        ),
        recommendation: "Upload constant tensors (weights, tables, masks) once before the loop and keep \
                         them on the GPU (model.to('cuda') once, register_buffer, a cached device tensor); \
                         if only part changes, upload only that part."
            .into(),
    };
    Some(draft.finish(cx, rule, &wh, |it| {
        facts::timeline(cx, it, &|i| flagged.contains(&i), &[])
    }))
}

pub(crate) fn memkind_label(k: crate::model::MemKind) -> &'static str {
    use crate::model::MemKind::*;
    match k {
        Pageable => "pageable",
        Pinned => "pinned",
        Device => "device",
        Array => "array",
        Managed => "managed",
        DeviceStatic => "device static",
        ManagedStatic => "managed static",
        Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Severity;
    use crate::findings::testing::{Analysis, Builder};
    use crate::model::{CopyKind, MemKind};

    const IT: Ns = 1_000_000;

    /// `n` iterations with `pre` phases or not: an input upload of 1 MiB
    /// first, then a `weights`-byte upload in `its_with_weights` of them.
    fn trace(n: i64, weights: u64, its_with_weights: i64, phases: bool) -> Analysis {
        let mut b = Builder::default();
        for i in 0..n {
            let s = i * IT;
            b.range("iter", s, s + IT - 10);
            if phases {
                b.range("preprocess", s + 1, s + 200_000);
                b.range("infer", s + 200_000, s + IT - 20);
            }
            b.copy(
                CopyKind::HtoD,
                MemKind::Pinned,
                1 << 20,
                (s + 10_000, s + 20_000),
                (s + 12_000, s + 60_000),
            );
            if i < its_with_weights {
                b.copy(
                    CopyKind::HtoD,
                    MemKind::Pageable,
                    weights,
                    (s + 250_000, s + 400_000),
                    (s + 260_000, s + 390_000),
                );
            }
            b.kernel("k", s + 400_000, s + 900_000);
        }
        b.build()
    }

    #[test]
    fn weights_every_iteration_fire_and_input_is_presumed() {
        for phases in [true, false] {
            let a = trace(10, 8 << 20, 10, phases);
            let f = a.check(&Reupload);
            assert_eq!(f.len(), 1, "phases {phases}");
            let f = &f[0];
            assert_eq!(f.evidence.facts["uploads"], json!(10));
            assert_eq!(f.evidence.facts["bytes"], json!(10u64 * (8 << 20)));
            assert_eq!(f.time_at_stake_ns, 10 * 130_000);
            assert_eq!(f.severity, Severity::Warning);
            assert_eq!(f.evidence.iterations.len(), 10);
        }
    }

    #[test]
    fn recurrence_threshold_is_80_percent() {
        assert_eq!(trace(10, 8 << 20, 8, true).check(&Reupload).len(), 1);
        assert!(trace(10, 8 << 20, 7, true).check(&Reupload).is_empty());
    }

    #[test]
    fn small_uploads_and_few_iterations_do_not_fire() {
        assert!(trace(10, 64 * 1024 - 1, 10, true).check(&Reupload).is_empty());
        assert!(trace(2, 8 << 20, 2, true).check(&Reupload).is_empty());
    }

    /// A model's weights moved to the GPU inside a `load` range every
    /// request: many same-size tensors per iteration, and (optionally) the
    /// matching downloads at the end of the previous iteration.
    fn weights_in_load(n: i64, tensors: u64, downloads: bool) -> Analysis {
        let mut b = Builder::default();
        for i in 0..n {
            let s = i * IT;
            b.range("request", s, s + IT - 10);
            b.range("load_model", s + 1, s + 300_000);
            b.copy(
                CopyKind::HtoD,
                MemKind::Pinned,
                1 << 20,
                (s + 1_000, s + 2_000),
                (s + 2_000, s + 10_000),
            );
            for t in 0..tensors as i64 {
                let at = s + 20_000 + t * 20_000;
                b.copy(
                    CopyKind::HtoD,
                    MemKind::Pinned,
                    (4 << 20) + (t as u64) * 4096,
                    (at, at + 2_000),
                    (at + 2_000, at + 12_000),
                );
            }
            b.kernel("k", s + 400_000, s + 800_000);
            if downloads {
                for t in 0..tensors as i64 {
                    let at = s + 850_000 + t * 10_000;
                    b.copy(
                        CopyKind::DtoH,
                        MemKind::Pinned,
                        (4 << 20) + (t as u64) * 4096,
                        (at, at + 1_000),
                        (at + 1_000, at + 9_000),
                    );
                }
            }
        }
        b.build()
    }

    #[test]
    fn weights_uploaded_in_a_load_range_fire() {
        // Eight tensors: a set of weights, not an input batch; the input
        // (first, 1 MiB) is left out.
        let f = weights_in_load(6, 8, false).check(&Reupload);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.facts["uploads"], json!(6 * 8));
        assert_eq!(f[0].time_at_stake_ns, 6 * 8 * 10_000);
        // Three uploads (the batch and two more) look like an input...
        assert!(weights_in_load(6, 2, false).check(&Reupload).is_empty());
        // ...unless they went back to the host at the end of the previous
        // iteration; the batch, never downloaded, stays out.
        let f = weights_in_load(6, 2, true).check(&Reupload);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.facts["uploads"], json!(6 * 2));
        // Four uploads per iteration: more than an input.
        assert_eq!(weights_in_load(6, 3, false).check(&Reupload).len(), 1);
    }

    #[test]
    fn input_alone_does_not_fire() {
        assert!(trace(10, 8 << 20, 0, true).check(&Reupload).is_empty());
        assert!(trace(10, 8 << 20, 0, false).check(&Reupload).is_empty());
    }
}

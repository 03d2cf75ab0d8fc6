//! The report's one picture: the representative iteration drawn as lanes
//! (host phases, each GPU stream's kernels and copies, GPU idle by cause)
//! with every finding's operations marked on lanes of their own, on the
//! same time axis.
//!
//! Dense lanes are summarised, never cut: spans of one lane and kind
//! closer than [`RESOLUTION`]th of the iteration (under a pixel of any
//! chart) are stored as one item that counts the operations it holds and
//! the time they cover, and streams beyond [`MAX_STREAM_LANES`] share one
//! lane; the picture says both. A merged item spans at most
//! [`MAX_MERGED`] resolution steps, so a lane of 40,000 short kernels
//! becomes a few hundred items whose covered share still varies along the
//! iteration (drawn as bar height), not one solid bar.
//!
//! ```text
//! host phase   |==preprocess==|=========inference=========|=post=|
//! GPU 0 s7     |              | ## ### #  ###### ## ##     |      |
//! GPU idle     |....host......|  l  l  l        l  l  sync |host..|
//! #1 TR304     |              |  x  x  x        x  x       |      |
//! ```

use serde::{Deserialize, Serialize};

use super::Finding;
use crate::analysis::attribution::Result as Attribution;
use crate::analysis::intervals::{self, Span};
use crate::analysis::span_list::{At, Spans};
use crate::analysis::window::Window;
use crate::model::{Ns, Trace};

/// Spans closer than `iteration / RESOLUTION` are merged (a 1,600-px plot
/// would draw them in one pixel).
pub const RESOLUTION: Ns = 1600;
/// A merged item covers at most this many resolution steps (about five
/// pixels of a 1,400-px page), so density along a dense lane stays visible.
pub const MAX_MERGED: Ns = 8;
/// GPU streams drawn in lanes of their own; the rest share one.
pub const MAX_STREAM_LANES: usize = 8;
/// Findings marked on the picture (the largest at stake).
pub const MAX_MARKED: usize = 8;
/// Findings under this share of the window are not marked (nor ranked).
pub const MIN_MARKED_SHARE: f64 = 0.001;
/// An iteration with more GPU operations than this also gets a zoom: the
/// middle [`ZOOM_FRACTION`]th of it drawn alone, where single operations
/// are wide enough to see.
pub const ZOOM_OPERATIONS: u64 = 3000;
/// See [`ZOOM_OPERATIONS`].
pub const ZOOM_FRACTION: Ns = 64;

/// What a span is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    Preprocess,
    Inference,
    Postprocess,
    Kernel,
    Memcpy,
    Memset,
    IdleSync,
    IdleLaunch,
    IdleHost,
    /// One of a finding's operations.
    Flagged,
}

/// One span of the overview (absolute trace times, ns).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OverviewItem {
    /// Index into [`Overview::lanes`].
    pub lane: usize,
    pub start_ns: Ns,
    pub end_ns: Ns,
    pub kind: ItemKind,
    /// Operations (or spans) this item stands for: more than 1 when
    /// neighbours closer than the resolution were merged.
    pub count: u64,
    /// Time the operations cover within the item (their union), when
    /// merged operations leave gaps; absent when they cover all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub busy_ns: Option<Ns>,
}

impl OverviewItem {
    /// Time the item's operations cover.
    pub fn busy(&self) -> Ns {
        self.busy_ns.unwrap_or(self.end_ns - self.start_ns)
    }

    /// Share of the item's length its operations cover, 0..=1.
    pub fn density(&self) -> f64 {
        super::facts::density(self.busy(), self.end_ns - self.start_ns)
    }
}

/// A finding's place on the overview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewMark {
    /// Index into the report's `findings`.
    pub finding: usize,
    /// Its lane, when its operations are drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane: Option<usize>,
    /// Why it is not drawn, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The representative iteration as one picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// The iteration drawn; absent when the window has no iterations (the
    /// whole window is drawn).
    pub iteration: Option<usize>,
    pub start_ns: Ns,
    pub end_ns: Ns,
    /// Spans of one lane and kind closer than this were merged.
    pub resolution_ns: Ns,
    /// Lane names, top to bottom.
    pub lanes: Vec<String>,
    pub items: Vec<OverviewItem>,
    /// GPU operations (kernels, copies, memsets) overlapping the span.
    pub operations: u64,
    /// Streams beyond the lane limit, drawn together in the last GPU lane.
    pub folded_streams: usize,
    pub marks: Vec<OverviewMark>,
    /// For a dense iteration (over [`ZOOM_OPERATIONS`] operations), its
    /// middle [`ZOOM_FRACTION`]th drawn the same way at its own resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom: Option<Box<Overview>>,
}

/// Build the overview of the window's representative iteration (the whole
/// window without iterations).
pub fn build(
    trace: &Trace,
    window: &Window,
    attribution: &Attribution,
    findings: &[Finding],
) -> Option<Overview> {
    let iteration = window.representative();
    let (s, e) = match iteration {
        Some(i) => (window.iterations[i].start, window.iterations[i].end),
        None => (window.start(), window.end()),
    };
    let mut o = build_span(trace, window, attribution, findings, iteration, (s, e))?;
    if o.operations > ZOOM_OPERATIONS {
        let (mid, half) = (s + (e - s) / 2, (e - s) / ZOOM_FRACTION / 2);
        o.zoom = build_span(
            trace,
            window,
            attribution,
            findings,
            iteration,
            (mid - half, mid + half),
        )
        .map(Box::new);
    }
    Some(o)
}

/// The overview of `[s, e)`, a stretch of `iteration` (or of the window).
fn build_span(
    trace: &Trace,
    window: &Window,
    attribution: &Attribution,
    findings: &[Finding],
    iteration: Option<usize>,
    (s, e): Span,
) -> Option<Overview> {
    if e <= s {
        return None;
    }
    let res = ((e - s) / RESOLUTION).max(1);
    let mut lanes: Vec<String> = Vec::new();
    let mut items: Vec<OverviewItem> = Vec::new();
    let clip = |a: Ns, b: Ns| (a.max(s), b.min(e));
    let push_counted = |items: &mut Vec<OverviewItem>,
                        lane: usize,
                        (a, b): Span,
                        kind: ItemKind,
                        count: u64,
                        busy: Option<Ns>| {
        let (ca, cb) = clip(a, b);
        if cb > ca {
            // A clipped merged item keeps its share of the covered time.
            let busy = busy.map(|x| (x as f64 * (cb - ca) as f64 / (b - a) as f64) as Ns);
            items.push(OverviewItem {
                lane,
                start_ns: ca,
                end_ns: cb,
                kind,
                count,
                busy_ns: busy,
            });
        }
    };
    let push = |items: &mut Vec<OverviewItem>, lane: usize, (a, b): Span, kind: ItemKind| {
        let (a, b) = clip(a, b);
        if b > a {
            items.push(OverviewItem {
                lane,
                start_ns: a,
                end_ns: b,
                kind,
                count: 1,
                busy_ns: None,
            });
        }
    };

    // Host phases: one lane, coloured by phase.
    let l = &attribution.layers;
    let phases = [
        (ItemKind::Preprocess, &l.preprocess),
        (ItemKind::Inference, &l.inference),
        (ItemKind::Postprocess, &l.postprocess),
    ];
    if phases
        .iter()
        .any(|(_, p)| !intervals::overlapping(p, s, e).is_empty())
    {
        lanes.push("host phase".into());
        let lane = lanes.len() - 1;
        // Preprocess wins over postprocess over inference, as in the table.
        let pre = intervals::overlapping(&l.preprocess, s, e).to_vec();
        let post = intervals::subtract_sorted(
            intervals::overlapping(&l.postprocess, s, e).iter().copied(),
            &[&pre],
        );
        let inf = intervals::subtract_sorted(
            intervals::overlapping(&l.inference, s, e).iter().copied(),
            &[&pre, &post],
        );
        for (kind, spans) in [
            (ItemKind::Preprocess, pre),
            (ItemKind::Postprocess, post),
            (ItemKind::Inference, inf),
        ] {
            for span in spans {
                push(&mut items, lane, span, kind);
            }
        }
    }

    // GPU work by (device, stream), busiest first: every operation that
    // overlaps the span, including one that started before it (a long
    // kernel queued by an earlier iteration still runs in this one).
    // Two passes over the sorted arrays instead of a list of operations: a
    // whole window can hold millions of them. Pass 1: busy time per stream.
    let kernels = &trace.kernels[..trace.kernels.partition_point(|k| k.start < e)];
    let memcpys = &trace.memcpys[..trace.memcpys.partition_point(|m| m.start < e)];
    let memsets = &trace.memsets[..trace.memsets.partition_point(|m| m.start < e)];
    let each_op = |f: &mut dyn FnMut((u32, u32), Span, ItemKind)| {
        for k in kernels.iter().filter(|k| k.end > s) {
            f((k.device, k.stream), (k.start, k.end), ItemKind::Kernel);
        }
        for m in memcpys.iter().filter(|m| m.end > s) {
            f((m.device, m.stream), (m.start, m.end), ItemKind::Memcpy);
        }
        for m in memsets.iter().filter(|m| m.end > s) {
            f((m.device, m.stream), (m.start, m.end), ItemKind::Memset);
        }
    };
    let mut busy: std::collections::BTreeMap<(u32, u32), Ns> = Default::default();
    let mut operations = 0u64;
    each_op(&mut |key, (a, b), _| {
        *busy.entry(key).or_default() += b.min(e) - a.max(s);
        operations += 1;
    });
    let mut streams: Vec<((u32, u32), Ns)> = busy.into_iter().collect();
    streams.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let multi_gpu = streams.iter().any(|((d, _), _)| *d != streams[0].0.0);
    let own = if streams.len() > MAX_STREAM_LANES {
        MAX_STREAM_LANES - 1
    } else {
        streams.len()
    };
    let first_gpu_lane = lanes.len();
    for ((d, st), _) in &streams[..own] {
        lanes.push(if multi_gpu || *d != 0 {
            format!("GPU {d} stream {st}")
        } else {
            format!("GPU stream {st}")
        });
    }
    let folded_streams = streams.len() - own;
    if folded_streams > 0 {
        lanes.push(format!("{folded_streams} other streams"));
    }
    let lane_of =
        |key: (u32, u32)| first_gpu_lane + streams[..own].iter().position(|(k, _)| *k == key).unwrap_or(own);
    // Pass 2: each (lane, kind) gets its operations in start order (each
    // array is sorted by start, and a kind comes from one array), so they
    // are merged as they come, by the same rule as `merge`.
    let mut open: std::collections::HashMap<(usize, ItemKind), OverviewItem> = Default::default();
    each_op(&mut |key, (a, b), kind| {
        let (a, b) = clip(a, b);
        if b <= a {
            return;
        }
        let lane = lane_of(key);
        let item = OverviewItem {
            lane,
            start_ns: a,
            end_ns: b,
            kind,
            count: 1,
            busy_ns: None,
        };
        match open.entry((lane, kind)) {
            std::collections::hash_map::Entry::Occupied(mut m) => {
                if let Some(next) = absorb(m.get_mut(), item, res) {
                    items.push(std::mem::replace(m.get_mut(), next));
                }
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(item);
            }
        }
    });
    items.extend(open.into_values());

    // GPU idle by what the host was doing, as the attribution splits it.
    let mut busy = Vec::new();
    attribution.gpu_busy().clipped(s, e, &mut busy);
    let idle = intervals::subtract_sorted([(s, e)], &[&busy]);
    let near: Vec<Span> = At::new(&l.sync).overlapping(s, e).map(|i| l.sync.at(i)).collect();
    let sync = intervals::intersect(&idle, &near);
    let rest = intervals::subtract_sorted(idle.iter().copied(), &[&sync]);
    let launch = intervals::intersect(&rest, &l.launch_in(trace, s, e));
    let host = intervals::subtract_sorted(rest.iter().copied(), &[&launch]);
    if !idle.is_empty() {
        lanes.push("GPU idle: sync/launch/host".into());
        let lane = lanes.len() - 1;
        for (kind, spans) in [
            (ItemKind::IdleSync, sync),
            (ItemKind::IdleLaunch, launch),
            (ItemKind::IdleHost, host),
        ] {
            for span in spans {
                push(&mut items, lane, span, kind);
            }
        }
    }

    // Every finding that matters, on a lane of its own.
    let window_ns = window.duration();
    let mut marks = Vec::new();
    for (fi, f) in findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.time_at_stake_ns as f64 >= MIN_MARKED_SHARE * window_ns as f64)
        .take(MAX_MARKED)
    {
        let note = |n: &str| OverviewMark {
            finding: fi,
            lane: None,
            note: Some(n.to_string()),
        };
        let Some(t) = &f.evidence.timeline else {
            marks.push(note(if f.evidence.iterations.is_empty() {
                "not tied to moments in time (kernels by name): see the finding"
            } else {
                "no timeline: see the finding"
            }));
            continue;
        };
        if Some(t.iteration) != iteration {
            marks.push(note("does not occur in the iteration drawn"));
            continue;
        }
        // Numbered as in the report's ranking (findings are sorted by stake).
        lanes.push(format!("#{} {} {}", fi + 1, f.code, f.rule));
        let lane = lanes.len() - 1;
        let before = items.len();
        for i in t.items.iter().filter(|i| i.flagged) {
            push_counted(
                &mut items,
                lane,
                (i.start_ns, i.end_ns),
                ItemKind::Flagged,
                i.count,
                i.busy_ns,
            );
        }
        if items.len() == before {
            lanes.pop();
            marks.push(note("no operation of it in the iteration drawn"));
            continue;
        }
        marks.push(OverviewMark {
            finding: fi,
            lane: Some(lane),
            note: None,
        });
    }

    Some(Overview {
        iteration,
        start_ns: s,
        end_ns: e,
        resolution_ns: res,
        lanes,
        items: merge(items, res),
        operations,
        folded_streams,
        marks,
        zoom: None,
    })
}

/// Merge items of one lane and kind closer than `res`, summing counts and
/// the time covered; a merged item starts a new one past `MAX_MERGED * res`.
///
/// ```text
/// res = 2, MAX_MERGED * res = 16
/// in   |##.#.##.#..##.#.##|..........|###|
/// out  [ 8 ops, busy 11/16][ 1 op ]  [ 1 ]
/// ```
fn merge(mut items: Vec<OverviewItem>, res: Ns) -> Vec<OverviewItem> {
    items.sort_unstable_by_key(|i| (i.lane, i.kind, i.start_ns));
    let mut out: Vec<OverviewItem> = Vec::with_capacity(items.len().min(1 << 16));
    for i in items {
        let rest = match out.last_mut() {
            Some(m) => absorb(m, i, res),
            None => Some(i),
        };
        out.extend(rest);
    }
    out
}

/// Fold `i` (starting at or after `m`) into `m` when they are of one lane
/// and kind, closer than `res`, and `m` spans under `MAX_MERGED * res`;
/// else hand `i` back.
fn absorb(m: &mut OverviewItem, i: OverviewItem, res: Ns) -> Option<OverviewItem> {
    if m.lane == i.lane
        && m.kind == i.kind
        && i.start_ns <= m.end_ns + res
        && i.start_ns < m.start_ns + MAX_MERGED * res
    {
        let busy = m.busy() + super::facts::new_cover(i.start_ns, i.end_ns, i.busy(), m.end_ns);
        m.end_ns = m.end_ns.max(i.end_ns);
        m.count += i.count;
        m.busy_ns = (busy < m.end_ns - m.start_ns).then_some(busy);
        None
    } else {
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(lane: usize, a: Ns, b: Ns, kind: ItemKind) -> OverviewItem {
        OverviewItem {
            lane,
            start_ns: a,
            end_ns: b,
            kind,
            count: 1,
            busy_ns: None,
        }
    }

    #[test]
    fn merging_keeps_every_operation_counted_and_kinds_apart() {
        // Three kernels 1 ns apart, a copy between them, one far kernel.
        let items = vec![
            item(0, 0, 10, ItemKind::Kernel),
            item(0, 11, 20, ItemKind::Kernel),
            item(0, 12, 13, ItemKind::Memcpy),
            item(0, 21, 30, ItemKind::Kernel),
            item(0, 100, 110, ItemKind::Kernel),
        ];
        let m = merge(items, 4);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].start_ns, m[0].end_ns, m[0].count), (0, 30, 3));
        assert_eq!((m[1].start_ns, m[1].count), (100, 1));
        assert_eq!(m[2].kind, ItemKind::Memcpy);
        assert_eq!(m.iter().map(|i| i.count).sum::<u64>(), 5);
        // The merged kernels cover 0-10, 11-20 and 21-30: 28 of 30 ns.
        assert_eq!(m[0].busy(), 28);
    }

    /// 3 iterations of `n` 1-us kernels every 10 us.
    fn dense(n: i64) -> crate::findings::testing::Analysis {
        let mut b = crate::findings::testing::Builder::default();
        for it in 0..3 {
            let s = it * (10 * n + 1000);
            b.range("iter", s, s + 10 * n + 500);
            for k in 0..n {
                let t = s + 10 * k;
                b.kernel_at("k", (t, t + 1), t + 2, t + 3);
            }
        }
        b.build()
    }

    #[test]
    fn a_dense_iteration_gets_a_zoom_on_its_middle_and_a_sparse_one_none() {
        let a = dense(ZOOM_OPERATIONS as i64 + 100);
        let o = build(&a.trace, &a.window, &a.attribution, &[]).unwrap();
        assert_eq!(o.operations, ZOOM_OPERATIONS + 100);
        let z = o.zoom.as_ref().expect("a zoom");
        // The middle 1/64 of the iteration, centred.
        let (span, zspan) = (o.end_ns - o.start_ns, z.end_ns - z.start_ns);
        assert_eq!(zspan, span / ZOOM_FRACTION / 2 * 2);
        assert_eq!(z.start_ns - o.start_ns, span / 2 - zspan / 2);
        // Every kernel of the stretch is drawn (the oracle: kernels start
        // every 10 ns and last 1 ns, so a stretch holds about one in 10 ns).
        let drawn: u64 = z
            .items
            .iter()
            .filter(|i| i.kind == ItemKind::Kernel)
            .map(|i| i.count)
            .sum();
        assert_eq!(drawn, z.operations);
        assert!(
            (z.operations as i64 - zspan / 10).abs() <= 1,
            "{} in {zspan} ns",
            z.operations
        );
        assert!(z.zoom.is_none());
        let sparse = dense(ZOOM_OPERATIONS as i64 - 100);
        assert!(
            build(&sparse.trace, &sparse.window, &sparse.attribution, &[])
                .unwrap()
                .zoom
                .is_none()
        );
    }

    #[test]
    fn a_dense_lane_is_merged_in_pieces_that_keep_their_density() {
        // 100 kernels of 1 ns every 3 ns, resolution 4: closer than a
        // step, so merged, but a piece spans at most 8 steps (32 ns).
        let items: Vec<OverviewItem> = (0..100)
            .map(|k| item(0, 3 * k, 3 * k + 1, ItemKind::Kernel))
            .collect();
        let m = merge(items, 4);
        assert_eq!(m.iter().map(|i| i.count).sum::<u64>(), 100, "none dropped");
        assert!(m.len() >= 300 / 32, "{} pieces", m.len());
        for i in &m {
            assert!(i.start_ns - m[0].start_ns >= 0);
            assert!(i.end_ns - i.start_ns <= 32 + 1, "{i:?}");
            assert_eq!(i.busy(), i.count as Ns, "one ns per kernel");
        }
        // Every piece but the last holds 11 kernels in 31 ns: a third busy.
        assert_eq!(m[0].count, 11);
        assert!((m[0].density() - 11.0 / 31.0).abs() < 1e-9);
        // Overlapping spans count their union once.
        let o = merge(
            vec![
                item(1, 0, 10, ItemKind::Flagged),
                item(1, 5, 12, ItemKind::Flagged),
            ],
            4,
        );
        assert_eq!((o.len(), o[0].busy_ns), (1, None), "0-12 covered in full");
    }
}

//! The one way rows enter the model. Every reader (nsys SQLite, nsys JSON,
//! Kineto, trtexec) checks each row's span and ids with a [`RowCheck`] and
//! ends with [`finish`], so a bad value means the same thing, and is said
//! in the same words, whatever the format:
//!
//! - a span without a start or an end, ending before it starts, or longer
//!   than [`MAX_SPAN_NS`] (an `end` of `i64::MAX`, say) is skipped and
//!   counted; nothing downstream ever sees a negative or astronomical
//!   duration;
//! - an id (device, stream, correlation) or a byte count that is negative or
//!   does not fit is read as 0 and counted;
//! - every GPU the activity names gets a [`Device`], described or not.

use std::collections::BTreeSet;

use super::{Device, Ns, Trace};

/// The longest span a row may have: no capture lasts 30 days, so a longer
/// one comes from a corrupt or placeholder time.
pub const MAX_SPAN_NS: Ns = 30 * 24 * 3600 * 1_000_000_000;

/// Counts of unusable rows in one table (or one kind of record), reported
/// once per kind of problem.
#[derive(Debug, Clone)]
pub struct RowCheck {
    what: &'static str,
    null: u64,
    reversed: u64,
    too_long: u64,
    unfinished: u64,
    out_of_range: u64,
}

impl RowCheck {
    /// Checks for the rows of `what` (a table or a kind of record, as the
    /// warnings name it).
    pub fn new(what: &'static str) -> RowCheck {
        RowCheck {
            what,
            null: 0,
            reversed: 0,
            too_long: 0,
            unfinished: 0,
            out_of_range: 0,
        }
    }

    /// A usable span from a start and an end, or None (counted).
    #[inline]
    pub fn span(&mut self, start: Option<Ns>, end: Option<Ns>) -> Option<(Ns, Ns)> {
        let (Some(start), Some(end)) = (start, end) else {
            self.null += 1;
            return None;
        };
        match end.checked_sub(start) {
            Some(d) if d < 0 => {
                self.reversed += 1;
                None
            }
            Some(d) if d <= MAX_SPAN_NS => Some((start, end)),
            _ => {
                self.too_long += 1;
                None
            }
        }
    }

    /// A usable span from a start and a duration, or None (counted).
    #[inline]
    pub fn span_from(&mut self, start: Option<Ns>, duration: Option<Ns>) -> Option<(Ns, Ns)> {
        let (Some(start), Some(d)) = (start, duration) else {
            self.null += 1;
            return None;
        };
        if d < 0 {
            self.reversed += 1;
            return None;
        }
        match start.checked_add(d) {
            Some(end) if d <= MAX_SPAN_NS => Some((start, end)),
            _ => {
                self.too_long += 1;
                None
            }
        }
    }

    /// A row lacks a value it cannot do without.
    pub fn null(&mut self) {
        self.null += 1;
    }

    /// A range that was never closed.
    pub fn unfinished(&mut self) {
        self.unfinished += 1;
    }

    /// A non-negative id that must fit 32 bits; absent is 0.
    #[inline]
    pub fn u32(&mut self, v: Option<i64>) -> u32 {
        match v {
            None => 0,
            Some(v) => u32::try_from(v).unwrap_or_else(|_| {
                self.out_of_range += 1;
                0
            }),
        }
    }

    /// A non-negative byte count; absent is 0.
    #[inline]
    pub fn u64(&mut self, v: Option<i64>) -> u64 {
        match v {
            None => 0,
            Some(v) => u64::try_from(v).unwrap_or_else(|_| {
                self.out_of_range += 1;
                0
            }),
        }
    }

    /// Count `other`'s rows too (parts of one table read apart).
    pub fn add(&mut self, other: &RowCheck) {
        self.null += other.null;
        self.reversed += other.reversed;
        self.too_long += other.too_long;
        self.unfinished += other.unfinished;
        self.out_of_range += other.out_of_range;
    }

    /// Add one warning per kind of problem seen.
    pub fn report(&self, warnings: &mut Vec<String>) {
        let t = self.what;
        let mut say = |n: u64, text: &str| {
            if n > 0 {
                warnings.push(format!("{t}: {n} {text}"));
            }
        };
        say(self.null, "row(s) without usable times or names skipped");
        say(self.reversed, "row(s) ending before they start skipped");
        say(
            self.too_long,
            "row(s) lasting more than 30 days (corrupt times) skipped",
        );
        say(
            self.unfinished,
            "range(s) still open at the end of the capture skipped",
        );
        say(
            self.out_of_range,
            "negative or out-of-range id/byte value(s) read as 0",
        );
    }
}

/// The distinct values of `items`: runs of one value (the same device or
/// process for millions of kernels) cost a comparison, not a set insert.
pub fn distinct(items: impl Iterator<Item = u32>) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    let mut last = None;
    for v in items {
        if last != Some(v) {
            out.insert(v);
            last = Some(v);
        }
    }
    out
}

/// The GPUs of the trace, sorted by id: every device the kernels, copies
/// and memsets name, as `described` (the first description of an id wins)
/// or else as an unknown GPU. A described GPU the capture ran nothing on is
/// not an idle GPU of this workload and is left out, unless nothing ran at
/// all (then the described ones say what the machine had).
pub fn fill_devices(trace: &mut Trace, described: Vec<Device>) {
    let mut devices: Vec<Device> = Vec::with_capacity(described.len());
    for d in described {
        if !devices.iter().any(|x| x.id == d.id) {
            devices.push(d);
        }
    }
    let used = distinct(
        (trace.kernels.iter().map(|k| k.device))
            .chain(trace.memcpys.iter().map(|m| m.device))
            .chain(trace.memsets.iter().map(|m| m.device)),
    );
    for &id in &used {
        if !devices.iter().any(|d| d.id == id) {
            devices.push(Device {
                id,
                name: "unknown GPU".into(),
                compute_capability: None,
                sm_count: None,
            });
        }
    }
    if !used.is_empty() {
        devices.retain(|d| used.contains(&d.id));
    }
    devices.sort_by_key(|d| d.id);
    trace.devices = devices;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_values_whatever_the_runs() {
        let v = [3, 3, 3, 1, 1, 3, 2, 2, 1];
        assert_eq!(distinct(v.into_iter()), v.into_iter().collect::<BTreeSet<u32>>());
        assert!(distinct(std::iter::empty()).is_empty());
    }

    #[test]
    fn spans_that_are_not_times_are_counted_not_kept() {
        let mut c = RowCheck::new("T");
        assert_eq!(c.span(Some(1), Some(5)), Some((1, 5)));
        assert_eq!(c.span(Some(5), Some(5)), Some((5, 5)));
        assert_eq!(c.span(None, Some(5)), None);
        assert_eq!(c.span(Some(6), Some(5)), None);
        // An end of i64::MAX: a 9.2e18 ns kernel is a corrupt time.
        assert_eq!(c.span(Some(100), Some(i64::MAX)), None);
        // end - start overflows.
        assert_eq!(c.span(Some(i64::MIN), Some(i64::MAX)), None);
        assert_eq!(c.span(Some(0), Some(MAX_SPAN_NS)), Some((0, MAX_SPAN_NS)));
        assert_eq!(c.span(Some(0), Some(MAX_SPAN_NS + 1)), None);
        assert_eq!(c.span_from(Some(10), Some(-1)), None);
        assert_eq!(c.span_from(Some(i64::MAX - 1), Some(5)), None);
        assert_eq!(c.span_from(Some(10), Some(5)), Some((10, 15)));
        let mut w = Vec::new();
        c.report(&mut w);
        assert_eq!(
            w,
            [
                "T: 1 row(s) without usable times or names skipped",
                "T: 2 row(s) ending before they start skipped",
                "T: 4 row(s) lasting more than 30 days (corrupt times) skipped",
            ]
        );
    }

    #[test]
    fn ids_out_of_range_read_as_zero_and_are_counted() {
        let mut c = RowCheck::new("T");
        assert_eq!(c.u32(Some(-1)), 0);
        assert_eq!(c.u32(Some(1 << 40)), 0);
        assert_eq!(c.u32(Some(5)), 5);
        assert_eq!(c.u32(None), 0);
        assert_eq!(c.u64(Some(-3)), 0);
        let mut w = Vec::new();
        c.report(&mut w);
        assert_eq!(w, ["T: 3 negative or out-of-range id/byte value(s) read as 0"]);
    }

    #[test]
    fn devices_are_filled_in_once() {
        let mut t = Trace::default();
        t.kernels.push(crate::model::Kernel {
            start: 0,
            end: 1,
            name: 0,
            short_name: 0,
            device: 3,
            stream: 0,
            pid: 0,
            correlation: 0,
        });
        let gpu = |id, name: &str| Device {
            id,
            name: name.into(),
            compute_capability: None,
            sm_count: None,
        };
        fill_devices(&mut t, vec![gpu(3, "A"), gpu(3, "B"), gpu(1, "idle")]);
        assert_eq!(t.devices, [gpu(3, "A")]);
        fill_devices(&mut t, vec![gpu(1, "idle")]);
        assert_eq!(t.devices, [gpu(3, "unknown GPU")]);
        // Nothing ran: the described GPUs stay.
        t.kernels.clear();
        fill_devices(&mut t, vec![gpu(1, "idle")]);
        assert_eq!(t.devices, [gpu(1, "idle")]);
    }
}

//! What the host ran, from the tables nsys writes when asked to (all
//! optional, and absent from a default capture without a word): CPU
//! samples and their native call stacks (`--sample=process-tree`:
//! COMPOSITE_EVENTS, SAMPLING_CALLCHAINS) and OS runtime calls (`-t osrt`:
//! OSRT_API).
//!
//! Only threads that made CUDA API calls are kept: they are the ones whose
//! work can hold the GPU idle, and a whole-machine sampling table would
//! otherwise be read into memory. Symbols and modules stay StringIds ids,
//! mapped to interned names once per distinct id.
//!
//! nsys 2025.3 with `--python-sampling=true` writes the Python function
//! names it sampled into StringIds, but no table of the SQLite export
//! refers to them (checked on schema 3.20): Python frames come from the
//! PyTorch profiler (`with_stack=True`) instead.

use crate::model::build::RowCheck;
use std::collections::{HashMap, HashSet};

use super::{Loader, query, scan};
use crate::error::Result;
use crate::model::{CpuSample, Frame, HostSpan, HostSpanKind};
use crate::progress::Progress;

impl Loader<'_> {
    /// Read the host tables for the threads known so far (those with CUDA
    /// API calls).
    pub(super) fn read_host(&mut self, progress: &Progress) -> Result<()> {
        let driving: HashSet<i64> = self.threads.keys().iter().copied().filter(|&k| k >= 0).collect();
        if driving.is_empty() {
            return Ok(());
        }
        if self.tables.contains("OSRT_API") {
            self.read_osrt(&driving, progress)?;
        }
        if self.tables.contains("COMPOSITE_EVENTS") && self.tables.contains("SAMPLING_CALLCHAINS") {
            self.read_samples(&driving, progress)?;
            if self.tables.contains("DIAGNOSTIC_EVENT") {
                self.read_sample_period()?;
            }
        }
        Ok(())
    }

    /// Outermost OS runtime calls of the driving threads.
    fn read_osrt(&mut self, driving: &HashSet<i64>, progress: &Progress) -> Result<()> {
        let Some(sql) = self.prepare(&query::OSRT, None, true)? else {
            return Ok(());
        };
        let mut bad = RowCheck::new("OSRT_API");
        let Loader {
            conn,
            path,
            trace,
            strings,
            threads,
            ..
        } = self;
        let spans = &mut trace.host.spans;
        scan(conn, path, &sql, "OSRT_API", Some(progress), |r| {
            let Some(tid) = r.int(2).filter(|t| driving.contains(t)) else {
                return Ok(());
            };
            // Nested calls (a read inside fread) are inside their parent.
            if r.int(4).is_some_and(|n| n > 0) {
                return Ok(());
            }
            let Some((start, end)) = bad.span(r.int(0), r.int(1)) else {
                return Ok(());
            };
            let Some(name) = r.int(3) else {
                bad.null();
                return Ok(());
            };
            spans.push(HostSpan {
                start,
                end,
                name: strings.get(&mut trace.names, name),
                thread: threads.get(&mut trace.threads, Some(tid)),
                kind: HostSpanKind::OsCall,
            });
            Ok(())
        })?;
        bad.report(&mut self.trace.warnings);
        Ok(())
    }

    /// CPU samples of the driving threads, then their call stacks.
    fn read_samples(&mut self, driving: &HashSet<i64>, progress: &Progress) -> Result<()> {
        let Some(sample_sql) = self.prepare(&query::CPU_SAMPLES, None, true)? else {
            return Ok(());
        };
        let Some(chain_sql) = self.prepare(&query::CPU_CALLCHAINS, None, true)? else {
            return Ok(());
        };
        let Loader {
            conn,
            path,
            trace,
            strings,
            threads,
            ..
        } = self;
        // COMPOSITE_EVENTS id -> index into `samples`.
        let mut by_id: HashMap<i64, u32> = HashMap::new();
        let mut samples: Vec<CpuSample> = Vec::new();
        scan(conn, path, &sample_sql, "COMPOSITE_EVENTS", Some(progress), |r| {
            let (Some(id), Some(time), Some(tid)) = (r.int(0), r.int(1), r.int(2)) else {
                return Ok(());
            };
            if !driving.contains(&tid) {
                return Ok(());
            }
            by_id.insert(id, samples.len() as u32);
            samples.push(CpuSample {
                time,
                thread: threads.get(&mut trace.threads, Some(tid)),
                first: 0,
                depth: 0,
            });
            Ok(())
        })?;
        if samples.is_empty() {
            return Ok(());
        }
        // (sample, depth, frame); nsys writes each stack's rows together,
        // leaf first, so the sort below is normally skipped.
        let mut rows: Vec<(u32, u32, Frame)> = Vec::new();
        let mut ids: HashMap<i64, crate::model::NameId> = HashMap::new();
        scan(
            conn,
            path,
            &chain_sql,
            "SAMPLING_CALLCHAINS",
            Some(progress),
            |r| {
                let Some(&sample) = r.int(0).and_then(|id| by_id.get(&id)) else {
                    return Ok(());
                };
                let (Some(depth), Some(symbol), Some(module)) = (r.int(1), r.int(2), r.int(3)) else {
                    return Ok(());
                };
                let Ok(depth) = u32::try_from(depth) else {
                    return Ok(());
                };
                let mut name = |id: i64| *ids.entry(id).or_insert_with(|| strings.get(&mut trace.names, id));
                let frame = Frame {
                    symbol: name(symbol),
                    module: name(module),
                };
                rows.push((sample, depth, frame));
                Ok(())
            },
        )?;
        if !rows.is_sorted_by_key(|r| (r.0, r.1)) {
            rows.sort_by_key(|r| (r.0, r.1));
        }
        let host = &mut trace.host;
        host.frames.reserve_exact(rows.len());
        let mut i = 0;
        while i < rows.len() {
            let sample = rows[i].0;
            let first = host.frames.len() as u32;
            while i < rows.len() && rows[i].0 == sample {
                host.frames.push(rows[i].2);
                i += 1;
            }
            let s = &mut samples[sample as usize];
            s.first = first;
            s.depth = host.frames.len() as u32 - first;
        }
        host.samples = samples;
        Ok(())
    }

    /// The sampling period, when nsys states it for a clock event (whose
    /// period is in nanoseconds); cycle- or instruction-triggered sampling
    /// has no fixed time per sample and is left to the analysis.
    fn read_sample_period(&mut self) -> Result<()> {
        let Some(sql) = self.prepare(&query::DIAGNOSTICS, None, true)? else {
            return Ok(());
        };
        let mut period = None;
        scan(&self.conn, self.path, &sql, "DIAGNOSTIC_EVENT", None, |r| {
            if let Some(text) = r.text_ref(0) {
                period = period.or_else(|| clock_period(&text));
            }
            Ok(())
        })?;
        self.trace.host.sample_period = period;
        Ok(())
    }
}

/// `Event 'CPU Clock (sw)', with sampling period 2000000, ...` -> 2 ms.
fn clock_period(text: &str) -> Option<i64> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("clock") {
        return None;
    }
    let rest = &lower[lower.find("sampling period")? + "sampling period".len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok().filter(|&p: &i64| p > 0)
}

#[cfg(test)]
mod tests {
    use super::clock_period;

    #[test]
    fn period_from_diagnostic() {
        let t = "Event 'CPU Clock (sw)', with sampling period 2000000, used to trigger process-tree CPU IP sample collection.";
        assert_eq!(clock_period(t), Some(2_000_000));
        assert_eq!(
            clock_period("Event 'Cycles', with sampling period 1000000, used"),
            None
        );
        assert_eq!(clock_period("Event 'CPU Clock', with sampling period x"), None);
    }
}

//! NVTX domains by name, for both nsys exports.
//!
//! nsys records a range's domain as a number (`domainId`, 0 for the
//! default domain) and the domain's name once, in the `NvtxDomainCreate`
//! event that registered it. Ids are handed out per process, so a name is
//! looked up by (process, id), else by the id alone when every process that
//! registered it gave it the same name. Ranges are read before every
//! registration has been seen, so the ranges of non-default domains are
//! noted and named at the end. A domain whose registration is missing (a
//! trimmed export) is still not the default one: it is named `NVTX domain
//! N`.

use std::collections::HashMap;

use crate::model::{NameId, Names, Range};

/// The nsys event type that registers a domain (`NvtxDomainCreate`).
pub const DOMAIN_CREATE: &str = "NvtxDomainCreate";

#[derive(Debug, Default)]
pub struct Domains {
    /// (pid, id) -> name.
    created: HashMap<(u32, i64), String>,
    /// Ranges of a non-default domain: (index into the ranges, pid, id).
    pending: Vec<(usize, u32, i64)>,
}

impl Domains {
    /// A registration: domain `id` of process `pid` is called `name`.
    pub fn create(&mut self, pid: u32, id: i64, name: &str) {
        self.created.insert((pid, id), name.to_string());
    }

    /// Range `index` of process `pid` is in domain `id` (None or 0: the
    /// default domain, nothing to do).
    pub fn range(&mut self, index: usize, pid: u32, id: Option<i64>) {
        if let Some(id) = id.filter(|&d| d != 0) {
            self.pending.push((index, pid, id));
        }
    }

    /// Name the noted ranges' domains.
    pub fn resolve(self, names: &mut Names, ranges: &mut [Range]) {
        if self.pending.is_empty() {
            return;
        }
        // By id alone: the name when all processes agree on it.
        let mut by_id: HashMap<i64, Option<&str>> = HashMap::new();
        for ((_, id), name) in &self.created {
            by_id
                .entry(*id)
                .and_modify(|n| {
                    if *n != Some(name.as_str()) {
                        *n = None;
                    }
                })
                .or_insert(Some(name.as_str()));
        }
        let mut ids: HashMap<(u32, i64), NameId> = HashMap::new();
        for (index, pid, id) in self.pending {
            let name = *ids.entry((pid, id)).or_insert_with(|| {
                let text = match self.created.get(&(pid, id)) {
                    Some(n) => n.clone(),
                    None => match by_id.get(&id) {
                        Some(Some(n)) => n.to_string(),
                        _ => format!("NVTX domain {id}"),
                    },
                };
                // An empty registered name must not read as the default domain.
                names.intern(if text.is_empty() {
                    "NVTX domain (unnamed)"
                } else {
                    &text
                })
            });
            if let Some(r) = ranges.get_mut(index) {
                r.domain = name;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DEFAULT_DOMAIN, RangeKind};

    #[test]
    fn names_by_process_then_id() {
        let mut names = Names::default();
        let range = || Range {
            start: 0,
            end: 1,
            name: 0,
            thread: 0,
            kind: RangeKind::PushPop,
            domain: DEFAULT_DOMAIN,
        };
        let mut ranges = vec![range(); 5];
        let mut d = Domains::default();
        d.create(1, 1, "NCCL");
        d.create(2, 1, "NCCL");
        d.create(2, 2, "TSL");
        d.range(0, 1, Some(1));
        d.range(1, 3, Some(1)); // no registration in pid 3: by id
        d.range(2, 2, Some(2));
        d.range(3, 1, Some(0));
        d.range(4, 1, Some(7)); // never registered
        d.resolve(&mut names, &mut ranges);
        let got: Vec<&str> = ranges.iter().map(|r| names.get(r.domain)).collect();
        assert_eq!(got, ["NCCL", "NCCL", "TSL", "", "NVTX domain 7"]);
        assert_eq!(ranges[3].domain, DEFAULT_DOMAIN);
    }
}

//! CUDA graph launches that the profiler recorded whole (nsys
//! `--cuda-graph-trace=graph`, its default): one GPU span per launch and
//! no kernels. Both nsys readers name and report them through [`Graphs`],
//! so the SQLite and JSON exports of one capture give the same report.

use std::collections::HashMap;

use crate::model::{NameId, Names};

/// The graph launches a reader has seen: a name per graph, and a count.
#[derive(Default)]
pub struct Graphs {
    names: HashMap<Option<i64>, (NameId, NameId)>,
    launches: u64,
}

impl Graphs {
    /// Count one launch of graph `graph_id` (None: the export lacks it) and
    /// give its (name, short name) for the kernel row that stands for it.
    pub fn launch(&mut self, names: &mut Names, graph_id: Option<i64>) -> (NameId, NameId) {
        self.launches += 1;
        *self.names.entry(graph_id).or_insert_with(|| {
            let short = match graph_id {
                Some(g) => format!("CUDA graph {g}"),
                None => "CUDA graph".to_string(),
            };
            let long = format!("{short} (whole-graph trace: kernels not recorded)");
            (names.intern(&long), names.intern(&short))
        })
    }

    /// The warning for the launches seen, read from `source` (a table or
    /// record kind); None when there were none.
    pub fn warning(&self, source: &str) -> Option<String> {
        (self.launches > 0).then(|| {
            format!(
                "{} CUDA graph launch(es) of {} graph(s) were recorded whole ({source}; \
                 nsys --cuda-graph-trace=graph, its default): each counts as one GPU operation \
                 named 'CUDA graph N', with no kernel names, Tensor Core verdicts or gaps inside it; \
                 capture with --cuda-graph-trace=node to see their kernels",
                self.launches,
                self.names.len()
            )
        })
    }
}

//! CUDA graph launches that the profiler recorded whole (nsys
//! `--cuda-graph-trace=graph`, its default): one GPU span per launch and
//! no kernels. Both nsys readers name and report them the same way, so the
//! SQLite and JSON exports of one capture give the same report.

use crate::model::{NameId, Names};

/// The (name, short name) of graph `graph_id` (None: the export lacks it).
pub fn names(names: &mut Names, graph_id: Option<i64>) -> (NameId, NameId) {
    let short = match graph_id {
        Some(g) => format!("CUDA graph {g}"),
        None => "CUDA graph".to_string(),
    };
    let long = format!("{short} (whole-graph trace: kernels not recorded)");
    (names.intern(&long), names.intern(&short))
}

/// The warning for `launches` launches of `graphs` distinct graphs, read
/// from `source` (a table or record kind).
pub fn warning(launches: u64, graphs: usize, source: &str) -> String {
    format!(
        "{launches} CUDA graph launch(es) of {graphs} graph(s) were recorded whole ({source}; \
         nsys --cuda-graph-trace=graph, its default): each counts as one GPU operation \
         named 'CUDA graph N', with no kernel names, Tensor Core verdicts or gaps inside it; \
         capture with --cuda-graph-trace=node to see their kernels"
    )
}

//! From a loaded trace to the report document: window, attribution,
//! tables, findings.

use crate::analysis::links::Links;
use crate::analysis::phase::PhaseRules;
use crate::analysis::tensor_core;
use crate::analysis::window::{self, WindowChoice};
use crate::analysis::{attribution, engine, host_work, iterations, kernels, memcpy, roofline};
use crate::document::{AttributionReport, GpuInfo, Report, SCHEMA_VERSION, SourceInfo, WindowInfo};
use crate::error::Result;
use crate::findings::{self, Context};
use crate::input::ncu;
use crate::model::Trace;
use crate::timing::time;

/// Choices that shape the analysis.
#[derive(Debug, Clone, Default)]
pub struct AnalysisOptions {
    pub window: WindowChoice,
    pub phases: PhaseRules,
    /// An Nsight Compute CSV (`ncu --csv --page raw`) with Tensor Core
    /// instruction counters for the trace's kernels.
    pub ncu: Option<std::path::PathBuf>,
    /// A GPU peaks table (`--gpu-peaks`) replacing the built-in one.
    pub gpu_peaks: Option<std::path::PathBuf>,
}

/// The generator string written into reports.
pub fn generator() -> String {
    format!("trace-report {}", env!("CARGO_PKG_VERSION"))
}

/// Analyse `trace` into a report.
pub fn analyze(trace: &Trace, opts: &AnalysisOptions) -> Result<Report> {
    // The GPU's own layers need no window: built while it is chosen.
    let ((links, window), gpu) = crate::workers::join(
        || {
            let links = time("links", || Links::build(trace));
            let window = time("window", || choose_window(trace, &opts.window, &links));
            (links, window)
        },
        || time("gpu layers", || attribution::gpu_layers(trace)),
    );
    let window = window?;
    // The kernel table needs only the window: built beside the attribution.
    let (attribution, tables) = crate::workers::join(
        || {
            time("attribution", || {
                attribution::attribute_from(trace, &window, &opts.phases, links, gpu)
            })
        },
        || kernel_tables(trace, &window, opts),
    );
    let KernelTables {
        kernels,
        tensor_cores,
        roofline,
        engine,
    } = tables?;
    let durations: Vec<_> = window.iterations.iter().map(|i| i.end - i.start).collect();
    let (findings, (memcpy, memset, host_work)) = crate::workers::join(
        || {
            time("findings", || {
                findings::run(&Context {
                    trace,
                    window: &window,
                    attribution: &attribution,
                    kernels: &kernels,
                })
            })
        },
        || {
            (
                time("memcpy table", || memcpy::summarize(trace, &window)),
                memcpy::memsets(trace, &window),
                time("host work", || host_work::analyze(trace, &window, &attribution)),
            )
        },
    );
    let overview = time("overview", || {
        findings::overview::build(trace, &window, &attribution, &findings)
    });
    let mut warnings = trace.warnings.clone();
    warnings.extend(window.warning.clone());
    let mut names: Vec<&str> = trace.ranges.iter().map(|r| trace.name(r.name)).collect();
    names.sort_unstable();
    names.dedup();
    for o in opts.phases.unmatched(&names) {
        warnings.push(format!("--phase {o} matches no NVTX range in the trace"));
    }
    if window.spans.is_empty() {
        warnings.push("the analysis window is empty: no GPU activity and no iterations".into());
    }
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        generator: generator(),
        source: SourceInfo {
            path: trace.source.path.clone(),
            format: trace.source.format.clone(),
            profiler_version: trace.source.profiler_version.clone(),
            export_schema_version: trace.source.schema_version.clone(),
            gpus: trace
                .devices
                .iter()
                .map(|d| GpuInfo {
                    id: d.id,
                    name: d.name.clone(),
                    compute_capability: d.compute_capability.map(|(a, b)| format!("{a}.{b}")),
                })
                .collect(),
        },
        window: WindowInfo {
            scope: window.scope,
            iteration_range: window.iteration_name.clone(),
            iterations: window.iterations.len(),
            start_ns: window.start(),
            end_ns: window.end(),
            duration_ns: window.duration(),
            reason: window.reason.clone(),
            gpu_work_share: window.gpu_work_share,
        },
        attribution: AttributionReport {
            window: attribution.total,
            devices: attribution.devices.clone(),
        },
        iteration_time: iterations::stats(&durations),
        iterations: attribution.iterations.clone(),
        kernels,
        tensor_cores,
        memcpy,
        memset,
        findings,
        overview,
        warnings,
        engine,
        roofline,
        host_work,
    })
}

/// The kernel table with its Tensor Core and roofline annotations, and the
/// engine's layer table.
struct KernelTables {
    kernels: Vec<crate::analysis::kernels::KernelRow>,
    tensor_cores: tensor_core::Summary,
    roofline: roofline::Summary,
    engine: Option<engine::EngineReport>,
}

fn kernel_tables(trace: &Trace, window: &window::Window, opts: &AnalysisOptions) -> Result<KernelTables> {
    let mut kernels = time("kernel table", || kernels::summarize(trace, window));
    crate::memory::release_free();
    let counters = opts.ncu.as_deref().map(ncu::read).transpose()?;
    let shapes = tensor_core::shapes::from_operators(trace);
    let layers = trace.engine.as_ref().map(engine::layer_kernels);
    let tensor_cores = time("tensor cores", || {
        tensor_core::annotate(
            trace,
            window,
            &mut kernels,
            tensor_core::Inputs {
                ncu: counters.as_ref(),
                shapes: (!shapes.is_empty()).then_some(&shapes),
                layers: layers.as_ref(),
            },
        )
    });
    let table = opts
        .gpu_peaks
        .as_deref()
        .map(roofline::peaks::Table::read)
        .transpose()?;
    let roofline = time("roofline", || {
        roofline::annotate(
            trace,
            window,
            &mut kernels,
            roofline::Inputs {
                ncu: counters.as_ref(),
                table: table.as_ref(),
            },
        )
    });
    let engine = trace.engine.as_ref().map(|e| {
        let mut report = engine::report(e);
        let verdicts: std::collections::HashMap<&str, _> =
            kernels.iter().map(|k| (k.name.as_str(), k.tensor_core)).collect();
        for l in &mut report.layers {
            l.tensor_core = verdicts.get(l.kernel.as_str()).copied();
        }
        roofline::place_layers(&mut report.layers, e, roofline.peaks.as_ref());
        report
    });
    Ok(KernelTables {
        kernels,
        tensor_cores,
        roofline,
        engine,
    })
}

/// The window (the profiler's own step markers and detection are
/// [`window::choose_with`]'s); an engine profile's synthetic timeline says
/// so.
fn choose_window(trace: &Trace, choice: &WindowChoice, links: &Links) -> Result<window::Window> {
    let mut w = window::choose_with(trace, choice, links)?;
    if trace.engine.is_some() && w.iterations.is_empty() {
        w.reason = "one profiled inference of the engine: the layers' average times laid back to back (a synthetic timeline)".into();
    }
    Ok(w)
}

/// The ranks of a loaded trace for a job report: its window chosen as for
/// the single-trace report, then one timeline per process with GPU work.
pub fn rank_timelines(
    trace: &Trace,
    opts: &AnalysisOptions,
) -> Result<Vec<crate::analysis::job::RankTimeline>> {
    let links = Links::build(trace);
    let window = choose_window(trace, &opts.window, &links)?;
    Ok(crate::analysis::job::ranks::timelines(trace, &window))
}

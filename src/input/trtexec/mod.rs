//! TensorRT engine profiles: `trtexec --exportLayerInfo` (the engine graph:
//! layer types, tensor formats, tactics) with `--exportProfile` (per-layer
//! times averaged over the profiled inferences).
//!
//! An engine profile is not a timeline, so the layers are laid out as GPU
//! work on a synthetic one: one profiled inference = each layer's average
//! time, back to back from 0, in execution order, as one kernel per layer
//! on device 0, stream 0. The kernel's name is the layer's tactic name
//! (the kernel TensorRT chose, so that name-based analyses such as
//! Tensor Core use apply to it), or the layer's name when it has no tactic.
//! Attribution then reads 100% kernel time and the window is that one
//! inference; what matters is in `Trace::engine` (per-layer type,
//! formats, precision, tactic) and the engine report built from it.

mod files;
mod parse;

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::io_problem;
use crate::error::{Error, Result};
use crate::input::{InputFormat, Reader, gzip, read_head};
use crate::model::build::RowCheck;
use crate::model::{Device, Engine, EngineLayer, Kernel, Trace};
use crate::progress::Progress;
use files::Kind;

pub use files::kind_of;

pub struct Trtexec;

impl Reader for Trtexec {
    fn format(&self) -> InputFormat {
        InputFormat::Trtexec
    }

    fn sniff(&self, _path: &Path, head: &[u8]) -> bool {
        kind_of(head).is_some()
    }

    fn read(&self, path: &Path, progress: &Progress) -> Result<Trace> {
        progress.stage("reading engine profile", None);
        let head = read_head(path)?;
        let Some(kind) = kind_of(&head) else {
            return Err(Error::input(
                path,
                "not a trtexec --exportLayerInfo (graph) or --exportProfile (per-layer times) JSON file",
            ));
        };
        let partner = find_partner(path, kind)?;
        let (graph_path, profile_path) = match kind {
            Kind::Graph => (Some(path.to_path_buf()), partner),
            Kind::Profile => (partner, Some(path.to_path_buf())),
        };
        let Some(profile_path) = profile_path else {
            let tried: Vec<String> = files::partner_candidates(path, kind)
                .iter()
                .step_by(2)
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            return Err(Error::input(
                path,
                format!(
                    "engine graph without per-layer times: no trtexec --exportProfile file next to it (looked for {})",
                    tried.join(", ")
                ),
            ));
        };
        let (count, rows) =
            parse::profile(&read_all(&profile_path)?).map_err(|e| Error::input(&profile_path, e))?;
        let graph = match &graph_path {
            Some(g) => Some(parse::graph(&read_all(g)?).map_err(|e| Error::input(g, e))?),
            None => None,
        };
        let mut trace = Trace::default();
        trace.source.path = path.display().to_string();
        trace.source.profiler_version = Some("TensorRT trtexec (--exportLayerInfo, --exportProfile)".into());
        let mut engine = Engine {
            profiled_iterations: count,
            files: [graph_path.as_ref(), Some(&profile_path)]
                .into_iter()
                .flatten()
                .map(|p| p.display().to_string())
                .collect(),
            ..Engine::default()
        };
        engine.layers = join(graph, &rows, &mut trace.warnings);
        metadata(path, kind, &mut engine, &mut trace);
        lay_out(&mut trace, &mut engine);
        let described = std::mem::take(&mut trace.devices);
        crate::model::build::fill_devices(&mut trace, described);
        trace.engine = Some(engine);
        Ok(trace)
    }
}

/// The whole (decompressed) content of a small file.
fn read_all(path: &Path) -> Result<Vec<u8>> {
    let opened = gzip::open(path)?;
    let mut out = Vec::new();
    let mut r = opened.reader;
    r.read_to_end(&mut out).map_err(|e| {
        Error::input(
            path,
            if opened.gzip {
                gzip::problem(&e)
            } else {
                io_problem(&e)
            },
        )
    })?;
    Ok(out)
}

/// The other file of the pair, if one of the right kind is next to `path`.
fn find_partner(path: &Path, kind: Kind) -> Result<Option<PathBuf>> {
    for candidate in files::partner_candidates(path, kind) {
        if candidate == path || !candidate.is_file() {
            continue;
        }
        let head = read_head(&candidate)?;
        if kind_of(&head).is_some_and(|k| k != kind) {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// Layers in execution order (the profile's), with the graph's details.
fn join(
    graph: Option<Vec<EngineLayer>>,
    rows: &[parse::ProfileRow],
    warnings: &mut Vec<String>,
) -> Vec<EngineLayer> {
    let Some(graph) = graph else {
        warnings.push(
            "no trtexec --exportLayerInfo file next to the profile: layer types, precisions and tactics unknown".into(),
        );
        return rows
            .iter()
            .map(|r| parse::layer(EngineLayer::named(r.name.clone()), Some(r)))
            .collect();
    };
    let mut by_name: std::collections::HashMap<String, EngineLayer> = std::collections::HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for g in graph {
        order.push(g.name.clone());
        by_name.insert(g.name.clone(), g);
    }
    let mut layers = Vec::with_capacity(rows.len());
    let mut unknown = 0;
    for r in rows {
        let g = by_name.remove(&r.name).unwrap_or_else(|| {
            unknown += 1;
            EngineLayer::named(r.name.clone())
        });
        layers.push(parse::layer(g, Some(r)));
    }
    // Graph layers the profile did not time (eliminated or fused at run time).
    let mut untimed = 0;
    for name in order {
        if let Some(g) = by_name.remove(&name) {
            untimed += 1;
            layers.push(parse::layer(g, None));
        }
    }
    if unknown > 0 {
        warnings.push(format!(
            "{unknown} profiled layer(s) not in the layer information file: their types and tactics are unknown (were both files exported from the same engine?)"
        ));
    }
    if untimed > 0 {
        warnings.push(format!(
            "{untimed} layer(s) of the graph have no time in the profile (listed with 0 ns)"
        ));
    }
    layers
}

/// Build precision and device from the metadata files TensorRT's tools
/// write beside the pair, when present.
fn metadata(path: &Path, kind: Kind, engine: &mut Engine, trace: &mut Trace) {
    let (build, profile, device) = files::metadata_candidates(path, kind);
    let json = |p: &Path| -> Option<Value> {
        let bytes = std::fs::read(p).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    if let Some(v) = json(&build) {
        engine.build_precision = v
            .pointer("/build_options/Precision")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    let mut dev: Option<Device> = None;
    if let Some(v) = json(&profile) {
        if let Some(d) = v.get("device_information") {
            let cc = d.get("Compute Capability").and_then(|c| {
                // Written as 8.0 or "8.0".
                let s = c.as_str().map(str::to_string).unwrap_or_else(|| c.to_string());
                let (a, b) = s.split_once('.')?;
                Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
            });
            dev = d
                .get("Selected Device")
                .and_then(Value::as_str)
                .map(|name| Device {
                    id: 0,
                    name: name.to_string(),
                    compute_capability: cc,
                    sm_count: d.get("SMs").and_then(Value::as_f64).map(|n| n as u32),
                });
        }
    }
    if dev.is_none() {
        if let Some(v) = json(&device) {
            let d = v.as_array().and_then(|a| a.first()).unwrap_or(&v);
            dev = d.get("Name").and_then(Value::as_str).map(|name| Device {
                id: 0,
                name: name.to_string(),
                compute_capability: d
                    .get("ComputeCapability")
                    .and_then(Value::as_array)
                    .and_then(|a| Some((a.first()?.as_u64()? as u32, a.get(1)?.as_u64()? as u32))),
                sm_count: d
                    .get("MULTIPROCESSOR_COUNT")
                    .and_then(Value::as_u64)
                    .map(|n| n as u32),
            });
        }
    }
    if dev.is_none() {
        trace
            .warnings
            .push("the engine files do not name the GPU: GPU name and compute capability unknown".into());
    }
    trace.devices = dev.into_iter().collect();
    if engine.build_precision.is_some() {
        engine.files.push(build.display().to_string());
    }
}

/// The synthetic timeline: one kernel per layer, back to back from 0.
fn lay_out(trace: &mut Trace, engine: &mut Engine) {
    let mut t = 0;
    let mut rows = RowCheck::new("profile layers");
    for (i, layer) in engine.layers.iter_mut().enumerate() {
        layer.start = t;
        let Some((start, end)) = rows.span_from(Some(t), Some(layer.average_ns)) else {
            continue;
        };
        let name = trace.names.intern(layer.tactic.as_deref().unwrap_or(&layer.name));
        trace.kernels.push(Kernel {
            start,
            end,
            name,
            short_name: name,
            device: 0,
            stream: 0,
            pid: 0,
            correlation: i as u32 + 1,
        });
        t = end;
    }
    rows.report(&mut trace.warnings);
    if engine.profiled_iterations.is_none() {
        trace
            .warnings
            .push("the profile does not say over how many inferences its times were averaged".into());
    }
}

//! The contents of the trtexec files, into engine layers.
//!
//! Graph layers (`--exportLayerInfo` with detailed profiling verbosity)
//! are objects with `Name`, `LayerType`, `Inputs`/`Outputs` (`Name`,
//! `Dimensions`, `Format/Datatype`), `ParameterType`, `TacticName`,
//! `Weights` and more; with less verbosity a layer is just its name.
//! Profile rows carry times in milliseconds, read exactly as decimal text.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::input::decimal::{MS, to_ns};
use crate::model::{EngineLayer, EngineTensor, Ns};

/// The graph file: its layers in engine order.
pub fn graph(bytes: &[u8]) -> Result<Vec<EngineLayer>, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON ({e})"))?;
    let layers = doc
        .get("Layers")
        .and_then(Value::as_array)
        .ok_or("no \"Layers\" array: not a trtexec --exportLayerInfo file")?;
    Ok(layers.iter().map(graph_layer).collect())
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn tensors(v: Option<&Value>) -> Vec<EngineTensor> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| EngineTensor {
                    name: text(t, "Name").unwrap_or_default(),
                    dims: t
                        .get("Dimensions")
                        .and_then(Value::as_array)
                        .map(|d| d.iter().filter_map(Value::as_i64).collect())
                        .unwrap_or_default(),
                    format: text(t, "Format/Datatype").unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A graph layer as read: the graph's details, no time yet.
fn graph_layer(v: &Value) -> EngineLayer {
    if let Some(name) = v.as_str() {
        // Layer info without detailed verbosity: names only.
        return EngineLayer::named(name.to_string());
    }
    EngineLayer {
        layer_type: text(v, "LayerType").unwrap_or_else(|| "unknown".into()),
        operation: text(v, "ParameterType"),
        tactic: text(v, "TacticName"),
        inputs: tensors(v.get("Inputs")),
        outputs: tensors(v.get("Outputs")),
        weights_type: v
            .get("Weights")
            .and_then(|w| w.get("Type"))
            .and_then(Value::as_str)
            .map(str::to_string),
        out_channels: v.get("OutMaps").and_then(Value::as_i64),
        groups: v.get("Groups").and_then(Value::as_i64),
        kernel_size: v
            .get("Kernel")
            .or_else(|| v.get("WindowSize"))
            .and_then(Value::as_array)
            .map(|d| d.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default(),
        weights_count: v
            .get("Weights")
            .and_then(|w| w.get("Count"))
            .and_then(Value::as_i64),
        ..EngineLayer::named(text(v, "Name").unwrap_or_else(|| "<unnamed layer>".into()))
    }
}

#[derive(Deserialize)]
struct Row<'a> {
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "timeMs", borrow)]
    time: Option<&'a RawValue>,
    #[serde(default, rename = "averageMs", borrow)]
    average: Option<&'a RawValue>,
    #[serde(default, rename = "medianMs", borrow)]
    median: Option<&'a RawValue>,
    #[serde(default)]
    percentage: Option<f64>,
}

/// One profiled layer.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    pub name: String,
    pub average_ns: Ns,
    pub median_ns: Option<Ns>,
    pub total_ns: Option<Ns>,
    pub percentage: Option<f64>,
}

/// The profile file: (number of profiled inferences, rows in execution order).
pub fn profile(bytes: &[u8]) -> Result<(Option<u64>, Vec<ProfileRow>), String> {
    let rows: Vec<Row> =
        serde_json::from_slice(bytes).map_err(|e| format!("not a trtexec --exportProfile file ({e})"))?;
    let ms = |r: Option<&RawValue>| r.and_then(|r| to_ns(r.get().as_bytes(), MS));
    let mut count = None;
    let mut out = Vec::new();
    for r in rows {
        if r.name.is_none() {
            count = count.or(r.count);
            continue;
        }
        let total = ms(r.time);
        let average = ms(r.average).or(match (total, count) {
            (Some(t), Some(c)) if c > 0 => Some(t / c as i64),
            _ => None,
        });
        let Some(average_ns) = average else {
            return Err(format!(
                "layer '{}' has no averageMs/timeMs",
                r.name.unwrap_or_default()
            ));
        };
        if average_ns < 0 {
            return Err(format!(
                "layer '{}' has a negative time",
                r.name.unwrap_or_default()
            ));
        }
        if average_ns > crate::model::build::MAX_SPAN_NS {
            return Err(format!(
                "layer '{}' has a time of more than 30 days: not a measured time",
                r.name.unwrap_or_default()
            ));
        }
        out.push(ProfileRow {
            name: r.name.unwrap_or_default(),
            average_ns,
            median_ns: ms(r.median),
            total_ns: total,
            percentage: r.percentage,
        });
    }
    if out.is_empty() {
        return Err("no layer rows: not a trtexec --exportProfile file".into());
    }
    Ok((count, out))
}

/// Graph layer `g` with the times of its profile row `p`, if any.
pub fn layer(mut g: EngineLayer, p: Option<&ProfileRow>) -> EngineLayer {
    if let Some(p) = p {
        g.average_ns = p.average_ns;
        g.median_ns = p.median_ns;
        g.total_ns = p.total_ns;
        g.percentage = p.percentage;
        g.profiled = true;
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_rows_exact() {
        let text = br#"[
          { "count" : 6610 }
        , { "name" : "QuantizeLinear_2", "timeMs" : 31.3879, "averageMs" : 0.00474854, "medianMs" : 0.004544, "percentage" : 1.00949 }
        , { "name" : "Conv_0", "timeMs" : 0, "averageMs" : 0, "medianMs" : 0, "percentage" : 0 }
        ]"#;
        let (count, rows) = profile(text).unwrap();
        assert_eq!(count, Some(6610));
        assert_eq!(rows[0].average_ns, 4749);
        assert_eq!(rows[0].total_ns, Some(31_387_900));
        assert_eq!(rows[0].median_ns, Some(4544));
        assert_eq!(rows[1].average_ns, 0);
        assert!(profile(b"[{\"count\": 1}]").is_err());
        assert!(profile(b"{\"Layers\": []}").is_err());
    }

    #[test]
    fn graph_names_only_and_detailed() {
        let g = graph(
            br#"{"Layers": ["a", {"Name": "b", "LayerType": "CaskConvolution",
            "Inputs": [{"Name": "x", "Dimensions": [1, 3, 8, 8], "Format/Datatype": "Row major linear FP32"}],
            "Outputs": [], "TacticName": "sm80_xmma_fprop", "Weights": {"Type": "Half", "Count": 9},
            "OutMaps": 64, "Groups": 1}], "Bindings": []}"#,
        )
        .unwrap();
        assert_eq!(g[0].name, "a");
        assert_eq!(g[0].layer_type, "unknown");
        assert_eq!(g[1].tactic.as_deref(), Some("sm80_xmma_fprop"));
        assert_eq!(g[1].inputs[0].dims, [1, 3, 8, 8]);
        assert_eq!(g[1].weights_type.as_deref(), Some("Half"));
        assert_eq!(g[1].out_channels, Some(64));
    }
}

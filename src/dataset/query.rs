//! `trace-report query OUT "SQL"`: the dataset's tables registered under
//! their names (hive partition columns included), the query run through
//! polars SQL, the result rendered as an aligned table, CSV or JSON lines.
//! Floats are printed with Rust's shortest round-trip form, so a result
//! read back is the value computed.

use std::path::Path;

use polars::prelude::*;
use polars::sql::SQLContext;

use super::TABLES;
use crate::error::{Error, Result};

/// How a result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Json,
}

/// Run `sql` over the dataset in `dir`.
pub fn run(dir: &Path, sql: &str) -> Result<DataFrame> {
    if !dir.is_dir() {
        return Err(Error::input(
            dir,
            "not a folder (expected a dataset written by trace-report batch --dataset)",
        ));
    }
    let mut ctx = SQLContext::new();
    let mut found = 0;
    for table in TABLES {
        let path = dir.join(table);
        if !path.is_dir() {
            continue;
        }
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                enabled: Some(true),
                hive_start_idx: 0,
                schema: None,
                try_parse_dates: false,
            },
            ..Default::default()
        };
        let lf = LazyFrame::scan_parquet(PlRefPath::new(format!("{}/", path.display())), args)
            .map_err(|e| Error::input(&path, e.to_string()))?;
        ctx.register(table, lf);
        found += 1;
    }
    if found == 0 {
        return Err(Error::input(
            dir,
            format!("no dataset tables here (expected folders {})", TABLES.join(", ")),
        ));
    }
    let lf = ctx
        .execute(sql)
        .map_err(|e| Error::usage(format!("query: {}", one_line(&e.to_string()))))?;
    lf.collect()
        .map_err(|e| Error::usage(format!("query: {}", one_line(&e.to_string()))))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One cell as text (`None` for null).
fn cell(v: &AnyValue) -> Option<String> {
    Some(match v {
        AnyValue::Null => return None,
        AnyValue::Boolean(b) => b.to_string(),
        AnyValue::String(s) => s.to_string(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::UInt8(x) => x.to_string(),
        AnyValue::UInt16(x) => x.to_string(),
        AnyValue::UInt32(x) => x.to_string(),
        AnyValue::UInt64(x) => x.to_string(),
        AnyValue::Int8(x) => x.to_string(),
        AnyValue::Int16(x) => x.to_string(),
        AnyValue::Int32(x) => x.to_string(),
        AnyValue::Int64(x) => x.to_string(),
        AnyValue::Float32(x) => x.to_string(),
        AnyValue::Float64(x) => x.to_string(),
        other => format!("{other:?}"),
    })
}

/// A cell as JSON: numbers stay numbers.
fn json_cell(v: &AnyValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::UInt8(x) => (*x).into(),
        AnyValue::UInt16(x) => (*x).into(),
        AnyValue::UInt32(x) => (*x).into(),
        AnyValue::UInt64(x) => (*x).into(),
        AnyValue::Int8(x) => (*x).into(),
        AnyValue::Int16(x) => (*x).into(),
        AnyValue::Int32(x) => (*x).into(),
        AnyValue::Int64(x) => (*x).into(),
        AnyValue::Float32(x) => {
            serde_json::Number::from_f64(f64::from(*x)).map_or(Value::Null, Value::Number)
        }
        AnyValue::Float64(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        other => cell(other).map_or(Value::Null, Value::String),
    }
}

/// Render a result.
pub fn render(df: &DataFrame, format: QueryFormat) -> Vec<u8> {
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let cols = df.columns();
    let rows = df.height();
    let at = |c: usize, r: usize| cols[c].get(r).unwrap_or(AnyValue::Null);
    let mut out = String::new();
    match format {
        QueryFormat::Json => {
            for r in 0..rows {
                let obj: serde_json::Map<String, serde_json::Value> = (0..cols.len())
                    .map(|c| (names[c].clone(), json_cell(&at(c, r))))
                    .collect();
                out.push_str(&serde_json::Value::Object(obj).to_string());
                out.push('\n');
            }
        }
        QueryFormat::Csv => {
            let quote = |s: &str| {
                if s.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            };
            out.push_str(&names.iter().map(|n| quote(n)).collect::<Vec<_>>().join(","));
            out.push('\n');
            for r in 0..rows {
                let line: Vec<String> = (0..cols.len())
                    .map(|c| cell(&at(c, r)).map(|s| quote(&s)).unwrap_or_default())
                    .collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
        QueryFormat::Table => {
            let text: Vec<Vec<String>> = (0..rows)
                .map(|r| {
                    (0..cols.len())
                        .map(|c| {
                            let s = cell(&at(c, r)).unwrap_or_else(|| "null".into());
                            crate::text::escape::terminal(&s)
                        })
                        .collect()
                })
                .collect();
            let widths: Vec<usize> = (0..cols.len())
                .map(|c| {
                    text.iter()
                        .map(|row| row[c].chars().count())
                        .chain(std::iter::once(names[c].chars().count()))
                        .max()
                        .unwrap_or(0)
                        .min(80)
                })
                .collect();
            let line = |cells: &[String]| {
                let parts: Vec<String> = cells
                    .iter()
                    .zip(&widths)
                    .map(|(s, w)| {
                        let s = crate::text::escape::truncate(s, *w);
                        format!("{s:<w$}")
                    })
                    .collect();
                parts.join("  ").trim_end().to_string() + "\n"
            };
            out.push_str(&line(&names));
            out.push_str(&line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>()));
            for row in &text {
                out.push_str(&line(row));
            }
            out.push_str(&format!("({rows} row{})\n", if rows == 1 { "" } else { "s" }));
        }
    }
    out.into_bytes()
}

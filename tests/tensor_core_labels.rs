//! Tensor Core verdicts against the hardware ground truth
//! (tests/fixtures/tensor_core_labels.csv: Nsight Compute MMA instruction
//! counts joined to the kernel names nsys writes), for every evidence
//! source: the name grammar, the Nsight Compute CSVs, and the reports of
//! the sample traces.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use trace_report::analysis::tensor_core::VerdictSource;
use trace_report::analysis::tensor_core::names::{Verdict, classify};
use trace_report::analysis::tensor_core::ncu;
use trace_report::analysis::window::WindowChoice;
use trace_report::document::Report;
use trace_report::pipeline::{AnalysisOptions, analyze};
use trace_report::progress::Progress;

struct Label {
    scenario: String,
    kernel: String,
    tensor_core: Verdict,
    launches: u64,
    tensor_inst: f64,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn labels() -> Vec<Label> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/tensor_core_labels.csv")).unwrap();
    let records = trace_report::input::ncu::records(&text);
    let h = &records[0];
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (s, k, t, l, i) = (
        col("scenario"),
        col("kernel"),
        col("tensor_core"),
        col("launches_profiled"),
        col("tensor_pipe_inst"),
    );
    records[1..]
        .iter()
        .filter(|r| r.len() == h.len())
        .map(|r| Label {
            scenario: r[s].clone(),
            kernel: r[k].clone(),
            tensor_core: match r[t].as_str() {
                "yes" => Verdict::Yes,
                "no" => Verdict::No,
                other => panic!("label {other}"),
            },
            launches: r[l].parse().unwrap(),
            tensor_inst: r[i].parse().unwrap(),
        })
        .collect()
}

fn scenarios(labels: &[Label]) -> Vec<String> {
    let mut v: Vec<String> = labels.iter().map(|l| l.scenario.clone()).collect();
    v.sort();
    v.dedup();
    v
}

fn report(scenario: &str, window: WindowChoice, ncu: Option<PathBuf>) -> Report {
    let path = root().join("sample_traces").join(format!("{scenario}.sqlite"));
    let trace = trace_report::input::load(&path, &Default::default(), &Progress::hidden()).unwrap();
    let opts = AnalysisOptions {
        window,
        ncu,
        ..AnalysisOptions::default()
    };
    analyze(&trace, &opts).unwrap()
}

fn ncu_csv(scenario: &str) -> PathBuf {
    root()
        .join("tests/fixtures/ncu")
        .join(format!("{scenario}.ncu.csv"))
}

#[test]
fn the_labels_cover_seven_scenarios_and_both_verdicts() {
    let l = labels();
    assert_eq!(l.len(), 92, "rows of tensor_core_labels.csv");
    assert_eq!(scenarios(&l).len(), 7);
    assert!(l.iter().any(|x| x.tensor_core == Verdict::Yes));
    assert!(l.iter().any(|x| x.tensor_core == Verdict::No));
}

#[test]
fn name_grammar_agrees_with_every_label() {
    let mut wrong = Vec::new();
    for l in labels() {
        let got = classify(&l.kernel);
        if got.verdict != l.tensor_core {
            wrong.push(format!(
                "{}: {} -> {:?} ({})",
                l.scenario, l.kernel, got.verdict, got.rule
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn ncu_counters_match_the_labels_instruction_counts() {
    // The labels' tensor_pipe_inst and launches_profiled were derived from
    // the same CSVs by the data's author; the reader and the name matching
    // must reproduce them per (scenario, nsys kernel name).
    let labels = labels();
    for scenario in scenarios(&labels) {
        let counters = trace_report::input::ncu::read(&ncu_csv(&scenario)).unwrap();
        let mine: Vec<&Label> = labels.iter().filter(|l| l.scenario == scenario).collect();
        let rows: Vec<(&str, &str)> = mine.iter().map(|l| (l.kernel.as_str(), "")).collect();
        let (matched, summary) = ncu::match_names(&counters, &rows);
        for (l, m) in mine.iter().zip(&matched) {
            let (inst, launches) = m.unwrap_or_else(|| panic!("{scenario}: no counters for {}", l.kernel));
            assert_eq!(launches, l.launches, "{scenario}: launches of {}", l.kernel);
            assert_eq!(
                inst, l.tensor_inst,
                "{scenario}: MMA instructions of {}",
                l.kernel
            );
            let verdict = if inst > 0.0 { Verdict::Yes } else { Verdict::No };
            assert_eq!(verdict, l.tensor_core, "{scenario}: {}", l.kernel);
        }
        assert_eq!(summary.ambiguous, 0, "{scenario}");
    }
}

#[test]
fn reports_agree_with_the_labels_by_name() {
    let labels = labels();
    for scenario in scenarios(&labels) {
        // The whole capture holds every labelled kernel; the iteration
        // window holds those the nsys run executed in its iterations.
        for window in [WindowChoice::WholeCapture, WindowChoice::Auto] {
            let r = report(&scenario, window.clone(), None);
            let by_name: HashMap<&str, _> = r.kernels.iter().map(|k| (k.name.as_str(), k)).collect();
            let mut checked = 0;
            for l in labels.iter().filter(|l| l.scenario == scenario) {
                let Some(k) = by_name.get(l.kernel.as_str()) else {
                    assert_eq!(window, WindowChoice::Auto, "{scenario}: {} missing", l.kernel);
                    continue;
                };
                assert_eq!(k.tensor_core, l.tensor_core, "{scenario}: {}", l.kernel);
                assert_eq!(k.tensor_core_evidence, VerdictSource::Name);
                checked += 1;
            }
            assert!(checked > 0, "{scenario}");
            // No matrix time of unknown nature on any sample trace.
            assert_eq!(r.tensor_cores.unknown_ns, 0, "{scenario}");
        }
    }
}

#[test]
fn reports_with_ncu_take_verdicts_from_counters() {
    let labels = labels();
    let mut matched: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for scenario in scenarios(&labels) {
        let r = report(&scenario, WindowChoice::WholeCapture, Some(ncu_csv(&scenario)));
        let m = r.tensor_cores.ncu.as_ref().expect("ncu summary");
        // Over the whole capture every kernel the ncu run profiled is found,
        // whatever its spelling.
        assert_eq!(
            m.matched, m.kernel_names,
            "{scenario}: unmatched {:?}",
            m.unmatched
        );
        assert_eq!(m.ambiguous, 0);
        assert!(
            r.tensor_cores.disagreements.is_empty(),
            "{scenario}: {:?}",
            r.tensor_cores.disagreements
        );
        let by_name: HashMap<&str, _> = r.kernels.iter().map(|k| (k.name.as_str(), k)).collect();
        for l in labels.iter().filter(|l| l.scenario == scenario) {
            let k = by_name[l.kernel.as_str()];
            assert_eq!(k.tensor_core_evidence, VerdictSource::Counters, "{}", l.kernel);
            assert_eq!(k.tensor_core, l.tensor_core, "{}", l.kernel);
        }
        assert_eq!(r.tensor_cores.evidence.counters, m.kernels_decided);
        matched.insert(scenario.clone(), (m.matched, m.matched_normalized));
    }
    // ncu spells PyTorch kernels differently (at:: for at::native::, 8 for
    // (int)8): most scenarios need the normalized tier for some kernels.
    assert!(
        matched.values().filter(|(_, n)| *n > 0).count() >= 6,
        "{matched:?}"
    );
}

#[test]
fn a_bad_ncu_file_is_a_one_line_error() {
    let trace_path = root().join("sample_traces/gemm_int8_fp16_fp32.sqlite");
    let trace = trace_report::input::load(&trace_path, &Default::default(), &Progress::hidden()).unwrap();
    let not_csv = root().join("tests/fixtures/tensor_core_labels.csv");
    let opts = AnalysisOptions {
        ncu: Some(not_csv.clone()),
        ..AnalysisOptions::default()
    };
    let e = analyze(&trace, &opts).unwrap_err().to_string();
    assert!(e.starts_with(&not_csv.display().to_string()), "{e}");
    assert!(
        e.contains("not an Nsight Compute CSV") && !e.contains('\n'),
        "{e}"
    );
    let opts = AnalysisOptions {
        ncu: Some(Path::new("/nonexistent/x.csv").to_path_buf()),
        ..AnalysisOptions::default()
    };
    let e = analyze(&trace, &opts).unwrap_err().to_string();
    assert_eq!(e, "/nonexistent/x.csv: no such file");
}

#[test]
fn the_cli_takes_an_ncu_csv() {
    let bin = env!("CARGO_BIN_EXE_trace-report");
    let trace = root().join("sample_traces/gemm_int8_fp16_fp32.sqlite");
    let out = std::process::Command::new(bin)
        .arg(&trace)
        .args(["--format", "json", "-o", "-", "-q", "--ncu"])
        .arg(ncu_csv("gemm_int8_fp16_fp32"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ncu = &r["tensor_cores"]["ncu"];
    // The CSV profiled five kernels (one per GEMM range plus one copy).
    assert_eq!(ncu["kernel_names"], 5);
    assert_eq!(ncu["matched"], 5);
    assert!(
        r["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["tensor_core_evidence"] == "counters")
    );
    let out = std::process::Command::new(bin)
        .arg(&trace)
        .args(["--format", "json", "-o", "-", "-q", "--ncu"])
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("not an Nsight Compute CSV"), "{err}");
}

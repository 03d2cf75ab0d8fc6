//! `trace-report diff` on real pairs, checked against independent oracles:
//! iteration durations and kernel/copy totals by hand-written SQL over the
//! same files, and the Welch interval recomputed here from those SQL
//! durations with plainly written formulas (its t quantile from the t
//! density by numerical integration, not the crate's incomplete beta).

mod common;

use std::path::Path;

use common::{NVTX_NAME, open, sample};
use trace_report::diff::input::{InputKind, Loaded};
use trace_report::diff::matching::Match;
use trace_report::diff::stats::{Basis, VerdictKind};
use trace_report::diff::{self, Diff, DiffOptions};
use trace_report::pipeline::AnalysisOptions;
use trace_report::progress::Progress;

const NCHW: &str = "resnet50_fp16_nchw_cpupre.sqlite";
const CL: &str = "resnet50_fp16_cl_gpupre.sqlite";
const ALIGNED: &str = "bert_fp16_aligned.sqlite";
const MISALIGNED: &str = "bert_fp16_misaligned.sqlite";

fn load(path: &Path) -> Loaded {
    diff::input::load(
        path,
        &Default::default(),
        &AnalysisOptions::default(),
        &Progress::hidden(),
    )
    .expect("load")
}

fn diff_of(base: &str, new: &str) -> Diff {
    diff::compare(&load(&sample(base)), &load(&sample(new)), &DiffOptions::default())
}

/// Durations of the `iter` ranges in start order (the samples' iterations).
fn iter_durations(file: &str) -> Vec<i64> {
    let conn = open(&sample(file));
    let sql = format!(
        "SELECT n.end - n.start FROM NVTX_EVENTS n WHERE {NVTX_NAME} = 'iter' AND n.end IS NOT NULL ORDER BY n.start"
    );
    let mut st = conn.prepare(&sql).unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// (count, total ns) of kernels whose demangled name matches `like` and
/// whose start lies in an `iter` range; `like` is an SQL LIKE pattern.
fn kernels_in_iters(file: &str, like: &str) -> (i64, i64) {
    let conn = open(&sample(file));
    let sql = format!(
        "SELECT count(*), coalesce(sum(k.end - k.start), 0) FROM CUPTI_ACTIVITY_KIND_KERNEL k \
         JOIN StringIds s ON s.id = k.demangledName \
         JOIN (SELECT n.start AS s, n.end AS e FROM NVTX_EVENTS n WHERE {NVTX_NAME} = 'iter' AND n.end IS NOT NULL) w \
           ON k.start >= w.s AND k.start < w.e \
         WHERE s.value LIKE ?1"
    );
    conn.query_row(&sql, [like], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
}

/// Distinct demangled names matching `like` anywhere in the file.
fn names_in_file(file: &str, like: &str) -> Vec<String> {
    let conn = open(&sample(file));
    let mut st = conn
        .prepare(
            "SELECT DISTINCT s.value FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.demangledName \
             WHERE s.value LIKE ?1 ORDER BY 1",
        )
        .unwrap();
    st.query_map([like], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// Two-sided critical value of Student's t from its density alone: with
/// t = sqrt(df) tan(th), P(|T| < q) = I(atan(q / sqrt(df))) / I(pi/2) where
/// I(x) = integral from 0 to x of cos(th)^(df - 1) (Simpson's rule).
fn t_critical(confidence: f64, df: f64) -> f64 {
    let integral = |x: f64| {
        let n = 20_000;
        let h = x / n as f64;
        let f = |th: f64| th.cos().powf(df - 1.0);
        let mut sum = f(0.0) + f(x);
        for i in 1..n {
            sum += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        sum * h / 3.0
    };
    let whole = integral(std::f64::consts::FRAC_PI_2);
    let (mut lo, mut hi) = (0.0, 1000.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if integral((mid / df.sqrt()).atan()) / whole < confidence {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Welch's interval on mean(new) - mean(base): (mean base, mean new, df, lo, hi).
fn welch_oracle(base: &[i64], new: &[i64]) -> (f64, f64, f64, f64, f64) {
    let stats = |x: &[i64]| {
        let n = x.len() as f64;
        let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let (n1, m1, v1) = stats(base);
    let (n2, m2, v2) = stats(new);
    let se2 = v1 / n1 + v2 / n2;
    let df = se2 * se2 / ((v1 / n1).powi(2) / (n1 - 1.0) + (v2 / n2).powi(2) / (n2 - 1.0));
    let half = t_critical(0.95, df) * se2.sqrt();
    (m1, m2, df, m2 - m1 - half, m2 - m1 + half)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

fn check_verdict_against_oracle(d: &Diff, base: &str, new: &str) {
    let (b, n) = (iter_durations(base), iter_durations(new));
    assert_eq!(d.base.iteration_ns, b, "BASE iteration durations");
    assert_eq!(d.new.iteration_ns, n, "NEW iteration durations");
    let (m1, m2, df, lo, hi) = welch_oracle(&b, &n);
    let v = &d.verdict;
    assert_eq!(v.basis, Basis::Iterations);
    assert!(close(v.base_ns, m1, 1e-12) && close(v.new_ns, m2, 1e-12));
    assert!(close(v.df.unwrap(), df, 1e-9), "df {:?} vs {df}", v.df);
    let [clo, chi] = v.ci_ns.unwrap();
    assert!(
        close(clo, lo, 1e-6) && close(chi, hi, 1e-6),
        "CI [{clo}, {chi}] vs [{lo}, {hi}]"
    );
    let [plo, phi] = v.ci_pct.unwrap();
    assert!(close(plo, 100.0 * lo / m1, 1e-6) && close(phi, 100.0 * hi / m1, 1e-6));
    // The verdict follows from the oracle's interval and the 1% threshold.
    let expected = if 100.0 * lo / m1 > 1.0 {
        VerdictKind::Slower
    } else if 100.0 * hi / m1 < -1.0 {
        VerdictKind::Faster
    } else if 100.0 * lo / m1 >= -1.0 && 100.0 * hi / m1 <= 1.0 {
        VerdictKind::NoChange
    } else {
        VerdictKind::Inconclusive
    };
    assert_eq!(v.verdict, expected);
}

#[test]
fn t_critical_oracle_matches_tables() {
    // Sanity of the test's own oracle against printed t tables.
    assert!((t_critical(0.95, 10.0) - 2.228_139).abs() < 1e-5);
    assert!((t_critical(0.95, 22.0) - 2.073_873).abs() < 1e-5);
}

#[test]
fn resnet_layout_fix_is_faster_and_the_transposes_are_gone() {
    let d = diff_of(NCHW, CL);
    check_verdict_against_oracle(&d, NCHW, CL);
    assert_eq!(d.verdict.verdict, VerdictKind::Faster);
    assert!(d.comparability.is_empty(), "{:?}", d.comparability);
    let iters = 12.0;
    assert_eq!(
        (d.normalization.base_divisor, d.normalization.new_divisor),
        (iters, iters)
    );

    // The attribution total is the mean iteration time.
    let total = d.attribution.iter().find(|a| a.group == "total").unwrap();
    let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len() as f64;
    assert!(close(total.base_ns, mean(&iter_durations(NCHW)), 1e-12));
    assert!(close(total.new_ns, mean(&iter_durations(CL)), 1e-12));

    // Both cuDNN layout transposes disappeared, with their per-iteration time.
    for kernel in ["nchwToNhwcKernel", "nhwcToNchwKernel"] {
        let like = format!("%{kernel}%");
        assert!(names_in_file(CL, &like).is_empty(), "{kernel} still in NEW");
        let (count, ns) = kernels_in_iters(NCHW, &like);
        assert!(count > 0);
        let row = d
            .kernels
            .iter()
            .find(|k| k.base.iter().any(|r| r.name.contains(kernel)))
            .unwrap_or_else(|| panic!("no row for {kernel}"));
        assert_eq!(row.matched, Match::Disappeared, "{kernel}");
        assert!(
            close(row.base_ns, ns as f64 / iters, 1e-12),
            "{kernel}: {} vs {}",
            row.base_ns,
            ns
        );
        assert!(close(row.base_count, count as f64 / iters, 1e-12));
        assert_eq!((row.new_ns, row.delta_ns), (0.0, -row.base_ns));
    }
    // The largest single kernel change is the NCHW->NHWC transpose going away.
    assert!(d.kernels[0].base[0].name.contains("nchwToNhwcKernel"));
    let layout = d
        .categories
        .iter()
        .find(|c| c.category.label() == "layout")
        .unwrap();
    let (_, t1) = kernels_in_iters(NCHW, "%nchwToNhwcKernel%");
    let (_, t2) = kernels_in_iters(NCHW, "%nhwcToNchwKernel%");
    assert!(close(layout.base_ns, (t1 + t2) as f64 / iters, 1e-12));
    assert_eq!(layout.new_ns, 0.0);
    // Rows are ordered by time impact.
    for w in d.kernels.windows(2) {
        assert!(w[0].delta_ns.abs() >= w[1].delta_ns.abs());
    }
    // The batch-norm kernel's channels-last variant is one family row.
    let bn = d
        .kernels
        .iter()
        .find(|k| {
            k.base
                .iter()
                .any(|r| r.short_name == "batch_norm_transform_input_kernel")
        })
        .unwrap();
    assert_eq!(bn.matched, Match::Family);
    assert_eq!(
        bn.new[0].short_name,
        "batch_norm_transform_input_channels_last_kernel"
    );
    let (_, b) = kernels_in_iters(NCHW, "%batch_norm_transform_input_kernel%");
    let (_, n) = kernels_in_iters(CL, "%batch_norm_transform_input_channels_last_kernel%");
    assert!(close(bn.base_ns, b as f64 / iters, 1e-12) && close(bn.new_ns, n as f64 / iters, 1e-12));

    // Host-to-device uploads per iteration, by SQL.
    let htod = |file: &str| -> (i64, i64, i64) {
        let conn = open(&sample(file));
        let sql = format!(
            "SELECT count(*), sum(m.bytes), sum(m.end - m.start) FROM CUPTI_ACTIVITY_KIND_MEMCPY m \
             JOIN ENUM_CUDA_MEMCPY_OPER o ON o.id = m.copyKind \
             JOIN (SELECT n.start AS s, n.end AS e FROM NVTX_EVENTS n WHERE {NVTX_NAME} = 'iter' AND n.end IS NOT NULL) w \
               ON m.start >= w.s AND m.start < w.e \
             WHERE o.name = 'CUDA_MEMCPY_KIND_HTOD'"
        );
        conn.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
    };
    let row = d.memcpy.iter().find(|m| m.kind == "HtoD").unwrap();
    let (bc, bb, bt) = htod(NCHW);
    let (nc, nb, nt) = htod(CL);
    assert!(
        close(row.base_count, bc as f64 / iters, 1e-12) && close(row.new_count, nc as f64 / iters, 1e-12)
    );
    assert!(
        close(row.base_bytes, bb as f64 / iters, 1e-12) && close(row.new_bytes, nb as f64 / iters, 1e-12)
    );
    assert!(close(row.base_ns, bt as f64 / iters, 1e-12) && close(row.new_ns, nt as f64 / iters, 1e-12));
    assert!(row.delta_ns < 0.0);
}

#[test]
fn resnet_findings_resolved_and_changed() {
    use trace_report::diff::findings::Status;
    let base = load(&sample(NCHW));
    let new = load(&sample(CL));
    let d = diff::compare(&base, &new, &DiffOptions::default());
    let status = |code: &str| d.findings.iter().find(|f| f.code == code).map(|f| f.status);
    // The layout transposes are gone (no such kernel in NEW, see above), so
    // is their finding.
    assert!(base.report.findings.iter().any(|f| f.code == "TR201"));
    assert!(!new.report.findings.iter().any(|f| f.code == "TR201"));
    assert_eq!(status("TR201"), Some(Status::Resolved));
    // Every finding of either side appears exactly once.
    let count = |side: fn(&trace_report::diff::findings::FindingDelta) -> bool| {
        d.findings.iter().filter(|f| side(f)).count()
    };
    assert_eq!(count(|f| f.base.is_some()), base.report.findings.len());
    assert_eq!(count(|f| f.new.is_some()), new.report.findings.len());
    // One pageable-copy finding on each side: the same problem, shrunk.
    let pageable = d.findings.iter().find(|f| f.code == "TR103").unwrap();
    assert_eq!(pageable.status, Status::Changed);
    assert!(pageable.delta_ns() < 0.0);
    let b = base.report.findings.iter().find(|f| f.code == "TR103").unwrap();
    assert_eq!(
        pageable.base.as_ref().unwrap().time_at_stake_norm_ns,
        b.time_at_stake_ns as f64 / 12.0
    );
}

#[test]
fn bert_misalignment_is_slower_and_gemms_match_by_role() {
    let d = diff_of(ALIGNED, MISALIGNED);
    check_verdict_against_oracle(&d, ALIGNED, MISALIGNED);
    assert_eq!(d.verdict.verdict, VerdictKind::Slower);
    let iters = 12.0;

    // nvjet GEMMs replaced by CUTLASS align2/align1 ones: one `gemm` row.
    let gemm = d
        .kernels
        .iter()
        .find(|k| k.matched == Match::Role && k.category.label() == "gemm")
        .expect("a gemm role row");
    let base_names: Vec<&str> = gemm.base.iter().map(|k| k.name.as_str()).collect();
    let new_names: Vec<&str> = gemm.new.iter().map(|k| k.name.as_str()).collect();
    let mut sorted = base_names.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, names_in_file(ALIGNED, "nvjet%"));
    let mut sorted = new_names.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, names_in_file(MISALIGNED, "%cutlass%gemm%"));
    assert!(new_names.iter().any(|n| n.contains("_align2")));
    assert!(new_names.iter().any(|n| n.contains("_align1")));
    assert!(names_in_file(MISALIGNED, "nvjet%").is_empty());
    assert!(names_in_file(ALIGNED, "%cutlass%").is_empty());
    let (_, b) = kernels_in_iters(ALIGNED, "nvjet%");
    let (_, n) = kernels_in_iters(MISALIGNED, "%cutlass%gemm%");
    assert!(
        close(gemm.base_ns, b as f64 / iters, 1e-12),
        "{} vs {}",
        gemm.base_ns,
        b
    );
    assert!(close(gemm.new_ns, n as f64 / iters, 1e-12));
    assert!(gemm.delta_ns > 0.0);
    assert_eq!(d.kernels[0], *gemm, "the GEMM fallback is the biggest change");

    // Flash attention (cuDNN SDPA) disappeared.
    let (count, ns) = kernels_in_iters(ALIGNED, "%sdpa%flash%");
    assert!(count > 0);
    assert!(names_in_file(MISALIGNED, "%sdpa%").is_empty());
    let attn = d
        .kernels
        .iter()
        .find(|k| k.matched == Match::Disappeared && k.category.label() == "attention")
        .unwrap();
    assert!(close(attn.base_ns, ns as f64 / iters, 1e-12));
}

/// Every delta of a self-comparison is exactly zero.
fn assert_all_zero(d: &Diff) {
    assert_eq!(d.verdict.verdict, VerdictKind::NoChange, "{}", d.verdict.reason);
    assert_eq!(d.verdict.delta_ns, 0.0);
    assert_eq!(d.verdict.change_pct, Some(0.0));
    assert!(d.comparability.is_empty(), "{:?}", d.comparability);
    assert!(
        d.attribution.iter().all(|a| a.delta_ns == 0.0),
        "{:?}",
        d.attribution
    );
    assert!(d.categories.iter().all(|c| c.delta_ns == 0.0));
    assert!(
        d.memcpy
            .iter()
            .all(|m| m.delta_ns == 0.0 && m.base_bytes == m.new_bytes && m.base_count == m.new_count)
    );
    assert!(!d.kernels.is_empty());
    assert!(
        d.kernels
            .iter()
            .all(|k| k.matched == Match::Name && k.delta_ns == 0.0 && k.base_count == k.new_count)
    );
    assert!(
        d.findings
            .iter()
            .all(|f| f.status == trace_report::diff::findings::Status::Unchanged && f.delta_ns() == 0.0)
    );
}

#[test]
fn a_trace_against_itself_is_no_change_with_zero_deltas() {
    for file in [ALIGNED, NCHW] {
        let d = diff_of(file, file);
        assert_all_zero(&d);
        assert_eq!(d.verdict.ci_ns, Some([0.0, 0.0]));
    }
}

#[test]
fn a_trace_against_its_saved_report() {
    let dir = std::env::temp_dir().join(format!("trace-report-diff-saved-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = load(&sample(MISALIGNED));
    let saved = dir.join("report.json");
    std::fs::write(&saved, trace_report::report::json::render(&trace.report)).unwrap();
    let report = load(&saved);
    assert_eq!(report.kind, InputKind::Report);
    assert_eq!(report.report, trace.report);
    let d = diff::compare(&report, &trace, &DiffOptions::default());
    assert_all_zero(&d);
    assert_eq!(d.base.input, InputKind::Report);

    // A report reformatted so that `generator` is far from the start is
    // still recognised by content.
    let padded = dir.join("padded.json");
    let json = String::from_utf8(trace_report::report::json::render(&trace.report)).unwrap();
    let body = json.trim_start().strip_prefix('{').unwrap();
    std::fs::write(&padded, format!("{{{}{body}", " ".repeat(100_000))).unwrap();
    assert_eq!(load(&padded).kind, InputKind::Report);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn whole_capture_windows_compare_per_unit_of_work() {
    // Mostly idle whole-program windows are not judged.
    let opts = AnalysisOptions {
        window: trace_report::analysis::window::WindowChoice::WholeCapture,
        ..Default::default()
    };
    let l = |f: &str| diff::input::load(&sample(f), &Default::default(), &opts, &Progress::hidden()).unwrap();
    let d = diff::compare(&l(ALIGNED), &l(MISALIGNED), &DiffOptions::default());
    assert_eq!(d.verdict.basis, Basis::WindowTotals);
    assert_eq!(d.verdict.verdict, VerdictKind::Inconclusive);
    assert!(d.verdict.reason.contains("busy only"), "{}", d.verdict.reason);
    assert!(
        d.comparability.is_empty(),
        "same structure on both sides: {:?}",
        d.comparability
    );

    // The window is the GPU span, and the work ratio is the BASE-time
    // weighted median of per-name call-count ratios, both by SQL.
    let span = |f: &str| -> i64 {
        open(&sample(f))
            .query_row(
                "SELECT max(e) - min(s) FROM (SELECT start AS s, end AS e FROM CUPTI_ACTIVITY_KIND_KERNEL \
                 UNION ALL SELECT start, end FROM CUPTI_ACTIVITY_KIND_MEMCPY UNION ALL SELECT start, end FROM CUPTI_ACTIVITY_KIND_MEMSET)",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(d.base.window_ns, span(ALIGNED));
    assert_eq!(d.new.window_ns, span(MISALIGNED));
    let per_name = |f: &str| -> Vec<(String, i64, i64)> {
        let conn = open(&sample(f));
        let mut st = conn
            .prepare(
                "SELECT s.value, count(*), sum(k.end - k.start) FROM CUPTI_ACTIVITY_KIND_KERNEL k \
                 JOIN StringIds s ON s.id = k.demangledName GROUP BY s.value",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let new: std::collections::HashMap<String, i64> =
        per_name(MISALIGNED).into_iter().map(|(n, c, _)| (n, c)).collect();
    let mut pairs: Vec<(f64, f64)> = per_name(ALIGNED)
        .into_iter()
        .filter_map(|(n, c, t)| new.get(&n).map(|&nc| (nc as f64 / c as f64, t as f64)))
        .collect();
    pairs.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
    let half: f64 = pairs.iter().map(|p| p.1).sum::<f64>() / 2.0;
    let mut acc = 0.0;
    let median = pairs
        .iter()
        .find(|p| {
            acc += p.1;
            acc >= half
        })
        .unwrap()
        .0;
    assert_eq!(d.verdict.work_ratio, Some(median));
    assert_eq!(d.normalization.new_divisor, median);
}

#[test]
fn findings_and_tensor_core_keys_are_in_the_json() {
    let d = diff_of(ALIGNED, MISALIGNED);
    let json: serde_json::Value = serde_json::from_slice(&diff::render_json(&d)).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["kind"], "trace-report-diff");
    assert_eq!(json["verdict"]["verdict"], "slower");
    assert_eq!(json["normalization"]["mode"], "per-iteration");
    for key in [
        "attribution",
        "memcpy",
        "categories",
        "kernels",
        "findings",
        "comparability",
        "notes",
    ] {
        assert!(json[key].is_array(), "{key}");
    }
    assert_eq!(json["kernels"][0]["match"], "role");
    // Tensor Core time per iteration against the hardware-counter labels:
    // the window time of the kernels each scenario's labels mark `yes`.
    let tc = &json["tensor_cores"];
    for (side, file, scenario) in [
        ("base", ALIGNED, "bert_fp16_aligned"),
        ("new", MISALIGNED, "bert_fp16_misaligned"),
    ] {
        let yes = labelled_yes(scenario);
        assert!(!yes.is_empty());
        let total: i64 = yes.iter().map(|name| kernels_in_iters(file, name).1).sum();
        let got = tc[format!("{side}_tensor_core_ns")].as_f64().unwrap();
        assert!(
            (got - total as f64 / 12.0).abs() < 0.5,
            "{side}: {got} vs {}",
            total as f64 / 12.0
        );
    }
}

/// Kernel names the labels file marks as run on Tensor Cores for `scenario`.
fn labelled_yes(scenario: &str) -> Vec<String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tensor_core_labels.csv"),
    )
    .unwrap();
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        // scenario,"kernel, with commas",tensor_core,...: split honouring quotes.
        let mut fields = Vec::new();
        let (mut cur, mut quoted) = (String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        if fields[0] == scenario && fields[2] == "yes" {
            out.push(fields[1].clone());
        }
    }
    out
}

#[test]
fn trace_strings_are_escaped() {
    let base = load(&sample(ALIGNED));
    let mut new = base.clone();
    let hostile = "<script>alert(1)</script>|`x`\n# heading";
    new.report.kernels[0].name = hostile.into();
    new.report.kernels[0].short_name = hostile.into();
    new.report.source.gpus[0].name = "<img src=x onerror=alert(1)>".into();
    let d = diff::compare(&base, &new, &DiffOptions::default());
    let html = String::from_utf8(diff::render_html::render(&d)).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "HTML escapes trace strings"
    );
    assert!(html.contains("&lt;script&gt;"));
    let md = String::from_utf8(diff::render_md::render(&d)).unwrap();
    assert!(!md.contains("<script") && !md.contains("<img"));
    assert!(!md.contains("\n# heading"), "a name cannot start a Markdown line");
    // Every row of a table has as many cell separators as its header.
    let pipes = |l: &str| l.matches('|').count() - l.matches("\\|").count();
    let mut header: Option<usize> = None;
    for line in md.lines() {
        match (line.starts_with('|'), header) {
            (true, None) => header = Some(pipes(line)),
            (true, Some(n)) => assert_eq!(pipes(line), n, "{line}"),
            (false, _) => header = None,
        }
    }
    // The renamed kernel appeared and the original disappeared.
    assert!(d.kernels.iter().any(|k| k.matched != Match::Name));
    assert!(
        d.comparability.iter().any(|w| w.starts_with("different GPUs")),
        "{:?}",
        d.comparability
    );
}

//! Traces whose kernel, NVTX and layer names are hostile (markup, quotes,
//! `</svg>`, 100 KB names, invalid UTF-8, control characters), built from
//! the real samples: every output must keep them inert and legible.
//! HTML: no tag or attribute a name could have opened; SVG: balanced and
//! free of XML-invalid characters; Markdown: every table row keeps its
//! column count; JSON: valid and the names read back exactly; terminal:
//! no control characters.

mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::Connection;

/// The hostile names (valid UTF-8 ones; invalid bytes are added per format).
fn names() -> Vec<String> {
    vec![
        "<script>alert(1)</script>".into(),
        "k\"quoted\" 'single' `tick` &amp; done".into(),
        "</svg><svg onload=alert(2)><text>x</text>".into(),
        "a|b|c **bold** [link](http://x) <!-- ]]> \\ # _em_".into(),
        "ctrl\u{1b}[31mred\u{1b}[0m\u{7}bell\r\nnewline\ttab\u{0}nul\u{85}next".into(),
        format!("long_{}", "Z".repeat(100 * 1024)),
        "<img src=x onerror=alert(3)>\u{202e}rtl".into(),
    ]
}

struct Out {
    dir: PathBuf,
    stdout: String,
}

fn run(args: &[&std::ffi::OsStr], dir: &Path) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_trace-report"))
        .args(args)
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    Out {
        dir: dir.to_path_buf(),
        stdout: String::from_utf8(o.stdout).expect("terminal output is UTF-8"),
    }
}

const HTML_TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p", "div", "span", "b", "i",
    "code", "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "details", "summary", "ul", "ol",
    "li", "small", "em", "strong", "svg", "rect", "line", "polyline", "text", "g", "path", "circle",
    "polygon", "tspan", "br", "a",
];

/// Tags of `html`: (name, attribute names), and the closing tags.
fn tags(html: &str) -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let mut open = Vec::new();
    let mut close = Vec::new();
    let b = html.as_bytes();
    let mut i = 0;
    while let Some(j) = html[i..].find('<') {
        let at = i + j;
        let end = at + html[at..].find('>').expect("every < opens a tag that closes");
        let inner = &html[at + 1..end];
        if let Some(name) = inner.strip_prefix('/') {
            close.push(name.trim().to_ascii_lowercase());
        } else if !inner.starts_with('!') {
            let name: String = inner.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            // Attribute names: words followed by `=` outside quotes.
            let mut attrs = Vec::new();
            let mut in_q = None;
            let mut word = String::new();
            for c in inner[name.len()..].chars() {
                match (in_q, c) {
                    (Some(q), c) if c == q => in_q = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'') => in_q = Some(c),
                    (None, '=') => attrs.push(std::mem::take(&mut word).to_ascii_lowercase()),
                    (None, c) if c.is_whitespace() || c == '/' => word.clear(),
                    (None, c) => word.push(c),
                }
            }
            open.push((name.to_ascii_lowercase(), attrs));
        }
        i = end + 1;
        let _ = b;
    }
    (open, close)
}

fn html_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Characters XML 1.0 forbids (SVG is XML) and terminal escapes.
fn bad_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t' && c != '\r') || c == '\u{fffe}' || c == '\u{ffff}'
}

fn check_html(path: &Path, expect_legible: &[&str]) {
    let html = std::fs::read_to_string(path).unwrap();
    let (open, close) = tags(&html);
    for (name, attrs) in &open {
        assert!(
            HTML_TAGS.contains(&name.as_str()),
            "{}: unexpected tag <{name}>",
            path.display()
        );
        for a in attrs {
            assert!(
                !a.starts_with("on"),
                "{}: event attribute {a} on <{name}>",
                path.display()
            );
        }
    }
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "{}",
        path.display()
    );
    let svg_open = open.iter().filter(|(n, _)| n == "svg").count();
    let svg_close = close.iter().filter(|n| n.as_str() == "svg").count();
    assert_eq!(svg_open, svg_close, "{}: <svg> balanced", path.display());
    if let Some(c) = html.chars().find(|&c| bad_char(c)) {
        panic!("{}: raw control character {:?}", path.display(), c);
    }
    for want in expect_legible {
        assert!(
            html.contains(&html_escaped(want)),
            "{}: '{want}' not shown escaped",
            path.display()
        );
    }
    // Inside each chart, only SVG elements.
    for chunk in html.split("<svg").skip(1) {
        let body = &chunk[..chunk.find("</svg>").expect("closed")];
        let (inner, _) = tags(&format!("<svg{body}"));
        for (n, _) in inner {
            assert!(
                [
                    // `title`: a tooltip (full lane names, merged counts), text only.
                    "svg", "rect", "line", "polyline", "text", "g", "path", "circle", "polygon", "tspan",
                    "title"
                ]
                .contains(&n.as_str()),
                "{}: <{n}> inside an SVG chart",
                path.display()
            );
        }
    }
}

/// Unescaped `|` in a Markdown table row.
fn cells(row: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    let mut in_code = false;
    for c in row.chars() {
        match c {
            '\\' if !escaped => {
                escaped = true;
                continue;
            }
            '`' if !escaped => in_code = !in_code,
            '|' if !escaped && !in_code => n += 1,
            _ => {}
        }
        escaped = false;
    }
    n
}

fn check_markdown(path: &Path, expect_legible: &[&str]) {
    let md = std::fs::read_to_string(path).unwrap();
    if let Some(c) = md.chars().find(|&c| bad_char(c)) {
        panic!("{}: raw control character {:?}", path.display(), c);
    }
    assert!(!md.contains("<script"), "{}", path.display());
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    let mut tables = 0;
    while i < lines.len() {
        if lines[i].starts_with('|') {
            let want = cells(lines[i]);
            tables += 1;
            while i < lines.len() && lines[i].starts_with('|') {
                assert_eq!(
                    cells(lines[i]),
                    want,
                    "{}: row breaks its table: {}",
                    path.display(),
                    lines[i]
                );
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    assert!(tables > 0, "{}: no tables", path.display());
    for want in expect_legible {
        let shown = trace_report::text::escape::markdown(want);
        assert!(md.contains(&shown), "{}: '{want}' not shown", path.display());
    }
}

fn check_terminal(out: &str) {
    if let Some(c) = out.chars().find(|&c| bad_char(c) && c != '\r') {
        panic!("terminal output has control character {c:?}: {out}");
    }
}

/// Every string in a JSON document.
fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

fn check_json(path: &Path, exact: &[&str]) {
    let text = std::fs::read(path).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&text).expect("valid JSON");
    let mut all = Vec::new();
    strings(&doc, &mut all);
    for want in exact {
        assert!(
            all.iter().any(|s| s == want),
            "{}: {want:?} does not read back",
            path.display()
        );
    }
    // And it reads back as a report again through the diff input.
    let again = serde_json::to_vec(&doc).unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&again).unwrap(), doc);
}

fn check_all(out: &Out, file: &str, legible: &[&str], exact: &[&str]) {
    check_html(&out.dir.join(format!("{file}.html")), legible);
    check_markdown(&out.dir.join(format!("{file}.md")), &[]);
    check_json(&out.dir.join(format!("{file}.json")), exact);
    check_terminal(&out.stdout);
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tr-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `redundant_copies` with its heaviest kernels, the iteration range and a
/// phase range renamed to hostile names (and one name of invalid UTF-8).
fn hostile_sqlite(dir: &Path) -> PathBuf {
    let p = dir.join("hostile.sqlite");
    let conn = corpus::copy_sample(&corpus::repo().join("sample_traces/redundant_copies.sqlite"), &p);
    let ids: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT demangledName, shortName FROM CUPTI_ACTIVITY_KIND_KERNEL GROUP BY demangledName \
             ORDER BY sum(end - start) DESC LIMIT 8",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names = names();
    for (i, (long, short)) in ids.iter().enumerate() {
        if i + 1 < names.len() {
            set_string(&conn, *long, &names[i]);
            set_string(&conn, *short, &names[i]);
        } else {
            // The last one as bytes that are not UTF-8 (SQLite stores TEXT unchecked).
            let mut bytes = b"<img src=x onerror=alert(3)>".to_vec();
            bytes.extend_from_slice(b"\xff\xfe bad_utf8 \xc3");
            conn.execute(
                "UPDATE StringIds SET value = CAST(?3 AS TEXT) WHERE id IN (?1, ?2)",
                rusqlite::params![long, short, bytes],
            )
            .unwrap();
        }
    }
    // NVTX: the iteration range and the inference phase.
    let nvtx = |from: &str, to: &str| {
        conn.execute("UPDATE NVTX_EVENTS SET text = ?2 WHERE text = ?1", [from, to])
            .unwrap();
        let id: Option<i64> = conn
            .query_row("SELECT id FROM StringIds WHERE value = ?1", [from], |r| r.get(0))
            .ok();
        if let Some(id) = id {
            set_string(&conn, id, to);
        }
    };
    nvtx("iter", "iter <script>alert(4)</script> | \"q\"");
    nvtx("infer", "infer </svg>\u{1b}[2J\n| x |");
    drop(conn);
    p
}

fn set_string(conn: &Connection, id: i64, value: &str) {
    conn.execute(
        "UPDATE StringIds SET value = ?2 WHERE id = ?1",
        rusqlite::params![id, value],
    )
    .unwrap();
}

#[test]
fn hostile_names_in_an_nsys_export() {
    let dir = scratch("sqlite");
    let trace = hostile_sqlite(&dir);
    let out = run(&[trace.as_os_str()], &dir.join("report"));
    let names = names();
    // Short, valid names must be legible (escaped) in HTML; all valid names
    // read back exactly from JSON.
    let legible: Vec<&str> = vec![&names[0], &names[2], "iter <script>alert(4)</script> | \"q\""];
    let lossy = "<img src=x onerror=alert(3)>\u{fffd}\u{fffd} bad_utf8 \u{fffd}";
    let mut exact: Vec<&str> = names[..names.len() - 1].iter().map(String::as_str).collect();
    exact.push(lossy);
    check_all(&out, "report", &legible, &exact);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        doc["window"]["iteration_range"],
        "iter <script>alert(4)</script> | \"q\""
    );
    // Invalid UTF-8 is shown with U+FFFD, not dropped or replaced by an id.
    assert!(
        doc["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["name"] == lossy)
    );
    // The 100 KB name is in the JSON whole and in the HTML shortened.
    let html = std::fs::read_to_string(out.dir.join("report.html")).unwrap();
    assert!(html.len() < 3 * 1024 * 1024, "HTML is {} bytes", html.len());

    // A diff of the hostile trace against the original: names on one side.
    let base = corpus::repo().join("sample_traces/redundant_copies.sqlite");
    let out = run(
        &["diff".as_ref(), base.as_os_str(), trace.as_os_str()],
        &dir.join("diff"),
    );
    check_all(&out, "diff", &[&names[0], &names[2]], &[&names[0], &names[4]]);
}

#[test]
fn hostile_names_in_json_inputs() {
    let dir = scratch("json");
    let names = names();
    // Kineto: kernels, a step range and a record_function range.
    let mut events = Vec::new();
    for step in 0..4 {
        let t0 = 1000 * step;
        events.push(
            serde_json::json!({"ph": "X", "cat": "user_annotation", "name": format!("ProfilerStep#{step}"),
            "pid": 1, "tid": 1, "ts": t0, "dur": 900}),
        );
        events.push(
            serde_json::json!({"ph": "X", "cat": "user_annotation", "name": &names[2],
            "pid": 1, "tid": 1, "ts": t0 + 10, "dur": 500}),
        );
        for (i, n) in names.iter().enumerate() {
            let ts = t0 + 20 + 100 * i as i64;
            events.push(
                serde_json::json!({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel",
                "pid": 1, "tid": 1, "ts": ts, "dur": 5, "args": {"correlation": step * 100 + i as i64 + 1}}),
            );
            events.push(serde_json::json!({"ph": "X", "cat": "kernel", "name": n, "pid": 0, "tid": 7,
                "ts": ts + 10, "dur": 50, "args": {"device": 0, "stream": 7, "correlation": step * 100 + i as i64 + 1}}));
        }
    }
    let kineto = dir.join("hostile.kineto.json");
    std::fs::write(
        &kineto,
        serde_json::to_vec(&serde_json::json!({"traceEvents": events})).unwrap(),
    )
    .unwrap();
    let out = run(&[kineto.as_os_str()], &dir.join("kineto"));
    let exact: Vec<&str> = names.iter().map(String::as_str).collect();
    check_all(&out, "report", &[&names[0], &names[2]], &exact);

    // nsys JSON: the string table of a real export with hostile names put
    // in place of its heaviest kernel names.
    let text = corpus::gunzip(&corpus::repo().join("tests/fixtures/nsys_json/redundant_copies.nsys.json.gz"));
    let nl = text.iter().position(|&b| b == b'\n').unwrap();
    let mut table: serde_json::Value = serde_json::from_slice(&text[..nl]).unwrap();
    let strings = table["data"].as_array_mut().unwrap();
    let mut used: Vec<usize> = Vec::new();
    for line in text[nl + 1..].split(|&b| b == b'\n') {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) {
            if let Some(id) = v["CudaEvent"]["kernel"]["demangledName"]
                .as_str()
                .and_then(|s| s.parse().ok())
            {
                if !used.contains(&id) {
                    used.push(id);
                }
            }
            if let Some(id) = v["CudaEvent"]["kernel"]["demangledName"].as_u64() {
                if !used.contains(&(id as usize)) {
                    used.push(id as usize);
                }
            }
        }
    }
    assert!(used.len() >= names.len(), "{used:?}");
    for (id, n) in used.iter().zip(&names) {
        strings[*id] = n.clone().into();
    }
    let mut b = serde_json::to_vec(&table).unwrap();
    b.extend_from_slice(&text[nl..]);
    let nsys = dir.join("hostile.nsys.json");
    std::fs::write(&nsys, &b).unwrap();
    let out = run(&[nsys.as_os_str()], &dir.join("nsys-json"));
    check_all(&out, "report", &[&names[0]], &exact[..3]);

    // trtexec: hostile layer names (no tactic, so the kernel is the layer).
    let rows: Vec<serde_json::Value> = std::iter::once(serde_json::json!({"count": 10}))
        .chain(
            names
                .iter()
                .map(|n| serde_json::json!({"name": n, "timeMs": 1.5, "averageMs": 0.15})),
        )
        .collect();
    let graph = serde_json::json!({"Layers": names.iter().map(|n| serde_json::json!({"Name": n, "LayerType": n,
        "Inputs": [{"Name": n, "Dimensions": [1, 3], "Format/Datatype": n}], "Outputs": []})).collect::<Vec<_>>()});
    let prof = dir.join("hostile.profile.json");
    std::fs::write(&prof, serde_json::to_vec(&rows).unwrap()).unwrap();
    std::fs::write(
        dir.join("hostile.graph.json"),
        serde_json::to_vec(&graph).unwrap(),
    )
    .unwrap();
    let out = run(&[prof.as_os_str()], &dir.join("trt"));
    check_all(&out, "report", &[&names[0], &names[2]], &exact);

    // A diff of the Kineto report against the trtexec one.
    let out = run(
        &[
            "diff".as_ref(),
            dir.join("kineto/report.json").as_os_str(),
            dir.join("trt/report.json").as_os_str(),
        ],
        &dir.join("diff"),
    );
    check_all(&out, "diff", &[&names[0]], &[&names[0]]);
    let _ = std::fs::remove_dir_all(&dir);
}

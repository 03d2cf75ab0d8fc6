//! What every fuzz target shares: scratch files on tmpfs (the readers take
//! paths; the SQLite reader needs a real file), and the rest of the
//! pipeline run on whatever a reader accepted, so that odd but readable
//! data reaches the analyses and renderers too.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use trace_report::diff::{self, DiffOptions, input::InputKind, input::Loaded};
use trace_report::input::{self, InputFormat};
use trace_report::pipeline::{self, AnalysisOptions};
use trace_report::progress::Progress;
use trace_report::{document, report};

/// A scratch folder of this process, on tmpfs when there is one.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("trace-report-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    })
}

/// Write `bytes` to the scratch file `name` and return its path.
pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch().join(name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p
}

/// Read `path` with `reader` (or detect), then analyse and render.
pub fn read_and_exercise(path: &Path, forced: Option<InputFormat>) {
    let progress = Progress::hidden();
    let opts = input::Options {
        format: forced,
        ..Default::default()
    };
    if let Ok(trace) = input::load(path, &opts, &progress) {
        exercise(&trace);
    }
}

/// Analyse a trace and render every output, as the command would; also
/// read the JSON report back and diff it against itself.
pub fn exercise(trace: &trace_report::model::Trace) {
    let Ok(report) = pipeline::analyze(trace, &AnalysisOptions::default()) else {
        return;
    };
    render_all(&report);
    let json = report::json::render(&report);
    let back: document::Report = serde_json::from_slice(&json).expect("a report reads back");
    let side = |r: document::Report| Loaded {
        path: "x".into(),
        kind: InputKind::Report,
        report: r,
    };
    let d = diff::compare(&side(report), &side(back), &DiffOptions::default());
    render_diff(&d);
}

pub fn render_all(r: &document::Report) {
    let _ = report::html::render(r);
    let _ = report::markdown::render(r);
    let _ = report::json::render(r);
    let _ = report::terminal::render(r);
}

pub fn render_diff(d: &diff::Diff) {
    let _ = diff::render_html::render(d);
    let _ = diff::render_md::render(d);
    let _ = diff::render_json(d);
    let _ = diff::terminal::render(d);
}

/// Every reader's sniff on `head` under a few names, then detection of
/// the same bytes as a file (gzip heads included).
pub fn detect(bytes: &[u8]) {
    for name in ["t.sqlite", "t.json", "t.json.gz", "t.nsys-rep", "t.qdrep", "t"] {
        for f in InputFormat::ALL {
            let _ = f.sniff(Path::new(name), bytes);
        }
    }
    let p = file("detect.bin", bytes);
    let _ = input::detect(&p, None);
    let _ = input::read_head(&p);
}

/// The trtexec pair: the input split at the first `\n--8<--\n` into the
/// graph and the profile (no marker: the whole input is the profile).
pub fn trtexec(bytes: &[u8]) {
    const CUT: &[u8] = b"\n--8<--\n";
    let at = bytes.windows(CUT.len()).position(|w| w == CUT);
    let (graph, profile) = match at {
        Some(i) => (Some(&bytes[..i]), &bytes[i + CUT.len()..]),
        None => (None, bytes),
    };
    let dir = scratch().join("trt");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("trt dir");
    let p = dir.join("e.profile.json");
    std::fs::write(&p, profile).expect("write");
    if let Some(g) = graph {
        std::fs::write(dir.join("e.graph.json"), g).expect("write");
    }
    read_and_exercise(&p, Some(InputFormat::Trtexec));
    let g = dir.join("e.graph.json");
    if g.exists() {
        read_and_exercise(&g, Some(InputFormat::Trtexec));
    }
}

/// A saved report given to `diff`: loaded as a side and compared with
/// itself and with a real report.
pub fn report_json(bytes: &[u8]) {
    let p = file("report.json", bytes);
    let progress = Progress::hidden();
    let Ok(side) = diff::input::load(&p, &Default::default(), &AnalysisOptions::default(), &progress) else {
        return;
    };
    render_all(&side.report);
    let d = diff::compare(&side, &side, &DiffOptions::default());
    render_diff(&d);
    let d = diff::compare(&side, real_side(), &DiffOptions::default());
    render_diff(&d);
    let d = diff::compare(real_side(), &side, &DiffOptions::default());
    render_diff(&d);
}

/// A report of a real sample, made once.
fn real_side() -> &'static Loaded {
    static SIDE: OnceLock<Loaded> = OnceLock::new();
    SIDE.get_or_init(|| {
        let path = repo().join("sample_traces/redundant_copies.sqlite");
        diff::input::load(&path, &Default::default(), &AnalysisOptions::default(), &Progress::hidden())
            .expect("the sample loads")
    })
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The tables the SQLite reader reads (the `-- table:` headers of its
/// queries).
pub fn tables() -> &'static [&'static str] {
    static TABLES: OnceLock<Vec<&'static str>> = OnceLock::new();
    TABLES.get_or_init(trace_report::input::nsys_sqlite::query::tables)
}

/// A small real nsys export: a sample with every other table dropped and
/// at most `ROWS` rows per table, as file bytes (made once).
pub fn tiny_export() -> &'static [u8] {
    const ROWS: i64 = 400;
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let src = repo().join("sample_traces/redundant_copies.sqlite");
        let out = scratch().join("tiny-template.sqlite");
        let _ = std::fs::remove_file(&out);
        let conn = rusqlite::Connection::open_with_flags(
            &src,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("open sample");
        conn.execute("VACUUM INTO ?1", [out.to_str().unwrap()])
            .expect("copy sample");
        drop(conn);
        let conn = rusqlite::Connection::open(&out).expect("open copy");
        let all: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in all {
            if tables().contains(&t.as_str()) {
                if t != "StringIds" {
                    conn.execute(&format!("DELETE FROM \"{t}\" WHERE rowid > {ROWS}"), [])
                        .unwrap();
                }
            } else {
                conn.execute(&format!("DROP TABLE \"{t}\""), []).unwrap();
            }
        }
        conn.execute_batch("VACUUM").unwrap();
        drop(conn);
        std::fs::read(&out).expect("read template")
    })
}

/// A value written into a cell.
#[derive(Arbitrary, Debug, Clone)]
pub enum Val {
    Null,
    Int(i64),
    Small(i16),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// A long run of one character (a huge name).
    Long(u16, char),
}

impl Val {
    fn sql(&self) -> rusqlite::types::Value {
        use rusqlite::types::Value;
        match self {
            Val::Null => Value::Null,
            Val::Int(v) => Value::Integer(*v),
            Val::Small(v) => Value::Integer(i64::from(*v)),
            Val::Real(v) => Value::Real(*v),
            Val::Text(s) => Value::Text(s.clone()),
            Val::Bytes(b) => Value::Blob(b.clone()),
            Val::Long(n, c) => Value::Text(std::iter::repeat_n(*c, usize::from(*n) * 16).collect()),
        }
    }
}

/// One change to the tiny export.
#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    /// Set one cell (row by position, column by index; both modulo).
    Set { table: u8, row: u16, column: u8, value: Val },
    /// Set a whole column.
    SetAll { table: u8, column: u8, value: Val },
    /// Add `shift` to a column of every row (times moved, reversed, overflowed).
    Shift { table: u8, column: u8, shift: i64 },
    /// Swap the values of two columns (start/end reversed).
    Swap { table: u8, a: u8, b: u8 },
    DropColumn { table: u8, column: u8 },
    DropTable { table: u8 },
    Keep { table: u8, rows: u16 },
    /// Replace a text cell's bytes with raw bytes stored as TEXT (invalid UTF-8).
    RawText { table: u8, row: u16, column: u8, bytes: Vec<u8> },
}

fn table(i: u8) -> &'static str {
    let all = tables();
    all[usize::from(i) % all.len()]
}

fn column(conn: &rusqlite::Connection, t: &str, i: u8) -> Option<String> {
    let cols: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info(?1)")
        .ok()?
        .query_map([t], |r| r.get(0))
        .ok()?
        .collect::<Result<_, _>>()
        .ok()?;
    if cols.is_empty() {
        return None;
    }
    Some(cols[usize::from(i) % cols.len()].clone())
}

/// Apply `ops` to a fresh copy of the tiny export; its path.
pub fn mutated_export(ops: &[Op]) -> PathBuf {
    let path = file("rows.sqlite", tiny_export());
    let conn = rusqlite::Connection::open(&path).expect("open copy");
    for op in ops.iter().take(16) {
        let _ = apply(&conn, op);
    }
    drop(conn);
    path
}

fn apply(conn: &rusqlite::Connection, op: &Op) -> rusqlite::Result<()> {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let nth_row = |t: &str, row: u16| -> rusqlite::Result<i64> {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {}", q(t)), [], |r| r.get(0))?;
        if n == 0 {
            return Ok(-1);
        }
        conn.query_row(
            &format!("SELECT rowid FROM {} LIMIT 1 OFFSET ?1", q(t)),
            [i64::from(row) % n],
            |r| r.get(0),
        )
    };
    match op {
        Op::Set { table: t, row, column: c, value } => {
            let t = table(*t);
            let Some(c) = column(conn, t, *c) else { return Ok(()) };
            let id = nth_row(t, *row)?;
            conn.execute(
                &format!("UPDATE {} SET {} = ?1 WHERE rowid = ?2", q(t), q(&c)),
                rusqlite::params![value.sql(), id],
            )?;
        }
        Op::SetAll { table: t, column: c, value } => {
            let t = table(*t);
            let Some(c) = column(conn, t, *c) else { return Ok(()) };
            conn.execute(&format!("UPDATE {} SET {} = ?1", q(t), q(&c)), [value.sql()])?;
        }
        Op::Shift { table: t, column: c, shift } => {
            let t = table(*t);
            let Some(c) = column(conn, t, *c) else { return Ok(()) };
            // SQLite turns an overflowing integer sum into a real.
            conn.execute(
                &format!("UPDATE {} SET {c} = {c} + ?1 WHERE typeof({c}) = 'integer'", q(t), c = q(&c)),
                [shift],
            )?;
        }
        Op::Swap { table: t, a, b } => {
            let t = table(*t);
            let (Some(a), Some(b)) = (column(conn, t, *a), column(conn, t, *b)) else {
                return Ok(());
            };
            conn.execute(&format!("UPDATE {} SET {a} = {b}, {b} = {a}", q(t), a = q(&a), b = q(&b)), [])?;
        }
        Op::DropColumn { table: t, column: c } => {
            let t = table(*t);
            let Some(c) = column(conn, t, *c) else { return Ok(()) };
            conn.execute(&format!("ALTER TABLE {} DROP COLUMN {}", q(t), q(&c)), [])?;
        }
        Op::DropTable { table: t } => {
            conn.execute(&format!("DROP TABLE {}", q(table(*t))), [])?;
        }
        Op::Keep { table: t, rows } => {
            let t = table(*t);
            conn.execute(
                &format!("DELETE FROM {t} WHERE rowid NOT IN (SELECT rowid FROM {t} LIMIT ?1)", t = q(t)),
                [i64::from(*rows % 64)],
            )?;
        }
        Op::RawText { table: t, row, column: c, bytes } => {
            let t = table(*t);
            let Some(c) = column(conn, t, *c) else { return Ok(()) };
            let id = nth_row(t, *row)?;
            conn.execute(
                &format!("UPDATE {} SET {} = CAST(?1 AS TEXT) WHERE rowid = ?2", q(t), q(&c)),
                rusqlite::params![bytes, id],
            )?;
        }
    }
    Ok(())
}

/// Run the SQLite reader (forced) on `path`, then the rest.
pub fn nsys_sqlite(path: &Path) {
    let progress = Progress::hidden();
    if let Ok(mut trace) = input::nsys_sqlite::NsysSqlite.read(path, &progress) {
        trace.sort();
        exercise(&trace);
    }
}

//! The house stays one-way: every `crate::` path in `src/` (in `use` lines,
//! `use crate::{a, b}` groups and inline paths, and `super::` chains that
//! climb out of their top-level module) names a module at or below its own
//! in `trace_report::LAYERS`. Test code (`#[cfg(test)]` items) may reach
//! anywhere. A path that points up the list fails the test with its file
//! and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use trace_report::LAYERS;

/// `src/` and every `.rs` file below it.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// The module path of a file under `src/` (`analysis/tensor_core/mod.rs` ->
/// `[analysis, tensor_core]`); empty for the crate roots.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        parts.clear();
    }
    parts
}

/// The source with comments, string and character literals turned into
/// spaces (newlines kept, so byte offsets and line numbers still hold).
fn blank(src: &str) -> Vec<u8> {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let wipe = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let ident = |i: usize| i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|&c| c == b'\n').map_or(b.len(), |j| i + j);
            wipe(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (0, i);
            while j < b.len() {
                if b[j..].starts_with(b"/*") {
                    depth += 1;
                    j += 2;
                } else if b[j..].starts_with(b"*/") {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            wipe(&mut out, i, j);
            i = j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#"))
            && (!ident(i) || (b[i - 1] == b'b' && !ident(i - 1)))
        {
            let hashes = rest[1..].iter().take_while(|&&c| c == b'#').count();
            if rest.get(1 + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let start = i + 2 + hashes;
            let end = b[start..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(b.len(), |j| start + j + close.len());
            wipe(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            wipe(&mut out, i, j + 1);
            i = j + 1;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\''), else a lifetime.
            if rest.get(1) == Some(&b'\\') {
                let end = b[i + 3..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map_or(b.len(), |j| i + 3 + j + 1);
                wipe(&mut out, i, end);
                i = end;
            } else if rest.get(2) == Some(&b'\'') {
                wipe(&mut out, i, i + 3);
                i += 3;
            } else {
                // A multi-byte character ('é') or a lifetime ('a).
                let ch_len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                if rest.get(1 + ch_len) == Some(&b'\'') {
                    wipe(&mut out, i, i + 2 + ch_len);
                    i += 2 + ch_len;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The byte after the block opened at `open` (a `{`) closes.
fn block_end(s: &[u8], open: usize) -> usize {
    let mut depth = 0;
    for (j, &c) in s.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    s.len()
}

/// Blank every `#[cfg(test)]` item: a module, function or `use`, up to its
/// closing brace or semicolon.
fn drop_test_items(s: &mut [u8]) {
    const ATTR: &[u8] = b"#[cfg(test)]";
    let mut from = 0;
    while let Some(at) = s[from..].windows(ATTR.len()).position(|w| w == ATTR) {
        let at = from + at;
        let after = at + ATTR.len();
        let end = match s[after..].iter().position(|&c| c == b'{' || c == b';') {
            Some(j) if s[after + j] == b'{' => block_end(s, after + j),
            Some(j) => after + j + 1,
            None => s.len(),
        };
        for c in &mut s[at..end] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
        from = end;
    }
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The identifier starting at `i` (after whitespace), and where it ends.
fn ident_at(s: &[u8], mut i: usize) -> (String, usize) {
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < s.len() && is_ident(s[i]) {
        i += 1;
    }
    (String::from_utf8_lossy(&s[start..i]).into_owned(), i)
}

/// The first segment of each path in a `{a, b::c, d::{e, f}}` group opened
/// at `open`.
fn group_heads(s: &[u8], open: usize) -> Vec<String> {
    let end = block_end(s, open);
    let inner = &s[open + 1..end - 1];
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = 0;
    for (j, &c) in inner
        .iter()
        .enumerate()
        .chain(std::iter::once((inner.len(), &b',')))
    {
        match c {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b',' if depth == 0 => {
                let (name, _) = ident_at(inner, item_start);
                if !name.is_empty() {
                    heads.push(name);
                }
                item_start = j + 1;
            }
            _ => {}
        }
    }
    heads
}

/// A reference from one file to a top-level module.
#[derive(Debug, PartialEq)]
struct Edge {
    line: usize,
    target: String,
}

/// Every top-level module `code` (the file of module path `module`) refers
/// to through `crate::` and `super::` paths, macros by the module that
/// defines them (`macros`: name -> module).
fn edges(code: &str, module: &[String], macros: &BTreeMap<String, String>) -> Vec<Edge> {
    let mut s = blank(code);
    drop_test_items(&mut s);
    let line_of = |i: usize| s[..i].iter().filter(|&&c| c == b'\n').count() + 1;
    let mut out = Vec::new();
    // An exported macro lives at the crate root (`crate::declare_rule`); it
    // belongs to the module that defines it.
    let mut push = |i: usize, name: String| {
        let target = macros.get(&name).cloned().unwrap_or(name);
        out.push(Edge {
            line: line_of(i),
            target,
        })
    };
    let mut i = 0;
    while i < s.len() {
        let word_start = i == 0 || !(is_ident(s[i - 1]) || s[i - 1] == b':');
        if word_start && s[i..].starts_with(b"crate::") {
            let at = i + b"crate::".len();
            let mut j = at;
            while j < s.len() && s[j].is_ascii_whitespace() {
                j += 1;
            }
            if s.get(j) == Some(&b'{') {
                for head in group_heads(&s, j) {
                    push(i, head);
                }
            } else {
                let (name, _) = ident_at(&s, at);
                if !name.is_empty() {
                    push(i, name);
                }
            }
            i = at;
        } else if word_start && s[i..].starts_with(b"super::") {
            let mut ups = 0;
            let mut j = i;
            while s[j..].starts_with(b"super::") {
                ups += 1;
                j += b"super::".len();
            }
            if ups >= module.len() {
                // Climbed to the crate root: the next segment is a top-level module.
                if s.get(j) == Some(&b'{') {
                    for head in group_heads(&s, j) {
                        push(i, head);
                    }
                } else {
                    let (name, _) = ident_at(&s, j);
                    push(i, name);
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// `#[macro_export]` macros and the top-level module that defines each.
fn exported_macros(files: &[(Vec<String>, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (module, code) in files {
        let Some(top) = module.first() else { continue };
        let mut rest = code.as_str();
        while let Some(at) = rest.find("#[macro_export]") {
            rest = &rest[at..];
            if let Some(def) = rest.find("macro_rules!") {
                let name: String = rest[def + "macro_rules!".len()..]
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.insert(name, top.clone());
            }
            rest = &rest[1..];
        }
    }
    out
}

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == module)
}

#[test]
fn imports_point_down_the_layer_list() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<(PathBuf, Vec<String>, String)> = sources()
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap().to_path_buf();
            let code = fs::read_to_string(&p).unwrap();
            (rel.clone(), module_path(&rel), code)
        })
        .collect();
    let macros = exported_macros(
        &files
            .iter()
            .map(|(_, m, c)| (m.clone(), c.clone()))
            .collect::<Vec<_>>(),
    );
    let mut problems = Vec::new();
    let mut tops = BTreeSet::new();
    let mut checked = 0;
    for (rel, module, code) in &files {
        let Some(top) = module.first() else {
            continue; // lib.rs and main.rs stand above everything
        };
        tops.insert(top.clone());
        let Some(own) = rank(top) else {
            problems.push(format!(
                "src/{}: module '{top}' is not in LAYERS (src/lib.rs)",
                rel.display()
            ));
            continue;
        };
        for e in edges(code, module, &macros) {
            checked += 1;
            match rank(&e.target) {
                None => problems.push(format!(
                    "src/{}:{}: crate::{} is not a module in LAYERS",
                    rel.display(),
                    e.line,
                    e.target
                )),
                Some(r) if r > own => problems.push(format!(
                    "src/{}:{}: '{top}' uses '{}', which is above it in LAYERS",
                    rel.display(),
                    e.line,
                    e.target
                )),
                Some(_) => {}
            }
        }
    }
    for l in LAYERS {
        if !tops.contains(*l) {
            problems.push(format!("LAYERS names '{l}', which has no file under src/"));
        }
    }
    assert!(
        checked > 100,
        "only {checked} crate:: paths found: the scan is broken"
    );
    assert!(
        problems.is_empty(),
        "imports that point up or out of the layer list:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_scanner_sees_every_kind_of_path() {
    let module = vec![
        "analysis".to_string(),
        "tensor_core".to_string(),
        "ncu".to_string(),
    ];
    let macros = BTreeMap::from([("declare_rule".to_string(), "findings".to_string())]);
    let code = r#"
use crate::error::Result;
use crate::declare_rule; use crate::{model::Trace, input::{self, ncu}};
// use crate::cli::Config;  (a comment)
/* crate::run */
fn f() -> String {
    let s = "crate::output";
    let c = '{';
    crate::report::html::render(x);
    crate::declare_rule! { }
    super::super::super::diff::compare();
    super::super::names::classify();
    s
}
#[cfg(test)]
mod tests {
    use crate::capture;
}
"#;
    let got: Vec<(usize, String)> = edges(code, &module, &macros)
        .into_iter()
        .map(|e| (e.line, e.target))
        .collect();
    assert_eq!(
        got,
        [
            (2, "error".to_string()),
            (3, "findings".into()),
            (3, "model".into()),
            (3, "input".into()),
            (9, "report".into()),
            (10, "findings".into()),
            (11, "diff".into()),
        ]
    );
}

#[test]
fn the_layer_list_names_each_module_once() {
    let unique: BTreeSet<_> = LAYERS.iter().collect();
    assert_eq!(unique.len(), LAYERS.len());
}

/// The modules of `top`'s folder that `code` (the file of module path
/// `module`, inside `top`) refers to: `crate::top::x` and `super::` chains
/// that resolve to `top::x`, `{a, b}` groups included.
fn sub_edges(code: &str, module: &[String]) -> Vec<String> {
    let mut s = blank(code);
    drop_test_items(&mut s);
    let top = module[0].as_bytes();
    let mut out = Vec::new();
    let heads = |s: &[u8], j: usize| -> Vec<String> {
        if s.get(j) == Some(&b'{') {
            group_heads(s, j)
        } else {
            vec![ident_at(s, j).0]
        }
    };
    let mut i = 0;
    while i < s.len() {
        let word_start = i == 0 || !(is_ident(s[i - 1]) || s[i - 1] == b':');
        if word_start && s[i..].starts_with(b"crate::") {
            let at = i + b"crate::".len();
            if s[at..].starts_with(top) && s[at + top.len()..].starts_with(b"::") {
                out.extend(heads(&s, at + top.len() + 2));
            }
            i = at;
        } else if word_start && s[i..].starts_with(b"super::") {
            let mut ups = 0;
            let mut j = i;
            while s[j..].starts_with(b"super::") {
                ups += 1;
                j += b"super::".len();
            }
            // Resolved to the folder's own module: the next segment is one of its modules.
            if module.len() == ups + 1 {
                out.extend(heads(&s, j));
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out.retain(|m| !m.is_empty() && m != "self" && m != &module[1]);
    out
}

/// Inside each layer's folder the modules point one way too: the graph of
/// `analysis/x.rs` -> `analysis/y/` references has no circle (the kernel
/// table once held the roofline's types while the roofline read the table).
#[test]
fn no_import_circle_inside_a_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graphs: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for p in sources() {
        let rel = p.strip_prefix(&root).unwrap().to_path_buf();
        let module = module_path(&rel);
        // The folder's own mod.rs re-exports and wires its modules.
        if module.len() < 2 {
            continue;
        }
        let code = fs::read_to_string(&p).unwrap();
        let node = graphs
            .entry(module[0].clone())
            .or_default()
            .entry(module[1].clone())
            .or_default();
        node.extend(sub_edges(&code, &module));
    }
    assert!(graphs.get("analysis").is_some_and(|g| g.len() > 10));
    let mut circles = Vec::new();
    for (top, graph) in &graphs {
        // Depth-first search; a node met again on the current path closes a circle.
        fn visit(
            n: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
            found: &mut Vec<String>,
        ) {
            if let Some(at) = path.iter().position(|p| p == n) {
                found.push(format!("{} -> {n}", path[at..].join(" -> ")));
                return;
            }
            if !done.insert(n.to_string()) {
                return;
            }
            path.push(n.to_string());
            for m in graph.get(n).into_iter().flatten() {
                if graph.contains_key(m) {
                    visit(m, graph, path, done, found);
                }
            }
            path.pop();
        }
        let mut done = BTreeSet::new();
        let mut found = Vec::new();
        for n in graph.keys() {
            visit(n, graph, &mut Vec::new(), &mut done, &mut found);
        }
        circles.extend(found.into_iter().map(|c| format!("{top}: {c}")));
    }
    assert!(circles.is_empty(), "import circles:\n{}", circles.join("\n"));
    // The scanner finds a circle where there is one.
    let a = sub_edges("use super::b::X;", &["analysis".into(), "a".into()]);
    let b = sub_edges(
        "use crate::analysis::{a::Y, c};",
        &["analysis".into(), "b".into()],
    );
    assert_eq!((a, b), (vec!["b".to_string()], vec!["a".to_string(), "c".into()]));
}

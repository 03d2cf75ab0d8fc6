//! One table model for every page: the report and the diff, in HTML and
//! in Markdown, build a [`Table`] and render it here, so no renderer
//! re-types another's table, legend or folding code.
//!
//! Cells hold plain text (escaped here, once, for the target) and say how
//! they are meant: a number (right-aligned), a name from the trace
//! (monospace, may break anywhere), code, or bold text.

use std::fmt::Write;

use super::charts;
use crate::text::escape::{html as h, markdown as md};

/// How a cell reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Text,
    /// A quantity: right-aligned, tabular figures.
    Num,
    /// A name from the trace: monospace, breaks anywhere.
    Name,
    Code,
    Bold,
}

/// One cell: text plus style, an optional tooltip (the full name), an
/// optional tone (`better`/`worse` in diffs) and an optional note: secondary
/// text (a window total beside a per-iteration figure), drawn smaller on a
/// line of its own in HTML and in parentheses in Markdown.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub style: Style,
    pub title: Option<String>,
    pub tone: Option<&'static str>,
    pub note: Option<String>,
}

impl Cell {
    pub fn new(text: impl Into<String>, style: Style) -> Cell {
        Cell {
            text: text.into(),
            style,
            title: None,
            tone: None,
            note: None,
        }
    }
    pub fn text(t: impl Into<String>) -> Cell {
        Cell::new(t, Style::Text)
    }
    pub fn num(t: impl Into<String>) -> Cell {
        Cell::new(t, Style::Num)
    }
    pub fn name(t: impl Into<String>) -> Cell {
        Cell::new(t, Style::Name)
    }
    pub fn code(t: impl Into<String>) -> Cell {
        Cell::new(t, Style::Code)
    }
    pub fn bold(t: impl Into<String>) -> Cell {
        Cell::new(t, Style::Bold)
    }
    pub fn titled(mut self, title: impl Into<String>) -> Cell {
        self.title = Some(title.into());
        self
    }
    pub fn noted(mut self, note: impl Into<String>) -> Cell {
        self.note = Some(note.into());
        self
    }
    pub fn toned(mut self, tone: &'static str) -> Cell {
        self.tone = (!tone.is_empty()).then_some(tone);
        self
    }
}

/// A table: a header row, body rows and optional footer rows (totals).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column titles; a title's style decides its alignment.
    pub columns: Vec<Cell>,
    pub rows: Vec<Vec<Cell>>,
    pub footer: Vec<Vec<Cell>>,
    /// A CSS class for the HTML table (layout hints such as `fix`).
    pub class: Option<&'static str>,
}

impl Table {
    /// Columns from `(title, numeric)` pairs.
    pub fn new(columns: &[(&str, bool)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|&(t, n)| Cell::new(t, if n { Style::Num } else { Style::Text }))
                .collect(),
            ..Table::default()
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The table as HTML.
    pub fn html(&self) -> String {
        let mut s = match self.class {
            Some(c) => format!("<table class=\"{c}\">"),
            None => String::from("<table>"),
        };
        let line = |s: &mut String, cells: &[Cell], tag: &str| {
            s.push_str("<tr>");
            for c in cells {
                let mut class: Vec<&str> = Vec::new();
                match c.style {
                    Style::Num => class.push("n"),
                    Style::Name => class.push("name"),
                    _ => {}
                }
                class.extend(c.tone);
                let _ = write!(s, "<{tag}");
                if !class.is_empty() {
                    let _ = write!(s, " class=\"{}\"", class.join(" "));
                }
                if let Some(t) = &c.title {
                    let _ = write!(s, " title=\"{}\"", h(t));
                }
                s.push('>');
                match c.style {
                    Style::Code => {
                        let _ = write!(s, "<code>{}</code>", h(&c.text));
                    }
                    Style::Bold => {
                        let _ = write!(s, "<b>{}</b>", h(&c.text));
                    }
                    _ => s.push_str(&h(&c.text)),
                }
                if let Some(n) = &c.note {
                    let _ = write!(s, "<br><span class=\"sub\">{}</span>", h(n));
                }
                let _ = write!(s, "</{tag}>");
            }
            s.push_str("</tr>\n");
        };
        line(&mut s, &self.columns, "th");
        for r in &self.rows {
            line(&mut s, r, "td");
        }
        for r in &self.footer {
            line(&mut s, r, "th");
        }
        s.push_str("</table>\n");
        s
    }

    /// The table as GitHub-flavoured Markdown.
    pub fn markdown(&self) -> String {
        let cell = |c: &Cell| {
            let t = md(&c.text).replace('\n', " ");
            let t = match c.style {
                // Escaped even in code: a name from the trace stays inert.
                Style::Code if !c.text.is_empty() => format!("`{}`", t.replace('`', "'")),
                Style::Bold if !c.text.is_empty() => format!("**{t}**"),
                _ => t,
            };
            match &c.note {
                Some(n) => format!("{t} ({})", md(n).replace('\n', " ")),
                None => t,
            }
        };
        let mut s = String::new();
        let head: Vec<String> = self.columns.iter().map(cell).collect();
        let _ = writeln!(s, "| {} |", head.join(" | "));
        let align: Vec<&str> = self
            .columns
            .iter()
            .map(|c| if c.style == Style::Num { "---:" } else { "---" })
            .collect();
        let _ = writeln!(s, "|{}|", align.join("|"));
        for r in self.rows.iter().chain(&self.footer) {
            let cells: Vec<String> = r.iter().map(cell).collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        s
    }
}

/// `n` things, singular or plural: `1 row`, `3 rows`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The colour legend of the attribution buckets, as HTML.
pub fn legend_html(entries: &[(&str, plotters::style::RGBColor)]) -> String {
    let mut s = String::from("<div class=\"legend\">");
    for (name, color) in entries {
        let _ = write!(
            s,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{}</span>",
            charts::css(*color),
            h(name)
        );
    }
    s.push_str("</div>\n");
    s
}

/// The legend of the six attribution buckets.
pub fn bucket_legend() -> String {
    legend_html(&charts::BUCKETS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_markdown_of_one_table() {
        let mut t = Table::new(&[("kernel", false), ("calls", true)]);
        t.row(vec![Cell::name("a<b>|c"), Cell::num("352")]);
        t.footer.push(vec![Cell::bold("total"), Cell::num("352")]);
        let html = t.html();
        assert!(html.contains("<td class=\"name\">a&lt;b&gt;|c</td><td class=\"n\">352</td>"));
        assert!(html.contains("<th><b>total</b></th>"));
        let md = t.markdown();
        assert!(md.starts_with("| kernel | calls |\n|---|---:|\n"));
        assert!(
            md.contains("\\|"),
            "a pipe in a name must not split the row: {md}"
        );
        assert!(md.contains("| **total** | 352 |"));
        assert_eq!(plural(1, "row", "rows"), "1 row");
        assert_eq!(plural(2, "row", "rows"), "2 rows");
    }
}
